"""The rules file: the shipped example loads, and every mistake names file and line."""

from pathlib import Path

import pytest

from bot.settings import Settings
from curation.dataset.rules import CurationRules, load_rules
from curation.errors import CurationError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_rules_file_is_the_default_and_loads() -> None:
    path = Settings.model_fields["curation_rules"].default
    rules = load_rules(path)
    assert rules.format.max_exclamations == 1
    assert "great question" in rules.tone.banned_phrases
    assert [p.name for p in rules.pii] == ["order_number"]


def test_an_empty_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_rules(write(tmp_path, "")) == CurationRules()


def test_a_misspelt_key_is_an_error_on_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[format]\nmax_chars = 10\nmax_emojis = 1\n")
    with pytest.raises(CurationError, match=r"rules.toml:3: format.max_emojis: Extra inputs"):
        load_rules(path)


def test_a_bad_value_in_an_array_of_tables_names_its_line(tmp_path: Path) -> None:
    text = (
        '[[rule]]\nname = "ok"\npattern = "a"\n\n[[rule]]\nname = "broken"\npattern = "(unclosed"\n'
    )
    with pytest.raises(CurationError, match=r"rules.toml:7: rule\[1\].pattern: .*regular expr"):
        load_rules(write(tmp_path, text))


def test_an_unknown_table_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(CurationError, match=r"rules.toml:2: style: Extra inputs"):
        load_rules(write(tmp_path, "# comment\n[style]\nx = 1\n"))


def test_out_of_range_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CurationError, match=r"rules.toml:2: dedup.similarity"):
        load_rules(write(tmp_path, "[dedup]\nsimilarity = 0.2\n"))


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    with pytest.raises(CurationError, match=r"rules.toml: not valid TOML: .*line 1"):
        load_rules(write(tmp_path, "[format\n"))


def test_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CurationError, match=r"cannot read the curation rules .*shipped rules"):
        load_rules(tmp_path / "nope.toml")
