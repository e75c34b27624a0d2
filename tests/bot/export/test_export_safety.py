"""Exports cannot reach outside themselves or exhaust memory."""

import json
import os
import tracemalloc
from pathlib import Path

import pytest

from bot.export.files import ExportError, open_export
from bot.export.reader import ExportReport, export_layout, read_export
from tests.bot.export.test_reader import POLICY, bot, export, human, write_folder, write_zip

DAY = [human("100.000000", "Q?"), bot("100.100000", "A.")]
OUTSIDE_DAY = [human("200.000000", "secret?"), bot("200.100000", "from outside")]


def read(path: Path, **limits: int) -> ExportReport:
    max_messages = limits.pop("max_messages", None)
    with open_export(path, **limits) as files:
        layout = export_layout(files, str(path))
        if max_messages is None:
            return read_export(files, layout, POLICY)
        return read_export(files, layout, POLICY, max_messages=max_messages)


def details(report: ExportReport) -> dict[str, str]:
    return {Path(p.path).name: p.detail for p in report.problems}


def test_links_that_leave_the_export_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "2024-03-02.json").write_text(json.dumps(OUTSIDE_DAY))
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY}))
    (root / "general" / "2024-03-02.json").symlink_to(outside / "2024-03-02.json")
    (root / "random").symlink_to(outside, target_is_directory=True)
    (root / "channels.json").write_text(
        json.dumps([{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}])
    )
    report = read(root)
    assert [r.text for r in report.replies] == ["A."]
    found = details(report)
    assert found["2024-03-02.json"] == "a link that leaves the export; refused"
    assert found["random"] == "a link that leaves the export; refused"


def test_a_link_inside_the_export_is_read(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY}))
    (root / "general" / "2024-03-02.json").symlink_to(root / "general" / "2024-03-01.json")
    assert read(root).day_files == 2


def test_fifos_and_devices_are_refused_without_hanging(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY}))
    os.mkfifo(root / "general" / "2024-03-02.json")
    (root / "general" / "2024-03-03.json").symlink_to("/dev/zero")
    report = read(root)
    assert [r.text for r in report.replies] == ["A."]
    found = details(report)
    assert found["2024-03-02.json"] == "not a regular file (a device, FIFO or socket); refused"
    assert found["2024-03-03.json"] == "a link that leaves the export; refused"


def test_a_zip_that_inflates_past_the_total_is_refused(tmp_path: Path) -> None:
    # Each member is far below the per-file cap; together they are a bomb.
    padding = [human(f"{300 + i}.000000", "z" * 1000) for i in range(60)]
    files = export({f"2024-03-{d:02d}": padding for d in range(1, 11)})
    path = write_zip(tmp_path / "bomb.zip", files)
    assert path.stat().st_size < 100_000
    with pytest.raises(ExportError, match=r"holds more than 500,000 bytes in all"):
        read(path, total=500_000)


def test_a_folder_past_the_total_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY}))
    with pytest.raises(ExportError, match="VOICELOOP_IMPORT_MAX_BYTES"):
        read(root, total=100)


def test_a_huge_day_file_is_streamed_and_cut_at_the_message_limit(tmp_path: Path) -> None:
    tiny = [{"ts": f"{1000 + i}.000000", "user": "U1", "text": "k"} for i in range(150_000)]
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY, "2024-03-02": tiny}))
    size = (root / "general" / "2024-03-02.json").stat().st_size
    tracemalloc.start()
    try:
        report = read(root, max_messages=1_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Parsed whole, the file would take several times its size as objects.
    assert peak < size / 2, (peak, size)
    assert report.messages == 1_000
    assert [r.text for r in report.replies] == ["A."]
    [cut] = [p for p in report.problems if p.path.endswith("2024-03-02.json")]
    assert "more than 1,000 messages" in cut.detail


def test_nesting_past_the_depth_limit_is_refused_cheaply(tmp_path: Path) -> None:
    deep = b"[" + b"[" * 100_000 + b"]" * 100_000 + b"]"
    root = write_folder(tmp_path / "export", export({"2024-03-01": DAY, "2024-03-02": deep}))
    report = read(root)
    assert details(report)["2024-03-02.json"] == "nested deeper than 64 levels; skipped"
    assert [r.text for r in report.replies] == ["A."]
