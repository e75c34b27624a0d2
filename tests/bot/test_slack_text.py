from bot.settings import DEFAULT_BAD_EMOJI, DEFAULT_GOOD_EMOJI
from bot.slack_text import feedback_verdict, reaction_source, reaction_verdict
from curation import is_real_correction


def test_reaction_verdicts_ignore_skin_tones() -> None:
    assert reaction_verdict("+1::skin-tone-4", DEFAULT_GOOD_EMOJI, DEFAULT_BAD_EMOJI) == 1
    assert reaction_verdict("x", DEFAULT_GOOD_EMOJI, DEFAULT_BAD_EMOJI) == -1
    assert reaction_verdict("eyes", DEFAULT_GOOD_EMOJI, DEFAULT_BAD_EMOJI) is None
    assert reaction_source("+1::skin-tone-4") == "reaction:+1"


def test_feedback_and_corrections() -> None:
    assert feedback_verdict("good") == 1
    assert feedback_verdict("bad") == -1
    assert feedback_verdict("meh") is None
    assert not is_real_correction("Hello  there\n", "Hello there")
    assert is_real_correction("Hello there", "Howdy there")
