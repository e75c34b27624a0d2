"""Reading a Slack export's files from a .zip or an unpacked folder, safely and within limits."""

import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from bot.errors import UserFacingError

# A day file of a busy channel is a few MB; a member that inflates past this is
# a zip bomb or not an export, and reading it would exhaust memory.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
_CHUNK = 1024 * 1024
# Lists at the top, one folder of day files per conversation, and one more level
# for a folder that was zipped with its parent: nothing deeper is an export's.
_DEPTH = 3


class ExportError(UserFacingError):
    """The export cannot be read at all; the message says what to do instead."""


class MalformedFileError(Exception):
    """One file of the export cannot be used; the import reports it and goes on."""


class ExportFiles(Protocol):
    """The files of one export, named by POSIX paths relative to its root."""

    # Members refused because their names point outside the export.
    refused: list[str]

    def names(self) -> list[str]: ...

    def display(self, name: str) -> str:
        """The path people see in the report."""
        ...

    def read(self, name: str) -> bytes: ...


class FolderExport:
    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit
        self.refused: list[str] = []

    def names(self) -> list[str]:
        try:
            return _files_under(self.root, "", _DEPTH)
        except OSError as e:
            raise ExportError(
                f"cannot list the files in {self.root} ({e.strerror or type(e).__name__}); "
                "check its permissions"
            ) from e

    def display(self, name: str) -> str:
        return str(self.root / name)

    def read(self, name: str) -> bytes:
        try:
            with (self.root / name).open("rb") as f:
                data = f.read(self.limit + 1)
        except OSError as e:
            raise MalformedFileError(f"unreadable ({e.strerror or type(e).__name__})") from e
        if len(data) > self.limit:
            raise MalformedFileError(f"larger than {self.limit:,} bytes; skipped")
        return data


class ZipExport:
    def __init__(self, path: Path, archive: zipfile.ZipFile, limit: int) -> None:
        self.path = path
        self.archive = archive
        self.limit = limit
        self.refused: list[str] = []
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            if not is_safe_member(info.filename):
                self.refused.append(info.filename)
                continue
            self._members[info.filename] = info

    def names(self) -> list[str]:
        return sorted(self._members)

    def display(self, name: str) -> str:
        return f"{self.path}:{name}"

    def read(self, name: str) -> bytes:
        # The sizes in the zip's directory are the archive's own claim; count
        # what actually inflates instead.
        chunks, total = [], 0
        try:
            with self.archive.open(self._members[name]) as member:
                while chunk := member.read(_CHUNK):
                    total += len(chunk)
                    if total > self.limit:
                        raise MalformedFileError(
                            f"inflates to more than {self.limit:,} bytes; skipped"
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError) as e:
            raise MalformedFileError(f"cannot be unpacked ({e}); skipped") from e
        return b"".join(chunks)


def _files_under(folder: Path, prefix: str, depth: int) -> list[str]:
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_file():
            found.append(prefix + entry.name)
        elif entry.is_dir() and depth > 1:
            found += _files_under(entry, f"{prefix}{entry.name}/", depth - 1)
    return found


def is_safe_member(name: str) -> bool:
    """False for names that would point outside the export if unpacked
    (`../x`, `/etc/x`, `C:\\x`); such a zip was not written by Slack."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in PurePosixPath(name).parts


@contextmanager
def open_export(path: Path, limit: int = MAX_MEMBER_BYTES) -> Iterator[ExportFiles]:
    """The export at `path`, a .zip read in place (never unpacked to disk) or a folder."""
    if not path.exists():
        raise ExportError(
            f"{path} does not exist; pass the .zip from Slack's export page "
            "or the folder it was unpacked into"
        )
    if path.is_dir():
        yield FolderExport(path, limit)
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ExportError(
            f"{path} is not a Slack export: not a .zip file or a folder ({e}); "
            "pass the .zip from Slack's export page or the folder it was unpacked into"
        ) from e
    with archive:
        yield ZipExport(path, archive, limit)


def read_json(files: ExportFiles, name: str) -> Any:
    """The parsed JSON document, or MalformedFileError saying why not."""
    data = files.read(name)
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise MalformedFileError(f"not valid JSON (line {e.lineno}, column {e.colno})") from e
    except (ValueError, RecursionError) as e:
        # Also UnicodeDecodeError, and integers longer than Python converts.
        raise MalformedFileError(f"not valid JSON ({type(e).__name__})") from e
