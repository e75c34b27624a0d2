"""The "Suggest a better reply" shortcut and the modal that stores the correction."""

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chat.blocks import (
    CORRECTION_BLOCK_ID,
    CORRECTION_INPUT_ID,
    CORRECTION_VIEW_ID,
    SUGGEST_SHORTCUT_ID,
    correction_modal,
    notice_modal,
)
from bot.slack_text import slack_id, slack_ts
from curation import is_real_correction
from storage import Store

log = logging.getLogger(__name__)

THANKS = "Thanks! Your suggested reply is saved and will help teach the next model."


def register(app: App, store: Store) -> None:
    @app.shortcut(SUGGEST_SHORTCUT_ID)
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        channel = slack_id((body.get("channel") or {}).get("id"))
        ts = slack_ts((body.get("message") or {}).get("ts"))
        reply = store.reply(channel, ts) if channel and ts else None
        if channel is None or ts is None or reply is None:
            view = notice_modal(
                "Not a bot reply",
                "Corrections can only be suggested for the bot's own replies. "
                "Open this shortcut on one of its messages.",
            )
        else:
            view = correction_modal(channel, ts, reply.text)
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as e:
            log.error("could not open the correction modal: %s", e.response["error"])

    @app.view(CORRECTION_VIEW_ID)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view.get("state", {}).get("values", {})
        text = str(
            values.get(CORRECTION_BLOCK_ID, {}).get(CORRECTION_INPUT_ID, {}).get("value") or ""
        )
        if not text.strip():
            ack(
                response_action="errors",
                errors={CORRECTION_BLOCK_ID: "Write the reply you'd rather see."},
            )
            return
        try:
            address = json.loads(view.get("private_metadata") or "{}")
            channel, ts = slack_id(address["channel"]), slack_ts(address["ts"])
        except (ValueError, KeyError, TypeError):
            channel = ts = None
        user = slack_id((body.get("user") or {}).get("id"))
        if channel is None or ts is None or user is None:
            ack()
            log.warning("ignoring a correction whose modal lost its reply address or user")
            return
        reply = store.reply(channel, ts)
        if reply is None:
            ack(
                response_action="errors",
                errors={CORRECTION_BLOCK_ID: "That reply no longer exists."},
            )
            return
        # Stored before the ack: Slack never submits a modal twice.
        store.save_correction(channel, ts, user, text.strip())
        if is_real_correction(reply.text, text):
            store.record_vote(channel, ts, user, -1, "correction")
        ack()
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=reply.thread_ts or ts, text=THANKS
            )
        except SlackApiError as e:
            log.info("could not thank %s: %s", user, e.response["error"])
