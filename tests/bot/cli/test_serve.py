"""`voiceloop serve` runs the bot with a short GIL switch interval, so acks never wait 5 ms."""

import sys
from pathlib import Path
from typing import Any

import pytest

import bot.app
import bot.server
from bot.cli.main import app
from bot.cli.serve import GIL_SWITCH_SECONDS
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY, SIGNING_SECRET


class Started:
    def __init__(self) -> None:
        self.started = False

    def start(self) -> None:
        self.started = True


def test_serve_hands_the_gil_over_within_a_millisecond(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    service = Started()
    seen: list[float] = []

    def serve_http(*_args: Any) -> None:
        seen.append(sys.getswitchinterval())

    for name, value in {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "OPENAI_API_KEY": OPENAI_KEY,
        "VOICELOOP_DB": str(tmp_path / "bot.db"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.app, "build_service", lambda _settings: service)
    monkeypatch.setattr(bot.server, "serve_http", serve_http)
    before = sys.getswitchinterval()
    try:
        with pytest.raises(SystemExit) as exited:
            app(["serve"])
    finally:
        sys.setswitchinterval(before)
    assert exited.value.code == 0
    assert service.started
    assert seen == [pytest.approx(GIL_SWITCH_SECONDS)]
    assert GIL_SWITCH_SECONDS <= 0.001 < before
