from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, RunningBot, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=OPENAI_KEY) as fake:
        yield fake


@pytest.fixture
def bot(slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path) -> Iterator[RunningBot]:
    with running_bot(slack, openai_fake, tmp_path / "voiceloop.db") as running:
        yield running
