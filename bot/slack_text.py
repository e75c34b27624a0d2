"""Reading Slack's text conventions: reaction names and mentions of the bot.

Shared by the live bot and the export import so both read ratings and
questions the same way.
"""

import re
from collections.abc import Collection

_MENTION = re.compile(r"<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>")
_GAPS = re.compile(r"[ \t]{2,}")


def reaction_name(raw: str) -> str:
    """`+1::skin-tone-3` and `+1` are the same verdict."""
    return raw.split("::", 1)[0]


def reaction_verdict(raw: str, good: Collection[str], bad: Collection[str]) -> int | None:
    """+1 or -1 for a rating emoji, None for every other reaction."""
    name = reaction_name(raw)
    if name in good:
        return 1
    if name in bad:
        return -1
    return None


def reaction_source(raw: str) -> str:
    return f"reaction:{reaction_name(raw)}"


def strip_mentions(text: str, ids: Collection[str]) -> str:
    """Removes mentions of the given ids (the bot: they address it, they are not
    part of the question), keeping mentions of anyone else."""
    if not ids:
        return text.strip()
    # Most messages mention no one: an import reads hundreds of thousands.
    cleaned = text
    if "<@" in text:
        cleaned = _MENTION.sub(lambda m: "" if m.group(1) in ids else m.group(0), text)
    if "  " in cleaned or "\t" in cleaned:
        cleaned = _GAPS.sub(" ", cleaned)
    return cleaned.strip()


def feedback_verdict(value: str) -> int | None:
    """What a click on a reply's Good / Bad feedback button means as a vote."""
    return {"good": 1, "bad": -1}.get(value)


_SLACK_ID = re.compile(r"[A-Z0-9][A-Z0-9_]{0,39}")
_SLACK_TS = re.compile(r"\d{1,12}\.\d{1,6}")


def slack_id(value: object) -> str | None:
    """A channel, user or team id as Slack writes them (`C0123ABC`), else None:
    ids become database keys, so a payload's dict or list is refused, never
    stored as its text."""
    return value if isinstance(value, str) and _SLACK_ID.fullmatch(value) else None


def slack_ts(value: object) -> str | None:
    """A message timestamp (`1700000000.000100`), else None."""
    return value if isinstance(value, str) and _SLACK_TS.fullmatch(value) else None
