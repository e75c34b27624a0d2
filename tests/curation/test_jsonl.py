"""`validate`'s file check: every bad line reported with its number, nothing loaded whole."""

import json
from pathlib import Path

from curation.jsonl import check_training_file, max_line_bytes

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]}


def write(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_each_kind_of_bad_line_is_named_with_its_number(tmp_path: Path) -> None:
    good = json.dumps(GOOD).encode()
    path = write(tmp_path, good, b"not json", b"", b"\xff\xfe", b'{"other": 1}', good)
    check = check_training_file(path)
    assert check.lines == 6 and check.kind == "chat"
    assert [p.split(": ", 1)[0] for p in check.problems] == [
        f"{path}:2",
        f"{path}:3",
        f"{path}:4",
        f"{path}:5",
    ]
    assert "not JSON" in check.problems[0]
    assert "blank line" in check.problems[1]
    assert "not UTF-8" in check.problems[2]
    assert "neither a chat line" in check.problems[3]


def test_a_line_too_big_for_any_model_is_refused_without_parsing(tmp_path: Path) -> None:
    huge = json.dumps({"messages": [{"role": "user", "content": "x" * max_line_bytes(None)}]})
    check = check_training_file(write(tmp_path, huge.encode()))
    assert len(check.problems) == 1
    assert "MB, more than any example can hold" in check.problems[0]


def test_examples_over_the_models_token_limit(tmp_path: Path) -> None:
    long = {"messages": [{"role": "user", "content": "word " * 500}, GOOD["messages"][1]]}
    path = write(tmp_path, json.dumps(GOOD).encode(), json.dumps(long).encode())
    assert check_training_file(path).problems == []
    check = check_training_file(path, model="gpt-4.1-mini-2025-04-14", token_limit=100)
    assert len(check.problems) == 1
    assert check.problems[0].startswith(f"{path}:2: ")
    assert "over gpt-4.1-mini-2025-04-14's limit of 100" in check.problems[0]


def test_an_empty_file_has_no_examples(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert check_training_file(path).problems == [f"{path}: the file has no examples"]


def test_json_python_cannot_read_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    huge_number = b'{"messages": [], "n": ' + b"9" * 5000 + b"}"
    deep = b"[" * 100_000
    check = check_training_file(write(tmp_path, huge_number, deep))
    assert [p.split(": ", 1)[0] for p in check.problems] == [
        f"{tmp_path / 'train.jsonl'}:1",
        f"{tmp_path / 'train.jsonl'}:2",
    ]
    assert all("not JSON" in p for p in check.problems)
