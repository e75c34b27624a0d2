"""Clicks on a reply's feedback buttons become votes."""

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.chat.blocks import FEEDBACK_ACTION_ID
from bot.slack_text import feedback_verdict
from storage import Store

log = logging.getLogger(__name__)


def register(app: App, store: Store) -> None:
    @app.action(FEEDBACK_ACTION_ID)
    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        verdict = feedback_verdict(str(action.get("value", "")))
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        user = (body.get("user") or {}).get("id")
        if verdict is None or not (channel and ts and user):
            log.warning("ignoring a feedback click without a verdict, message or user")
            return
        if store.reply(channel, ts) is None:
            return
        store.record_vote(channel, ts, user, verdict, "feedback_button")
