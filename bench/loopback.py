"""Running `voiceloop serve` as a child process on loopback, for the benchmarks that time it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET

# The CLI as installed, run by this interpreter (so a benchmark uses its own checkout).
VOICELOOP = [sys.executable, "-c", "from bot.cli.main import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(process: "subprocess.Popen[bytes]", port: int, what: str, log: Path) -> None:
    """Returns once the server answers /healthz; stops the benchmark with its log if
    it exits or takes over a minute."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{what} did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) of values, nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def serve_env(slack_url: str, openai_url: str, **settings: str) -> dict[str, str]:
    """The environment for `voiceloop serve` (or another command) against the
    fakes: this shell's own Slack, OpenAI and voiceloop settings left out, so a
    benchmark never reaches a real workspace; `settings` (VOICELOOP_* names)
    added to the shared ones."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
    return {
        **kept,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": openai_url,
        "VOICELOOP_CHAT_MODEL": "gpt-4.1-mini",
        "VOICELOOP_HOST": "127.0.0.1",
        "VOICELOOP_LOG_LEVEL": "WARNING",
        **settings,
    }


_OWN_SETTINGS = ("SLACK_", "OPENAI_", "VOICELOOP_")


def stop(
    process: "subprocess.Popen[bytes]", sig: int = signal.SIGTERM, timeout: float = 30
) -> None:
    """Asks a child to stop with `sig`; kills it if it has not within `timeout` s."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
