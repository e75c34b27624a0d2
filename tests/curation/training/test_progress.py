"""The progress file is read from where the last read stopped, complete lines only."""

import json
from pathlib import Path

from curation.training.local.progress import ProgressWriter, read_progress


def test_lines_are_read_once_each_from_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    writer = ProgressWriter(path)
    writer.write("status", "loading")
    writer.write("progress", "step 1", step=1, loss=2.5)
    lines, offset = read_progress(path, 0)
    assert [(line.kind, line.message) for line in lines] == [
        ("status", "loading"),
        ("progress", "step 1"),
    ]
    assert lines[1].data == {"step": 1, "loss": 2.5}
    assert read_progress(path, offset) == ([], offset)
    writer.write("done", "finished", trained_tokens=10)
    writer.close()
    lines, _ = read_progress(path, offset)
    assert [(line.kind, line.data) for line in lines] == [("done", {"trained_tokens": 10})]
    assert lines[0].offset == offset


def test_a_half_written_line_waits_and_a_broken_one_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    whole = json.dumps({"kind": "progress", "message": "step 2", "step": 2})
    path.write_text(
        '{"kind": "progr\n' + whole + "\n" + '{"kind": "status", "mess', encoding="utf-8"
    )
    lines, offset = read_progress(path, 0)
    assert [line.message for line in lines] == ["step 2"]
    with path.open("a", encoding="utf-8") as f:
        f.write('age": "later"}\n')
    lines, _ = read_progress(path, offset)
    assert [line.message for line in lines] == ["later"]


def test_no_file_yet_is_no_progress(tmp_path: Path) -> None:
    assert read_progress(tmp_path / "missing.jsonl", 0) == ([], 0)
