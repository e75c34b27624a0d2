"""A team's first run: `voiceloop init` in an empty folder, then `voiceloop doctor`
against the fake Slack and OpenAI servers."""

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.checks import BOT_SCOPES
from bot.cli.main import main
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, manifest_scopes

BOT_TOKEN = "xoxb-first-run"
OPENAI_KEY = "sk-first-run"


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["voiceloop", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    return code if isinstance(code, int) else 0


@pytest.fixture
def team_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder to run in, and no setting from the developer's environment."""
    import os

    for name in list(os.environ):
        if name.startswith(("SLACK_", "OPENAI_", "VOICELOOP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=OPENAI_KEY) as fake:
        yield fake


def init_with_tokens(
    monkeypatch: pytest.MonkeyPatch, folder: Path, slack: FakeSlack, openai_fake: FakeOpenAI
) -> None:
    """`voiceloop init` as a script would run it, then the tokens a team pastes in."""
    assert run(monkeypatch, "init", "--brand", "Acme Kites", "--bot-name", "Pim", "--dir", ".") == 0
    env = folder / ".env"
    env.write_text(
        env.read_text(encoding="utf-8")
        + f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_APP_TOKEN=xapp-1-first-run\n"
        + f"SLACK_API_URL={slack.url}\n"
        + f"OPENAI_API_KEY={OPENAI_KEY}\nOPENAI_BASE_URL={openai_fake.base_url}\n",
        encoding="utf-8",
    )


def test_the_code_asks_for_exactly_the_manifests_scopes() -> None:
    assert set(manifest_scopes()) == BOT_SCOPES


def test_init_then_doctor_passes_every_check(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
) -> None:
    with FakeSlack(bot_token=BOT_TOKEN) as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line[:1] in ("✓", "!", "✗")]
    assert [line.split(":")[0] for line in lines] == [
        "✓ Settings",
        "✓ Slack token",
        "✓ Slack scopes",
        "✓ Connection",
        "✓ Chat model",
        "✓ Database",
        "✓ Voice guide",
        "✓ Curation rules",
        # init copies the example's guide for the team to rewrite; doctor says so.
        "! Brand",
        "✓ Fine-tuning",
    ]
    assert "rewrite voice_guide.md in your team's voice" in out
    assert "Ready: `voiceloop serve` has what it needs." in out
    assert [c.path for c in openai_fake.calls() if c.path.endswith("/completions")]


def test_a_missing_scope_is_the_one_failing_check_with_its_hint(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
) -> None:
    scopes = [s for s in manifest_scopes() if s != "reactions:read"]
    with FakeSlack(bot_token=BOT_TOKEN, scopes=scopes) as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 1
    out = capsys.readouterr().out.splitlines()
    [failed] = [line for line in out if line.startswith("✗")]
    assert failed == "✗ Slack scopes: the token lacks reactions:read"
    hint = out[out.index(failed) + 1]
    assert hint.strip().startswith("→ add them under OAuth & Permissions → Scopes")
    assert "1 problem to fix before `voiceloop serve`." in out


def test_a_refused_fine_tuning_organisation_and_a_retiring_model_do_not_block_serve(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
) -> None:
    openai_fake.fail_always(403, path="/v1/fine_tuning/jobs")
    openai_fake.set_shutdown_date("gpt-4.1-mini-2025-04-14", "2027-01-14")
    with FakeSlack(bot_token=BOT_TOKEN) as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 0
    out = capsys.readouterr().out
    assert "✗ Fine-tuning: this organisation cannot use OpenAI fine-tuning (HTTP 403" in out
    assert "train on a self-hosted open-weight model instead" in out
    assert (
        "! Model retirement: the base model gpt-4.1-mini-2025-04-14 shuts down on 2027-01-14" in out
    )


def test_doctor_names_a_refused_token_and_a_missing_chat_model(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
) -> None:
    with FakeSlack(bot_token="xoxb-another") as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        monkeypatch.setenv("VOICELOOP_CHAT_MODEL", "gpt-nope")
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 1
    out = capsys.readouterr().out
    assert "✗ Slack token: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in out
    assert "✗ Chat model: gpt-nope is not a model this server offers" in out
    assert BOT_TOKEN not in out and OPENAI_KEY not in out


def test_doctor_with_a_broken_setting_says_which_and_stops(
    team_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICELOOP_PORT", "abc")
    assert run(monkeypatch, "doctor") == 1
    [line, hint] = capsys.readouterr().out.splitlines()
    assert line.startswith("✗ Settings: invalid settings: VOICELOOP_PORT:")
    assert "fix that variable" in hint


def test_init_never_overwrites_without_force(
    team_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (team_folder / "voice_guide.md").write_text("Our own voice.", encoding="utf-8")
    args = ["init", "--brand", "Acme Kites", "--bot-name", "Pim"]
    assert run(monkeypatch, *args) == 2
    assert "not overwriting voice_guide.md" in capsys.readouterr().err
    assert (team_folder / "voice_guide.md").read_text(encoding="utf-8") == "Our own voice."
    assert not (team_folder / ".env").exists()
    assert run(monkeypatch, *args, "--force") == 0
    assert "Fernleaf" in (team_folder / "voice_guide.md").read_text(encoding="utf-8")


def test_init_writes_settings_that_load_with_the_teams_prompt(
    team_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import load_settings

    assert (
        run(monkeypatch, "init", "--brand", 'Acme "Kites"', "--bot-name", "Pim", "--dir", "t") == 0
    )
    env = (team_folder / "t" / ".env").read_text(encoding="utf-8")
    for required in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "OPENAI_API_KEY",
    ):
        assert f"# {required}=" in env
    monkeypatch.chdir(team_folder / "t")
    settings = load_settings()
    assert settings.short_prompt == (
        'You are Pim, the assistant for Acme "Kites". Answer the team\'s questions in '
        'Acme "Kites"\'s voice.'
    )
    assert settings.voice_guide == Path("voice_guide.md")
    rules = settings.curation_config().rules
    assert rules is not None
    assert "Fernleaf" not in (team_folder / "t" / "curation_rules.toml").read_text(encoding="utf-8")


def test_init_without_flags_outside_a_terminal_names_the_missing_flag(
    team_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", open(__file__, encoding="utf-8"))  # noqa: SIM115
    assert run(monkeypatch, "init", "--bot-name", "Pim") == 2
    assert capsys.readouterr().err.startswith("voiceloop: --brand is missing: pass it")


@pytest.mark.parametrize("installed", [True, False])
def test_a_trainer_serve_cannot_build_fails_the_doctor(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
    installed: bool,
) -> None:
    # Whether the local extra is installed depends on the machine; both answers are checked.
    monkeypatch.setattr(
        "bot.settings.missing_local_extra", lambda: [] if installed else ["torch", "peft"]
    )
    with FakeSlack(bot_token=BOT_TOKEN) as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        monkeypatch.setenv("VOICELOOP_TRAINER", "local")
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 1
    out = capsys.readouterr().out
    problem = (
        "VOICELOOP_LOCAL_BASE_MODEL and VOICELOOP_SERVE_BASE_URL"
        if installed
        else "the local extra (torch, peft not installed): pip install 'voiceloop[local]'"
    )
    assert (
        f"✗ Trainer: VOICELOOP_TRAINER=local needs {problem}\n"
        "    → do as it says, or set VOICELOOP_TRAINER=openai"
    ) in out


def test_a_chat_only_server_is_told_apart_from_a_refused_organisation(
    team_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    openai_fake: FakeOpenAI,
) -> None:
    openai_fake.fail_always(404, path="/v1/fine_tuning/jobs")
    with FakeSlack(bot_token=BOT_TOKEN) as slack:
        init_with_tokens(monkeypatch, team_folder, slack, openai_fake)
        capsys.readouterr()
        assert run(monkeypatch, "doctor") == 0
    out = capsys.readouterr().out
    assert f"✗ Fine-tuning: the server at {openai_fake.base_url} has no fine-tuning API" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_init_asks_in_a_terminal_for_what_the_flags_do_not_give(
    team_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("Acme Kites\nPim\nteam\n"))
    assert run(monkeypatch, "init") == 0
    out = capsys.readouterr().out
    assert "Brand or company name" in out and "Folder for the files [.]" in out
    env = (team_folder / "team" / ".env").read_text(encoding="utf-8")
    assert 'VOICELOOP_SHORT_PROMPT="You are Pim, the assistant for Acme Kites.' in env
    assert "cd team && voiceloop doctor" in out
