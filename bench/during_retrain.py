"""`bench/ack_latency.py --mode retrain`: acks while /retrain curates, against idle acks.

`voiceloop serve` runs as shipped, in its own process, on a database holding
--replies synthetic rated replies (bench/curate.py's mix). This process holds
the fakes (Slack Web API, OpenAI) and the senders: signed app_mention events
at a fixed rate (one every 50 ms by default, from several threads so a slow
ack never delays the schedule). First --idle-seconds of mentions alone, then
a signed /retrain while the mentions go on, until its dry-run card reaches
Slack. Targets: ack p99 during the dry run at most 2× the idle p99, the
slowest ack under 100 ms, and /retrain no slower than `voiceloop curate` on a
copy of the same database, timed here too.

--control adds a last phase for scale: mentions while a process that only
spins runs at the dry run's CPU priority (SCHED_IDLE) for as long as the dry
run took, never stepping aside as the dry run does. What that does to the p99
is the machine's (its scheduler's), not voiceloop's work.
"""

import argparse
import http.client
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from history import seed_history  # bench/history.py
from loopback import VOICELOOP, free_port, percentile, serve_env, stop, wait_healthy
from slack_sdk.signature import SignatureVerifier

from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


def signed_post(conn: http.client.HTTPConnection, body: str, content_type: str) -> float:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    started = time.perf_counter()
    conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"voiceloop answered HTTP {response.status}")
    return elapsed


def send_mentions(
    port: int, interval: float, senders: int, until: Callable[[float], bool]
) -> list[tuple[float, float]]:
    """(sent at, ack seconds) for mentions due every `interval` until `until(now)`."""
    acks: list[tuple[float, float]] = []
    lock = threading.Lock()
    start = time.monotonic()
    counter = iter(range(10**9))

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter)
            due = start + i * interval
            now = time.monotonic()
            if until(now):
                return
            if due > now:
                time.sleep(due - now)
            body = sr.event_body(sr.mention(f"<@UBOT> question {i} about the ridge trail"))
            seconds = signed_post(conn, body, "application/json")
            with lock:
                acks.append((due, seconds))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return acks


def time_cli_curate(db: Path, out: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [*VOICELOOP, "curate", "--out", str(out), "--allow-example-brand"],
        env={**env, "VOICELOOP_DB": str(db)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"voiceloop curate failed:\n{result.stderr}")
    return time.perf_counter() - started


# The control's process: a busy core at the lowest priority, like a dry run's curation.
SPINNER = """
import os, sys, time
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    sum(range(10_000))
"""


def spin_at_idle_priority(seconds: float) -> None:
    subprocess.run([sys.executable, "-c", SPINNER, str(seconds)], check=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("--mode retrain")
    group.add_argument("--replies", type=int, default=100_000, help="rated replies in the history")
    group.add_argument("--interval", type=float, default=0.05, help="seconds between mentions")
    group.add_argument("--idle-seconds", type=float, default=10.0)
    group.add_argument("--warmup-seconds", type=float, default=3.0, help="mentions not counted")
    group.add_argument(
        "--control",
        action="store_true",
        help="then mentions beside a CPU spinner at the dry run's priority, for scale",
    )


def run(args: argparse.Namespace) -> None:
    """The retrain mode; --senders and --model-delay are ack_latency.py's."""
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        FakeSlack(bot_token=BOT_TOKEN) as slack,
        FakeOpenAI(api_key=OPENAI_KEY) as openai,
    ):
        tmp = Path(tmp_name)
        openai.delay(args.model_delay)
        db, copy = tmp / "bench.db", tmp / "cli.db"
        print(f"seeding {args.replies:,} rated replies…", file=sys.stderr)
        seed_history(db, args.replies)
        with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        port = free_port()
        env = serve_env(
            slack.url,
            openai.base_url,
            VOICELOOP_DATASET_DIR=str(tmp / "datasets"),
            VOICELOOP_PORT=str(port),
        )
        print("timing voiceloop curate on a copy…", file=sys.stderr)
        cli_seconds = time_cli_curate(copy, tmp / "cli-datasets", env)
        log = (tmp / "serve.log").open("wb")
        serve = subprocess.Popen(
            [*VOICELOOP, "serve"],
            env={**env, "VOICELOOP_DB": str(db)},
            cwd=tmp,
            stdout=log,
            stderr=log,
        )
        try:
            wait_healthy(serve, port, "voiceloop serve", tmp / "serve.log")
            print("warm-up and idle mentions…", file=sys.stderr)
            warm_end = time.monotonic() + args.warmup_seconds
            send_mentions(port, args.interval, args.senders, lambda now: now > warm_end)
            idle_end = time.monotonic() + args.idle_seconds
            idle = send_mentions(port, args.interval, args.senders, lambda now: now > idle_end)

            carded = threading.Event()
            retrain_seconds: list[float] = []

            def retrain() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                body = sr.command_body(
                    "/retrain", user="U1", text="", response_url=slack.response_url("retrain")
                )
                started = time.perf_counter()
                signed_post(conn, body, "application/x-www-form-urlencoded")
                slack.wait_for("response_url", timeout=600)
                retrain_seconds.append(time.perf_counter() - started)
                carded.set()

            print("mentions while /retrain curates…", file=sys.stderr)
            worker = threading.Thread(target=retrain)
            worker.start()
            during = send_mentions(port, args.interval, args.senders, lambda _now: carded.is_set())
            worker.join()
            control: list[tuple[float, float]] = []
            if args.control:
                print("mentions beside a spinner at the same priority…", file=sys.stderr)
                spinner = threading.Thread(target=spin_at_idle_priority, args=(retrain_seconds[0],))
                spinner.start()
                control = send_mentions(
                    port, args.interval, args.senders, lambda _now: not spinner.is_alive()
                )
                spinner.join()
        finally:
            stop(serve, signal.SIGINT)
            log.close()
        card = slack.calls("response_url")[-1].params.get("text", "")
        shutil.rmtree(tmp / "datasets", ignore_errors=True)

    idle_ms = [seconds * 1000 for _, seconds in idle]
    during_ms = [seconds * 1000 for _, seconds in during]
    control_ms = [seconds * 1000 for _, seconds in control]
    print(f"{args.replies:,} rated replies; a mention every {args.interval * 1000:.0f} ms")
    print(f"card: {card[:120]}")
    print(f"{'phase':<26}{'acks':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    phases = [("idle", idle_ms), ("during /retrain", during_ms)]
    if control_ms:
        phases.append(("beside an idle spinner", control_ms))
    for name, values in phases:
        print(
            f"{name:<26}{len(values):>6}{percentile(values, 50):>10.2f}"
            f"{percentile(values, 99):>10.2f}{max(values):>10.2f}"
        )
    ratio = percentile(during_ms, 99) / percentile(idle_ms, 99)
    print(f"p99 during / idle: {ratio:.2f} (target <= 2)")
    if control_ms:
        floor = percentile(control_ms, 99) / percentile(idle_ms, 99)
        print(f"p99 beside the spinner / idle: {floor:.2f} (the machine's share of the ratio)")
    print(f"max during: {max(during_ms):.1f} ms (target < 100)")
    print(
        f"/retrain to card: {retrain_seconds[0]:.1f} s; voiceloop curate: {cli_seconds:.1f} s; "
        f"ratio {retrain_seconds[0] / cli_seconds:.2f} (target <= 1)"
    )
