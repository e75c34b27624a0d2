"""Is a reply in the team's language? A cheap answer first, a classifier when unsure."""

import re

import py3langid

# Too few words to judge: "Yep, on it." reads as several languages.
MIN_WORDS = 6

# Words that only English text is full of. An ASCII reply with two of them is
# English for this purpose, and most replies never reach the classifier.
_ENGLISH_MARKERS = frozenset(
    {
        "the",
        "and",
        "is",
        "are",
        "you",
        "your",
        "we",
        "our",
        "to",
        "of",
        "for",
        "it",
        "this",
        "that",
        "with",
        "have",
        "be",
        "can",
        "will",
        "not",
        "on",
        "in",
        "at",
        "if",
        "but",
        "or",
        "what",
        "how",
    }
)

_ENGLISH_MARKER_WORDS = re.compile(
    r"\b(?:" + "|".join(sorted(_ENGLISH_MARKERS)) + r")\b", re.IGNORECASE
)


def detected_language(text: str, expected: str) -> str | None:
    """The language code the reply is in when it is clearly not `expected`;
    None when it is `expected` or too short to tell."""
    words = text.split()
    if len(words) < MIN_WORDS:
        return None
    if expected == "en" and text.isascii():
        # One pass of C-level matching; a second hit is all that is needed.
        hits = _ENGLISH_MARKER_WORDS.finditer(text)
        if next(hits, None) is not None and next(hits, None) is not None:
            return None
    # The model ships inside the package; py3langid loads it (half a second)
    # the first time a reply needs it.
    language, _score = py3langid.classify(text)
    return None if language == expected else str(language)
