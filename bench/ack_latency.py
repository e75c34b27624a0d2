"""Ack latency: `voiceloop serve` vs a bare Bolt app with a no-op handler, each in its own process.

Four processes on loopback: the fakes (Slack Web API, and OpenAI answering
each chat call after --model-delay seconds), `voiceloop serve` in HTTP mode
exactly as shipped, a bare Bolt app behind the same HTTP server whose
listener does nothing, and this one, whose --senders threads send signed
requests to both apps at a fixed --rate (each request goes to both, in
alternating order, so machine noise lands on both). voiceloop does its real
work after each ack (claims in SQLite, placeholders and replies to the fake
Slack, model calls, or "busy" notes once its reply queue is full), so its acks
pay for that background load and the bare app's do not. The target is a p99
ratio of at most 1.2.

A mode says what is sent; `mentions` sends app_mention events. Add a mode by
adding a `Mode` to MODES (its `prepare` runs against voiceloop before timing).

`--mode retrain` (bench/during_retrain.py) compares voiceloop with itself
instead: acks idle, then acks while a /retrain curates --replies rated
replies, a mention every --interval seconds; targets p99 during <= 2x idle,
max < 100 ms, /retrain no slower than `voiceloop curate`.

    python bench/ack_latency.py [--mode mentions] [--events 600] [--rate 20]
                                [--senders 4] [--model-delay 2] [--time-limit 120]
    python bench/ack_latency.py --mode retrain [--replies 100000] [--interval 0.05]
                                [--rounds 3] [--idle-seconds 6] [--warmup-seconds 3]
                                [--model-delay 0] [--control]
"""

import argparse
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import during_retrain  # bench/during_retrain.py
import loopback  # bench/loopback.py
from loopback import VOICELOOP, free_port, percentile, serve_env, wait_healthy
from slack_sdk.signature import SignatureVerifier

from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET

ACK_WINDOW = 3.0  # Slack's


# -- what is sent ---------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    body: str
    content_type: str = "application/json"


@dataclass
class Context:
    """What a mode may use to set up voiceloop before timing starts."""

    voiceloop_url: str
    slack_response_url: str
    db: Path


@dataclass(frozen=True)
class Mode:
    name: str
    describe: str
    request: Callable[[int], Request]
    prepare: Callable[[Context], None] = field(default=lambda _ctx: None)


def mention(i: int) -> Request:
    return Request(sr.event_body(sr.mention(f"<@UBOT> question {i} about the ridge trail")))


MODES = {
    mode.name: mode
    for mode in [
        Mode("mentions", "app_mention events (each a model call in voiceloop)", mention),
    ]
}


# -- the processes --------------------------------------------------------------


def run_fakes(model_delay: float) -> None:
    """Child: the fakes, until stdin closes."""
    from tests.fakes.openai_api import FakeOpenAI
    from tests.fakes.slack_api import FakeSlack

    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        openai.delay(model_delay)
        print(json.dumps({"slack": slack.url, "openai": openai.base_url}), flush=True)
        sys.stdin.read()


def run_bare_bolt(slack_url: str, port: int) -> None:
    """Child: a bare Bolt app with a no-op listener, behind voiceloop's HTTP server."""
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.server import HttpLimits, HttpServer

    app = App(client=WebClient(token=BOT_TOKEN, base_url=slack_url), signing_secret=SIGNING_SECRET)

    @app.event("app_mention")
    def noop() -> None:
        pass

    server = HttpServer(app, SIGNING_SECRET, "127.0.0.1", port, HttpLimits())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()


@contextmanager
def child(args: list[str], **kwargs: Any) -> Iterator["subprocess.Popen[bytes]"]:
    process = subprocess.Popen(args, **kwargs)
    try:
        yield process
    finally:
        loopback.stop(process, timeout=15)


# -- sending --------------------------------------------------------------------


