"""Per channel, what its last import read: a rerun skips channels whose files did not change."""

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from sqlite_utils import Database

from storage.records import ImportedChannel

_COLUMNS = ("channel", "files_digest", "settings_digest", "replies", "votes", "imported_at")
_UPSERT = (
    f"INSERT INTO imported_channels ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
    "ON CONFLICT (channel) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _COLUMNS[1:])
)


class ImportedChannelTables:
    db: Database
    # Store.reading (see storage/runs.py).
    reading: Callable[[], AbstractContextManager[Database]]

    def imported_channels(self) -> dict[str, ImportedChannel]:
        """Each channel's last complete import, by channel id."""
        with self.reading() as db:
            rows = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM imported_channels"  # noqa: S608
            ).fetchall()
        return {row[0]: ImportedChannel(*row) for row in rows}


def record_imported_channels(db: Database, channels: Iterable[ImportedChannel]) -> None:
    """Written in the import's own transaction: a channel counts as imported only
    together with its rows."""
    db.conn.executemany(
        _UPSERT,
        [
            (c.channel, c.files_digest, c.settings_digest, c.replies, c.votes, c.imported_at)
            for c in channels
        ],
    )
