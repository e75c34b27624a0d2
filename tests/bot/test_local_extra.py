"""The `local` extra is optional: the bot never imports the training stack, and
choosing the local trainer without it says, on one line, how to install it."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from tests.e2e.test_serve_command import clean_env

TRAINING_STACK = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_bot_and_the_cli_never_import_the_training_stack(tmp_path: Path) -> None:
    code = f"""
import sys
from bot.app import build_service
from bot.cli.main import main
from bot.settings import load_settings
from curation import build_backend
settings = load_settings(trainer="local", local_base_model="{tmp_path}", serve_base_url="http://127.0.0.1:9/v1")
build_backend(settings.trainer_config(), settings.endpoints())
sys.argv = ["voiceloop", "--help"]
try:
    main()
except SystemExit:
    pass
print("loaded:", [m for m in {TRAINING_STACK!r} if m in sys.modules])
"""
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "loaded: []"


def test_serve_with_the_local_trainer_but_without_the_extra_is_one_line(tmp_path: Path) -> None:
    # None in sys.modules is how Python spells "not installed" for import and find_spec.
    code = "import sys; sys.modules['torch'] = None; from bot.cli.main import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "serve"],
        env=clean_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="secret",
            OPENAI_API_KEY="sk-test",
            VOICELOOP_TRAINER="local",
            VOICELOOP_LOCAL_BASE_MODEL="Qwen/Qwen2.5-7B-Instruct",
            VOICELOOP_SERVE_BASE_URL="http://127.0.0.1:8000/v1",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "VOICELOOP_TRAINER=local" in lines[0] and "torch" in lines[0]
    assert "pip install 'voiceloop[local]'" in lines[0]


def test_the_local_trainer_needs_its_base_model_and_server() -> None:
    settings = load_settings(trainer="local", _env_file=None)
    with pytest.raises(SettingsError) as caught:
        settings.trainer_config()
    assert str(caught.value) == (
        "VOICELOOP_TRAINER=local needs VOICELOOP_LOCAL_BASE_MODEL and VOICELOOP_SERVE_BASE_URL"
    )


def test_local_settings_become_the_trainers_recipe(tmp_path: Path) -> None:
    settings = load_settings(
        trainer="local",
        local_base_model="Qwen/Qwen2.5-7B-Instruct",
        serve_base_url="http://127.0.0.1:8000/v1",
        lora_rank=8,
        lora_target_modules="q_proj, v_proj",
        lora_epochs=2,
        _env_file=None,
    )
    config = settings.trainer_config()
    assert config.base_model == "Qwen/Qwen2.5-7B-Instruct"
    hp = config.hyperparameters  # type: ignore[union-attr]
    assert (hp.rank, hp.target_modules, hp.epochs) == (8, ("q_proj", "v_proj"), 2)
    # Curation counts limits for the model that will train.
    assert settings.curation_config().base_model == "Qwen/Qwen2.5-7B-Instruct"
