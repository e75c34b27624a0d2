"""Acks stay quick and votes land at once, however slow the model; a full queue says busy."""

import time
from collections.abc import Callable
from pathlib import Path

from bot.listeners.messages import BUSY
from storage import Reply
from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot, running_bot, wait_until
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

# Longer than Slack's 3 s ack window: a click queued behind one model call misses it.
MODEL_DELAY = 4.0
ACK_BOUND = 2.0  # well within Slack's 3 s


def first_reply(bot: RunningBot) -> Reply:
    bot.send_event(sr.mention("<@UBOT> first question"))
    bot.slack.wait_for("chat.update")
    bot.settle()
    (reply,) = bot.store.replies()
    return reply


def timed(send: Callable[[], sr.Response]) -> float:
    """Seconds until the request was acked (Bolt answers 404 when an ack is late)."""
    started = time.monotonic()
    response = send()
    assert response.status == 200, response
    return time.monotonic() - started


def test_clicks_shortcuts_modals_commands_and_votes_do_not_wait_behind_replies(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with running_bot(
        slack, openai_fake, tmp_path / "v.db", reply_workers=2, reply_queue=20,
        dataset_dir=tmp_path / "datasets",
    ) as bot:  # fmt: skip
        reply = first_reply(bot)
        openai_fake.delay(MODEL_DELAY)
        for i in range(10):
            assert bot.send_event(sr.mention(f"<@UBOT> question {i}")).status == 200
        wait_until(lambda: len(openai_fake.chat_requests()) >= 3)  # the model is busy

        at = {"channel": reply.channel, "ts": reply.ts}
        click = timed(lambda: bot.send_interaction(sr.feedback_click("good", **at)))
        shortcut = timed(
            lambda: bot.send_interaction(sr.message_shortcut(**at, text=reply.text, user="U3"))
        )
        view = slack.wait_for("views.open", timeout=ACK_BOUND)[0].params["view"]
        submit = timed(
            lambda: bot.send_interaction(sr.view_submission(view, "A better one.", user="U3"))
        )
        retrain = timed(lambda: bot.send_command("/retrain", user="U4"))
        bot.send_event(sr.reaction("reaction_added", "+1", **at, user="U5"))
        reacted = wait_until(
            lambda: any(v.user == "U5" for v in bot.store.votes()), timeout=ACK_BOUND
        )

        assert max(click, shortcut, submit, retrain) < ACK_BOUND, (click, shortcut, submit)
        assert reacted, "the reaction waited behind the replies"
        assert {v.user: v.value for v in bot.store.votes()} == {"U2": 1, "U3": -1, "U5": 1}
        assert len(bot.store.corrections()) == 1
        assert len(list(bot.store.replies())) < 11  # the replies really were still queued


def test_a_full_reply_queue_says_busy_instead_of_waiting(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with running_bot(slack, openai_fake, tmp_path / "v.db", reply_workers=1, reply_queue=1) as bot:
        openai_fake.delay(1.0)
        mentions = [sr.mention(f"<@UBOT> question {i}") for i in range(4)]
        for event in mentions:
            assert bot.send_event(event).status == 200
        bot.settle()
        busy = [c for c in slack.calls("chat.postMessage") if c.params["text"] == BUSY]
        # One running, one waiting; the other two are told to try again, in their threads.
        assert sorted(c.params["thread_ts"] for c in busy) == [m["ts"] for m in mentions[2:]]
        assert len(openai_fake.chat_requests()) == 2
        assert len(list(bot.store.replies())) == 2
        # A delivery of a message already told "busy" is not answered again.
        bot.send_event(mentions[3])
        bot.settle()
        assert len(slack.calls("chat.postMessage")) == 4
