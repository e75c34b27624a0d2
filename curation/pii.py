"""Scrubbing personal data and secrets out of training text, leaving [kind] placeholders.

Patterns run in order and placeholders hold no digits or '@', so a later pattern
never re-matches an earlier one's output. Names written as plain words cannot be
found this way; Slack mentions, which is how people are usually named in a
workspace, are.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from curation.rules import PiiPattern


def _luhn(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digit_count(low: int, high: int) -> Callable[[str], bool]:
    return lambda text: low <= sum(c.isdigit() for c in text) <= high


def _not_a_date(text: str) -> bool:
    return (
        re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}", text) is None
    )


@dataclass(frozen=True)
class PiiRule:
    kind: str
    pattern: re.Pattern[str]
    # A cheap second look for patterns a regex alone over-matches.
    accept: Callable[[str], bool] | None = None
    # A cheap first look: text without this substring (or without any digit)
    # cannot match, so the full pattern, with lookarounds tried at every
    # position, is skipped. Most chat text has neither.
    needle: str = ""
    needs_digit: bool = False


_DIGIT = re.compile(r"\d")


BUILT_IN: tuple[PiiRule, ...] = (
    # Tokens first: a leaked credential is worse than any other match.
    PiiRule(
        "secret",
        re.compile(
            r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
            r"|sk-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16})"
        ),
    ),
    # Links that carry a credential: user:password@host, or a token in the query.
    PiiRule(
        "url",
        re.compile(
            r"\bhttps?://(?:[^\s/<>|@]+:[^\s/<>|@]+@[^\s<>|]*"
            r"|[^\s<>|?]+\?[^\s<>|]*?\b(?:access_token|api_?key|auth|code|key|pass(?:word)?"
            r"|pwd|secret|sig(?:nature)?|token)=[^\s<>|]*)",
            re.IGNORECASE,
        ),
        needle="://",
    ),
    # Slack wraps addresses as <mailto:a@b.c|a@b.c>; replace the whole link.
    PiiRule("email", re.compile(r"<mailto:[^>|\s]+(?:\|[^>]*)?>"), needle="<mailto:"),
    PiiRule(
        "email",
        re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
        needle="@",
    ),
    PiiRule("person", re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>"), needle="<@"),
    PiiRule(
        "card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _luhn, needs_digit=True
    ),
    PiiRule("ssn", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), needs_digit=True),
    PiiRule(
        "phone",
        # Needs a separator, parentheses or a leading +: a bare run of digits
        # is more often an order number or a timestamp than a phone number.
        re.compile(
            r"(?<![\w+-])(?<!\d\.)(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
            r"\d{2,4}(?:[ .-]\d{2,4}){1,4}(?![\w-])(?!\.\d)"
            r"|(?<![\w+])\+\d{8,15}\b"
        ),
        lambda text: _digit_count(9, 15)(text) and _not_a_date(text),
        needs_digit=True,
    ),
    PiiRule(
        "ip",
        re.compile(
            r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"
        ),
        needs_digit=True,
    ),
)


@dataclass
class Scrubber:
    """Replaces personal data with placeholders and counts what it replaced."""

    rules: tuple[PiiRule, ...]
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def with_extra(cls, extra: Iterable[PiiPattern]) -> "Scrubber":
        custom = tuple(PiiRule(p.name, re.compile(p.pattern)) for p in extra)
        # Team patterns run first: they are more specific than the built-ins
        # (an order id would otherwise be half-eaten as a phone number).
        return cls(custom + BUILT_IN)

    def scrub(self, text: str) -> str:
        digits = _DIGIT.search(text) is not None
        for rule in self.rules:
            if (rule.needle and rule.needle not in text) or (rule.needs_digit and not digits):
                continue
            text = rule.pattern.sub(partial(self._replace, rule=rule), text)
        return text

    def _replace(self, match: re.Match[str], rule: PiiRule) -> str:
        if rule.accept is not None and not rule.accept(match.group(0)):
            return match.group(0)
        self.counts[rule.kind] += 1
        return f"[{rule.kind}]"
