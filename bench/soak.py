"""Soak: `voiceloop serve` under a fixed-rate mix for a minute while `voiceloop curate` runs twice.

Everything runs on loopback: the bot is a real `voiceloop serve` process (HTTP
mode) talking to a fake Slack and a fake OpenAI (2 s per reply) in this
process. For `--seconds` it sends, at `--rate` requests a second, a mix of
mentions, rating reactions, feedback-button clicks and /retrain, each from its
own sender thread so a slow ack never delays the schedule, while `voiceloop
curate` runs twice on the same database. Then it waits for the replies to
finish and prints: acks over 3 s, replies missing or duplicated, votes lost,
"database is locked" errors, and the bot's peak memory and threads. Ack
latency is also given as a ratio against the same bot measured idle first.

    python bench/soak.py [--seconds 60] [--rate 20] [--replies 20000]
"""

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loopback import VOICELOOP, free_port, percentile, serve_env, wait_healthy

from bot.chat.replying import APOLOGY, PLACEHOLDER
from storage import Reply, Store
from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, FakeSlack

MODEL_DELAY = 2.0
ACK_LIMIT = 3.0
# Of every 20 requests: 2 mentions, 8 reactions, 9 clicks, 1 /retrain.
MIX = ["mention"] * 2 + ["reaction"] * 8 + ["click"] * 9 + ["command"]


@dataclass
class Sent:
    kind: str
    status: int  # 0: no answer at all
    seconds: float
    mention_ts: str | None = None
    voter: str | None = None
    reply_ts: str | None = None


