"""Checks an HTTP request from Slack before anything parses it: signature first, then shape.

Bolt parses a body before it checks the signature, and logs a refused body
whole; so every body is verified here first, and nothing unverified reaches
Bolt, a parser or the log.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

# Slack sends a Unix time in seconds; anything else is refused before int() sees it.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Refusal:
    """Why a request is answered with a 4xx; `reason` is safe to log and to send back."""

    status: int
    reason: str


def check_signed_request(
    body: bytes, headers: Mapping[str, str], verifier: SignatureVerifier
) -> Refusal | None:
    """None when the request is signed by Slack and its body is a payload Bolt can read.

    `headers` are keyed in lower case.
    """
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(timestamp):
        return Refusal(401, "missing or non-numeric X-Slack-Request-Timestamp")
    if not signature:
        return Refusal(401, "missing X-Slack-Signature")
    if not verifier.is_valid(body, timestamp, signature):
        return Refusal(401, "bad or stale signature")
    return _check_shape(body, headers.get("content-type", ""))


def _check_shape(body: bytes, content_type: str) -> Refusal | None:
    """Bolt reads JSON (a dict) or a form whose `payload` is a JSON dict; anything
    else would make it raise, so it is refused here, signed or not."""
    try:
        text = body.decode("utf-8")
        if not text:
            return None
        # The same choice Bolt makes (slack_bolt.request.internals.parse_body).
        if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
            return _dict_or_refusal(text, "JSON body")
        if "payload" in text:
            payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
            if payload is not None:
                return _dict_or_refusal(payload, "payload")
        return None
    except (ValueError, RecursionError):
        # RecursionError: a deeply nested document; ValueError covers bad UTF-8 too.
        return Refusal(400, "body is not a Slack payload")


def _dict_or_refusal(text: str, what: str) -> Refusal | None:
    if not isinstance(json.loads(text), dict):
        return Refusal(400, f"{what} is not a JSON object")
    return None
