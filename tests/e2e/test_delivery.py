"""Retries, duplicates, bad signatures and malformed payloads change nothing."""

import time

import pytest
from slack_sdk.signature import SignatureVerifier

from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot


def test_the_same_event_delivered_three_times_gets_one_reply(bot: RunningBot) -> None:
    event = sr.mention("<@UBOT> hello")
    for retry in range(3):
        headers = {"X-Slack-Retry-Num": str(retry)} if retry else None
        assert bot.send_event(event, event_id="EvDUP", headers=headers).status == 200
    bot.slack.wait_for("chat.update")
    bot.settle()
    assert len(bot.slack.calls("chat.postMessage")) == 1
    assert len(bot.openai.chat_requests()) == 1
    assert len(list(bot.store.replies())) == 1


def test_a_request_is_verified_once(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    # The HTTP layer verifies every body before anything parses it; Bolt's own
    # check of the same signature would be work on every ack for nothing.
    checks: list[str] = []
    is_valid = SignatureVerifier.is_valid

    def counted(self: SignatureVerifier, body: str | bytes, timestamp: str, signature: str) -> bool:
        checks.append(timestamp)
        return is_valid(self, body, timestamp, signature)

    monkeypatch.setattr(SignatureVerifier, "is_valid", counted)
    assert bot.send_event(sr.mention("<@UBOT> hello")).status == 200
    assert len(checks) == 1


def test_a_bad_signature_is_refused_and_stores_nothing(bot: RunningBot) -> None:
    body = sr.event_body(sr.mention("<@UBOT> hello"))
    forged = sr.post(bot.server.url, body, secret="not-the-signing-secret")
    assert forged.status == 401
    stale = sr.post(
        bot.server.url,
        body,
        secret="test-signing-secret-abcdef123456",
        timestamp=int(time.time()) - 600,
    )
    assert stale.status == 401
    bot.settle()
    assert bot.slack.calls("chat.postMessage") == []
    assert list(bot.store.replies()) == []
    assert bot.store.db.table("events").count == 0


def test_a_malformed_payload_is_refused_and_the_app_keeps_working(bot: RunningBot) -> None:
    response = bot.post("{this is not json")
    assert 400 <= response.status < 500
    bot.send_event(sr.mention("<@UBOT> still there?"))
    bot.slack.wait_for("chat.update")


def test_health_check_and_unknown_paths(bot: RunningBot) -> None:
    import urllib.error
    import urllib.request

    base = f"http://127.0.0.1:{bot.server.port}"
    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:  # noqa: S310
        assert r.status == 200
    try:
        urllib.request.urlopen(base + "/nope", timeout=5)  # noqa: S310
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404
