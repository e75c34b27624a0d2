"""Clicks on a reply's feedback buttons become votes.

The vote is written before the ack: Slack never delivers a click twice, so an
acknowledged click that was not stored would be lost for good.
"""

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.chat.blocks import FEEDBACK_ACTION_ID
from bot.slack_text import feedback_verdict, slack_id, slack_ts
from storage import Store, VoteEvent

log = logging.getLogger(__name__)


def register(app: App, store: Store) -> None:
    @app.action(FEEDBACK_ACTION_ID)
    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        verdict = feedback_verdict(str(action.get("value", "")))
        container = body.get("container") or {}
        channel = slack_id(container.get("channel_id") or (body.get("channel") or {}).get("id"))
        ts = slack_ts(container.get("message_ts") or (body.get("message") or {}).get("ts"))
        user = slack_id((body.get("user") or {}).get("id"))
        clicked_at = slack_ts(action.get("action_ts"))
        if verdict is None or not (channel and ts and user and clicked_at):
            ack()
            log.warning("ignoring a feedback click without a verdict, message, user or time")
            return
        if store.reply(channel, ts) is not None:
            store.apply_verdict(
                channel, ts, user, VoteEvent("feedback_button", verdict, clicked_at)
            )
        ack()
