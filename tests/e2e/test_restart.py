"""kill -9 in the middle of a stream: after a restart every mention has exactly one
reply and every acknowledged vote is stored."""

import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat.replying import APOLOGY, PLACEHOLDER
from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET
from tests.e2e.test_serve_command import VOICELOOP, clean_env
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, FakeSlack


@dataclass
class Delivery:
    kind: str  # "mention", "reaction" or "click"
    body: str
    content_type: str
    acked: bool = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_bot(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [*VOICELOOP, "serve"],
        env={**env, "VOICELOOP_PORT": str(port)},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, f"http://127.0.0.1:{port}/slack/events"
        except OSError:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)


def deliver(url: str, delivery: Delivery, retry: int = 0) -> bool:
    headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"} if retry else {}
    try:
        response = sr.post(
            url,
            delivery.body,
            secret=SIGNING_SECRET,
            content_type=delivery.content_type,
            headers=headers,
        )
    except OSError:
        return False  # the process died before it answered: Slack would retry
    return response.status == 200


def bot_messages(slack: FakeSlack, thread: str) -> list[dict[str, Any]]:
    return [
        m
        for m in slack.messages("C1")
        if m.get("bot_id") == BOT_ID and m.get("thread_ts") == thread and m["ts"] != thread
    ]


def answered(slack: FakeSlack, thread: str) -> bool:
    found = bot_messages(slack, thread)
    return bool(found) and all(m["text"] not in (PLACEHOLDER, APOLOGY) for m in found)


def wait_answered(slack: FakeSlack, threads: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not all(answered(slack, t) for t in threads):
        assert time.monotonic() < deadline, [t for t in threads if not answered(slack, t)]
        time.sleep(0.05)


def test_kill_9_mid_stream_then_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db = tmp_path / "voiceloop.db"
    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        env = clean_env(
            tmp_path,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=openai.base_url,
            SLACK_API_URL=slack.url,
            VOICELOOP_HOST="127.0.0.1",
            VOICELOOP_CHAT_MODEL="gpt-4.1-mini",
        )
        process, url = start_bot(env, tmp_path)
        try:
            # Replies to vote on.
            rated = [sr.mention(f"<@UBOT> question {i}") for i in range(3)]
            for event in rated:
                assert deliver(url, Delivery("mention", sr.event_body(event), "application/json"))
            wait_answered(slack, [e["ts"] for e in rated], timeout=20)
            replies = [bot_messages(slack, e["ts"])[0]["ts"] for e in rated]

            # The stream: mentions answered slowly, votes from new people.
            openai.delay(0.3)
            stream: list[Delivery] = []
            mentions: list[str] = []
            voters: dict[str, tuple[str, str]] = {}  # user -> (reply ts, source)
            stop = threading.Event()

            def send() -> None:
                i = 0
                while not stop.is_set():
                    event = sr.mention(f"<@UBOT> stream {i}")
                    mentions.append(event["ts"])
                    reply = replies[i % len(replies)]
                    reactor, clicker = f"UR{i:04d}", f"UC{i:04d}"
                    voters[reactor] = (reply, "reaction:+1")
                    voters[clicker] = (reply, "feedback_button")
                    batch = [
                        Delivery("mention", sr.event_body(event), "application/json"),
                        Delivery(
                            "reaction",
                            sr.event_body(
                                sr.reaction(
                                    "reaction_added", "+1", channel="C1", ts=reply, user=reactor
                                )
                            ),
                            "application/json",
                        ),
                        Delivery(
                            "click",
                            sr.interaction_body(
                                sr.feedback_click("good", channel="C1", ts=reply, user=clicker)
                            ),
                            "application/x-www-form-urlencoded",
                        ),
                    ]
                    for delivery in batch:
                        delivery.acked = deliver(url, delivery)
                        stream.append(delivery)
                    i += 1
                    time.sleep(0.03)

            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(1.5)
            process.kill()  # SIGKILL: no shutdown, no cleanup
            process.wait(10)
            time.sleep(0.2)
            stop.set()
            sender.join(20)
            acked_mentions = sum(d.acked for d in stream if d.kind == "mention")
            assert 0 < acked_mentions < len(mentions), "the kill must land mid-stream"

            process, url = start_bot(env, tmp_path)
            # Slack redelivers what was not acknowledged (interactions it never
            # retries), and may retry some it did get an answer for.
            for delivery in stream:
                if not delivery.acked and delivery.kind != "click":
                    assert deliver(url, delivery, retry=1)
            for delivery in [d for d in stream if d.acked and d.kind == "mention"][-3:]:
                assert deliver(url, delivery, retry=2)
            wait_answered(slack, [e["ts"] for e in rated] + mentions, timeout=60)
            time.sleep(0.5)  # anything still on its way would show as a second reply
        finally:
            process.kill()
            process.wait(10)

        for thread in [e["ts"] for e in rated] + mentions:
            found = bot_messages(slack, thread)
            assert len(found) == 1, (thread, found)
        conn = sqlite3.connect(db)
        stored_replies = {row[0] for row in conn.execute("SELECT thread_ts FROM replies")}
        assert stored_replies == {e["ts"] for e in rated} | set(mentions)
        votes = {
            row[0]: (row[1], row[2], row[3])
            for row in conn.execute("SELECT user, ts, source, value FROM votes")
        }
        conn.close()
        acked_votes = [d for d in stream if d.acked and d.kind != "mention"]
        assert acked_votes
        for user, (reply, source) in voters.items():
            sent = [
                d
                for d in stream
                if d.kind != "mention" and user in d.body and (d.acked or d.kind == "reaction")
            ]
            if sent:
                assert votes.get(user) == (reply, source, 1), user