class Sender:
    """One kept-alive connection per app; sends one request and times its ack."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.conns = {name: self._connect(port) for name, port in ports.items()}
        self.verifier = SignatureVerifier(SIGNING_SECRET)

    @staticmethod
    def _connect(port: int) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, app: str, request: Request) -> float:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": request.content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=request.body)
            or "",
        }
        body = request.body.encode()
        for attempt in (1, 2):
            conn = self.conns[app]
            started = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (ConnectionError, http.client.HTTPException):
                # A closed keep-alive connection; reconnecting is not the app's latency.
                conn.close()
                self.conns[app] = self._connect(self.ports[app])
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{app} answered HTTP {response.status}")
            return elapsed
        raise AssertionError("unreachable")


@dataclass
class Timings:
    acks: dict[str, list[float]]
    lag: float  # how far the slowest sender fell behind the schedule
    elapsed: float


def send_at_rate(
    mode: Mode, ports: dict[str, int], events: int, rate: float, senders: int, time_limit: float
) -> Timings:
    acks: dict[str, list[float]] = {name: [] for name in ports}
    lock = threading.Lock()
    lag = [0.0]
    start = time.monotonic() + 0.5
    stop_at = start + time_limit

    def sender(k: int) -> None:
        client = Sender(ports)
        order = list(ports)
        for i in range(k, events, senders):
            due = start + i / rate
            now = time.monotonic()
            if now > stop_at:
                return
            if due > now:
                time.sleep(due - now)
            request = mode.request(i)
            measured = {}
            for name in order if i % 2 == 0 else reversed(order):
                measured[name] = client.send(name, request)
            with lock:
                lag[0] = max(lag[0], time.monotonic() - due - sum(measured.values()))
                for name, seconds in measured.items():
                    acks[name].append(seconds)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Timings(acks, lag[0], time.monotonic() - start)


# -- figures --------------------------------------------------------------------


def report(mode: Mode, args: argparse.Namespace, timings: Timings, replies: int) -> None:
    ours, bare = timings.acks["voiceloop"], timings.acks["bare Bolt"]
    sent = len(ours)
    print(
        f"mode {mode.name}: {mode.describe}\n"
        f"{sent} signed requests per app at {args.rate:g}/s from {args.senders} senders "
        f"in {timings.elapsed:.1f}s (senders at most {timings.lag * 1000:.0f} ms behind "
        f"schedule); model delay {args.model_delay:g}s; voiceloop stored {replies} replies"
    )
    print(f"{'app':<12}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'acks > 3 s':>12}")
    for name, values in timings.acks.items():
        ms = [v * 1000 for v in values]
        late = sum(1 for v in values if v > ACK_WINDOW)
        print(
            f"{name:<12}{percentile(ms, 50):>10.2f}{percentile(ms, 99):>10.2f}"
            f"{max(ms):>10.2f}{late:>12}"
        )
    for label, p in (("p50", 50.0), ("p99", 99.0), ("max", 100.0)):
        ratio = percentile(ours, p) / percentile(bare, p)
        target = " (target <= 1.2)" if label == "p99" else ""
        print(f"ratio {label}: {ratio:.2f}{target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=[*sorted(MODES), "retrain"], default="mentions")
    parser.add_argument("--events", type=int, default=600, help="requests per app")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second per app")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument(
        "--model-delay", type=float, help="seconds per model answer (2; 0 in retrain mode)"
    )
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds of sending")
    parser.add_argument("--fakes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-bolt", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    during_retrain.add_arguments(parser)
    args = parser.parse_args()
    if args.model_delay is None:
        args.model_delay = 0.0 if args.mode == "retrain" else 2.0
    if args.mode == "retrain":
        return during_retrain.run(args)
    if args.fakes:
        return run_fakes(args.model_delay)
    if args.bare_bolt:
        return run_bare_bolt(args.bare_bolt[0], int(args.bare_bolt[1]))

    mode = MODES[args.mode]
    script = [sys.executable, str(Path(__file__).resolve())]
    with (
        tempfile.TemporaryDirectory() as tmp,
        child(
            [*script, "--fakes", "--model-delay", str(args.model_delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        ) as fakes,  # fmt: skip
    ):
        assert fakes.stdout is not None
        urls = json.loads(fakes.stdout.readline())
        ports = {"voiceloop": free_port(), "bare Bolt": free_port()}
        db = Path(tmp) / "bench.db"
        env = serve_env(
            urls["slack"],
            urls["openai"],
            VOICELOOP_DB=str(db),
            VOICELOOP_PORT=str(ports["voiceloop"]),
            VOICELOOP_SHUTDOWN_GRACE_SECONDS="1",
        )
        voiceloop_cmd = [*VOICELOOP, "serve"]
        bare_cmd = [*script, "--bare-bolt", urls["slack"], str(ports["bare Bolt"])]
        logs = {name: Path(tmp) / f"{name.replace(' ', '-')}.log" for name in ports}
        with (
            logs["voiceloop"].open("wb") as voiceloop_log,
            logs["bare Bolt"].open("wb") as bare_log,
            child(
                voiceloop_cmd, env=env, cwd=tmp, stdout=voiceloop_log, stderr=voiceloop_log
            ) as voiceloop,
            child(bare_cmd, stdout=bare_log, stderr=bare_log) as bare,
        ):
            wait_healthy(voiceloop, ports["voiceloop"], "voiceloop serve", logs["voiceloop"])
            wait_healthy(bare, ports["bare Bolt"], "the bare Bolt app", logs["bare Bolt"])
            context = Context(
                voiceloop_url=f"http://127.0.0.1:{ports['voiceloop']}/slack/events",
                slack_response_url=urls["slack"].removesuffix("/api/") + "/response/command",
                db=db,
            )
            mode.prepare(context)
            timings = send_at_rate(
                mode, ports, args.events, args.rate, args.senders, args.time_limit
            )
        with sqlite3.connect(db) as conn:
            replies = int(conn.execute("SELECT count(*) FROM replies").fetchone()[0])
    report(mode, args, timings, replies)


if __name__ == "__main__":
    main()
