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

from bot.cli.stores import existing_store
from bot.cli.warnings import note, warn
from bot.errors import UserFacingError
from bot.example_brand import EXAMPLE_BOT, EXAMPLE_BRAND, example_brand_use
from bot.settings import Settings, load_settings_for
from curation import (
    BuildResult,
    CurationConfig,
    base_model_facts,
    build_dataset,
    check_training_file,
    unknown_base_model,
)

# The settings each command reads; a malformed other one only warns (see load_settings_for).
CURATE_USES = frozenset(
    {
        "short_prompt",
        "voice_guide",
        "base_model",
        "curation_rules",
        "good_threshold",
        "contested_share",
        "validation_share",
        "epochs",
        "db",
        "dataset_dir",
    }
)
VALIDATE_USES = frozenset({"base_model"})


def register(app: typer.Typer) -> None:
    @app.command()
    def curate(
        out: Annotated[
            Path | None,
            typer.Option(help="Folder for dataset versions \\[default: VOICELOOP_DATASET_DIR]"),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Report what would be kept; write nothing.")
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the full report as JSON.")
        ] = False,
        allow_example_brand: Annotated[
            bool,
            typer.Option(
                "--allow-example-brand",
                help=f"Write a dataset whose system prompt names the example brand "
                f"({EXAMPLE_BRAND} / {EXAMPLE_BOT}).",
            ),
        ] = False,
    ) -> None:
        """Curate rated replies into train/validation JSONL, with a rejection report.

        Exits 2 when no reply would be kept, on a dry run too.
        """
        settings, unused = load_settings_for("curate", CURATE_USES)
        for warning in unused:
            warn(warning)
        store = existing_store(settings.db)
        try:
            config = settings.curation_config()
            _check_brand_and_model(settings, config, refuse=not dry_run and not allow_example_brand)
            with stage_bars() as bars:
                result = build_dataset(
                    store, config, out or settings.dataset_dir, dry_run=dry_run, progress=bars
                )
        finally:
            store.close()
        if as_json:
            typer.echo(json.dumps(_json_report(result), ensure_ascii=False, indent=2))
        else:
            print_summary(Console(highlight=False, soft_wrap=True), result, dry_run=dry_run)
        if not result.curated.train:
            raise UserFacingError(nothing_kept(result, settings.db))

    @app.command()
    def validate(
        file: Annotated[
            Path, typer.Argument(metavar="FILE", help="A chat (SFT) or DPO JSONL file.")
        ],
        base_model: Annotated[
            str | None,
            typer.Option(
                help="Check examples against this model's token limit "
                "\\[default: VOICELOOP_BASE_MODEL]"
            ),
        ] = None,
    ) -> None:
        """Check a training file line by line, the way the provider will.

        Exits 2 when any line has a problem. A warning alone, such as fewer
        than the 10 examples OpenAI needs in a training file (a validation
        file may have fewer), still exits 0.
        """
        model_name, source = base_model, "--base-model"
        if model_name is None:
            settings, unused = load_settings_for("validate", VALIDATE_USES)
            for warning in unused:
                warn(warning)
            model_name, source = settings.base_model, "VOICELOOP_BASE_MODEL"
        unknown = unknown_base_model(model_name, source)
        if unknown:
            warn(unknown)
        model = base_model_facts(model_name)
        check = check_training_file(file, model=model.name, token_limit=model.example_token_limit)
        for problem in check.problems:
            typer.echo(problem)
        for warning in check.warnings:
            typer.echo(f"warning: {warning}")
        if check.lines == 0:
            raise UserFacingError(
                f"{file} is empty: a training file holds one JSON example per line"
            )
        if check.problems:
            raise UserFacingError(
                f"{file}: {_count(len(check.problems), 'problem')} in "
                f"{_count(check.problem_lines, 'line')} of {check.lines:,}; "
                "fix them before training on this file"
            )
        within = f" (each within {model.name}'s {model.example_token_limit:,} tokens)"
        typer.echo(f"{file}: {_count(check.lines, f'{check.kind} example')}, no problems{within}")


def _check_brand_and_model(settings: Settings, config: CurationConfig, *, refuse: bool) -> None:
    """Say what is still the example brand's, refusing to write a dataset that
    would teach the model to be Brightside; warn about an unknown base model."""
    brand = example_brand_use(settings)
    if brand:
        note(brand.notice())
    if brand.short_prompt and refuse:
        raise UserFacingError(
            f"not writing a dataset whose system prompt names the example brand "
            f"({settings.short_prompt!r}): set VOICELOOP_SHORT_PROMPT to your team's "
            "(voiceloop init does), or pass --allow-example-brand"
        )
    unknown = unknown_base_model(config.base_model, "VOICELOOP_BASE_MODEL")
    if unknown:
        warn(unknown)


def nothing_kept(result: BuildResult, db: Path) -> str:
    """Why there is no dataset, pointing at the reasons only when some were shown."""
    curated = result.curated
    if curated.replies == 0:
        return (
            f"nothing to train on: the database {db} holds no bot replies yet; let the bot "
            "answer in Slack (or `voiceloop import` an export), rate its replies, then rerun"
        )
    return (
        f"nothing to train on: none of the {curated.replies:,} stored replies would be kept "
        "(see the reasons above); rate or correct more replies, then rerun"
    )


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
def stage_bars() -> Iterator[StageBars | None]:
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
    if curated.train:
        # With nothing to train on there is nothing to pay for; "$0.00" would read as free.
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
    if curated.train:
        # Without a single kept example, the one thing to say is said at the end.
        for warning in curated.warnings():
            console.print(f"[yellow]warning:[/] {escape(warning)}")


def _json_report(result: BuildResult) -> dict[str, object]:
    version = result.version
    return {
        "dataset": None if version is None else version.id,
        "path": None if version is None else version.path,
        **result.curated.report(),
    }
