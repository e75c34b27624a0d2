"""Keeps secrets out of what the flow records and says: provider messages can quote keys."""

import re

# API keys and tokens in the shapes OpenAI, Slack and bearer headers use.
_SECRET = re.compile(
    r"\b(?:sk-[A-Za-z0-9_*-]{6,}|xox[abposr]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,})"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"
)


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)
