"""Reactions, feedback buttons and corrections on bot replies become votes."""

import json

from storage import Reply
from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot


def reply_to(bot: RunningBot, question: str = "<@UBOT> hi") -> Reply:
    bot.send_event(sr.mention(question))
    bot.slack.wait_for("chat.update", count=len(bot.slack.calls("chat.update")) + 1)
    bot.settle()
    return list(bot.store.replies())[-1]


def react(bot: RunningBot, kind: str, name: str, reply: Reply, user: str = "U2") -> None:
    bot.send_event(sr.reaction(kind, name, channel=reply.channel, ts=reply.ts, user=user))
    bot.settle()


def votes(bot: RunningBot, reply: Reply) -> dict[str, int]:
    return {v.user: v.value for v in bot.store.votes(reply.channel, reply.ts)}


def test_good_and_bad_reactions_become_votes_and_latest_wins(bot: RunningBot) -> None:
    reply = reply_to(bot)
    react(bot, "reaction_added", "+1", reply, user="U2")
    react(bot, "reaction_added", "heart", reply, user="U3")
    assert votes(bot, reply) == {"U2": 1, "U3": 1}
    react(bot, "reaction_added", "x", reply, user="U2")
    assert votes(bot, reply) == {"U2": -1, "U3": 1}


def test_removing_the_reaction_removes_the_vote(bot: RunningBot) -> None:
    reply = reply_to(bot)
    react(bot, "reaction_added", "+1::skin-tone-3", reply)
    assert votes(bot, reply) == {"U2": 1}
    react(bot, "reaction_removed", "+1::skin-tone-3", reply)
    assert votes(bot, reply) == {}


def test_reactions_that_are_not_ratings_are_ignored(bot: RunningBot) -> None:
    reply = reply_to(bot)
    react(bot, "reaction_added", "eyes", reply)  # not a rating emoji
    react(bot, "reaction_added", "+1", reply, user="UBOT")  # the bot itself
    bot.slack.add_user("UOTHERBOT", is_bot=True)
    react(bot, "reaction_added", "+1", reply, user="UOTHERBOT")  # another bot
    bot.send_event(sr.reaction("reaction_added", "+1", channel="C1", ts="1.000001"))
    bot.settle()
    assert bot.store.votes() == []


def test_a_reaction_delivered_three_times_counts_once(bot: RunningBot) -> None:
    reply = reply_to(bot)
    event = sr.reaction("reaction_added", "+1", channel=reply.channel, ts=reply.ts)
    for retry in range(3):
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        assert bot.send_event(event, event_id="EvSAME", headers=headers).status == 200
    bot.settle()
    assert len(bot.store.votes()) == 1


def test_feedback_buttons_are_votes(bot: RunningBot) -> None:
    reply = reply_to(bot)
    response = bot.send_interaction(sr.feedback_click("good", channel=reply.channel, ts=reply.ts))
    assert response.status == 200
    bot.settle()
    assert votes(bot, reply) == {"U2": 1}
    bot.send_interaction(sr.feedback_click("bad", channel=reply.channel, ts=reply.ts))
    bot.settle()
    assert [(v.value, v.source) for v in bot.store.votes()] == [(-1, "feedback_button")]


def test_suggesting_a_better_reply_stores_a_correction_and_a_bad_vote(bot: RunningBot) -> None:
    reply = reply_to(bot)
    shortcut = sr.message_shortcut(channel=reply.channel, ts=reply.ts, text=reply.text)
    assert bot.send_interaction(shortcut).status == 200
    opened = bot.slack.wait_for("views.open")[0]
    view = opened.params["view"]
    assert view["callback_id"] == "better_reply_submit"
    assert view["blocks"][0]["element"]["initial_value"] == reply.text

    response = bot.send_interaction(sr.view_submission(view, "Yep, the ridge is open. 🥾"))
    assert response.status == 200
    bot.settle()
    (correction,) = bot.store.corrections(reply.channel, reply.ts)
    assert (correction.user, correction.text) == ("U2", "Yep, the ridge is open. 🥾")
    assert [(v.value, v.source) for v in bot.store.votes()] == [(-1, "correction")]
    bot.slack.wait_for("chat.postEphemeral")


def test_an_unchanged_suggestion_is_not_a_bad_vote(bot: RunningBot) -> None:
    reply = reply_to(bot)
    bot.send_interaction(sr.message_shortcut(channel=reply.channel, ts=reply.ts, text=reply.text))
    view = bot.slack.wait_for("views.open")[0].params["view"]
    bot.send_interaction(sr.view_submission(view, reply.text + "\n"))
    bot.settle()
    assert len(bot.store.corrections()) == 1
    assert bot.store.votes() == []


def test_an_empty_suggestion_is_refused_in_the_modal(bot: RunningBot) -> None:
    reply = reply_to(bot)
    bot.send_interaction(sr.message_shortcut(channel=reply.channel, ts=reply.ts, text=reply.text))
    view = bot.slack.wait_for("views.open")[0].params["view"]
    response = bot.send_interaction(sr.view_submission(view, "   "))
    assert response.status == 200
    assert json.loads(response.body)["response_action"] == "errors"
    bot.settle()
    assert bot.store.corrections() == []


def test_the_shortcut_on_someone_elses_message_explains_itself(bot: RunningBot) -> None:
    bot.send_interaction(sr.message_shortcut(channel="C1", ts="1.000002", text="hi"))
    view = bot.slack.wait_for("views.open")[0].params["view"]
    assert "callback_id" not in view
    assert "only be suggested for the bot's own replies" in json.dumps(view)
