"""`voiceloop retrain`, `status` and `rollback` against the stateful fake OpenAI."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.settings import shipped_voice_guide
from storage import Reply, Store
from tests.curation.dataset.factories import distinct
from tests.e2e.test_retrain_lifecycle import chat_and_judge
from tests.fakes.openai_api import FakeOpenAI

KEY = "sk-test-cli-key-1234567890"


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["voiceloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    return code if isinstance(code, int) else 0


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as fake:
        fake.reply_with(chat_and_judge(prefer="candidate"))
        yield fake


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_fake: FakeOpenAI) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("VOICELOOP_DB", str(tmp_path / "voiceloop.db"))
    monkeypatch.setenv("VOICELOOP_DATASET_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("VOICELOOP_POLL_SECONDS", "0.01")
    monkeypatch.setenv("VOICELOOP_CHAT_MODEL", "gpt-4.1-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    store = Store(tmp_path / "voiceloop.db")
    store.deploy_configured("gpt-4.1-mini", shipped_voice_guide())
    for i in range(16):
        question = f"Trip {i}: what to pack for the ridge trail?"
        store.save_reply(Reply("C1", f"{i}.1", distinct(i), thread_ts=f"{i}.0", question=question))
        store.record_vote("C1", f"{i}.1", "U1", 1, "reaction:+1")
    store.close()
    return tmp_path


def live_model(workdir: Path) -> str:
    store = Store(workdir / "voiceloop.db")
    try:
        live = store.live_deployment()
        assert live is not None
        return live.model
    finally:
        store.close()


def test_retrain_yes_trains_gates_and_promotes_then_rollback_restores(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "retrain", "--yes") == 0
    out, err = capsys.readouterr()
    assert "Dry run" in out and "training examples" in out and "estimate" in out
    assert "[promoted]" in out, out + err
    assert live_model(workdir).startswith("ft:gpt-4.1-mini")

    assert run(monkeypatch, "status") == 0
    out, _ = capsys.readouterr()
    assert "Deployments (newest first)" in out and "Last evaluation: win rate" in out
    assert "System prompt per reply" in out

    assert run(monkeypatch, "rollback", "--yes") == 0
    out, _ = capsys.readouterr()
    assert "Live again: gpt-4.1-mini" in out
    assert live_model(workdir) == "gpt-4.1-mini"


def test_retrain_without_a_terminal_or_yes_starts_nothing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "retrain") == 2
    out, err = capsys.readouterr()
    assert "pass --yes" in err and "Traceback" not in out + err
    store = Store(workdir / "voiceloop.db")
    try:
        assert store.runs() == []
    finally:
        store.close()


def test_rollback_with_nothing_to_go_back_to_says_so(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "rollback", "--yes") == 2
    _, err = capsys.readouterr()
    assert "no earlier deployment" in err and "Traceback" not in err
