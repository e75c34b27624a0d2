"""What a reaction, button or correction means as a vote."""

from curation.labels import is_real_correction
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
