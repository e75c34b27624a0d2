"""What a reaction, button or correction means as a vote."""

from collections.abc import Collection


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


def feedback_verdict(value: str) -> int | None:
    return {"good": 1, "bad": -1}.get(value)


def is_real_correction(original: str, suggested: str) -> bool:
    """An unchanged (or whitespace-only edited) submission is not a correction."""
    return " ".join(original.split()) != " ".join(suggested.split())
