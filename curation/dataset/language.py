"""Is a reply in the team's language? A cheap answer first, a classifier when unsure."""

from itertools import islice

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

# The same words as they come out of curation.dataset.words.
_ENGLISH_MARKER_BYTES = frozenset(word.encode("ascii") for word in _ENGLISH_MARKERS)


def detected_language(
    text: str, expected: str, words: list[str], ascii_runs: list[bytes] | None
) -> str | None:
    """The language code the reply is in when it is clearly not `expected`;
    None when it is `expected` or too short to tell. `words` is text.split()
    and `ascii_runs` curation.dataset.words.ascii_words(text) of an ASCII
    text (None for any other), both made already for the style checks."""
    if len(words) < MIN_WORDS:
        return None
    if expected == "en" and ascii_runs is not None:
        # The second marker, looked for in C and no further than it.
        markers = filter(_ENGLISH_MARKER_BYTES.__contains__, ascii_runs)
        if next(islice(markers, 1, None), None) is not None:
            return None
    # The model ships inside the package; py3langid loads it (half a second)
    # the first time a reply needs it, unless load_language_model() did.
    language, _score = py3langid.classify(text)
    return None if language == expected else str(language)


def load_language_model() -> None:
    """Loads the classifier now rather than at the first reply that needs it."""
    py3langid.classify("warm up")
