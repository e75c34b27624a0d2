"""What a reaction, button or correction means as a vote."""

from curation.slack_text import reaction_name, reaction_source, reaction_verdict

__all__ = [
    "feedback_verdict",
    "is_real_correction",
    "reaction_name",
    "reaction_source",
    "reaction_verdict",
]


def feedback_verdict(value: str) -> int | None:
    return {"good": 1, "bad": -1}.get(value)


def is_real_correction(original: str, suggested: str) -> bool:
    """An unchanged (or whitespace-only edited) submission is not a correction."""
    return " ".join(original.split()) != " ".join(suggested.split())
