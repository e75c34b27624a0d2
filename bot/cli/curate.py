"""`voiceloop curate` and `validate`: ratings into versioned fine-tuning data, and its checks."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from bot.errors import UserFacingError
from bot.settings import load_settings
from curation import BuildResult, base_model_facts, build_dataset, check_training_file
from storage import Store


def register(app: typer.Typer) -> None:
    @app.command()
    def curate(
        out: Annotated[
            Path | None,
            typer.Option(help="Folder for dataset versions [default: VOICELOOP_DATASET_DIR]"),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Report what would be kept; write nothing.")
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the full report as JSON.")
        ] = False,
    ) -> None:
        """Curate rated replies into train/validation JSONL, with a rejection report."""
        settings = load_settings()
        config = settings.curation_config()
        store = Store(settings.db)
        try:
            with _stage_bars() as bars:
                result = build_dataset(
                    store, config, out or settings.dataset_dir, dry_run=dry_run, progress=bars
                )
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(_json_report(result), ensure_ascii=False, indent=2))
        else:
            print_summary(Console(highlight=False, soft_wrap=True), result, dry_run=dry_run)
        if result.version is None and not dry_run:
            raise UserFacingError(
                f"nothing to train on: none of the {result.curated.replies} stored replies "
                "was kept (see the reasons above); rate or correct more replies, then rerun"
            )

    @app.command()
    def validate(
        file: Annotated[Path, typer.Argument(help="A chat (SFT) or DPO JSONL file.")],
        base_model: Annotated[
            str | None,
            typer.Option(
                help="Check examples against this model's token limit "
                "[default: VOICELOOP_BASE_MODEL]"
            ),
        ] = None,
    ) -> None:
        """Check a training file line by line, the way the provider will.

        Exits 2 when any line has a problem. A warning alone, such as fewer
        than the 10 examples OpenAI needs in a training file (a validation
        file may have fewer), still exits 0.
        """
        model = base_model_facts(base_model or load_settings().base_model)
        check = check_training_file(file, model=model.name, token_limit=model.example_token_limit)
        for problem in check.problems:
            typer.echo(problem)
        for warning in check.warnings:
            typer.echo(f"warning: {warning}")
        if check.problems:
            raise UserFacingError(
                f"{file}: {_count(len(check.problems), 'problem')} in "
                f"{_count(check.lines, 'line')}; fix them before training on this file"
            )
        within = f" (each within {model.name}'s {model.example_token_limit:,} tokens)"
        typer.echo(f"{file}: {_count(check.lines, f'{check.kind} example')}, no problems{within}")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class StageBars:
    """A bar per curation stage, shown while the stage runs and gone once it
    is done, so only the summary stays on screen."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(task, completed=done, total=total)
        if done >= total:
            self.progress.remove_task(task)
        # Drawn here rather than by rich's refresh thread, which would only
        # redraw between curation's reports and compete with it for the GIL.
        self.progress.refresh()


@contextmanager
def _stage_bars() -> Iterator[StageBars | None]:
    """StageBars on stderr, so `--json` output on stdout stays clean; none
    when stderr is not a terminal, where bars would only leave noise in logs."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        yield StageBars(progress)


def print_summary(console: Console, result: BuildResult, *, dry_run: bool) -> None:
    curated = result.curated
    if result.version is not None:
        # The path is the user's own text: "[" in it must not read as markup.
        console.print(f"Dataset [bold]{result.version.id}[/] in {escape(result.version.path)}")
    elif dry_run:
        console.print("Dry run: nothing written.")
    kept = Table(title=f"{curated.replies:,} replies", title_justify="left", box=None)
    kept.add_column("")
    kept.add_column("examples", justify="right")
    kept.add_column("tokens", justify="right")
    kept.add_column("preference pairs", justify="right")
    kept.add_row(
        "train",
        f"{len(curated.train):,}",
        f"{curated.train_tokens:,}",
        f"{len(curated.train_pairs):,}",
    )
    kept.add_row(
        "validation",
        f"{len(curated.validation):,}",
        f"{curated.validation_tokens:,}",
        f"{len(curated.validation_pairs):,}",
    )
    console.print(kept)
    console.print(curated.estimate.describe(curated.model.name).capitalize(), markup=False)
    if curated.scrubbed:
        scrubbed = ", ".join(f"{n:,} {kind}" for kind, n in curated.scrubbed.items())
        console.print(f"Scrubbed: {scrubbed}", markup=False)
    if curated.trimmed:
        console.print(f"Oldest thread context cut to fit the token limit: {curated.trimmed:,}")
    if curated.rejections:
        reasons = Table(title="Not kept", title_justify="left", box=None)
        reasons.add_column("reason")
        reasons.add_column("replies", justify="right")
        for reason, count in curated.rejection_counts.items():
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
    for warning in curated.warnings():
        console.print(f"[yellow]warning:[/] {warning}")


def _json_report(result: BuildResult) -> dict[str, object]:
    version = result.version
    return {
        "dataset": None if version is None else version.id,
        "path": None if version is None else version.path,
        **result.curated.report(),
    }
