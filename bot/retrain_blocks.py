"""Block Kit for the retrain lifecycle: the dry-run card, run updates, status and App Home.

Pure functions from the lifecycle's records to (fallback text, blocks); the
text is what notifications and screen readers show.
"""

from datetime import datetime
from typing import Any

from bot.dry_run import DryRun
from curation import LifecycleStatus, RunUpdate
from storage import Deployment, TrainingRun

Block = dict[str, Any]

PREVIEW_ACTION = "retrain_preview"
START_ACTION = "retrain_start"
DISMISS_ACTION = "retrain_dismiss"
CANCEL_RUN_ACTION = "retrain_cancel_run"
PROMOTE_ACTION = "retrain_promote_anyway"
ROLLBACK_ACTION = "retrain_rollback"

SECTION_LIMIT = 3000  # Slack's limit for a section's text

HELP = (
    "*/retrain* builds a dry run from the team's ratings and shows what a training run "
    "would use, with *Start* and *Cancel* buttons.\n"
    "• `/retrain status`: the live model, the run in flight, the last evaluation\n"
    "• `/retrain rollback`: go back to the previous model and prompt\n"
    "• `/retrain help`: this message"
)


def text_blocks(text: str) -> list[Block]:
    return [_section(text)]


def dry_run_card(dry_run: DryRun) -> tuple[str, list[Block]]:
    if dry_run.dataset_id is None:
        text = (
            ":warning: Nothing to train on yet: no reply could be kept. "
            "Rate or correct more replies, then run `/retrain` again."
        )
        lines = [text, *_reasons(dry_run.rejections)]
        lines += [f":warning: {w}" for w in dry_run.warnings]
        return "\n".join(lines), [_section("\n".join(lines))]
    text = (
        f"Dry run: {dry_run.train_examples + dry_run.validation_examples:,} examples, "
        f"{dry_run.tokens:,} tokens, {dry_run.preference_pairs:,} preference pairs, "
        f"{dry_run.estimate} on {dry_run.base_model} ({dry_run.backend})"
    ) + "".join(f"\n:warning: {w}" for w in dry_run.warnings)
    fields = [
        (
            "Examples",
            f"{dry_run.train_examples:,} train · {dry_run.validation_examples:,} validation",
        ),
        ("Tokens", f"{dry_run.tokens:,}"),
        ("Preference pairs", f"{dry_run.preference_pairs:,}"),
        ("Estimate", dry_run.estimate),
        ("Base model", f"`{dry_run.base_model}`"),
        ("Backend", dry_run.backend),
    ]
    message: list[Block] = [
        _section(f"*Ready to train on dataset `{dry_run.dataset_id}`*"),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields],
        },
    ]
    notes = _reasons(dry_run.rejections) + [f":warning: {w}" for w in dry_run.warnings]
    if notes:
        message.append({"type": "context", "elements": [_mrkdwn("\n".join(notes))]})
    message.append(
        {
            "type": "actions",
            "elements": [
                _button("Start", START_ACTION, dry_run.dataset_id, style="primary"),
                _button("Cancel", DISMISS_ACTION, "dismiss"),
            ],
        }
    )
    return text, message


def run_started_reply(run: TrainingRun) -> tuple[str, list[Block]]:
    text = (
        f":rocket: Run {run.id} started on `{run.base_model}` ({run.backend}). "
        "I'll post its progress and the evaluation here."
    )
    return text, [_section(text), _actions(_button("Cancel run", CANCEL_RUN_ACTION, str(run.id)))]


def run_started(run: TrainingRun, dry_run: DryRun) -> tuple[str, list[Block]]:
    """The scheduler started a run on its own; said in the announce channel."""
    text = (
        f":calendar: Enough new examples since the last run: run {run.id} started on "
        f"`{run.base_model}` ({run.backend}), {dry_run.train_examples:,} training examples, "
        f"{dry_run.estimate}."
    )
    return text, [_section(text), _actions(_button("Cancel run", CANCEL_RUN_ACTION, str(run.id)))]


# What each kind of update leads with, so the outcome reads before the details.
HEADLINES = {
    "progress": ":hourglass_flowing_sand:",
    "promoted": ":tada: *Promoted.*",
    "held": ":pause_button: *Held.*",
    "failed": ":x: *Failed.*",
    "cancelled": ":no_entry_sign: *Cancelled.*",
}


