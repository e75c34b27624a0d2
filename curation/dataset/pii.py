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

from curation.dataset.needles import Needles, may_have_digit, needles_of
from curation.dataset.rules import PiiPattern


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


# The path of a Slack webhook is its secret, from the first character after this.
_WEBHOOK = r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]"


@dataclass(frozen=True)
class PiiRule:
    kind: str
    pattern: re.Pattern[str]
    # A cheap second look for patterns a regex alone over-matches.
    accept: Callable[[str], bool] | None = None
    # A cheap first look: text with none of these substrings (or without any
    # digit) cannot match, so the full pattern, with lookarounds tried at every
    # position, is skipped. Most chat text has none of them.
    needles: Needles | None = None
    needs_digit: bool = False


BUILT_IN: tuple[PiiRule, ...] = (
    # Tokens first: a leaked credential is worse than any other match.
    PiiRule(
        "secret",
        re.compile(
            r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
            r"|sk-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16})"
        ),
        # "_" rather than "gh": GitHub tokens need both, and "gh" is in "though".
        needles=Needles(("xox", "xapp-", "sk-", "_", "AKIA")),
    ),
    # Links that carry a credential: user:password@host, a token in the query
    # or in the fragment (OAuth's implicit flow returns it there), or a Slack
    # webhook, whose path is the secret. Slack shows a link typed without its
    # scheme as <http://x|x>, so a webhook is also caught without one; only
    # in lower case, which is how Slack writes it, so that an exact needle
    # can stand in for it (a case-folded one lets every non-ASCII text through).
    # No \b in front: a digit there may become a later rule's "]", and the
    # link would then be caught only on a second scrub.
    PiiRule(
        "url",
        re.compile(
            r"(?:https?://(?:[^\s/<>|@]+:[^\s/<>|@]+@[^\s<>|]*"
            r"|[^\s<>|?#]+[?#][^\s<>|]*?\b(?:(?:access_|id_|refresh_)?token|api_?key|auth|code"
            r"|key|pass(?:word)?|pwd|secret|sig(?:nature)?)=[^\s<>|]*"
            rf"|{_WEBHOOK}[^\s<>|]*)"
            rf"|(?-i:{_WEBHOOK})[^\s<>|]*)"
            # The label of Slack's <url|label> markup goes too: Slack writes a
            # link typed without its scheme as its own label, secret and all.
            r"(?:\|[^<>\n]*(?=>))?",
            re.IGNORECASE,
        ),
        needles=Needles(("://", "hooks.slack.com/")),
    ),
    # Slack wraps addresses as <mailto:a@b.c|a@b.c>; replace the whole link.
    PiiRule("email", re.compile(r"<mailto:[^>|\s]+(?:\|[^>]*)?>"), needles=Needles(("<mailto:",))),
    PiiRule(
        "email",
        re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
        needles=Needles(("@",)),
    ),
    PiiRule("person", re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>"), needles=Needles(("<@",))),
    # <#C…|name>: which channel a conversation was in says who was in it.
    PiiRule("channel", re.compile(r"<#[CG][A-Z0-9]+(?:\|[^>]*)?>"), needles=Needles(("<#",))),
    PiiRule(
        "group", re.compile(r"<!subteam\^[A-Z0-9]+(?:\|[^>]*)?>"), needles=Needles(("<!subteam^",))
    ),
    PiiRule(
        "card", re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _luhn, needs_digit=True
    ),
    PiiRule("ssn", re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), needs_digit=True),
    PiiRule(
        "phone",
        # Needs a separator, parentheses or a leading +: a bare run of digits
        # is more often an order number or a timestamp than a phone number.
        re.compile(
            r"(?<![\w+-])(?<!\d\.)(?:\+?\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?"
            r"\d{1,4}(?:[ .-]\d{2,8}){1,4}(?![\w-])(?!\.\d)"
            r"|(?<![\w+])\+\d{8,15}\b"
        ),
        lambda text: _digit_count(9, 15)(text) and _not_a_date(text),
        needs_digit=True,
    ),
    PiiRule(
        "ip",
        re.compile(
            r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\d|\.\d)"
        ),
        needs_digit=True,
    ),
)


