"""`voiceloop curate` end to end: settings in, summary out, one-line errors."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from bot.cli.curate import StageBars
from bot.cli.main import main
from storage import Reply, Store
from tests.curation.dataset.factories import distinct

TEAM_PROMPT = "You are Pim, the assistant for Acme Kites. Answer in Acme's voice."


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["voiceloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    return code if isinstance(code, int) else 0


def refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], path: Path
) -> tuple[str, str]:
    """What `voiceloop validate PATH` printed (stdout, stderr), having refused
    the file with exit code 2 and no traceback."""
    assert run(monkeypatch, "validate", str(path)) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return out, err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # An empty folder, so no developer's .env leaks into the settings.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICELOOP_DB", str(tmp_path / "voiceloop.db"))
    monkeypatch.setenv("VOICELOOP_DATASET_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("VOICELOOP_SHORT_PROMPT", TEAM_PROMPT)
    (tmp_path / "voice_guide.md").write_text("You are Pim, for Acme Kites.", encoding="utf-8")
    monkeypatch.setenv("VOICELOOP_VOICE_GUIDE", str(tmp_path / "voice_guide.md"))
    store = Store(tmp_path / "voiceloop.db")
    for i in range(12):
        store.save_reply(Reply("C1", f"{i}.1", distinct(i), question=f"Trip {i}: what to pack?"))
        store.record_vote("C1", f"{i}.1", "U1", 1, "reaction:+1")
    store.save_reply(Reply("C1", "99.1", "Great question! It's epic!!", question="Tent?"))
    store.record_vote("C1", "99.1", "U1", 1, "reaction:+1")
    store.close()
    return tmp_path


def test_curate_writes_a_dataset_and_summarizes_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "curate") == 0
    out = capsys.readouterr().out
    [folder] = (workdir / "datasets").iterdir()
    assert f"Dataset {folder.name} in {folder}" in out
    assert "13 replies" in out
    assert "style:max_exclamations" in out
    assert "billed tokens" in out


def test_dry_run_as_json(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "curate", "--dry-run", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dataset"] is None
    assert report["examples"]["train"] + report["examples"]["validation"] == 12
    assert report["rejections"]["counts"] == {"style:max_exclamations": 1}
    assert not (workdir / "datasets").exists()


def test_a_bad_rules_file_is_one_line_and_exit_2(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "rules.toml").write_text("[format]\nmax_emojis = 1\n", encoding="utf-8")
    monkeypatch.setenv("VOICELOOP_CURATION_RULES", str(workdir / "rules.toml"))
    assert run(monkeypatch, "curate") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "rules.toml:2: format.max_emojis" in err


def test_nothing_to_train_on_exits_2(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICELOOP_GOOD_THRESHOLD", "5")
    assert run(monkeypatch, "curate") == 2
    out, err = capsys.readouterr()
    assert "below_threshold" in out
    assert err.startswith("voiceloop: nothing to train on: none of the 13 stored")


def test_validate_lists_every_problem_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    no_reply = {"messages": [{"role": "user", "content": "hi"}]}
    dpo = {"input": {"messages": [{"role": "user", "content": "hi"}]}}
    path = tmp_path / "train.jsonl"
    lines = [json.dumps(good), "{oops", json.dumps(no_reply), json.dumps(dpo), json.dumps(good)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = refused(monkeypatch, capsys, path)
    assert out.splitlines() == [
        f"{path}:2: not JSON (Expecting property name enclosed in double quotes, column 2)",
        f"{path}:3: there is no assistant message [example_missing_assistant_message]",
        f"{path}:4: a dpo line in a chat file",
        f"warning: {path}: 2 valid examples; OpenAI fine-tuning needs at least 10 "
        "in a training file (a validation file may have fewer)",
    ]
    assert (
        err == f"voiceloop: {path}: 3 problems in 3 lines of 5; fix them before training on "
        "this file\n"
    )


def test_validate_accepts_what_curate_writes(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "curate") == 0
    [folder] = (workdir / "datasets").iterdir()
    capsys.readouterr()
    assert run(monkeypatch, "validate", str(folder / "train.jsonl")) == 0
    assert "chat examples, no problems (each within" in capsys.readouterr().out


def test_each_stage_has_a_bar_while_it_runs() -> None:
    progress = Progress(console=Console(file=io.StringIO(), force_terminal=True))
    bars = StageBars(progress)
    bars("Checking replies", 0, 10)
    bars("Checking replies", 4, 10)
    assert [(t.description, t.completed, t.total) for t in progress.tasks] == [
        ("Checking replies", 4, 10)
    ]
    bars("Checking replies", 10, 10)
    bars("Dropping repeats", 0, 1)
    assert [t.description for t in progress.tasks] == ["Dropping repeats"]


def test_the_cli_loads_without_the_slack_and_openai_clients() -> None:
    # They take most of a second to import; only `serve` needs them.
    code = "import sys, bot.cli.main; print({'slack_bolt', 'openai'} & set(sys.modules))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "set()"


def test_validate_checks_the_base_models_token_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = {
        "messages": [
            {"role": "user", "content": "tell me everything " * 6000},
            {"role": "assistant", "content": "ok"},
        ]
    }
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps(long) + "\n")
    assert run(monkeypatch, "validate", str(path)) == 0
    assert run(monkeypatch, "validate", str(path), "--base-model", "gpt-3.5-turbo") == 2
    out = capsys.readouterr().out
    assert f"{path}:1: " in out and "over gpt-3.5-turbo's limit of 16,385" in out


def test_validate_refuses_an_empty_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"")
    out, err = refused(monkeypatch, capsys, path)
    assert out == f"{path}: the file has no examples\n"
    assert err == (f"voiceloop: {path} is empty: a training file holds one JSON example per line\n")


def test_validate_refuses_a_50_mb_line_by_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "train.jsonl"
    with path.open("wb") as file:
        file.write(b'{"messages": [{"role": "user", "content": "')
        for _ in range(50):
            file.write(b"a" * 1_000_000)
        file.write(b'"}]}\n')
    out, err = refused(monkeypatch, capsys, path)
    assert out == f"{path}:1: line is 50.0 MB, more than any example can hold\n"
    assert err.startswith(f"voiceloop: {path}: 1 problem in 1 line of 1;")


def test_validate_warns_about_a_small_file_but_passes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A validation file may hold fewer than 10 examples, so this is no failure.
    monkeypatch.chdir(tmp_path)
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    path = tmp_path / "validation.jsonl"
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert run(monkeypatch, "validate", str(path)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"warning: {path}: 1 valid example; OpenAI fine-tuning needs at least 10 "
        "in a training file (a validation file may have fewer)"
    )
    assert out[1].startswith(f"{path}: 1 chat example, no problems")


def test_validate_counts_the_lines_that_have_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two problems on one line, one on another, in a file of three lines.
    two_problems = {"messages": [{"role": "robot", "content": 1}]}
    good = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    path = tmp_path / "train.jsonl"
    lines = [json.dumps(two_problems), "{oops", json.dumps(good)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = refused(monkeypatch, capsys, path)
    problems = [line for line in out.splitlines() if not line.startswith("warning:")]
    assert len(problems) >= 3 and {p.split(":")[1] for p in problems} == {"1", "2"}
    assert f": {len(problems)} problems in 2 lines of 3;" in err


def test_curate_in_a_folder_without_a_database_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VOICELOOP_DB", raising=False)
    assert run(monkeypatch, "curate") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"voiceloop: no database at voiceloop.db (in {tmp_path}):")
    assert not (tmp_path / "voiceloop.db").exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_empty_database_says_why_without_pointing_at_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    dry_run: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOICELOOP_SHORT_PROMPT", TEAM_PROMPT)
    Store(tmp_path / "voiceloop.db").close()
    assert run(monkeypatch, "curate", *(["--dry-run"] if dry_run else [])) == 2
    out, err = capsys.readouterr()
    assert "see the reasons above" not in err
    assert "holds no bot replies yet" in err
    assert "$0.00" not in out and "billed tokens" not in out
    assert "one thread" not in out + err


def test_the_example_brand_is_named_and_refused_unless_allowed(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VOICELOOP_SHORT_PROMPT")
    assert run(monkeypatch, "curate") == 2
    err = capsys.readouterr().err
    assert "note: using the example brand (Fernleaf Outdoor Co. / Brightside)" in err
    assert "voiceloop: not writing a dataset whose system prompt names the example brand" in err
    assert not (workdir / "datasets").exists()
    assert run(monkeypatch, "curate", "--allow-example-brand") == 0
    [folder] = (workdir / "datasets").iterdir()
    assert "Fernleaf" in (folder / "train.jsonl").read_text(encoding="utf-8")


def test_a_team_prompt_with_the_shipped_voice_guide_still_gets_a_note(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "curate", "--dry-run") == 0
    assert "example brand" not in capsys.readouterr().err
    monkeypatch.delenv("VOICELOOP_VOICE_GUIDE")
    assert run(monkeypatch, "curate") == 0
    err = capsys.readouterr().err
    assert "example brand (Fernleaf Outdoor Co. / Brightside) for the voice guide" in err
    assert "short prompt" not in err


def test_an_unknown_base_model_is_named_with_what_is_assumed(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICELOOP_BASE_MODEL", "gpt-4.1-mini-typo")
    assert run(monkeypatch, "curate", "--dry-run") == 0
    err = capsys.readouterr().err
    assert "warning: VOICELOOP_BASE_MODEL 'gpt-4.1-mini-typo' is not a known base model" in err
    assert "8,192 tokens per example and no per-token price" in err
    assert "gpt-4.1-mini-2025-04-14" in err
    path = workdir / "one.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    run(monkeypatch, "validate", str(path), "--base-model", "gpt-4o-typo")
    assert "--base-model 'gpt-4o-typo' is not a known base model" in capsys.readouterr().err


def test_an_open_weight_base_model_gets_no_warning(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICELOOP_BASE_MODEL", "Qwen/Qwen2.5-7B-Instruct")
    assert run(monkeypatch, "curate", "--dry-run") == 0
    assert "not a known base model" not in capsys.readouterr().err


def test_a_setting_curate_does_not_use_only_warns(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICELOOP_PORT", "abc")
    assert run(monkeypatch, "curate", "--dry-run") == 0
    err = capsys.readouterr().err
    assert "warning: VOICELOOP_PORT: Input should be a valid integer" in err
    assert "ignored, since `voiceloop curate` does not use it" in err
    monkeypatch.setenv("VOICELOOP_GOOD_THRESHOLD", "abc")
    assert run(monkeypatch, "curate", "--dry-run") == 2
    err = capsys.readouterr().err
    assert err.startswith("voiceloop: invalid settings: VOICELOOP_GOOD_THRESHOLD:")
    assert "VOICELOOP_PORT" not in err


def test_help_shows_flags_and_arguments_as_they_are_typed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per option, as the asserts read them
    for command in ("curate", "validate", "import", "init", "doctor", "serve"):
        assert run(monkeypatch, command, "-h") == 0
        out = capsys.readouterr().out
        assert "<bool>" not in out and "{" not in out, out
    assert run(monkeypatch, "-h") == 0
    assert "<bool>" not in capsys.readouterr().out
    run(monkeypatch, "validate", "--help")
    assert "Usage: voiceloop validate [OPTIONS] FILE" in capsys.readouterr().out
    run(monkeypatch, "curate", "--help")
    assert "[default: VOICELOOP_DATASET_DIR]" in capsys.readouterr().out


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(monkeypatch, "--version") == 0
    assert re.fullmatch(r"voiceloop \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)
