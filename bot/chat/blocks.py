"""Block Kit for replies and the correction modal."""

import json
from typing import Any

FEEDBACK_ACTION_ID = "reply_feedback"
SUGGEST_SHORTCUT_ID = "suggest_better_reply"
CORRECTION_VIEW_ID = "better_reply_submit"
CORRECTION_BLOCK_ID = "better_reply"
CORRECTION_INPUT_ID = "text"

SECTION_TEXT_LIMIT = 3000  # Slack's limit for a section block's text
INPUT_LIMIT = 3000  # Slack's limit for a plain_text_input value


def reply_blocks(text: str) -> list[dict[str, Any]]:
    """The reply as mrkdwn sections followed by Slack's feedback buttons."""
    sections = [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
        for chunk in _chunks(text, SECTION_TEXT_LIMIT)
    ]
    feedback = {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION_ID,
                "positive_button": {
                    "text": {"type": "plain_text", "text": "Good reply"},
                    "accessibility_label": "Mark this reply as a good example",
                    "value": "good",
                },
                "negative_button": {
                    "text": {"type": "plain_text", "text": "Bad reply"},
                    "accessibility_label": "Mark this reply as a bad example",
                    "value": "bad",
                },
            }
        ],
    }
    return [*sections, feedback]


def correction_modal(channel: str, ts: str, reply_text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CORRECTION_VIEW_ID,
        "private_metadata": json.dumps({"channel": channel, "ts": ts}),
        "title": {"type": "plain_text", "text": "Suggest a better reply"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": CORRECTION_BLOCK_ID,
                "label": {"type": "plain_text", "text": "How should the bot have answered?"},
                "hint": {
                    "type": "plain_text",
                    "text": "Edit the reply into the one you'd want. It teaches the next model.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": CORRECTION_INPUT_ID,
                    "multiline": True,
                    "max_length": INPUT_LIMIT,
                    "initial_value": reply_text[:INPUT_LIMIT],
                },
            }
        ],
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "OK"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def _chunks(text: str, size: int) -> list[str]:
    """Splits on line breaks where possible so mrkdwn spans stay whole."""
    chunks: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*chunks, text] if text else chunks or [" "]