def run_update(update: RunUpdate) -> tuple[str, list[Block]]:
    text = f"{HEADLINES.get(update.kind, ':information_source:')} {update.text}"
    message = [_section(text)]
    if update.kind == "held":
        message.append(
            _actions(_button("Promote anyway", PROMOTE_ACTION, str(update.run.id), style="danger"))
        )
    elif update.kind == "progress" and update.run.in_flight:
        message.append(_actions(_button("Cancel run", CANCEL_RUN_ACTION, str(update.run.id))))
    return text, message


def run_cancelled(run: TrainingRun, user: str) -> str:
    return f":no_entry_sign: Run {run.id} cancelled by <@{user}>; the live model is unchanged."


def promoted_anyway(deployment: Deployment, user: str) -> str:
    return (
        f":tada: <@{user}> promoted `{deployment.model}` anyway; the next reply uses it. "
        "`/retrain rollback` goes back."
    )


def rolled_back(deployment: Deployment, user: str) -> str:
    return (
        f":leftwards_arrow_with_hook: <@{user}> rolled back: the next reply uses "
        f"`{deployment.model}` with its own system prompt again."
    )


def status_message(status: LifecycleStatus) -> tuple[str, list[Block]]:
    live = status.live
    text = f"Live: `{live.model}`" if live else "No deployment yet"
    return text, _status_blocks(status)


def home_view(status: LifecycleStatus, next_check: datetime | None, *, admin: bool) -> Block:
    message: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "voiceloop"}},
        *_status_blocks(status),
        _context(
            "Next scheduled check: "
            + (_when(next_check) if next_check else "off (VOICELOOP_RETRAIN_EVERY_HOURS=0)")
        ),
    ]
    if admin:
        buttons = [_button("Retrain", PREVIEW_ACTION, "home", style="primary")]
        if status.in_flight is not None:
            buttons.append(_button("Cancel run", CANCEL_RUN_ACTION, str(status.in_flight.id)))
        if len(status.history) > 1:
            buttons.append(_button("Rollback", ROLLBACK_ACTION, "home", style="danger"))
        message.append(_actions(*buttons))
    return {"type": "home", "blocks": message[:100]}


def _status_blocks(status: LifecycleStatus) -> list[Block]:
    message: list[Block] = []
    live = status.live
    if live is None:
        message.append(_section("*Live:* nothing deployed yet."))
    else:
        origin = f"run {live.run_id}" if live.run_id else live.origin
        where = f" at {live.base_url}" if live.base_url else ""
        message.append(
            _section(f"*Live:* `{live.model}`{where} since {live.created_at} ({origin})")
        )
    if status.prompt_tokens is not None:
        message.append(_context(status.prompt_tokens.describe()))
    if len(status.history) > 1:
        rows = [
            f"• #{d.id} `{d.model}`: {d.note or d.origin}, {d.created_at}"
            for d in status.history[:8]
        ]
        message.append(_section("*History* (newest first)\n" + "\n".join(rows)))
    message.append(_section(f"*Since the last run:* {since_last_run(status)}"))
    run = status.in_flight
    if run is None:
        message.append(_section(f"*Run in flight:* none (backend: {status.backend})"))
    else:
        latest = [f"• {e.message}" for e in status.events[-5:]]
        message.append(
            _section(
                f"*Run in flight:* run {run.id}, {run.status} on `{run.base_model}` "
                f"({run.backend})" + ("\n" + "\n".join(latest) if latest else "")
            )
        )
    last = status.last_run
    if last is not None:
        outcome = f"*Last run:* run {last.id}, {last.status}"
        if last.error:
            outcome += f": {last.error}"
        message.append(_section(outcome))
    if status.last_evaluation is not None:
        message.append(_section(f"*Last evaluation:* {status.last_evaluation.describe()}"))
    if status.warnings:
        message.append(_section("\n".join(f":warning: {w}" for w in status.warnings)))
    return message


def _reasons(rejections: tuple[tuple[str, int], ...]) -> list[str]:
    if not rejections:
        return []
    top = ", ".join(f"{reason} ({count:,})" for reason, count in rejections)
    return [f"Not kept: {top}"]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text[:SECTION_LIMIT])}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def since_last_run(status: LifecycleStatus) -> str:
    """Votes, corrections and kept examples since the last run, in one line."""
    line = (
        f"{status.votes_since_last_run:,} votes and "
        f"{status.corrections_since_last_run:,} corrections"
    )
    if status.kept_since_last_run is not None:
        line += (
            f"; {status.kept_since_last_run:,} new kept examples "
            f"(as of the dataset built {status.kept_counted_at})"
        )
    return line
