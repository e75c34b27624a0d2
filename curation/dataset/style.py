"""Tone and format checks on a target reply, compiled once from the rules file."""

import re
from dataclasses import dataclass

import regex

from curation.dataset.language import detected_language
from curation.dataset.needles import needles_of
from curation.dataset.rules import CurationRules
from curation.dataset.words import ascii_words

# Code is quoted material: its '#', '**' or '!' say nothing about the voice.
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
# Slack's own markup (<@U1>, <!here>, <https://x|label>) is not prose either.
_SLACK_TOKEN = re.compile(r"<[@#!][^>\n]*>|<(?:https?|mailto):[^>\n]*>")
_GRAPHEME = regex.compile(r"\X")
_EMOJI_CHAR = regex.compile(r"\p{Emoji_Presentation}|\uFE0F")
_SHORTCODE = re.compile(r"(?<![\w:]):([a-z0-9_+'-]+):(?![\w:])")
# Each with a substring it cannot match without, checked first because most
# replies have none of them.
_MARKDOWN = {
    "markdown_heading": ("#", re.compile(r"^ {0,3}#{1,6}\s", re.MULTILINE)),
    "markdown_table": ("|", re.compile(r"^\s*\|?\s*:?-{3,}:?\s*\|", re.MULTILINE)),
    "markdown_bold": ("**", re.compile(r"\*\*[^*\n]+\*\*")),
    "markdown_link": ("](", re.compile(r"\[[^\]\n]+\]\((?:https?://|mailto:)[^)\s]+\)")),
}
# Slack pairs *bold* and _italic_ markers within a line: a marker opens where
# no word character precedes it and text follows, and closes where text
# precedes it and no word character follows. Pairs are taken out first; a
# marker left touching a word on one side only opened or closed nothing and
# shows as a stray symbol (a cut-off reply, or Markdown habits). Markers inside
# words (snake_case, 2*3) or between spaces (a "*" bullet, 5 * 3) are text.
_EMPHASIS = {
    marker: (
        re.compile(rf"(?<!\w){m}(?=\S)[^\n]*?(?<=\S){m}(?!\w)"),
        re.compile(rf"(?<!\w){m}(?=\w)|(?<=\w){m}(?!\w)"),
    )
    for marker, m in (("*", r"\*"), ("_", "_"))
}
_MARKDOWN_HINT = {
    "markdown_heading": "uses a Markdown heading, which Slack does not render",
    "markdown_table": "uses a Markdown table, which Slack does not render",
    "markdown_bold": "uses **bold**; Slack bold is *single asterisks*",
    "markdown_link": "uses a [text](url) link; Slack links are <url|text>",
}


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


