"""Ack latency: voiceloop vs a bare Bolt app with a no-op handler, same server, same run.

Both apps are served by the same waitress wrapper and receive the same signed
events, interleaved so that machine noise lands on both. voiceloop does its
real work after each ack (model call to a fake OpenAI, Slack posts to a fake
Slack, SQLite writes), so the figures include that background load.

    python bench/ack_latency.py [--events N]
"""

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.server import HttpServer
from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


def bare_app(slack_url: str) -> App:
    app = App(client=WebClient(token=BOT_TOKEN, base_url=slack_url), signing_secret=SIGNING_SECRET)

    @app.event("app_mention")
    def noop() -> None:
        pass

    return app


def send(conn: http.client.HTTPConnection, body: str) -> float:
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=ts, body=body
        )
        or "",
    }
    started = time.perf_counter()
    conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"unexpected HTTP {response.status}")
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    with (
        FakeSlack(bot_token=BOT_TOKEN) as slack,
        FakeOpenAI(api_key=OPENAI_KEY) as openai,
        tempfile.TemporaryDirectory() as tmp,
        running_bot(slack, openai, Path(tmp) / "bench.db") as bot,
    ):
        bare = HttpServer(bare_app(slack.url), "127.0.0.1", 0, threads=4)
        bare.start_in_thread()
        ours_conn = http.client.HTTPConnection("127.0.0.1", bot.server.port, timeout=10)
        bare_conn = http.client.HTTPConnection("127.0.0.1", bare.port, timeout=10)
        timings: dict[str, list[float]] = {"voiceloop": [], "bare Bolt": []}
        for i in range(args.warmup + args.events):
            body = sr.event_body(sr.mention(f"<@UBOT> question {i}"))
            ours, base = send(ours_conn, body), send(bare_conn, body)
            if i >= args.warmup:
                timings["voiceloop"].append(ours)
                timings["bare Bolt"].append(base)
        started = time.perf_counter()
        bot.executor.wait_idle(timeout=600)  # let every reply finish before counting
        drained = time.perf_counter() - started
        bare.stop(timeout=5)
        replies = sum(1 for _ in bot.store.replies())

    print(
        f"{args.events} signed app_mention events per app ({replies} replies generated; "
        f"the last finished {drained:.1f}s after the last ack)"
    )
    print(f"{'app':<12}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, values in timings.items():
        ms = [v * 1000 for v in values]
        print(
            f"{name:<12}{percentile(ms, 50):>10.2f}{percentile(ms, 99):>10.2f}"
            f"{statistics.fmean(ms):>10.2f}"
        )
    ours_ms, base_ms = timings["voiceloop"], timings["bare Bolt"]
    print(f"ratio p50: {percentile(ours_ms, 50) / percentile(base_ms, 50):.2f}")
    print(f"ratio p99: {percentile(ours_ms, 99) / percentile(base_ms, 99):.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
