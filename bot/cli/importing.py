"""`voiceloop import PATH`: backfill replies and votes from a Slack workspace export."""

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.errors import UserFacingError
from bot.export.files import open_export
from bot.export.messages import ImportPolicy
from bot.export.reader import ExportReport, export_layout, read_export
from bot.settings import load_settings
from storage import Store

# Enough to see what kind of trouble an export has without burying the summary.
PROBLEMS_SHOWN = 50


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_export(
        path: Annotated[
            Path,
            typer.Argument(
                metavar="PATH",
                help="The export's .zip, or the folder it was unpacked into.",
                show_default=False,
            ),
        ],
        author: Annotated[
            list[str] | None,
            typer.Option(
                "--author",
                metavar="ID",
                help="User or bot id whose messages are the bot's replies; repeat for more "
                "(default: VOICELOOP_IMPORT_AUTHORS).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Import earlier bot replies and their emoji votes from a Slack workspace export."""
        settings = load_settings()
        authors = [a.strip() for a in author or settings.import_authors if a.strip()]
        if not authors:
            raise UserFacingError(
                "no import authors: pass --author with the bot's user or bot id (users.json in "
                "the export lists them) or set VOICELOOP_IMPORT_AUTHORS"
            )
        policy = ImportPolicy(
            authors=frozenset(authors),
            good_emoji=frozenset(settings.good_emoji),
            bad_emoji=frozenset(settings.bad_emoji),
        )
        console = Console(highlight=False)
        with open_export(path) as files:
            layout = export_layout(files, str(path))
            with Progress(
                TextColumn("Reading day files"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("", total=layout.day_files)
                report = read_export(files, layout, policy, lambda: progress.advance(task))
        if report.day_files == 0:
            print_problems(console, report)
            raise UserFacingError(
                f"nothing could be read from {path}: none of its {layout.day_files} day files "
                "is a usable JSON list (see the problems above); export it again from Slack"
            )
        # All of it in one transaction: an interrupted import leaves nothing behind.
        store = Store(settings.db)
        try:
            new_replies, new_votes = store.import_history(report.replies, report.votes)
        finally:
            store.close()
        print_summary(console, report, new_replies, new_votes, authors)


def print_summary(
    console: Console, report: ExportReport, new_replies: int, new_votes: int, authors: list[str]
) -> None:
    read = Table(title="Read", title_justify="left", box=None, show_header=False)
    read.add_column("")
    read.add_column("", justify="right")
    read.add_row("channels", f"{report.channels:,}")
    read.add_row("day files", f"{report.day_files:,} of {report.listed_day_files:,}")
    read.add_row("messages", f"{report.messages:,}")
    read.add_row("files with problems", f"{len({p.path for p in report.problems}):,}")
    console.print(read)
    imported = Table(title="Imported", title_justify="left", box=None)
    imported.add_column("")
    imported.add_column("new", justify="right")
    imported.add_column("already there", justify="right")
    imported.add_row("replies", f"{new_replies:,}", f"{len(report.replies) - new_replies:,}")
    imported.add_row("votes", f"{new_votes:,}", f"{len(report.votes) - new_votes:,}")
    console.print(imported)
    skipped = Table(title="Skipped", title_justify="left", box=None)
    skipped.add_column("reason")
    skipped.add_column("count", justify="right")
    for label, counts in (("message", report.skipped), ("vote", report.skipped_votes)):
        for reason, count in Counter(counts).most_common():
            skipped.add_row(f"{label}: {reason}", f"{count:,}")
    if skipped.row_count:
        console.print(skipped)
    print_problems(console, report)
    if not report.replies:
        console.print(
            f"[yellow]warning:[/] no reply from {', '.join(authors)} was found; check the ids "
            "given to --author or VOICELOOP_IMPORT_AUTHORS (users.json lists every bot)"
        )


def print_problems(console: Console, report: ExportReport) -> None:
    if not report.problems:
        return
    console.print(f"Problems ({len(report.problems):,}):")
    for problem in report.problems[:PROBLEMS_SHOWN]:
        console.print(f"  {problem.path}: {problem.detail}", markup=False)
    if len(report.problems) > PROBLEMS_SHOWN:
        console.print(f"  … and {len(report.problems) - PROBLEMS_SHOWN:,} more")
