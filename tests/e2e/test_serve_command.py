"""`voiceloop serve` as people run it: clear start-up errors, clean Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET, wait_until
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

VOICELOOP = [sys.executable, "-c", "from bot.cli.main import main; main()"]


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "VOICELOOP_"))
    }
    env["VOICELOOP_DB"] = str(tmp_path / "voiceloop.db")
    env.update(values)
    return env


def test_missing_tokens_are_named_on_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*VOICELOOP, "serve"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SLACK_BOT_TOKEN" in lines[0] and "SLACK_SIGNING_SECRET" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_rejected_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    with FakeSlack(bot_token=BOT_TOKEN) as slack:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-wrong-token-999",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            OPENAI_API_KEY=OPENAI_KEY,
            SLACK_API_URL=slack.url,
        )
        result = subprocess.run(
            [*VOICELOOP, "serve"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN: Slack refused the token (invalid_auth)" in result.stderr
    assert "xoxb-wrong-token-999" not in result.stderr
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(process: "subprocess.Popen[str]", port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                assert r.status == 200
                return
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)


def test_serve_answers_then_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=openai.base_url,
            SLACK_API_URL=slack.url,
            VOICELOOP_PORT=str(port),
            VOICELOOP_HOST="127.0.0.1",
        )
        process = subprocess.Popen(
            [*VOICELOOP, "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_healthy(process, port)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, stderr
    assert "shutting down" in stderr
    # No voice guide or short prompt of its own: serve says whose voice it speaks in.
    assert "note: using the example brand (Fernleaf Outdoor Co. / Brightside)" in stderr
    assert "Traceback" not in stderr
    assert BOT_TOKEN not in stderr and OPENAI_KEY not in stderr


def test_sigterm_with_a_backlog_exits_within_the_grace_period(tmp_path: Path) -> None:
    grace = 1.0
    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        openai.delay(30.0)  # every reply is still running when SIGTERM comes
        port = free_port()
        env = clean_env(
            tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=openai.base_url, SLACK_API_URL=slack.url,
            VOICELOOP_PORT=str(port), VOICELOOP_HOST="127.0.0.1", VOICELOOP_REPLY_WORKERS="4",
            VOICELOOP_SHUTDOWN_GRACE_SECONDS=str(grace),
        )  # fmt: skip
        process = subprocess.Popen(
            [*VOICELOOP, "serve"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            wait_healthy(process, port)
            url = f"http://127.0.0.1:{port}/slack/events"
            for i in range(40):
                body = sr.event_body(sr.mention(f"<@UBOT> question {i}"))
                assert sr.post(url, body, secret=SIGNING_SECRET).status == 200
            wait_until(lambda: len(openai.chat_requests()) >= 4)
            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            _, stderr = process.communicate(timeout=30)
            took = time.monotonic() - sent
        finally:
            process.kill()
    # The grace period, plus the interpreter's own exit.
    assert took < grace + 2.0, f"took {took:.1f}s to exit"
    assert process.returncode == 0, stderr
    assert "unfinished" in stderr and "Traceback" not in stderr
