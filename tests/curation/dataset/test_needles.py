"""Substring shortcuts never skip a pattern that would have matched."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.dataset.needles import Needles, may_have_digit, needles_of

PATTERNS = [
    r"\bFL-\d{6,}\b",
    r"(?i)\b(?:you |hey )?guys\b",
    r"(?i)\b(?:conquer|crush|dominate)(?:s|ed|ing)?\b",
    r"🌲$",
    r"x(?:ab|(?i:CD))+y",
    r"(?>ab)c|(?i:d)",
    r"(?x) t r a i l \s+ (?: map | compass ) ",
]
# Case-folding oddities (Kelvin sign, long s, dotless i) and a digit that is
# not ASCII, mixed into words the patterns look for.
PIECES = [
    "FL-",
    "123456",
    "guys",
    "GUYS",
    "gu\u017fs",
    "you ",
    "hey ",
    "conquer",
    "CRUSHED",
    "\u212aeep",
    "🌲",
    "x",
    "ab",
    "cD",
    "y",
    "c",
    "D",
    "trail",
    "map",
    "COMPASS",
    " ",
    "\n",
    "\u0661",
    "d\u0131",
]


def test_needles_are_read_from_the_pattern() -> None:
    assert needles_of(re.compile(r"\bFL-\d{6,}\b")) == Needles(("FL-",))
    either = needles_of(re.compile(r"(?i)\b(?:conquer|crush)(?:s|ed)?\b"))
    assert either is not None
    assert either.may_match("Crushed it") and either.may_match("CONQUER")
    assert not either.may_match("we walk up mountains")
    # A branch that needs nothing makes the whole pattern need nothing.
    assert needles_of(re.compile(r"abc|\d")) is None
    assert needles_of(re.compile(r"(?:abc)?\d")) is None


def test_folded_needles_do_not_guess_about_non_ascii_text() -> None:
    needles = Needles(("guys",), folded=True)
    assert not needles.may_match("hello folks")
    assert needles.may_match("GUYS")
    # re.IGNORECASE matches "ſ" to "s"; only the regex can tell.
    assert needles.may_match("gu\u017fs")


@pytest.mark.parametrize("pattern", PATTERNS)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_a_skipped_pattern_never_matches(pattern: str, pieces: list[str]) -> None:
    compiled = re.compile(pattern)
    needles = needles_of(compiled)
    text = "".join(pieces)
    if needles is not None and not needles.may_match(text):
        assert compiled.search(text) is None


@given(st.text(max_size=30))
def test_digits_as_the_regex_sees_them(text: str) -> None:
    assert may_have_digit(text) == (re.search(r"\d", text) is not None)
