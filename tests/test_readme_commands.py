"""The README's quick-start and first-day commands, run as a shell script would
run them, in the order the README gives them."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from storage import Reply, Store
from tests.curation.dataset.factories import distinct
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
# A block the test runs is an ```sh block right after <!-- readme-test: WHERE -->.
_TAGGED = re.compile(r"<!-- readme-test: (\S+) -->\n\s*```sh\n(.*?)\n\s*```", re.DOTALL)
BOT_TOKEN = "xoxb-readme"
OPENAI_KEY = "sk-readme"


def commands(where: str) -> list[str]:
    found = [
        line.strip()
        for tag, block in _TAGGED.findall(ROOT.joinpath("README.md").read_text(encoding="utf-8"))
        if tag == where
        for line in block.splitlines()
        if line.strip()
    ]
    assert found, f"README.md has no block tagged readme-test: {where}"
    return found


def shell(lines: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def clean_env(**values: str) -> dict[str, str]:
    """A new shell: no voiceloop settings, and no virtualenv on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENAI_", "VOICELOOP_", "VIRTUAL_ENV"))
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p]
    env["PATH"] = os.pathsep.join(path or ["/usr/bin", "/bin"])
    env["COLUMNS"] = "200"
    env.update(values)
    return env


@pytest.fixture(scope="module")
def installed() -> None:
    # `make install` on a checkout whose .venv is older than pyproject.toml
    # would reinstall from the package index; the suite does not download.
    stamp = subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT, capture_output=True)
    if stamp.returncode != 0:
        pytest.skip(".venv is not up to date with pyproject.toml; run `make install` first")


def test_the_quick_start_puts_voiceloop_on_path(installed: None) -> None:
    env = clean_env()
    lost = subprocess.run(["bash", "-c", "voiceloop --version"], env=env, capture_output=True)
    assert lost.returncode == 127  # not on PATH before the quick start
    result = shell(commands("checkout"), ROOT, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^voiceloop \d+\.\d+\.\d+", result.stdout, re.MULTILINE)
    assert "Usage: voiceloop [OPTIONS] COMMAND" in result.stdout


def test_the_first_day_commands_work_as_written(installed: None, tmp_path: Path) -> None:
    activate = f"source {ROOT / '.venv' / 'bin' / 'activate'}"  # the quick start's step
    with FakeSlack(bot_token=BOT_TOKEN) as slack, FakeOpenAI(api_key=OPENAI_KEY) as openai:
        # The tokens a team pastes into .env; the environment wins over it.
        env = clean_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN="xapp-readme",
            SLACK_API_URL=slack.url,
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=openai.base_url,
        )
        first = shell([activate, *commands("team-folder")], tmp_path, env)
        assert first.returncode == 0, first.stdout + first.stderr
    assert "Ready: `voiceloop serve` has what it needs." in first.stdout
    assert {".env", "voice_guide.md", "curation_rules.toml"} <= {p.name for p in tmp_path.iterdir()}

    # What serving and a few days of rating leave in the bot's database.
    store = Store(tmp_path / "voiceloop.db")
    for i in range(12):
        store.save_reply(Reply("C1", f"{i}.1", distinct(i), question=f"Trip {i}: what to pack?"))
        store.record_vote("C1", f"{i}.1", "U1", 1, "reaction:+1")
    store.close()
    rated = shell([activate, *commands("after-rating")], tmp_path, clean_env())
    assert rated.returncode == 0, rated.stdout + rated.stderr
    assert re.search(r"^Dataset [0-9a-f]+ in datasets/", rated.stdout, re.MULTILINE)
    assert '"rejections"' in rated.stdout  # the report, as --json prints it
