"""Timestamps as every table stores them: UTC ISO 8601 to the millisecond."""

from datetime import UTC, datetime


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
