"""Ratings captured through the app become a dataset that passes validation, scrubbed."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.harness import RunningBot, running_bot
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

VOICELOOP = [sys.executable, "-c", "from bot.cli.main import main; main()"]
TOPICS = [
    "the ridge trail", "tent sizes", "rain shells", "boot fitting", "trip deposits",
    "stove fuel", "map apps", "trail snacks", "sleeping pads", "headlamps",
    "water filters", "kid carriers", "trekking poles", "gaiters", "bear canisters",
    "first-aid kits",
]  # fmt: skip
SCRUBBED = [
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # emails
    re.compile(r"\b555[-. ]?\d{3}[-. ]?\d{4}\b"),  # the phone numbers used below
    re.compile(r"<@U[A-Z0-9]+>"),  # Slack user mentions
    re.compile(r"<#C[A-Z0-9]+"),  # Slack channel mentions
    re.compile(r"\b4111[ -]?1111[ -]?1111[ -]?1111\b"),  # the card number used below
    re.compile(r"token=|hooks\.slack\.com"),  # links carrying credentials
]


def answer(request: dict[str, Any]) -> str:
    question = request["messages"][-1]["content"]
    topic = next(t for t in TOPICS if t in question)
    return (
        f"Good news on {topic}: the team at gear@fernleaf.example can sort you out "
        f"today. Ask <@U777> in <#C024BE7LR|gear>, call 555-123-4567 or pay for {topic} "
        f"with 4111 1111 1111 1111 at https://pay.example/c?token=abc123 🥾"
    )


def rate_replies(bot: RunningBot) -> None:
    bot.openai.reply_with(answer)
    for i, topic in enumerate(TOPICS):
        bot.send_event(
            sr.mention(
                f"<@UBOT> what should I know about {topic}? I'm dana@corp.example, "
                "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
            )
        )
        bot.slack.wait_for("chat.update", count=i + 1)
    bot.settle()
    replies = list(bot.store.replies())
    assert len(replies) == len(TOPICS)
    for reply in replies[:-2]:
        for voter in ("U2", "U3"):
            bot.send_event(
                sr.reaction("reaction_added", "+1", channel=reply.channel, ts=reply.ts, user=voter)
            )
    for reply in replies[-2:]:
        bot.send_event(sr.reaction("reaction_added", "x", channel=reply.channel, ts=reply.ts))
    bot.settle()


def run(*args: str, db: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "VOICELOOP_DB": str(db), "HOME": str(cwd)}
    # A team's own prompt: curate refuses to write data that teaches the example brand.
    env["VOICELOOP_SHORT_PROMPT"] = "You are Pim, the assistant for Acme Kites."
    import os

    env["TIKTOKEN_CACHE_DIR"] = os.environ["TIKTOKEN_CACHE_DIR"]
    return subprocess.run([*VOICELOOP, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.fixture
def rated_db(slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path) -> Path:
    db = tmp_path / "voiceloop.db"
    with running_bot(slack, openai_fake, db) as bot:
        rate_replies(bot)
    return db


def test_rated_replies_curate_into_valid_scrubbed_files(rated_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "datasets"
    result = run("curate", "--out", str(out), db=rated_db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    (version,) = [p for p in out.iterdir() if p.is_dir()]
    train, validation = version / "train.jsonl", version / "validation.jsonl"
    assert train.exists() and validation.exists()
    for path in (train, validation):
        checked = run("validate", str(path), db=rated_db, cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        text = path.read_text()
        for pattern in SCRUBBED:
            assert not pattern.search(text), f"{pattern.pattern} found in {path.name}"
    lines = [json.loads(line) for line in train.read_text().splitlines()]
    assert len(lines) + len(validation.read_text().splitlines()) == len(TOPICS) - 2
    assert lines[0]["messages"][0]["role"] == "system"
    report = json.loads((version / "report.json").read_text())
    assert report


def test_retrain_in_slack_builds_a_dataset_and_reports_it(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with running_bot(slack, openai_fake, tmp_path / "v.db",
                     dataset_dir=tmp_path / "datasets") as bot:  # fmt: skip
        rate_replies(bot)
        response = bot.send_command("/retrain", user="U2")
        assert response.status == 200
        assert "Building a dry run" in response.body
        (posted,) = slack.wait_for("response_url", timeout=60)
        bot.settle()
    assert "Dry run: 14 examples" in posted.params["text"]
    assert any((tmp_path / "datasets").iterdir())


def test_retrain_is_for_admins_when_admins_are_set(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with running_bot(slack, openai_fake, tmp_path / "v.db", admins="UADMIN") as bot:
        response = bot.send_command("/retrain", user="U2")
        bot.settle()
    assert "Only voiceloop admins" in response.body
    assert slack.calls("response_url") == []
