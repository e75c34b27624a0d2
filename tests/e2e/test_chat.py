"""Mentions, DMs and thread follow-ups get one reply each, from the live deployment."""

import logging
from pathlib import Path

import pytest

from curation.dataset.tokens import count_chat_tokens
from tests.e2e import slack_requests as sr
from tests.e2e.harness import OPENAI_KEY, RunningBot, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


def test_mention_gets_a_threaded_reply_with_feedback_buttons(bot: RunningBot) -> None:
    bot.openai.reply_with("Trail's open! Pack layers. 🌲")
    event = sr.mention("<@UBOT> is the ridge trail open?")
    assert bot.send_event(event).status == 200

    update = bot.slack.wait_for("chat.update")[0]
    placeholder = bot.slack.calls("chat.postMessage")[0]
    assert placeholder.params["thread_ts"] == event["ts"]
    assert update.params["ts"] == placeholder_ts(bot)
    assert update.params["text"] == "Trail's open! Pack layers. 🌲"
    kinds = [b["type"] for b in update.params["blocks"]]
    assert kinds == ["section", "context_actions"]
    assert update.params["blocks"][1]["elements"][0]["type"] == "feedback_buttons"

    request = bot.openai.chat_requests()[0]
    system, question = request["messages"][0], request["messages"][-1]
    assert system["role"] == "system" and "Fernleaf" in system["content"]
    assert question == {"role": "user", "content": "is the ridge trail open?"}

    bot.settle()
    reply = bot.store.reply("C1", placeholder_ts(bot))
    assert reply is not None
    assert reply.text == "Trail's open! Pack layers. 🌲"
    assert reply.question == "is the ridge trail open?"
    assert reply.thread_ts == event["ts"] and reply.asked_by == "U1"
    deployment = bot.store.live_deployment()
    assert deployment is not None
    assert (reply.model, reply.prompt_id) == ("gpt-4.1-mini", deployment.prompt_id)
    assert reply.prompt_tokens and reply.completion_tokens
    assert reply.latency_ms is not None and reply.latency_ms >= 0


def test_direct_message_is_answered(bot: RunningBot) -> None:
    bot.send_event(sr.message("what boots for snow?", channel="D1", channel_type="im"))
    bot.slack.wait_for("chat.update")
    bot.settle()
    assert [r.channel for r in bot.store.replies()] == ["D1"]


def test_follow_up_in_the_bots_thread_needs_no_mention(bot: RunningBot) -> None:
    root = sr.mention("<@UBOT> best tent for two?")
    bot.slack.add_message("C1", root["ts"], "U1", root["text"])
    bot.send_event(root)
    bot.slack.wait_for("chat.update")
    bot.settle()

    follow_up = sr.message("and for rain?", thread_ts=root["ts"])
    bot.slack.add_message("C1", follow_up["ts"], "U1", follow_up["text"], thread_ts=root["ts"])
    bot.send_event(follow_up)
    bot.slack.wait_for("chat.update", count=2)
    bot.settle()

    messages = bot.openai.chat_requests()[1]["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "best tent for two?"
    assert messages[-1]["content"] == "and for rain?"
    assert len(list(bot.store.replies())) == 2


def test_messages_in_threads_the_bot_is_not_in_are_left_alone(bot: RunningBot) -> None:
    bot.send_event(sr.message("chatting among ourselves", thread_ts=sr.next_ts()))
    bot.send_event(sr.message("a plain channel message"))
    bot.settle()
    assert bot.slack.calls("chat.postMessage") == []


def test_mention_and_message_events_for_one_message_give_one_reply(bot: RunningBot) -> None:
    root = sr.mention("<@UBOT> hi")
    bot.send_event(root)
    bot.slack.wait_for("chat.update")
    bot.settle()
    ts = sr.next_ts()
    both = [
        sr.mention("<@UBOT> again", ts=ts, thread_ts=root["ts"]),
        sr.message("<@UBOT> again", ts=ts, thread_ts=root["ts"]),
    ]
    for event in both:
        bot.send_event(event)
    bot.settle()
    assert len(bot.slack.calls("chat.postMessage")) == 2  # the root's and this one's


def test_channels_outside_the_allow_list_are_ignored(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with running_bot(slack, openai_fake, tmp_path / "v.db", channels="C_ALLOWED") as bot:
        bot.send_event(sr.mention("<@UBOT> hello", channel="C_OTHER"))
        bot.send_event(sr.mention("<@UBOT> hello", channel="C_ALLOWED"))
        bot.slack.wait_for("chat.update")
        bot.settle()
        assert {c.params["channel"] for c in slack.calls("chat.postMessage")} == {"C_ALLOWED"}


def test_rate_limited_model_call_is_retried_and_the_reply_posted(bot: RunningBot) -> None:
    bot.openai.fail_next(429, times=1)
    bot.send_event(sr.mention("<@UBOT> hello"))
    update = bot.slack.wait_for("chat.update")[0]
    assert "Sorry" not in update.params["text"]
    assert len(bot.openai.chat_requests()) == 2
    bot.settle()
    assert len(list(bot.store.replies())) == 1


def test_persistent_model_failure_apologises_and_logs_without_secrets(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.openai.fail_always(500)
    with caplog.at_level(logging.INFO):
        bot.send_event(sr.mention("<@UBOT> hello"))
        update = bot.slack.wait_for("chat.update")[0]
        bot.settle()
    assert update.params["text"].startswith("Sorry")
    assert list(bot.store.replies()) == []
    assert "InternalServerError" in caplog.text
    assert OPENAI_KEY not in caplog.text
    assert bot.settings.slack_bot_token is not None
    assert bot.settings.slack_bot_token.get_secret_value() not in caplog.text


def test_a_huge_message_is_trimmed_to_the_token_budget(bot: RunningBot) -> None:
    # 1 MB of text: far over any model's budget, just under the body cap (1 MiB).
    sentence = "please read all of this carefully. "
    huge = "<@UBOT> " + sentence * (1_000_000 // len(sentence) + 1)
    assert len(huge) > 1_000_000
    assert bot.send_event(sr.mention(huge)).status == 200
    update = bot.slack.wait_for("chat.update", timeout=30)[0]
    assert not update.params["text"].startswith("Sorry")
    messages = bot.openai.chat_requests()[0]["messages"]
    assert count_chat_tokens(messages, "gpt-4.1-mini") <= bot.settings.context_tokens
    bot.settle()
    (reply,) = bot.store.replies()
    assert len(reply.question) < 100_000


def placeholder_ts(bot: RunningBot) -> str:
    posted = bot.slack.messages("C1")
    return str(next(m for m in posted if m.get("bot_id") == "BBOT")["ts"])


def test_a_rate_limited_slack_post_is_retried(bot: RunningBot) -> None:
    bot.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    bot.send_event(sr.mention("<@UBOT> hello"))
    update = bot.slack.wait_for("chat.update", timeout=10)[0]
    assert not update.params["text"].startswith("Sorry")
    assert len(bot.slack.calls("chat.postMessage")) == 2
