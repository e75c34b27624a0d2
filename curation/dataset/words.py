"""Words of a text: as byte strings for checks that look for words, or as it reads.

For ASCII text, regex `\\w` is [A-Za-z0-9_] and case-insensitive matching is
matching the lowered text, so one C-level pass (lower, translate, split) gives
exactly the runs of word characters a word-boundary regex would see, several
times faster than running that regex.
"""

import re

# Every byte that is not an ASCII word character becomes a space.
_NOT_WORD_TO_SPACE = bytes(
    c if chr(c).isascii() and re.match(r"\w", chr(c)) else 32 for c in range(256)
)


def ascii_words(text: str) -> list[bytes]:
    """The maximal runs of word characters in an ASCII `text`, lowered, in order."""
    return text.lower().encode("ascii").translate(_NOT_WORD_TO_SPACE).split()


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: what texts are
    compared by where only whitespace differs (str.split and the regex \\s
    agree on what whitespace is, and split is faster)."""
    return " ".join(text.split())