class StyleChecker:
    """Checks a reply against the team's tone and format rules."""

    def __init__(self, rules: CurationRules) -> None:
        self.format = rules.format
        phrases = sorted(
            (_phrase_pattern(p) for p in rules.tone.banned_phrases if p.strip()),
            key=len,
            reverse=True,
        )
        # One word-boundary check around one alternation: a lookaround per
        # phrase would be tried at every position of every reply.
        self._banned = (
            re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)", re.IGNORECASE) if phrases else None
        )
        # The phrases as they read in lowered text with single spaces, where a
        # substring test finds every candidate the regex would (see _may_be_banned).
        said = [" ".join(_plain_quotes(p).lower().split()) for p in rules.tone.banned_phrases]
        self._said = tuple(p for p in said if p)
        self._said_ascii = all(p.isascii() for p in self._said)
        # One word of each phrase (its longest, so its rarest), every one of
        # which a reply must contain as a word to say any phrase at all: one
        # set test instead of a dozen substring searches. None when some
        # phrase has no word to look for.
        keywords = [max(ascii_words(p), key=len, default=None) for p in self._said]
        self._keywords = (
            frozenset(k for k in keywords if k is not None)
            if self._said_ascii and None not in keywords
            else None
        )
        compiled = [(r, re.compile(r.pattern)) for r in rules.rule]
        self._patterns = [(r, pattern, needles_of(pattern)) for r, pattern in compiled]
        allowed = self.format.allowed_emoji
        self._allowed = None if allowed is None else {_emoji_key(e) for e in allowed}

    def violations(self, text: str, ascii_runs: list[bytes] | None = None) -> list[Violation]:
        """`ascii_runs`, when given, is ascii_words(text) of an ASCII `text`:
        screening makes them anyway, for dropping repeats."""
        found: list[Violation] = []
        fmt = self.format
        body = text.strip()
        prose = _prose(body)
        words = body.split()
        # Made once for the checks that look for words (see curation.dataset.words);
        # the same for `text` and `body`, which differ only in whitespace.
        runs = ascii_runs
        if runs is None and body.isascii():
            runs = ascii_words(body)
        # Each limit is compared inline and described only when broken:
        # this runs for every kept reply, and nearly all keep every limit.
        size = len(body)
        if size < fmt.min_chars:
            _below(found, "too_short", size, fmt.min_chars, "characters")
        if fmt.max_chars is not None and size > fmt.max_chars:
            _above(found, "max_chars", size, fmt.max_chars, "characters")
        if fmt.max_words is not None and len(words) > fmt.max_words:
            _above(found, "max_words", len(words), fmt.max_words, "words")
        if fmt.max_lines is not None and (lines := len(body.splitlines())) > fmt.max_lines:
            _above(found, "max_lines", lines, fmt.max_lines, "lines")
        if fmt.max_exclamations is not None and (bangs := prose.count("!")) > fmt.max_exclamations:
            _above(found, "max_exclamations", bangs, fmt.max_exclamations, "'!'")
        if fmt.max_em_dashes is not None and (dashes := prose.count("—")) > fmt.max_em_dashes:
            _above(found, "max_em_dashes", dashes, fmt.max_em_dashes, "em dashes")
        # ASCII text has no emoji and a shortcode needs two colons.
        if not prose.isascii() or prose.count(":") > 1:
            emoji = _emoji(prose)
            if fmt.max_emoji is not None and len(emoji) > fmt.max_emoji:
                _above(found, "max_emoji", len(emoji), fmt.max_emoji, "emoji")
            if self._allowed is not None:
                stray = sorted({e for e in emoji if _emoji_key(e) not in self._allowed})
                if stray:
                    found.append(Violation("emoji_not_allowed", f"uses {' '.join(stray)}"))
        if fmt.slack_mrkdwn:
            if "#" in prose or "|" in prose or "**" in prose or "](" in prose:
                for name, (needle, markdown) in _MARKDOWN.items():
                    if needle in prose and markdown.search(prose):
                        found.append(Violation(name, _MARKDOWN_HINT[name]))
            if "`" in prose or "*" in prose or "_" in prose:
                unpaired = _unpaired_markers(prose)
                if unpaired:
                    detail = " and ".join(f"'{m}'" for m in unpaired)
                    found.append(Violation("unbalanced_mrkdwn", f"{detail} opened or closed alone"))
        if self._banned is not None and self._may_be_banned(body, words, runs):
            hits = sorted({m.group(0).lower() for m in self._banned.finditer(_plain_quotes(body))})
            if hits:
                found.append(
                    Violation("banned_phrase", "says " + ", ".join(f'"{h}"' for h in hits))
                )
        if fmt.language is not None:
            if prose is not body:
                words = prose.split()
                runs = ascii_words(prose) if prose.isascii() else None
            other = detected_language(prose, fmt.language, words, runs)
            if other is not None:
                found.append(Violation("language", f"reads as '{other}', not '{fmt.language}'"))
        lowered = body.lower() if self._patterns else ""
        for rule, pattern, needles in self._patterns:
            maybe = needles is None or needles.may_match(body, lowered)
            matched = maybe and pattern.search(body) is not None
            if matched != (rule.mode == "require"):
                default = "matches" if rule.mode == "forbid" else "does not match"
                found.append(Violation(rule.name, rule.message or f"{default} {rule.pattern}"))
        return found

    def _may_be_banned(self, body: str, words: list[str], runs: list[bytes] | None) -> bool:
        """False only when no banned phrase can be in the reply.

        Only ASCII text takes these shortcuts; other text has case rules of its
        own ("ſ" matches "s"), so the regex decides. For ASCII:
        - a phrase's words are words of any text that says it, so a reply
          with no phrase's keyword among its words says none of them;
        - matching case-insensitively with any whitespace between words is
          exactly a substring test on the lowered words joined by single
          spaces (str.split and the regex's \\s agree on what whitespace is).
        """
        if not (self._said_ascii and runs is not None):
            return True
        if self._keywords is not None and self._keywords.isdisjoint(runs):
            return False
        said = " ".join(words).lower()
        # A loop, not any(): a generator costs more than a dozen substring tests.
        for phrase in self._said:  # noqa: SIM110
            if phrase in said:
                return True
        return False


def _prose(text: str) -> str:
    if "`" in text:
        text = _CODE.sub(" ", text)
    return _SLACK_TOKEN.sub(" ", text) if "<" in text else text


def _unpaired_markers(prose: str) -> list[str]:
    """Slack formatting markers in `prose` that pair with nothing."""
    # Code spans are gone from prose already, so a backtick here is one that
    # never closed.
    found = ["`"] if "`" in prose else []
    for marker, (pair, stray) in _EMPHASIS.items():
        if marker in prose and stray.search(pair.sub(" ", prose)):
            found.append(marker)
    return found


def _above(found: list[Violation], rule: str, value: int, limit: int, unit: str) -> None:
    found.append(Violation(rule, f"{value} {unit}, at most {limit} allowed"))


def _below(found: list[Violation], rule: str, value: int, limit: int, unit: str) -> None:
    found.append(Violation(rule, f"{value} {unit}, at least {limit} needed"))


def _emoji(text: str) -> list[str]:
    """Unicode emoji (whole grapheme clusters, so 👍🏽 is one) and :shortcodes:."""
    found = []
    # Splitting into graphemes is the slow part; most replies have no emoji,
    # and ASCII text cannot have one.
    if not text.isascii() and _EMOJI_CHAR.search(text):
        found = [g for g in _GRAPHEME.findall(text) if _EMOJI_CHAR.search(g)]
    if text.count(":") > 1:  # a shortcode needs two
        shortcodes = _SHORTCODE.findall(text)
        found += [f":{name}:" for name in shortcodes if not name.startswith("skin-tone-")]
    return found


def _emoji_key(emoji: str) -> str:
    # "⛺️" and "⛺" are the same emoji; ":tent:" and "tent" the same shortcode.
    return emoji.replace("\ufe0f", "").strip().strip(":")


def _phrase_pattern(phrase: str) -> str:
    return r"\s+".join(re.escape(w) for w in _plain_quotes(phrase).split())


def _plain_quotes(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")
