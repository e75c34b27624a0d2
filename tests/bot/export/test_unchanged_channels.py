"""A rerun skips the channels whose day files and import settings are unchanged, and only those."""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.export import reader
from bot.export.files import ExportFiles, open_export
from bot.export.reader import ExportReport, export_layout, read_export
from storage import ImportedChannel
from tests.bot.export.test_reader import POLICY, USERS, bot, human, reaction

GENERAL = [
    human("100.000000", "Waterproof?"),
    bot("100.100000", "To 3000 mm.", reactions=[reaction("+1", "U2")]),
]
RANDOM = [human("200.000000", "Lunch?"), bot("200.100000", "Noon.")]


def files_of(random_day: Any = RANDOM, general_day: Any = GENERAL) -> dict[str, Any]:
    return {
        "channels.json": [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}],
        "users.json": USERS,
        "general/2024-03-01.json": general_day,
        "random/2024-03-01.json": random_day,
        "random/2024-03-02.json": [human("300.000000", "Later?"), bot("300.100000", "Yes.")],
    }


def read_counting(
    path: Path, imported: dict[str, ImportedChannel], **options: Any
) -> tuple[ExportReport, list[str]]:
    """The report, and the day files opened to parse them."""
    opened: list[str] = []
    with open_export(path) as files:
        counted: ExportFiles = files
        parse_open: Callable[[str], Any] = files.open

        def open_counted(name: str) -> Any:
            opened.append(name)
            return parse_open(name)

        files.open = open_counted  # type: ignore[method-assign]
        layout = export_layout(counted, str(path))
        opened.clear()  # the lists, read for the layout
        return read_export(counted, layout, POLICY, imported=imported, **options), opened


def recorded(report: ExportReport) -> dict[str, ImportedChannel]:
    return {c.channel: c for c in report.imported}


def test_an_unchanged_rerun_opens_no_day_file_and_counts_what_is_there(as_export: Any) -> None:
    path = as_export(files_of())
    first, opened = read_counting(path, {})
    assert len(opened) == 3 and sorted(recorded(first)) == ["C1", "C2"]
    assert [(c.replies, c.votes) for c in first.imported] == [(1, 1), (2, 0)]

    again, opened = read_counting(path, recorded(first))
    assert opened == []
    assert (again.channels, again.day_files, again.messages) == (0, 0, 0)
    assert again.replies == [] and again.votes == []
    assert [c.channel for c in again.unchanged] == ["C1", "C2"]
    assert again.unchanged_day_files == 3


def test_a_changed_day_file_reads_its_channel_again_and_only_it(as_export: Any) -> None:
    first, _ = read_counting(as_export(files_of()), {})
    changed = [*RANDOM, human("200.200000", "And dessert?"), bot("200.300000", "Cake.")]
    again, opened = read_counting(as_export(files_of(random_day=changed)), recorded(first))
    assert [name.rpartition("/")[0] for name in opened] == ["random", "random"]
    assert [c.channel for c in again.unchanged] == ["C1"]
    assert [r.text for r in again.replies] == ["Noon.", "Cake.", "Yes."]
    assert recorded(again)["C2"].files_digest != recorded(first)["C2"].files_digest
    assert recorded(again)["C2"].replies == 3


def test_a_removed_day_file_is_a_change(as_export: Any) -> None:
    path = as_export(files_of())
    first, _ = read_counting(path, {})
    if path.is_dir():
        (path / "random" / "2024-03-02.json").unlink()
    else:
        fewer = files_of()
        del fewer["random/2024-03-02.json"]
        as_export(fewer)
    again, _ = read_counting(path, recorded(first))
    assert [c.channel for c in again.unchanged] == ["C1"]
    assert [r.text for r in again.replies] == ["Noon."]


def test_other_settings_or_reader_version_read_every_channel_again(
    as_export: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = as_export(files_of())
    first, _ = read_counting(path, {})
    with open_export(path) as files:
        layout = export_layout(files, str(path))
        for policy in (
            replace(POLICY, authors=POLICY.authors | {"U3"}),
            replace(POLICY, good_emoji=POLICY.good_emoji - {"+1"}),
            replace(POLICY, max_context_turns=3),
        ):
            report = read_export(files, layout, policy, imported=recorded(first))
            assert report.unchanged == [] and report.day_files == 3, policy
    monkeypatch.setattr(reader, "READER_VERSION", reader.READER_VERSION + 1)
    report, _ = read_counting(path, recorded(first))
    assert report.unchanged == []


def test_a_channel_with_a_problem_is_not_recorded_so_its_problems_are_listed_again(
    as_export: Any,
) -> None:
    path = as_export(files_of(random_day=[*RANDOM, {"user": "U1", "text": "no ts"}]))
    first, _ = read_counting(path, {})
    assert sorted(recorded(first)) == ["C1"]
    again, _ = read_counting(path, recorded(first))
    assert [c.channel for c in again.unchanged] == ["C1"]
    assert any("no valid ts" in p.detail for p in again.problems)


def test_a_channel_cut_at_the_message_limit_is_not_recorded(as_export: Any) -> None:
    first, _ = read_counting(as_export(files_of()), {}, max_messages=4)
    assert sorted(recorded(first)) == ["C1"]


def test_a_folder_day_file_that_cannot_be_read_any_more_is_read_and_reported(
    tmp_path: Path,
) -> None:
    root = tmp_path / "export"
    for name, content in files_of().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(content))
    first, _ = read_counting(root, {})
    day = root / "random" / "2024-03-02.json"
    day.unlink()
    day.symlink_to("/dev/zero")
    again, _ = read_counting(root, recorded(first))
    assert [c.channel for c in again.unchanged] == ["C1"]
    assert any(p.path.endswith("2024-03-02.json") for p in again.problems)
