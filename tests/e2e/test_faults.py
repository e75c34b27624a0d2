"""Slack's bad minutes and crashes: every message still gets exactly one reply."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.replying import APOLOGY, PLACEHOLDER
from storage import Arrival, Intake, StorageError, Store
from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, FakeSlack


def bot_posts(bot: RunningBot, channel: str = "C1") -> list[dict[str, object]]:
    return [m for m in bot.slack.messages(channel) if m.get("bot_id") == BOT_ID]


def test_one_server_error_from_post_message_still_gets_one_reply(bot: RunningBot) -> None:
    bot.slack.fail_server("chat.postMessage")
    question = sr.mention("<@UBOT> hello")
    bot.send_event(question)
    bot.slack.wait_for("chat.update")
    bot.settle()
    # Slack retries the delivery too; that changes nothing.
    bot.send_event(question, headers={"X-Slack-Retry-Num": "1"})
    bot.settle()
    [posted] = bot_posts(bot)
    assert posted["text"] != PLACEHOLDER
    assert [r.ts for r in bot.store.replies()] == [posted["ts"]]
    claim = bot.store.claim("C1", question["ts"])
    assert claim is not None and claim.state == "answered" and claim.reply_ts == posted["ts"]


def test_a_post_that_slack_made_but_answered_500_leaves_no_second_placeholder(
    bot: RunningBot,
) -> None:
    # Slack posted the "Thinking…" and then failed to say so; the client's
    # retry posts another. The extra one is removed, the other becomes the reply.
    bot.slack.fail_server("chat.postMessage", applied=True)
    question = sr.mention("<@UBOT> hello")
    bot.slack.add_message("C1", question["ts"], "U1", question["text"])  # as Slack has it
    bot.send_event(question)
    bot.slack.wait_for("chat.update")
    bot.settle()
    [posted] = bot_posts(bot)
    assert posted["text"] not in (PLACEHOLDER, APOLOGY)
    assert len(bot.slack.calls("chat.postMessage")) == 2
    assert len(bot.slack.calls("chat.delete")) == 1
    assert [r.ts for r in bot.store.replies()] == [posted["ts"]]


def test_one_server_error_from_the_final_update_leaves_no_placeholder(bot: RunningBot) -> None:
    bot.slack.fail_server("chat.update")
    bot.send_event(sr.mention("<@UBOT> hello"))
    bot.slack.wait_for("chat.update", count=2)
    bot.settle()
    [posted] = bot_posts(bot)
    assert posted["text"] not in (PLACEHOLDER, APOLOGY)
    [reply] = bot.store.replies()
    assert reply.ts == posted["ts"] and reply.text == posted["text"]
    assert len(bot.openai.chat_requests()) == 1


def test_a_placeholder_slack_keeps_refusing_is_posted_by_the_next_pass(bot: RunningBot) -> None:
    bot.slack.fail_server("chat.postMessage", times=3)  # more than the client retries
    question = sr.mention("<@UBOT> hello")
    bot.send_event(question)
    bot.settle()
    assert bot_posts(bot) == []
    claim = bot.store.claim("C1", question["ts"])
    assert claim is not None and claim.state == "released"
    bot.service.maintenance.run_once()
    [posted] = bot_posts(bot)
    assert posted["text"] not in (PLACEHOLDER, APOLOGY)
    assert [r.ts for r in bot.store.replies()] == [posted["ts"]]


def test_an_update_slack_keeps_refusing_is_redone_on_the_same_placeholder(
    bot: RunningBot,
) -> None:
    bot.slack.fail_server("chat.update", times=3)
    question = sr.mention("<@UBOT> hello")
    bot.send_event(question)
    bot.settle()
    [stuck] = bot_posts(bot)
    assert stuck["text"] == PLACEHOLDER
    assert list(bot.store.replies()) == []
    # Slack's own retry of the delivery (or the next maintenance pass) redoes it.
    bot.send_event(question, headers={"X-Slack-Retry-Num": "1"})
    bot.settle()
    [posted] = bot_posts(bot)
    assert posted["ts"] == stuck["ts"] and posted["text"] not in (PLACEHOLDER, APOLOGY)
    assert [r.ts for r in bot.store.replies()] == [posted["ts"]]
    assert len(bot.slack.calls("chat.postMessage")) == 1


def test_a_message_that_keeps_failing_ends_in_the_apology(bot: RunningBot) -> None:
    bot.slack.fail_server("chat.update", times=3 * 3)
    question = sr.mention("<@UBOT> hello")
    bot.send_event(question)
    bot.settle()
    for _ in range(2):
        bot.service.maintenance.run_once()
    bot.service.maintenance.run_once()  # past the attempts: give up politely
    [posted] = bot_posts(bot)
    assert posted["text"] == APOLOGY
    claim = bot.store.claim("C1", question["ts"])
    assert claim is not None and claim.state == "answered"


def test_start_up_answers_what_a_crashed_process_left(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "voiceloop.db"
    crashed = Store(db)
    first, second = sr.next_ts(), sr.next_ts()
    for ts, text in [(first, "<@UBOT> first question"), (second, "<@UBOT> and this?")]:
        slack.add_message("C1", ts, "U1", text, thread_ts=None if ts == first else first)
        claim = crashed.claim_message(
            "C1",
            ts,
            worker="old:1",
            user="U1",
            text=text,
            thread_ts=None if ts == first else first,
            expires_after=timedelta(minutes=5),
        )
        assert claim is not None
    # The first claim got as far as recording its placeholder; the second
    # crashed right after posting one, before it could record it.
    placeholders = [sr.next_ts(), sr.next_ts()]
    for ts in placeholders:
        slack.add_message("C1", ts, BOT_USER_ID, PLACEHOLDER, thread_ts=first, bot_id=BOT_ID)
    crashed.set_placeholder("C1", first, placeholders[0])
    crashed.close()
    with running_bot(slack, openai_fake, db) as bot:
        bot.service.maintenance.run_once()
        texts = {m["ts"]: m["text"] for m in bot_posts(bot)}
        assert set(texts) == set(placeholders)
        assert PLACEHOLDER not in texts.values()
        assert {r.ts for r in bot.store.replies()} == set(placeholders)
        assert slack.calls("chat.postMessage") == []
        for ts in (first, second):
            claim = bot.store.claim("C1", ts)
            assert claim is not None and claim.state == "answered"


def test_a_dict_as_channel_is_refused_not_stored(bot: RunningBot) -> None:
    event = sr.mention("<@UBOT> hello")
    event["channel"] = {"a": 1}
    assert bot.send_event(event).status == 200
    bot.settle()
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.store.db.table("claims").count == 0


def test_the_maintenance_pass_prunes_old_delivery_records(bot: RunningBot) -> None:
    old = "2020-01-01T00:00:00.000+00:00"
    bot.store.db.execute("INSERT INTO events (key, received_at) VALUES ('event:Ev1', ?)", [old])
    bot.store.db.execute(
        "INSERT INTO claims (channel, ts, state, claimed_by, claimed_at, attempts, answered_at)"
        " VALUES ('C1', '1.000001', 'answered', 'old:1', ?, 1, ?)",
        [old, old],
    )
    bot.service.maintenance.run_once()
    assert bot.store.db.table("events").count == 0
    assert bot.store.claim("C1", "1.000001") is None


def test_a_message_that_cannot_be_kept_answers_500_so_slack_sends_it_again(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_arrival: Arrival) -> None:
        raise StorageError("cannot keep an incoming message: disk full?")

    question = sr.mention("<@UBOT> hello")
    with monkeypatch.context() as patched:
        patched.setattr(bot.service.responder.intake, "append", disk_full)
        assert bot.send_event(question).status == 500
        bot.settle()
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.send_event(question, headers={"X-Slack-Retry-Num": "1"}).status == 200
    bot.settle()
    assert len(bot_posts(bot)) == 1 and len(list(bot.store.replies())) == 1


def test_a_kept_message_whose_claim_failed_is_answered_by_the_next_maintenance_pass(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(*_args: object, **_kwargs: object) -> None:
        raise StorageError("voiceloop.db stayed locked by another process for too long")

    question = sr.mention("<@UBOT> hello")
    with monkeypatch.context() as patched:
        patched.setattr(bot.store, "claim_message", locked)
        assert bot.send_event(question).status == 200  # kept, so acknowledged
        bot.settle()
    assert bot.slack.calls("chat.postMessage") == []
    bot.service.maintenance.run_once()
    [posted] = bot_posts(bot)
    assert posted["text"] != PLACEHOLDER
    assert [r.thread_ts for r in bot.store.replies()] == [question["ts"]]
    # Slack's late retry, and the next pass, change nothing.
    bot.send_event(question, headers={"X-Slack-Retry-Num": "1"})
    bot.settle()
    bot.service.maintenance.run_once()
    assert len(bot_posts(bot)) == 1 and len(list(bot.store.replies())) == 1


def test_start_up_answers_what_a_crash_between_ack_and_claim_left(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "voiceloop.db"
    Store(db).close()
    ts = sr.next_ts()
    slack.add_message("C1", ts, "U1", "<@UBOT> anyone there?")
    Intake.beside(db).append(Arrival("C1", ts, "U1", "<@UBOT> anyone there?"))
    with running_bot(slack, openai_fake, db) as bot:
        bot.service.maintenance.run_once()
        [posted] = bot_posts(bot)
        assert posted["thread_ts"] == ts and posted["text"] != PLACEHOLDER
        claim = bot.store.claim("C1", ts)
        assert claim is not None and claim.state == "answered" and claim.attempts == 1
    assert not list(tmp_path.glob("voiceloop.db-intake*"))
