"""Opening the database from the CLI: commands that only read never create one."""

from pathlib import Path

from bot.errors import UserFacingError
from storage import Store


def existing_store(path: Path) -> Store:
    """The store at `path`; refuses to create one, since a command that only
    reads (curate, status) run in the wrong folder would otherwise report on a
    new, empty database as if it were the team's."""
    if not path.is_file():
        where = path if path.is_absolute() else f"{path} (in {Path.cwd()})"
        raise UserFacingError(
            f"no database at {where}: run voiceloop where the bot runs, or set "
            "VOICELOOP_DB to the bot's database file"
        )
    return Store(path)
