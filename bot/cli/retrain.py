"""`voiceloop retrain`, `status` and `rollback`: the CLI twins of /retrain."""

import getpass
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.curate import stage_bars
from bot.cli.stores import existing_store
from bot.dry_run import DryRun
from bot.errors import UserFacingError
from bot.lifecycle import build_lifecycle
from bot.retrain_blocks import since_last_run
from bot.settings import load_settings
from curation import Lifecycle, LifecycleStatus

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def retrain(
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Start without asking after the dry run.")
        ] = False,
        wait: Annotated[
            bool,
            typer.Option(help="Follow the run until it is promoted, held or fails."),
        ] = True,
    ) -> None:
        """Dry run, then train a model on the team's ratings and gate it against the live one."""
        settings = load_settings()
        with _lifecycle() as lifecycle:
            # The CLI is a process of its own: it curates here, as `curate` does.
            with stage_bars() as bars:
                dry_run = DryRun.of(lifecycle.preview(progress=bars))
            print_dry_run(out, dry_run)
            if dry_run.dataset_id is None:
                raise UserFacingError(
                    "nothing to train on: no reply was kept; "
                    "rate or correct more replies, then rerun"
                )
            if not yes and not _confirm("Start a training run on this dataset?"):
                out.print("Nothing started.")
                return
            run = lifecycle.start(dry_run.dataset_id, _requester())
            out.print(f"Run {run.id} started on {run.base_model} ({run.backend}).", markup=False)
            if not wait:
                out.print("The bot polls it; `voiceloop status` shows where it stands.")
                return
            _follow(lifecycle, run.id, settings.poll_seconds)

    @app.command()
    def status() -> None:
        """The live model and its history, the run in flight, the last evaluation, warnings."""
        with _lifecycle() as lifecycle:
            print_status(out, lifecycle.status())

    @app.command()
    def rollback(
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Roll back without asking.")] = False,
    ) -> None:
        """Go back to the previous model and system prompt (a new row; nothing is deleted)."""
        with _lifecycle() as lifecycle:
            if not yes and not _confirm("Roll back to the previous deployment?"):
                out.print("Nothing changed.")
                return
            deployment = lifecycle.rollback(_requester())
        out.print(f"Live again: {deployment.model} (deployment {deployment.id}).", markup=False)


@contextmanager
def _lifecycle() -> Iterator[Lifecycle]:
    settings = load_settings()
    store = existing_store(settings.db)
    try:
        yield build_lifecycle(settings, store)
    finally:
        store.close()


def _requester() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _confirm(question: str) -> bool:
    if not out.is_terminal:
        raise UserFacingError("not a terminal to ask in; pass --yes to go ahead without asking")
    return typer.confirm(question, default=False)


def _follow(lifecycle: Lifecycle, run_id: int, poll_seconds: float) -> None:
    """Polls until the run leaves flight, printing each update as it happens."""
    try:
        with err.status(f"Run {run_id} in flight…") as spinner:
            while True:
                for update in lifecycle.advance():
                    if update.run.id != run_id:
                        continue
                    out.print(f"[{update.kind}] {update.text}", markup=False)
                    if update.kind != "progress":
                        return
                    spinner.update(f"Run {run_id}: {update.run.status}…")
                time.sleep(poll_seconds)
    except KeyboardInterrupt:
        err.print(
            f"Stopped following run {run_id}; it keeps going. The bot polls it, "
            "and `voiceloop status` shows where it stands."
        )


def print_dry_run(console: Console, dry_run: DryRun) -> None:
    table = Table(title="Dry run", title_justify="left", box=None, show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("dataset", dry_run.dataset_id or "none (nothing kept)")
    table.add_row("training examples", f"{dry_run.train_examples:,}")
    table.add_row("validation examples", f"{dry_run.validation_examples:,}")
    table.add_row("tokens", f"{dry_run.tokens:,}")
    table.add_row("preference pairs", f"{dry_run.preference_pairs:,}")
    table.add_row("estimate", dry_run.estimate)
    table.add_row("base model", dry_run.base_model)
    table.add_row("backend", dry_run.backend)
    console.print(table)
    if dry_run.rejections:
        reasons = Table(title="Not kept (top reasons)", title_justify="left", box=None)
        reasons.add_column("reason")
        reasons.add_column("replies", justify="right")
        for reason, count in dry_run.rejections:
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
    for warning in dry_run.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def print_status(console: Console, status: LifecycleStatus) -> None:
    history = Table(title="Deployments (newest first)", title_justify="left", box=None)
    for column in ("id", "model", "run", "since", "note"):
        history.add_column(column)
    for deployment in status.history:
        history.add_row(
            str(deployment.id),
            deployment.model,
            str(deployment.run_id or ""),
            deployment.created_at,
            deployment.note or deployment.origin,
        )
    console.print(history)
    if status.prompt_tokens is not None:
        console.print(status.prompt_tokens.describe(), markup=False)
    console.print(f"Since the last run: {since_last_run(status)}", markup=False)
    run = status.in_flight
    if run is None:
        console.print(f"Run in flight: none (backend: {status.backend})", markup=False)
    else:
        console.print(
            f"Run in flight: {run.id}, {run.status} on {run.base_model} ({run.backend})",
            markup=False,
        )
        events = Table(box=None)
        events.add_column("at")
        events.add_column("kind")
        events.add_column("message")
        for event in status.events:
            events.add_row(event.at, event.kind, event.message)
        console.print(events)
    if status.last_run is not None:
        last = status.last_run
        console.print(
            f"Last run: {last.id}, {last.status}" + (f": {last.error}" if last.error else ""),
            markup=False,
        )
    if status.last_evaluation is not None:
        console.print(f"Last evaluation: {status.last_evaluation.describe()}", markup=False)
    for warning in status.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
