"""The retrain card, run updates, status and App Home as Block Kit."""

import json
from datetime import UTC, datetime
from typing import Any

from bot import retrain_blocks as blocks
from bot.dry_run import DryRun
from curation import LifecycleStatus, RunUpdate
from storage import Deployment, TrainingRun

DRY_RUN = DryRun(
    dataset_id="ds-1234",
    replies=1200,
    train_examples=90,
    validation_examples=10,
    tokens=45_000,
    preference_pairs=12,
    estimate="≈ $1.08",
    base_model="gpt-4.1-mini-2025-04-14",
    backend="openai",
    rejections=(("unrated", 900), ("below_threshold", 150)),
    warnings=("gpt-4.1-mini-2025-04-14 shuts down on 2027-01-14",),
)
LIVE = Deployment(1, "gpt-4.1-mini", "p1", "configured", "2026-11-30T10:00:00+00:00")


def run(status: str = "running", **fields: Any) -> TrainingRun:
    return TrainingRun(
        id=7,
        backend="openai",
        base_model="gpt-4.1-mini-2025-04-14",
        dataset_id="ds-1234",
        status=status,  # type: ignore[arg-type]
        created_at="2026-12-01T09:00:00+00:00",
        updated_at="2026-12-01T09:05:00+00:00",
        **fields,
    )


def status(**fields: Any) -> LifecycleStatus:
    values: dict[str, Any] = {
        "backend": "openai",
        "live": LIVE,
        "history": [LIVE],
        "in_flight": None,
        "events": [],
        "last_run": None,
        "last_evaluation": None,
        "votes_since_last_run": 14,
        "corrections_since_last_run": 2,
        "prompt_tokens": None,
        "warnings": [],
        **fields,
    }
    return LifecycleStatus(**values)


def actions(message: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in message:
        if block["type"] == "actions":
            found |= {e["action_id"]: e["value"] for e in block["elements"]}
    return found


def test_the_card_shows_every_figure_and_start_carries_the_dataset() -> None:
    text, message = blocks.dry_run_card(DRY_RUN)
    shown = json.dumps(message, ensure_ascii=False)
    for figure in ("90 train", "10 validation", "45,000", "12", "≈ $1.08", "gpt-4.1-mini"):
        assert figure in shown
    assert "unrated (900)" in shown and "shuts down on 2027-01-14" in shown
    assert actions(message) == {blocks.START_ACTION: "ds-1234", blocks.DISMISS_ACTION: "dismiss"}
    assert "100 examples" in text


def test_a_card_with_nothing_kept_has_no_start_button() -> None:
    empty = DryRun(**{**DRY_RUN.__dict__, "dataset_id": None, "train_examples": 0})
    text, message = blocks.dry_run_card(empty)
    assert "Nothing to train on" in text
    assert actions(message) == {}


def test_a_hold_offers_promote_anyway_and_progress_offers_cancel() -> None:
    _, held = blocks.run_update(RunUpdate(run("held"), "held", "win rate 30%"))
    assert actions(held) == {blocks.PROMOTE_ACTION: "7"}
    _, progress = blocks.run_update(RunUpdate(run("running"), "progress", "step 10"))
    assert actions(progress) == {blocks.CANCEL_RUN_ACTION: "7"}
    text, failed = blocks.run_update(RunUpdate(run("failed"), "failed", "quota exceeded"))
    assert "quota exceeded" in text and actions(failed) == {}


def test_home_shows_the_run_in_flight_and_gives_admins_the_buttons() -> None:
    rolled = Deployment(
        2, "ft:gpt-4.1-mini:x", "p2", "promoted", "2026-12-01T08:00:00+00:00", run_id=6
    )
    now = status(
        in_flight=run("running"), history=[rolled, LIVE], warnings=["OpenAI refuses new jobs"]
    )
    admin = blocks.home_view(now, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), admin=True)
    shown = json.dumps(admin, ensure_ascii=False)
    assert admin["type"] == "home"
    assert "run 7, running" in shown and "2026-12-02 09:00 UTC" in shown
    assert "OpenAI refuses new jobs" in shown and "14 votes" in shown
    assert set(actions(admin["blocks"])) == {
        blocks.PREVIEW_ACTION,
        blocks.CANCEL_RUN_ACTION,
        blocks.ROLLBACK_ACTION,
    }
    member = blocks.home_view(now, None, admin=False)
    assert actions(member["blocks"]) == {}
    assert "off" in json.dumps(member)


def test_home_counts_kept_examples_once_a_dataset_was_built() -> None:
    before = json.dumps(blocks.home_view(status(), None, admin=False))
    assert "14 votes and 2 corrections" in before and "kept" not in before
    counted = status(kept_since_last_run=1234, kept_counted_at="2026-12-01T09:00:00.000+00:00")
    shown = json.dumps(blocks.home_view(counted, None, admin=False))
    assert "1,234 new kept examples (as of the dataset built 2026-12-01T09:00" in shown
