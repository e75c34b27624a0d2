"""Substrings a regular expression cannot match without, so a cheap `in` test can skip it.

Python's `re` tries a pattern that starts with a lookaround or `\\b` at every
position of the text, which costs microseconds per reply; a substring test costs
a few hundred nanoseconds. Team patterns come from the rules file, so their
substrings are read from the parsed pattern rather than written by hand.
"""

import importlib
import re
from dataclasses import dataclass
from typing import Any

# The parser `re.compile` itself uses (`sre_parse` before 3.11). It is private
# and untyped, so anything it does not understand, or any change to it, falls
# back to "no shortcut": the pattern then simply runs on every text.
_parser: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}


@dataclass(frozen=True)
class Needles:
    """A text can match only if it contains at least one of `options`."""

    options: tuple[str, ...]
    # Case-insensitive: options are lower case and compared with the lowered
    # text, which is exactly what `re.IGNORECASE` does for ASCII text only.
    folded: bool = False

    def may_match(self, text: str, lowered: str | None = None) -> bool:
        """`lowered`, when given, is text.lower(), made once for several needles."""
        if self.folded:
            if not text.isascii():
                return True
            text = text.lower() if lowered is None else lowered
        for option in self.options:  # noqa: SIM110 (a generator costs more than the tests)
            if option in text:
                return True
        return False


def has_ascii_digit(text: str) -> bool:
    """Whether an ASCII text has a digit; much cheaper than `re.search(r"\\d")`."""
    # Unrolled: a generator over ten `in` tests costs twice as much.
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


_DIGIT = re.compile(r"\d")


def may_have_digit(text: str) -> bool:
    """Whether `\\d` can match: Unicode digits count, so only ASCII text takes the shortcut."""
    return has_ascii_digit(text) if text.isascii() else _DIGIT.search(text) is not None


def needles_of(pattern: re.Pattern[str]) -> Needles | None:
    """Substrings one of which every match of `pattern` contains; None when
    none can be told (the pattern must then run on every text)."""
    try:
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        found = _of_sequence(list(parsed), bool(parsed.state.flags & re.IGNORECASE))
    except Exception:  # a shortcut, never a reason to fail
        return None
    if found is None:
        return None
    options, folded = found
    if folded:
        options = tuple(o.lower() for o in options)
    return Needles(options, folded)


# Options and whether any of them is case-insensitive; None: nothing is required.
_Found = tuple[tuple[str, ...], bool] | None


def _of_sequence(items: list[tuple[Any, Any]], ignorecase: bool) -> _Found:
    """The most selective requirement among a sequence's items: every item of a
    sequence is part of every match, so any one of them will do."""
    candidates: list[tuple[tuple[str, ...], bool]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            literal = "".join(run)
            if not (ignorecase and not literal.isascii()):
                candidates.append(((literal,), ignorecase))
            run.clear()

    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        close_run()
        found = _of_item(op, av, ignorecase)
        if found is not None:
            candidates.append(found)
    close_run()
    if not candidates:
        return None
    # Longer options are rarer; a shortest option decides how rare a set is.
    return max(candidates, key=lambda c: (min(len(o) for o in c[0]), -len(c[0])))


def _of_item(op: Any, av: Any, ignorecase: bool) -> _Found:
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if add_flags & re.IGNORECASE:
            ignorecase = True
        if del_flags & re.IGNORECASE:
            ignorecase = False
        return _of_sequence(list(sub), ignorecase)
    if op is sre.ATOMIC_GROUP:
        return _of_sequence(list(av), ignorecase)
    if op in _REPEATS:
        low, _high, sub = av
        return _of_sequence(list(sub), ignorecase) if low >= 1 else None
    if op is sre.BRANCH:
        options: list[str] = []
        folded = False
        for branch in av[1]:
            found = _of_sequence(list(branch), ignorecase)
            if found is None:
                return None  # one branch needs nothing, so the whole needs nothing
            options += found[0]
            folded = folded or found[1]
        return tuple(dict.fromkeys(options)), folded
    return None
