"""Tone and format checks on target replies."""

import re

from hypothesis import given
from hypothesis import strategies as st

from curation.dataset.rules import (
    CurationRules,
    FormatRules,
    PatternRule,
    ToneRules,
)
from curation.dataset.style import StyleChecker, Violation


def rules_of(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


def check(text: str, **fmt: object) -> list[str]:
    rules = CurationRules(format=FormatRules.model_validate(fmt))
    return rules_of(StyleChecker(rules).violations(text))


def test_a_plain_on_voice_reply_passes() -> None:
    assert check("Yes, use a footprint. It protects the floor from rocks and roots.") == []


def test_length_limits() -> None:
    assert check("x", min_chars=2) == ["too_short"]
    assert check("abcdef", max_chars=5) == ["max_chars"]
    assert check("one two three", max_words=2) == ["max_words"]
    assert check("a\nb\nc", max_lines=2) == ["max_lines"]


def test_exclamations_and_dashes_outside_code_and_slack_markup() -> None:
    assert check("Go! Now!", max_exclamations=1) == ["max_exclamations"]
    assert check("Run `make test!!` <!here>", max_exclamations=0) == []
    assert check("This — and that — too", max_em_dashes=1) == ["max_em_dashes"]


def test_emoji_are_counted_as_people_see_them() -> None:
    # A skin-toned thumbs-up and a ZWJ family are one emoji each.
    assert check("👍🏽 👨‍👩‍👧", max_emoji=2) == []
    assert check("🌲 :tent: ⛺", max_emoji=2) == ["max_emoji"]
    # ™ and times like 7:30:00 are not emoji.
    assert check("Trail™ at 7:30:00", max_emoji=0) == []


def test_only_allowed_emoji() -> None:
    allowed = ["🌲", "tent"]
    assert check("🌲 :tent: ⛺️", allowed_emoji=allowed) == ["emoji_not_allowed"]
    assert check("🌲 :tent: :tent::skin-tone-2:", allowed_emoji=allowed) == []
    assert check("Bring water :tent:", allowed_emoji=[]) == ["emoji_not_allowed"]


def test_markdown_that_slack_does_not_render() -> None:
    assert check("# Packing list\n- tent") == ["markdown_heading"]
    assert check("| a | b |\n|---|---|\n| 1 | 2 |") == ["markdown_table"]
    assert check("**Bring water**") == ["markdown_bold"]
    assert check("See [the guide](https://fernleaf.example/guide)") == ["markdown_link"]
    # Slack's own forms, bracketed blanks and code are fine.
    fine = "*Bring water* <https://x.example|guide> [date] ```# not a heading```"
    assert check(fine) == []
    assert check("**Bring water**", slack_mrkdwn=False) == []


def test_slack_markers_that_open_or_close_alone() -> None:
    assert check("Bring *water and a map") == ["unbalanced_mrkdwn"]
    assert check("Bring water* and a map") == ["unbalanced_mrkdwn"]
    assert check("It is _really_ steep, _honestly") == ["unbalanced_mrkdwn"]
    assert check("Run `make test to check") == ["unbalanced_mrkdwn"]
    assert check("```\nmake test") == ["unbalanced_mrkdwn"]
    (only,) = StyleChecker(CurationRules()).violations("*Bold (_and_ `code")
    assert only.detail == "'`' and '*' opened or closed alone"
    # Pairs, words, bullets, arithmetic, code and Slack markup are all fine.
    fine = [
        "*Bring water* and _a map_, (*really*).",
        "Set trail_id in my_config.toml; 2*3 = 6 and 5 * 3 = 15.",
        "* tent\n* stove",
        "Run `make test` or ```make_all *```",
        "See <https://fernleaf.example/a_b*c|the guide>",
        "*One* line\n_and_ another",
    ]
    assert [check(text) for text in fine] == [[]] * len(fine)
    assert check("Bring *water", slack_mrkdwn=False) == []


def test_banned_phrases_match_words_case_and_curly_quotes() -> None:
    rules = CurationRules(tone=ToneRules(banned_phrases=["great question", "we’re thrilled"]))
    checker = StyleChecker(rules)
    found = checker.violations("GREAT  Question! We're thrilled.")
    assert rules_of(found) == ["banned_phrase"]
    assert "great  question" in found[0].detail
    assert checker.violations("Greatquestions are fine.") == []


def test_team_patterns_forbid_or_require() -> None:
    rules = CurationRules(
        rule=[
            PatternRule(name="no-guys", pattern=r"(?i)\bguys\b", message="say folks"),
            PatternRule(name="sign-off", pattern=r"🌲$", mode="require"),
        ]
    )
    checker = StyleChecker(rules)
    assert rules_of(checker.violations("Hey guys")) == ["no-guys", "sign-off"]
    assert checker.violations("Hey folks 🌲") == []
    assert checker.violations("Hey guys 🌲")[0].detail == "say folks"


BANNED = ["great question", "as an AI", "world-class", "we’re thrilled"]
PHRASE_PIECES = [
    *["great", "question", "as", "an", "AI", "world-class", "we’re", "we're", "thrilled"],
    "GREAT",
    "Ai",
    "-",
    "'",
    "’",
    " ",
    "  ",
    "\n",
    "\u00a0",
    "\u017f",
    "\u0131",
    "x",
    "!",
]


@given(st.lists(st.sampled_from(PHRASE_PIECES), max_size=10))
def test_banned_phrases_are_found_wherever_the_regex_finds_them(pieces: list[str]) -> None:
    text = "".join(pieces)

    def said(phrase: str) -> bool:
        words = r"\s+".join(re.escape(w) for w in phrase.replace("’", "'").split())
        return re.search(rf"(?<!\w){words}(?!\w)", text.replace("’", "'"), re.I) is not None

    expected = any(said(p) for p in BANNED)
    checker = StyleChecker(CurationRules(tone=ToneRules(banned_phrases=BANNED)))
    assert ("banned_phrase" in rules_of(checker.violations(text))) == expected


def test_language_rule_flags_replies_in_another_language() -> None:
    from curation.dataset.rules import CurationRules, FormatRules
    from curation.dataset.style import StyleChecker

    checker = StyleChecker(CurationRules(format=FormatRules(language="en")))
    assert checker.violations("Yes, the ridge trail is open this weekend, so pack layers.") == []
    spanish = "Sí, el sendero de la cresta está abierto este fin de semana, lleva capas."
    assert [v.rule for v in checker.violations(spanish)] == ["language"]
    # Too short to judge: passes rather than guessing.
    assert checker.violations("Hola, ¿qué tal?") == []
    # No marker words, so the classifier decides, and it says English.
    assert (
        checker.violations("Pack layers, rain shell, headlamp, water filter, map, compass.") == []
    )
