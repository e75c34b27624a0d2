import logging
from pathlib import Path

import pytest

from bot.logs import REDACTED, RedactSecrets
from bot.settings import SettingsError, load_settings


def test_comma_lists_and_standard_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-123")
    monkeypatch.setenv("VOICELOOP_CHANNELS", "C1, C2")
    monkeypatch.setenv("VOICELOOP_GOOD_EMOJI", ":tada:,rocket")
    settings = load_settings(_env_file=None)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-123"
    assert settings.channels == ["C1", "C2"]
    assert settings.good_emoji == ["tada", "rocket"]


def test_a_malformed_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOICELOOP_PORT", "eighty")
    with pytest.raises(SettingsError) as e:
        load_settings(_env_file=None)
    assert "VOICELOOP_PORT" in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("blank", ["", "  \n"])
def test_a_blank_short_prompt_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    # Every curated example starts with it; blank, none of them would be valid.
    monkeypatch.setenv("VOICELOOP_SHORT_PROMPT", blank)
    with pytest.raises(SettingsError, match=r"VOICELOOP_SHORT_PROMPT: .*must not be blank"):
        load_settings(_env_file=None)


def test_an_unreadable_voice_guide_is_one_clear_line(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, voice_guide=tmp_path / "missing.md")
    with pytest.raises(SettingsError, match="VOICELOOP_VOICE_GUIDE: cannot read"):
        settings.read_voice_guide()


def test_the_shipped_voice_guide_is_the_default() -> None:
    assert "Fernleaf" in load_settings(_env_file=None).read_voice_guide()


def test_secrets_are_redacted_from_messages_and_tracebacks() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "token %s", ("xoxb-secret-1",), None
    )
    try:
        raise RuntimeError("failed with sk-secret-2")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactSecrets(["xoxb-secret-1", "sk-secret-2"]).filter(record)
    rendered = record.getMessage()
    assert "xoxb-secret-1" not in rendered and "sk-secret-2" not in rendered
    assert rendered.count(REDACTED) >= 2
