"""A store with rated replies, the fake OpenAI, and a Lifecycle wired to both."""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from curation import (
    CurationConfig,
    Endpoint,
    Endpoints,
    GateConfig,
    Lifecycle,
    LifecycleConfig,
    OpenAITrainerConfig,
    RunUpdate,
    build_backend,
)
from storage import Reply, Store, TrainingRun
from tests.curation.dataset.factories import distinct
from tests.fakes.openai_api import DEFAULT_API_KEY, FakeOpenAI

BASE_MODEL = "gpt-4.1-mini-2025-04-14"
CHAT_MODEL = "gpt-5-mini"
SHORT_PROMPT = "You are Brightside, Fernleaf's assistant."
VOICE_GUIDE = "Fernleaf's voice: warm, plain, outdoorsy. " * 60
# "first": a judge with position bias, always picking reply A.
Side = Literal["candidate", "live", "tie", "first"]


WORDS = [
    "ridge",
    "cedar",
    "fern",
    "bluff",
    "creek",
    "otter",
    "shell",
    "water",
    "lamp",
    "socks",
    "map",
    "sunscreen",
    "tarp",
    "stove",
    "canyon",
    "meadow",
    "alpine",
    "ferry",
    "kayak",
    "paddle",
    "summit",
    "lantern",
    "compass",
    "blister",
    "cocoa",
    "granola",
    "marmot",
    "heron",
    "willow",
    "basalt",
    "glacier",
    "drizzle",
    "breeze",
    "ember",
    "pebble",
    "thistle",
    "juniper",
    "aspen",
]


def question(i: int) -> str:
    """Questions unlike each other, so dedup neither drops nor links them."""
    digest = hashlib.sha256(str(i).encode()).digest()
    words = " ".join(WORDS[b % len(WORDS)] for b in digest[:6])
    return f"Quick one ({i}): {words}?"


def seed_ratings(store: Store, n: int = 40, *, start: int = 0) -> None:
    """`n` replies in their own threads, each with one good vote."""
    for i in range(start, start + n):
        ts = f"{1000 + i}.000100"
        store.save_reply(
            Reply(
                channel="C1",
                ts=ts,
                text=distinct(i),
                question=question(i),
                created_at=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000+00:00",
            )
        )
        store.record_vote("C1", ts, "U1", 1, "reaction:+1")


def answer_as(prefer: Side) -> Callable[[dict[str, Any]], str]:
    """Chat replies that say which side wrote them, and a judge that prefers `prefer`."""

    def reply(request: dict[str, Any]) -> str:
        if request.get("response_format"):
            text = request["messages"][-1]["content"]
            a = re.search(r"Reply A:\n(\w+)", text)
            first = a.group(1) if a else ""
            if prefer in ("tie", "first"):
                winner = "tie" if prefer == "tie" else "A"
            else:
                winner = "A" if (first == "Candidate") == (prefer == "candidate") else "B"
            return json.dumps({"winner": winner, "reason": f"{prefer} fits the voice better"})
        who = "Candidate" if request["model"].startswith("ft:") else "Live"
        question = request["messages"][-1]["content"]
        return f"{who} here. For that, pack light and check the forecast. ({question[:20]})"

    return reply


def make_lifecycle(
    store: Store,
    fake: FakeOpenAI,
    datasets: Path,
    *,
    clock: Callable[[], datetime] | None = None,
    dpo_min_pairs: int = 50,
    short_prompt: str = SHORT_PROMPT,
    **overrides: Any,
) -> Lifecycle:
    endpoints = Endpoints(Endpoint(fake.base_url, DEFAULT_API_KEY), max_retries=0, timeout=10)
    config = LifecycleConfig(
        curation=CurationConfig(
            system_prompt=short_prompt, base_model=BASE_MODEL, validation_share=0.3
        ),
        dataset_dir=datasets,
        gate=GateConfig(judge_model=CHAT_MODEL, voice_guide=VOICE_GUIDE),
        poll_seconds=0.001,
    )
    config = replace(config, **overrides)
    backend = build_backend(
        OpenAITrainerConfig(base_model=BASE_MODEL, dpo_min_pairs=dpo_min_pairs), endpoints
    )
    if clock is None:
        return Lifecycle(store, config, backend, endpoints)
    return Lifecycle(store, config, backend, endpoints, clock=clock)


def drive(lifecycle: Lifecycle, steps: int = 30) -> list[RunUpdate]:
    """Advance until nothing is in flight (or `steps` run out)."""
    updates: list[RunUpdate] = []
    for _ in range(steps):
        if lifecycle.store.run_in_flight() is None:
            break
        updates += lifecycle.advance()
    return updates


def started(lifecycle: Lifecycle, by: str = "U1") -> TrainingRun:
    preview = lifecycle.preview()
    assert preview.dataset is not None
    return lifecycle.start(preview.dataset.id, by)
