"""JSONL files: how they are written, and `validate`'s check, every bad line with its number."""

import json
import tracemalloc
from pathlib import Path

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES
from curation.dataset.jsonl import check_training_file, dumps_jsonl, max_line_bytes

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]}


def write(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_lines_are_written_one_object_each_in_real_utf8() -> None:
    lines = [{"role": "user", "content": 'Line one\nand "two" 🥾'}, GOOD]
    written = dumps_jsonl(lines)
    assert written.decode("utf-8").splitlines() == [
        '{"role":"user","content":"Line one\\nand \\"two\\" 🥾"}',
        json.dumps(GOOD, separators=(",", ":")),
    ]
    assert [json.loads(line) for line in written.splitlines()] == lines
    assert dumps_jsonl([]) == b""


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


def test_a_huge_line_is_measured_without_being_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    size = 20_000_000
    with path.open("wb") as file:
        file.write(b'{"messages": [{"role": "user", "content": "')
        for _ in range(size // 1_000_000):
            file.write(b"a" * 1_000_000)
        file.write(b'"}]}\n')
        file.write(json.dumps(GOOD).encode() + b"\n")
    tracemalloc.start()
    try:
        check = check_training_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < size / 2  # a few MB for the capped read, not the whole line
    assert check.lines == 2 and check.examples == 1
    assert check.problems == [f"{path}:1: line is 20.0 MB, more than any example can hold"]


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


DPO = {
    "input": {"messages": [{"role": "user", "content": "Tent or hammock?"}]},
    "preferred_output": [{"role": "assistant", "content": "Tent, for the rain."}],
    "non_preferred_output": [{"role": "assistant", "content": "Either."}],
}


def test_dpo_lines_count_the_input_and_the_longer_output(tmp_path: Path) -> None:
    long_loser = {**DPO, "non_preferred_output": [{"role": "assistant", "content": "no " * 300}]}
    path = write(tmp_path, json.dumps(DPO).encode(), json.dumps(long_loser).encode())
    check = check_training_file(path, model="gpt-4.1-mini-2025-04-14", token_limit=100)
    assert check.kind == "dpo"
    assert len(check.problems) == 1
    assert check.problems[0].startswith(f"{path}:2: ")
    assert "over gpt-4.1-mini-2025-04-14's limit of 100" in check.problems[0]


def test_fewer_than_ten_examples_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, *[json.dumps(GOOD).encode()] * 3)
    check = check_training_file(path)
    assert check.problems == [] and check.examples == 3
    assert check.warnings == [
        f"{path}: 3 valid examples; OpenAI fine-tuning needs at least 10 in a training file "
        "(a validation file may have fewer)"
    ]
    dpo = write(tmp_path, json.dumps(DPO).encode())
    assert "1 valid example;" in check_training_file(dpo).warnings[0]


def test_ten_valid_examples_need_no_warning(tmp_path: Path) -> None:
    enough = [json.dumps(GOOD).encode()] * MIN_TRAINING_EXAMPLES
    assert check_training_file(write(tmp_path, *enough)).warnings == []
    with_a_bad_line = write(tmp_path, *enough[1:], b"{oops")
    check = check_training_file(with_a_bad_line)
    assert len(check.problems) == 1
    assert check.warnings[0].startswith(f"{with_a_bad_line}: 9 valid examples;")