def post(url: str, body: str, content_type: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        status = sr.post(url, body, secret=SIGNING_SECRET, content_type=content_type).status
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def seed(db: Path, replies: int) -> list[str]:
    store = Store(db)
    with store.transaction():
        for i in range(replies):
            ts = f"{1_600_000_000 + i}.000100"
            text = f"For trail {i} bring {i % 5 + 1} liters of water and a map; {i * 37 % 900} ft."
            store.save_reply(Reply("C1", ts, text, question=f"Trip {i}: what to pack?"))
            store.record_vote("C1", ts, f"U{i % 9}", 1 if i % 4 else -1, "reaction:+1")
    store.close()
    return [f"{1_600_000_000 + i}.000100" for i in range(replies)]


class ProcessWatch:
    """Samples the bot process's peak resident memory and thread count."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss_kb = 0
        self.peak_threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            self.peak_rss_kb = max(self.peak_rss_kb, int(fields["VmHWM"].split()[0]))
            self.peak_threads = max(self.peak_threads, int(fields["Threads"]))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--replies", type=int, default=20_000, help="rated replies seeded")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voiceloop-soak-"))
    db = work / "voiceloop.db"
    rated = seed(db, args.replies)
    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        openai.delay(MODEL_DELAY)
        port = free_port()
        env = serve_env(
            slack.url,
            openai.base_url,
            VOICELOOP_DB=str(db),
            VOICELOOP_PORT=str(port),
            VOICELOOP_SHORT_PROMPT="You are Pim, the assistant for Acme Kites.",
            VOICELOOP_DATASET_DIR=str(work / "datasets"),
        )
        bot_log = (work / "bot.log").open("w")
        bot = subprocess.Popen([*VOICELOOP, "serve"], env=env, cwd=work, stderr=bot_log)
        url = f"http://127.0.0.1:{port}/slack/events"
        wait_healthy(bot, port, "voiceloop serve", work / "bot.log")
        watch = ProcessWatch(bot.pid)

        idle = [
            post(url, click_body(rated[i], f"UIDLE{i}"), "application/x-www-form-urlencoded")[1]
            for i in range(20)
        ]
        sent: list[Sent] = []
        sent_lock = threading.Lock()

        def send(i: int, kind: str) -> None:
            record = build(kind, i, rated, slack)
            body, content_type = record.pop("body"), record.pop("content_type")
            status, seconds = post(url, str(body), str(content_type))
            with sent_lock:
                sent.append(Sent(kind, status, seconds, **record))  # type: ignore[arg-type]

        curate_runs: list[subprocess.CompletedProcess[str]] = []

        def curate_twice() -> None:
            for start in (0.15, 0.55):
                time.sleep(max(0.0, start * args.seconds - (time.monotonic() - began)))
                curate_runs.append(
                    subprocess.run(
                        [*VOICELOOP, "curate"],
                        env=env,
                        cwd=work,
                        capture_output=True,
                        text=True,
                        timeout=600,
                    )
                )

        began = time.monotonic()
        curator = threading.Thread(target=curate_twice)
        curator.start()
        total = int(args.seconds * args.rate)
        with ThreadPoolExecutor(max_workers=64) as senders:
            for i in range(total):
                time.sleep(max(0.0, began + i / args.rate - time.monotonic()))
                senders.submit(send, i, MIX[i % len(MIX)])
        curator.join()
        mentions = [s.mention_ts for s in sent if s.kind == "mention" and s.mention_ts]
        drain_until = time.monotonic() + 120
        while time.monotonic() < drain_until and not all(answered(slack, m) for m in mentions):
            time.sleep(0.2)
        time.sleep(1.0)
        watch.stop()
        bot.terminate()
        bot.wait(60)
        bot_log.close()

        replies = {m: bot_replies(slack, m) for m in mentions}
        missing = sum(1 for found in replies.values() if not final(found))
        duplicated = sum(1 for found in replies.values() if len(found) > 1)
        conn = sqlite3.connect(db)
        stored = {(r[0], r[1]) for r in conn.execute("SELECT user, ts FROM votes")}
        conn.close()
        acked_votes = [s for s in sent if s.kind in ("reaction", "click") and s.status == 200]
        lost = sum(1 for s in acked_votes if (s.voter, s.reply_ts) not in stored)
        locked = (work / "bot.log").read_text().count("database is locked") + sum(
            (run.stdout + run.stderr).count("database is locked") for run in curate_runs
        )

    latencies = sorted(s.seconds for s in sent)
    over = sum(1 for s in sent if s.seconds > ACK_LIMIT or s.status != 200)
    idle_p99 = percentile(idle, 99)
    load_p99 = percentile(latencies, 99)
    rows = [
        ("requests sent", f"{len(sent):,} in {args.seconds:.0f} s ({args.rate:g}/s)"),
        (
            "mentions / reactions / clicks / commands",
            " / ".join(
                str(sum(1 for s in sent if s.kind == k))
                for k in ("mention", "reaction", "click", "command")
            ),
        ),
        ("acks over 3 s or failed (target 0)", f"{over}"),
        (
            "ack p50 / p99 / max",
            f"{percentile(latencies, 50) * 1000:.0f} / "
            f"{load_p99 * 1000:.0f} / {latencies[-1] * 1000:.0f} ms",
        ),
        ("ack p99 vs idle p99", f"{load_p99 / idle_p99:.2f}x (idle p99 {idle_p99 * 1000:.0f} ms)"),
        ("replies missing (target 0)", f"{missing} of {len(mentions)}"),
        ("replies duplicated (target 0)", f"{duplicated}"),
        ("votes lost (target 0)", f"{lost} of {len(acked_votes)} acked"),
        ('"database is locked" (target 0)', f"{locked}"),
        ("curate exit codes", ", ".join(str(r.returncode) for r in curate_runs)),
        ("bot peak memory (VmHWM)", f"{watch.peak_rss_kb / 1024:.0f} MiB"),
        ("bot peak threads", f"{watch.peak_threads}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"soak: {args.replies:,} rated replies seeded, model delay {MODEL_DELAY:g} s")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def build(kind: str, i: int, rated: list[str], slack: FakeSlack) -> dict[str, object]:
    reply = rated[i % len(rated)]
    if kind == "mention":
        event = sr.mention(f"<@UBOT> soak question {i}")
        return {
            "body": sr.event_body(event),
            "content_type": "application/json",
            "mention_ts": event["ts"],
        }
    voter = f"USOAK{i:06d}"
    slack.add_user(voter)
    if kind == "reaction":
        event = sr.reaction("reaction_added", "+1", channel="C1", ts=reply, user=voter)
        return {
            "body": sr.event_body(event),
            "content_type": "application/json",
            "voter": voter,
            "reply_ts": reply,
        }
    if kind == "click":
        return {
            "body": click_body(reply, voter),
            "content_type": "application/x-www-form-urlencoded",
            "voter": voter,
            "reply_ts": reply,
        }
    body = sr.command_body(
        "/retrain", user=voter, text="", response_url=slack.response_url("retrain")
    )
    return {"body": body, "content_type": "application/x-www-form-urlencoded"}


def click_body(reply: str, voter: str) -> str:
    return sr.interaction_body(sr.feedback_click("good", channel="C1", ts=reply, user=voter))


def bot_replies(slack: FakeSlack, thread: str) -> list[dict[str, object]]:
    return [
        m
        for m in slack.messages("C1")
        if m.get("bot_id") == BOT_ID and m.get("thread_ts") == thread and m["ts"] != thread
    ]


def final(found: list[dict[str, object]]) -> bool:
    return bool(found) and all(m["text"] not in (PLACEHOLDER, APOLOGY) for m in found)


def answered(slack: FakeSlack, thread: str) -> bool:
    return final(bot_replies(slack, thread))


if __name__ == "__main__":
    main()
