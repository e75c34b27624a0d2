"""Unsigned, malformed and oversized requests get a 4xx: no traceback, no body in the log."""

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.e2e import slack_requests as sr
from tests.e2e.harness import SIGNING_SECRET, RunningBot, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

DEEP = "[" * 100_000 + "]" * 100_000
MARKER = "unverified-body-marker-7f3a"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    # INFO: Bolt logs a refused body whole at INFO.
    with caplog.at_level(logging.DEBUG):
        yield caplog


def assert_clean(logs: pytest.LogCaptureFixture, *absent: str) -> None:
    assert not [r for r in logs.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in logs.text
    for text in absent:
        assert text not in logs.text


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> int:
    """POSTs with exactly these headers (urllib would add a signature-less
    Content-Type and refuse a body shorter than its Content-Length)."""
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if not any(name.lower() == "content-length" for name in headers):
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("[]", "application/json"),
        ("42", "application/json"),
        ("payload=%5B%5D", "application/x-www-form-urlencoded"),
        (DEEP, "application/json"),
        ("payload=" + DEEP, "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "token": "' + MARKER + '"}', "application/json"),
    ],
    ids=["list", "number", "form-list", "deep-json", "deep-form", "dict"],
)
def test_an_unsigned_body_is_refused_unparsed_and_unlogged(
    bot: RunningBot, logs: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    status = raw_post(bot.server.port, body.encode(), {"Content-Type": content_type})
    assert status == 401
    forged = sr.post(bot.server.url, body, secret="not-the-secret", content_type=content_type)
    assert forged.status == 401
    assert_clean(logs, MARKER, "[[[[", "%5B")
    assert f"({len(body)} bytes)" in logs.text  # its size and why, nothing more
    bot.settle()
    assert bot.store.db.table("events").count == 0


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "-1", "", "١٧٠٠٠٠٠٠٠٠"])
def test_a_non_numeric_timestamp_is_refused(
    bot: RunningBot, logs: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = sr.event_body(sr.mention("<@UBOT> hello"))
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    assert raw_post(bot.server.port, body.encode(), headers) == 401
    assert_clean(logs, "hello")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("[]", "application/json"), (DEEP, "application/json"), ("payload=[1]", "text/plain")],
    ids=["list", "deep-json", "form-list"],
)
def test_a_signed_body_that_is_not_a_payload_is_a_400(
    bot: RunningBot, logs: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    assert bot.post(body, content_type=content_type).status == 400
    assert_clean(logs, "[[[[")
    bot.send_event(sr.mention("<@UBOT> still there?"))
    bot.slack.wait_for("chat.update")


def test_a_body_over_the_cap_is_refused_before_it_is_read(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    cap = 64 * 1024
    with running_bot(slack, openai_fake, tmp_path / "v.db", max_body_bytes=cap) as bot:
        # Claims 100 MB and sends 1 KB of it: the answer must not wait for the rest.
        started = time.monotonic()
        headers = {"Content-Type": "application/json", "Content-Length": str(100 * 2**20)}
        assert raw_post(bot.server.port, b"{" + b" " * 1024, headers) == 413
        assert time.monotonic() - started < 5
        # A signed body just at the cap is still a request, one byte over is not.
        event = sr.mention("<@UBOT> hi")
        at_cap = sr.event_body(event, event_id="EvCAP")
        event["text"] += " " * (cap - len(at_cap))
        at_cap = sr.event_body(event, event_id="EvCAP")
        assert len(at_cap.encode()) == cap
        assert bot.post(at_cap).status == 200
        over = at_cap.encode() + b" "
        ts = str(int(time.time()))
        signed = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=ts, body=over
            )
            or "",
        }
        assert raw_post(bot.server.port, over, signed) == 413
        bot.slack.wait_for("chat.update")
        bot.settle()
        assert len(bot.slack.calls("chat.update")) == 1
    assert_clean(logs)
