"""`bench/ack_latency.py --mode retrain`: acks while /retrain curates, against idle acks.

`voiceloop serve` runs as shipped, in its own process, on a database holding
--replies synthetic rated replies (bench/curate.py's mix). This process holds
the fakes (Slack Web API, OpenAI); the senders run in a process of their own
for each phase, as Slack does not share a GIL with them: signed app_mention
events at a fixed rate (one every 50 ms by default, from several threads so a
slow ack never delays the schedule). First --idle-seconds of mentions alone, then
a signed /retrain while the mentions go on, until its dry-run card reaches
Slack. Targets: ack p99 during the dry run at most 2× the idle p99, the
slowest ack under 100 ms, and /retrain no slower than `voiceloop curate` on a
copy of the same database, timed here too.

It does that --rounds times in one run (`voiceloop curate`, idle mentions,
/retrain) and judges the pooled acks and the summed times: one dry run sees
about a hundred mentions, so its p99 is its second-slowest ack, and one
machine hiccup moved that by half from run to run. Ten rounds (the default)
give about a thousand acks in each phase, so a p99 is the tenth-slowest: of
100 rounds over ten runs, 7 had a ratio over 2 on their own, while the ten
runs' pooled ratios were 1.03-1.66.

--control adds a last phase for scale: mentions while a process that only
spins runs at the dry run's CPU priority (SCHED_IDLE) for as long as the dry
run took, never stepping aside as the dry run does. What that does to the p99
is the machine's (its scheduler's), not voiceloop's work.
"""

import argparse
import http.client
import json
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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
    port: int, interval: float, senders: int, phase: str, start: float, done: threading.Event
) -> list[float]:
    """Ack seconds of mentions due every `interval` from `start` (time.monotonic())
    until `done` is set."""
    acks: list[float] = []
    lock = threading.Lock()
    counter = iter(range(10**9))

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter)
            due = start + i * interval
            now = time.monotonic()
            if due > now:
                done.wait(due - now)
            if done.is_set():
                return
            text = f"<@UBOT> question {i} about the ridge trail"
            body = sr.event_body(sr.mention(text), event_id=f"Ev{phase}-{i:08d}")
            seconds = signed_post(conn, body, "application/json")
            with lock:
                acks.append(seconds)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return acks


def run_senders(args: argparse.Namespace) -> None:
    """Child: mentions to --send-mentions PORT until stdin closes, then the ack
    seconds as one JSON line."""
    done = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    start = time.monotonic() + 0.01  # the senders' threads are started by then
    print(f"sending {start!r}", flush=True)
    acks = send_mentions(args.send_mentions, args.interval, args.senders, args.phase, start, done)
    print(json.dumps(acks), flush=True)


