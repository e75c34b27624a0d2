"""`voiceloop import PATH`: backfill replies and votes from a Slack workspace export."""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bot.cli.warnings import warn
from bot.errors import UserFacingError
from bot.export.files import open_export
from bot.export.messages import ImportPolicy
from bot.export.reader import ExportLayout, ExportReport, export_layout, read_export
from bot.settings import load_settings_for
from curation import cycle_collector_paused
from storage import ImportedChannel, Store

# Enough to see what kind of trouble an export has without burying the summary.
PROBLEMS_SHOWN = 50
# Ids suggested when no reply was found: enough to spot the bot among them.
SUGGESTED_IDS = 5
IMPORT_USES = frozenset({"import_authors", "good_emoji", "bad_emoji", "db"})


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
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help="Read every channel again, even those whose day files and import "
                "settings are unchanged since their last import.",
            ),
        ] = False,
    ) -> None:
        """Import earlier bot replies and their emoji votes from a Slack workspace export.

        A channel whose day files and import settings are the same as at its last
        import is not read again. Exits 2 when nothing could be imported.
        """
        settings, unused = load_settings_for("import", IMPORT_USES)
        for warning in unused:
            warn(warning)
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
        # Parsed JSON, messages, replies and votes are hundreds of thousands of
        # acyclic objects, which the cycle collector would walk again and again
        # to free nothing: a fifth of an import of 100,000 replies.
        with open_export(path, total=settings.import_max_bytes) as files, cycle_collector_paused():
            layout = export_layout(files, str(path))
            imported = {} if force else _imported_channels(settings.db)
            with _day_file_bar(layout.day_files) as advance:
                report = read_export(
                    files,
                    layout,
                    policy,
                    advance,
                    max_messages=settings.import_max_messages,
                    imported=imported,
                )
        if report.day_files == 0 and not report.unchanged:
            print_problems(console, report)
            raise UserFacingError(
                f"nothing could be read from {path}: none of its {layout.day_files} day files "
                "is a usable JSON list (see the problems above); export it again from Slack"
            )
        # All of it in one transaction: an interrupted import leaves nothing behind.
        store = Store(settings.db)
        try:
            with cycle_collector_paused():
                new_replies, new_votes = store.import_history(
                    report.replies, report.votes, report.imported
                )
        finally:
            store.close()
        print_summary(console, report, new_replies, new_votes)
        if not report.replies and not any(c.replies for c in report.unchanged):
            for line in why_no_reply(report, layout, authors):
                console.print(f"  {line}", markup=False)
            raise UserFacingError(
                f"nothing imported from {path}: no reply by {', '.join(authors)} (see above); "
                "run it again with --author set to the bot's id"
            )


def _imported_channels(db: Path) -> dict[str, ImportedChannel]:
    if not db.exists():
        return {}  # nothing imported yet, and an import that reads nothing makes no file
    store = Store(db)
    try:
        return store.imported_channels()
    finally:
        store.close()


@contextmanager
def _day_file_bar(total: int) -> Iterator[Callable[[], None]]:
    """A bar on stderr while day files are read, only in a terminal: in a
    redirected output or a log it would be noise between the tables."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda: None
        return
    columns = (TextColumn("Reading day files"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda: progress.advance(task)


def print_summary(console: Console, report: ExportReport, new_replies: int, new_votes: int) -> None:
    read = Table(title="Read", title_justify="left", box=None, show_header=False)
    read.add_column("")
    read.add_column("", justify="right")
    read.add_row("channels", f"{report.channels:,}")
    read.add_row("day files", f"{report.day_files:,} of {report.listed_day_files:,}")
    read.add_row("messages", f"{report.messages:,}")
    read.add_row("by the authors", f"{report.authored:,}")
    read.add_row("files with problems", f"{len({p.path for p in report.problems}):,}")
    if report.unchanged:
        read.add_row(
            "unchanged, skipped",
            f"{len(report.unchanged):,} channels ({report.unchanged_day_files:,} day files)",
        )
    console.print(read)
    imported = Table(title="Imported", title_justify="left", box=None)
    imported.add_column("")
    imported.add_column("new", justify="right")
    imported.add_column("already there", justify="right")
    # A skipped channel's rows are there since its last import: counted as then.
    replies_there = len(report.replies) - new_replies + sum(c.replies for c in report.unchanged)
    votes_there = len(report.votes) - new_votes + sum(c.votes for c in report.unchanged)
    imported.add_row("replies", f"{new_replies:,}", f"{replies_there:,}")
    imported.add_row("votes", f"{new_votes:,}", f"{votes_there:,}")
    console.print(imported)
    if report.unchanged:
        console.print(
            f"{len(report.unchanged):,} channels are unchanged since their last import and "
            "were not read again (--force reads them)"
        )
    skipped = Table(title="Skipped", title_justify="left", box=None)
    skipped.add_column("reason")
    skipped.add_column("count", justify="right")
    for label, counts in (("message", report.skipped), ("vote", report.skipped_votes)):
        for reason, count in Counter(counts).most_common():
            skipped.add_row(f"{label}: {reason}", f"{count:,}")
    if skipped.row_count:
        console.print(skipped)
    print_problems(console, report)


def why_no_reply(report: ExportReport, layout: ExportLayout, authors: list[str]) -> list[str]:
    """What became of the authors' messages, or, when there were none, whose
    ids the export does hold: one line each."""
    who = ", ".join(authors)
    if report.authored:
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in report.skipped.most_common())
        return [
            f"{report.authored:,} messages by {who} were found, and every one was skipped: "
            f"{reasons or 'see the problems above'}"
        ]
    lines = [f"no message in this export was written by {who}"]
    for name in authors:
        user_id = layout.user_names.get(name)
        if user_id is not None and user_id != name:
            lines.append(f"{name} is a name in users.json; its user id is {user_id}")
    if report.bot_senders:
        lines.append("bots that posted most: " + _most(report.bot_senders))
    if layout.bots:
        lines.append(f"users.json marks {len(layout.bots):,} users as bots")
    else:
        lines.append(
            "users.json marks no user as a bot; an integration posts under its bot id (B…)"
        )
    humans = Counter({i: n for i, n in report.senders.items() if i not in report.bot_senders})
    if humans:
        lines.append("people who posted most: " + _most(humans))
    return lines


def _most(counts: Counter[str]) -> str:
    return ", ".join(f"{i} ({n:,} messages)" for i, n in counts.most_common(SUGGESTED_IDS))


def print_problems(console: Console, report: ExportReport) -> None:
    if not report.problems:
        return
    console.print(f"Problems ({len(report.problems):,}):")
    for problem in report.problems[:PROBLEMS_SHOWN]:
        console.print(f"  {problem.path}: {problem.detail}", markup=False)
    if len(report.problems) > PROBLEMS_SHOWN:
        console.print(f"  … and {len(report.problems) - PROBLEMS_SHOWN:,} more")
