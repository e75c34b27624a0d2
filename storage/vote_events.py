"""Each person's verdicts on a reply, replayed in Slack's event order into one vote."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class VoteEvent:
    """One reaction added or removed, or one click, as Slack timed it."""

    source: str
    value: int | None  # +1, -1, or None when a reaction was removed
    event_ts: str


def ts_order(ts: str) -> tuple[int, int]:
    """Slack timestamps ("seconds.micros") in time order; as floats they lose digits."""
    seconds, _, fraction = ts.partition(".")
    try:
        return int(seconds or 0), int(fraction.ljust(6, "0")[:6] or 0)
    except ValueError:
        return 0, 0


def replay(verdicts: list[VoteEvent]) -> VoteEvent | None:
    """The verdict that stands after all of them, applied oldest first.

    The latest verdict wins; removing a reaction undoes the vote only while
    that reaction is still the latest verdict (a newer one from another
    reaction or a button stays). Ties in time go to the source's name so the
    outcome never depends on arrival order.
    """
    standing: VoteEvent | None = None
    for verdict in sorted(verdicts, key=lambda v: (ts_order(v.event_ts), v.source, v.value or 0)):
        if verdict.value is not None:
            standing = verdict
        elif standing is not None and standing.source == verdict.source:
            standing = None
    return standing