@dataclass
class Scrubber:
    """Replaces personal data with placeholders and counts what it replaced."""

    rules: tuple[PiiRule, ...]
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # One replacement function per rule, made once: a partial per call
        # cost as much as the match itself.
        self._steps = [(rule, self._replacer(rule)) for rule in self.rules]
        self._gate = _gate(self.rules)

    @classmethod
    def with_extra(cls, extra: Iterable[PiiPattern]) -> "Scrubber":
        custom = []
        for p in extra:
            pattern = re.compile(p.pattern)
            custom.append(PiiRule(p.name, pattern, needles=needles_of(pattern)))
        # Team patterns run first: they are more specific than the built-ins
        # (an order id would otherwise be half-eaten as a phone number).
        return cls((*custom, *BUILT_IN))

    def scrub(self, text: str) -> str:
        if self._gate is not None and not self._gate.may_match(text):
            return text  # most text: one scan, and nothing to replace
        digits: bool | None = None  # looked for once, and again after a change
        for rule, replace in self._steps:
            if rule.needles is not None and not rule.needles.may_match(text):
                continue
            if rule.needs_digit:
                if digits is None:
                    digits = may_have_digit(text)
                if not digits:
                    continue
            text, found = rule.pattern.subn(replace, text)
            if found:
                digits = None
        return text

    def scrub_all(self, texts: list[str]) -> list[str]:
        """scrub() of each text, in order; most examples need none, and one
        look at all their texts together is cheaper than one per text."""
        if self._gate is not None and not self._gate.may_match("\n".join(texts)):
            return texts
        return [self.scrub(text) for text in texts]

    def _replacer(self, rule: PiiRule) -> Callable[[re.Match[str]], str]:
        placeholder = f"[{rule.kind}]"
        accept = rule.accept

        def replace(match: re.Match[str]) -> str:
            if accept is not None and not accept(match.group(0)):
                return match.group(0)
            self.counts[rule.kind] += 1
            return placeholder

        return replace


# Characters by how often they turn up in English chat, most often first; a
# character not listed is rarer than all of them.
_COMMON = " etaoinsrhldcumfpgwybv.,'kxjqz?!-:;\"()ETAOINSRHLDCUMFPGWYBVKXJQZ0123456789"


@dataclass(frozen=True)
class _Gate:
    """Whether any rule at all can match a text: every rule's needles and a
    digit where a rule needs one, tried as plain substring tests, which beat
    one regex alternation of them several times over. Needles are grouped by
    their rarest character, looked for first: one fast test of "<" rules out
    four Slack markups at once, and most texts have none of the characters."""

    keyed: tuple[tuple[str, tuple[str, ...]], ...]
    folded: tuple[str, ...]
    digits: bool

    def may_match(self, text: str) -> bool:
        for key, needles in self.keyed:
            if key in text:
                for needle in needles:
                    if needle in text:
                        return True
        if self.folded and (not text.isascii() or any(n in text.lower() for n in self.folded)):
            return True
        return self.digits and may_have_digit(text)


def _gate(rules: tuple[PiiRule, ...]) -> _Gate | None:
    """None when some rule has neither needles nor needs a digit: it must always run."""
    exact: list[str] = []
    folded: list[str] = []
    for rule in rules:
        if rule.needles is not None:
            (folded if rule.needles.folded else exact).extend(rule.needles.options)
        elif not rule.needs_digit:
            return None
    digits = any(rule.needs_digit and rule.needles is None for rule in rules)
    keyed: dict[str, list[str]] = {}
    for needle in dict.fromkeys(exact):
        keyed.setdefault(_rarest(needle), []).append(needle)
    groups = tuple((key, tuple(needles)) for key, needles in keyed.items())
    return _Gate(groups, tuple(dict.fromkeys(folded)), digits)


def _rarest(needle: str) -> str:
    """The needle's character least likely to be in a text."""
    return max(needle, key=lambda c: _COMMON.find(c) if c in _COMMON else len(_COMMON))
