"""Builds Slack requests and signs them exactly as Slack does."""

import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier

_event_ids = itertools.count(1)
_last_ts = [0]


def next_ts() -> str:
    """A message ts as Slack makes them: wall-clock microseconds, always increasing."""
    micros = max(time.time_ns() // 1000, _last_ts[0] + 1)
    _last_ts[0] = micros
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: dict[str, str]


def post(
    url: str,
    body: str,
    *,
    secret: str,
    content_type: str = "application/json",
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            return Response(r.status, r.read().decode(), dict(r.headers))
    except urllib.error.HTTPError as e:
        return Response(e.code, e.read().decode(), dict(e.headers))


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": "T1", "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def command_body(
    command: str, *, user: str, text: str, response_url: str, channel: str = "C1"
) -> str:
    return urllib.parse.urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "trigger-3",
        }
    )


def mention(text: str, **fields: Any) -> dict[str, Any]:
    """An app_mention event; the same fields as `message`."""
    return {**message(text, **fields), "type": "app_mention"}


def message(
    text: str,
    *,
    channel: str = "C1",
    user: str = "U1",
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts or next_ts(),
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def reaction(kind: str, name: str, *, channel: str, ts: str, user: str = "U2") -> dict[str, Any]:
    return {
        "type": kind,
        "user": user,
        "reaction": name,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": next_ts(),
    }


def feedback_click(value: str, *, channel: str, ts: str, user: str = "U2") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "trigger-1",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": ts, "text": "reply"},
        "actions": [
            {
                "type": "feedback_buttons",
                "action_id": "reply_feedback",
                "block_id": "fb",
                "value": value,
                "action_ts": next_ts(),
            }
        ],
    }


def message_shortcut(*, channel: str, ts: str, text: str, user: str = "U2") -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "suggest_better_reply",
        "trigger_id": "trigger-2",
        "team": {"id": "T1"},
        "user": {"id": user},
        "channel": {"id": channel},
        "message": {"type": "message", "ts": ts, "text": text, "bot_id": "BBOT"},
        "token": "legacy-verification-token",
        "action_ts": next_ts(),
    }


def view_submission(view: dict[str, Any], text: str, *, user: str = "U2") -> dict[str, Any]:
    submitted = dict(view)
    submitted["state"] = {
        "values": {"better_reply": {"text": {"type": "plain_text_input", "value": text}}}
    }
    submitted["id"] = "V1"
    return {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "view": submitted,
    }