class Senders:
    """A sender process for one phase; `stop()` returns its acks in milliseconds."""

    def __init__(self, args: argparse.Namespace, port: int, phase: str) -> None:
        script = Path(__file__).resolve().parent / "ack_latency.py"
        self._process = subprocess.Popen(
            [
                sys.executable,
                str(script),
                "--mode=retrain",
                f"--send-mentions={port}",
                f"--phase={phase}",
                f"--interval={args.interval}",
                f"--senders={args.senders}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        word, _, start = self._process.stdout.readline().partition(" ")
        if word != "sending":
            raise SystemExit("the sender process did not start")
        # When the first mention is due, on this machine's monotonic clock.
        self.start = float(start)

    def stop(self) -> list[float]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        line = self._process.stdout.readline()
        if self._process.wait(timeout=60) != 0 or not line:
            raise SystemExit("the sender process failed")
        return [seconds * 1000 for seconds in json.loads(line)]


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
    group.add_argument("--rounds", type=int, default=10, help="curate, idle, /retrain: how often")
    group.add_argument("--idle-seconds", type=float, default=6.0, help="idle mentions per round")
    group.add_argument("--warmup-seconds", type=float, default=3.0, help="mentions not counted")
    group.add_argument(
        "--control",
        action="store_true",
        help="then mentions beside a CPU spinner at the dry run's priority, for scale",
    )
    group.add_argument("--send-mentions", type=int, metavar="PORT", help=argparse.SUPPRESS)
    group.add_argument("--phase", default="", help=argparse.SUPPRESS)


@dataclass
class Round:
    """One round's figures: ack milliseconds by phase, and the two timings."""

    curate_seconds: float
    idle: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    control: list[float] = field(default_factory=list)
    retrain_seconds: float = 0.0

    @property
    def ack_ratio(self) -> float:
        """This round's p99 during its dry run over its own idle p99."""
        return percentile(self.during, 99) / percentile(self.idle, 99)


def run(args: argparse.Namespace) -> None:
    """The retrain mode; --senders and --model-delay are ack_latency.py's."""
    if args.send_mentions:
        return run_senders(args)
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
        log = (tmp / "serve.log").open("wb")
        serve = subprocess.Popen(
            [*VOICELOOP, "serve"],
            env={**env, "VOICELOOP_DB": str(db)},
            cwd=tmp,
            stdout=log,
            stderr=log,
        )
        rounds: list[Round] = []
        try:
            wait_healthy(serve, port, "voiceloop serve", tmp / "serve.log")
            print("warm-up mentions…", file=sys.stderr)
            _for_seconds(args, port, "warm-up", args.warmup_seconds)
            for number in range(1, args.rounds + 1):
                # The same work on the same data each round: the first builds
                # and records the dataset version on both databases, later
                # rounds curate it again and find it recorded.
                print(f"round {number}: voiceloop curate on a copy…", file=sys.stderr)
                this = Round(time_cli_curate(copy, tmp / "cli-datasets", env))
                print(f"round {number}: idle mentions…", file=sys.stderr)
                this.idle = _for_seconds(args, port, f"idle{number}", args.idle_seconds)
                print(f"round {number}: mentions while /retrain curates…", file=sys.stderr)
                this.during, this.retrain_seconds = _during_retrain(args, port, slack, number)
                if args.control:
                    print(f"round {number}: mentions beside an idle spinner…", file=sys.stderr)
                    this.control = _beside_spinner(args, port, number, this.retrain_seconds)
                rounds.append(this)
        finally:
            stop(serve, signal.SIGINT)
            log.close()
        card = slack.calls("response_url")[-1].params.get("text", "")
        shutil.rmtree(tmp / "datasets", ignore_errors=True)
    _report(args, rounds, card)


def _for_seconds(args: argparse.Namespace, port: int, phase: str, seconds: float) -> list[float]:
    senders = Senders(args, port, phase)
    time.sleep(seconds)
    return senders.stop()


def _during_retrain(
    args: argparse.Namespace, port: int, slack: FakeSlack, number: int
) -> tuple[list[float], float]:
    """Mentions from a signed /retrain until its card (the round's `number`th) arrives."""
    senders = Senders(args, port, f"retrain{number}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = sr.command_body("/retrain", user="U1", text="", response_url=slack.response_url())
    # Halfway between two mentions: sent with the first one, as it was, the
    # /retrain request and that mention were answered side by side in every
    # round, which no idle phase has, and that one ack in a hundred sat at
    # the p99 (4.2-8.7 ms against a 3 ms idle p99).
    time.sleep(max(0.0, senders.start + args.interval / 2 - time.monotonic()))
    started = time.perf_counter()
    signed_post(conn, body, "application/x-www-form-urlencoded")
    slack.wait_for("response_url", count=number, timeout=600)
    seconds = time.perf_counter() - started
    return senders.stop(), seconds


def _beside_spinner(
    args: argparse.Namespace, port: int, number: int, seconds: float
) -> list[float]:
    senders = Senders(args, port, f"spinner{number}")
    spin_at_idle_priority(seconds)
    return senders.stop()


def _report(args: argparse.Namespace, rounds: list[Round], card: str) -> None:
    print(f"{args.replies:,} rated replies; a mention every {args.interval * 1000:.0f} ms")
    print(f"card: {card[:120]}")
    header = f"{'round':<8}{'idle p99':>10}{'during p99':>12}{'ratio':>8}{'max during':>12}"
    if args.control:
        header += f"{'spinner p99':>13}{'ratio':>8}"
    print(header + f"{'/retrain s':>12}{'curate s':>10}{'ratio':>8}")
    for number, this in enumerate(rounds, 1):
        idle_p99 = percentile(this.idle, 99)
        line = (
            f"{number:<8}{idle_p99:>10.2f}{percentile(this.during, 99):>12.2f}"
            f"{this.ack_ratio:>8.2f}{max(this.during):>12.2f}"
        )
        if args.control:
            control_p99 = percentile(this.control, 99)
            line += f"{control_p99:>13.2f}{control_p99 / idle_p99:>8.2f}"
        print(
            line + f"{this.retrain_seconds:>12.2f}{this.curate_seconds:>10.2f}"
            f"{this.retrain_seconds / this.curate_seconds:>8.2f}"
        )
    idle = [ms for this in rounds for ms in this.idle]
    during = [ms for this in rounds for ms in this.during]
    control = [ms for this in rounds for ms in this.control]
    print(f"all rounds: {'phase':<24}{'acks':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    phases = [("idle", idle), ("during /retrain", during)]
    if control:
        phases.append(("beside an idle spinner", control))
    for name, values in phases:
        print(
            f"{'':<12}{name:<24}{len(values):>6}{percentile(values, 50):>10.2f}"
            f"{percentile(values, 99):>10.2f}{max(values):>10.2f}"
        )
    ratio = percentile(during, 99) / percentile(idle, 99)
    print(f"p99 during / idle, all rounds: {ratio:.2f} (target <= 2)")
    # One noisy idle phase (a neighbour on a shared host) lifts the pooled idle
    # p99 for every round; the rounds' own ratios, each idle against the dry
    # run that followed it, show whether a pooled figure rests on such a round.
    by_round = [this.ack_ratio for this in rounds]
    print(
        f"rounds' own p99 ratios: median {statistics.median(by_round):.2f}, "
        f"{sum(r > 2 for r in by_round)} of {len(by_round)} over 2"
    )
    if control:
        floor = percentile(control, 99) / percentile(idle, 99)
        print(f"p99 beside the spinner / idle: {floor:.2f} (the machine's share of the ratio)")
    print(f"max during: {max(during):.1f} ms (target < 100)")
    retrain = sum(this.retrain_seconds for this in rounds)
    curate = sum(this.curate_seconds for this in rounds)
    print(
        f"/retrain to card: {retrain:.1f} s in all; voiceloop curate: {curate:.1f} s; "
        f"ratio {retrain / curate:.2f} (target <= 1)"
    )
