"""Reading a Slack export's files from a .zip or an unpacked folder, safely and within limits.

Nothing outside the export is read: links that leave it, devices, FIFOs and
sockets are refused with a line each. Nothing is read whole: files are
parsed a piece at a time (bot/export/json_array.py), each file has
a size cap, and the export as a whole has a budget of bytes read (or inflated,
for a zip), so neither a zip bomb nor a huge day file can exhaust memory.
"""

import hashlib
import os
import stat
import zipfile
import zlib
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from bot.errors import UserFacingError
from bot.export.json_array import NotAnArrayError, array_items

# A day file of a busy channel is a few MB; a member that inflates past this is
# a zip bomb or not an export, and reading it would exhaust memory.
MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024**3
_CHUNK = 1024 * 1024
# Lists at the top, one folder of day files per conversation, and one more level
# for a folder that was zipped with its parent: nothing deeper is an export's.
_DEPTH = 3


class ExportError(UserFacingError):
    """The export cannot be read at all; the message says what to do instead."""


class MalformedFileError(Exception):
    """One file of the export cannot be used; the import reports it and goes on."""


@dataclass(frozen=True)
class Refusal:
    """A member that was not read, and why."""

    name: str
    reason: str


class ExportFiles(Protocol):
    """The files of one export, named by POSIX paths relative to its root."""

    # Members refused because they point outside the export or are not files.
    refused: list[Refusal]

    def names(self) -> list[str]: ...

    def display(self, name: str) -> str:
        """The path people see in the report."""
        ...

    def open(self, name: str) -> AbstractContextManager["Readable"]:
        """The member's bytes, within its cap and the export's budget."""
        ...

    def fingerprint(self, name: str) -> str:
        """What changes whenever the member's bytes do, as Readable.fingerprint
        gives it once the member is read to its end."""
        ...


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...

    def fingerprint(self) -> str:
        """The member's fingerprint; for a member read to its end, the same as
        ExportFiles.fingerprint gives."""
        ...


class _Budget:
    """Bytes the whole export may still read; past it the import stops."""

    def __init__(self, total: int, source: str) -> None:
        self.total = total
        self.left = total
        self.source = source

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ExportError(
                f"{self.source} holds more than {self.total:,} bytes in all; nothing was "
                "imported. Export fewer channels or a shorter date range, or raise "
                "VOICELOOP_IMPORT_MAX_BYTES"
            )


class _Capped:
    """A file-like reader that counts what it hands out against the member's
    cap and the export's budget, and hashes it unless the member's fingerprint
    is known beforehand (a zip's directory has each member's CRC)."""

    def __init__(
        self, raw: IO[bytes], limit: int, budget: _Budget, too_big: str, known: str | None
    ) -> None:
        self.raw = raw
        self.limit = limit
        self.budget = budget
        self.too_big = too_big
        self.count = 0
        self.known = known
        self.hash = hashlib.sha256() if known is None else None

    def read(self, size: int = -1) -> bytes:
        try:
            data = self.raw.read(_CHUNK if size is None or size < 0 else min(size, _CHUNK))
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError) as e:
            raise MalformedFileError(f"cannot be unpacked ({e}); skipped") from e
        self.count += len(data)
        if self.count > self.limit:
            raise MalformedFileError(f"{self.too_big} {self.limit:,} bytes; skipped")
        self.budget.spend(len(data))
        if self.hash is not None:
            self.hash.update(data)
        return data

    def fingerprint(self) -> str:
        if self.known is not None:
            return self.known
        assert self.hash is not None
        return f"sha256:{self.hash.hexdigest()}"


class FolderExport:
    def __init__(self, root: Path, limit: int, budget: _Budget) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.limit = limit
        self.budget = budget
        self.refused: list[Refusal] = []
        self._sizes: dict[str, int] | None = None

    def names(self) -> list[str]:
        if self._sizes is None:
            try:
                self._sizes = dict(self._files_under(self.root, "", _DEPTH))
            except OSError as e:
                raise ExportError(
                    f"cannot list the files in {self.root} ({e.strerror or type(e).__name__}); "
                    "check its permissions"
                ) from e
            total = sum(self._sizes.values())
            if total > self.budget.total:
                self.budget.spend(total)
        return sorted(self._sizes)

    def display(self, name: str) -> str:
        return str(self.root / name)

    def open(self, name: str) -> AbstractContextManager[Readable]:
        return self._open(name, self.budget)

    def fingerprint(self, name: str) -> str:
        # A budget of its own: what the export's budget counts is what is parsed,
        # and a changed file is read again to parse it.
        with self._open(name, _Budget(self.limit, self.display(name))) as stream:
            while stream.read(_CHUNK):
                pass
            return stream.fingerprint()

    @contextmanager
    def _open(self, name: str, budget: _Budget) -> Iterator[Readable]:
        path = self.root / name
        try:
            # O_NONBLOCK: a FIFO swapped in after listing must not hang the open.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise MalformedFileError(f"unreadable ({e.strerror or type(e).__name__})") from e
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode) or not self._inside(path):
                raise MalformedFileError("not a regular file inside the export; refused")
            yield _Capped(f, self.limit, budget, "larger than", None)

    def _inside(self, path: Path) -> bool:
        return path.resolve().is_relative_to(self.real_root)

    def _files_under(self, folder: Path, prefix: str, depth: int) -> list[tuple[str, int]]:
        found = []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = prefix + entry.name
            path = Path(entry.path)
            if entry.is_symlink() and not self._inside(path):
                self.refused.append(Refusal(name, "a link that leaves the export; refused"))
                continue
            try:
                info = path.stat()
            except OSError as e:
                self.refused.append(
                    Refusal(name, f"unreadable ({e.strerror or type(e).__name__}); refused")
                )
                continue
            if stat.S_ISDIR(info.st_mode):
                if depth > 1:
                    found += self._files_under(path, f"{name}/", depth - 1)
            elif stat.S_ISREG(info.st_mode):
                found.append((name, info.st_size))
            else:
                self.refused.append(
                    Refusal(name, "not a regular file (a device, FIFO or socket); refused")
                )
        return found


class ZipExport:
    def __init__(self, path: Path, archive: zipfile.ZipFile, limit: int, budget: _Budget) -> None:
        self.path = path
        self.archive = archive
        self.limit = limit
        self.budget = budget
        self.refused: list[Refusal] = []
        self._members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            if not is_safe_member(info.filename):
                self.refused.append(
                    Refusal(info.filename, "member name leaves the export; refused")
                )
                continue
            # Unix zips keep the file type in the high bits; many writers leave it out.
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind and kind != stat.S_IFREG:
                self.refused.append(Refusal(info.filename, "a link, not a file; refused"))
                continue
            self._members[info.filename] = info
        # The directory's sizes are the archive's own claim: a bomb that admits
        # its size is refused before anything inflates; one that lies is
        # stopped by the count as it inflates.
        declared = sum(info.file_size for info in self._members.values())
        if declared > budget.total:
            budget.spend(declared)

    def names(self) -> list[str]:
        return sorted(self._members)

    def display(self, name: str) -> str:
        return f"{self.path}:{name}"

    def fingerprint(self, name: str) -> str:
        # Reading a member checks its bytes against this CRC to the end, so the
        # directory's word is as good as hashing the inflated bytes, and free.
        info = self._members[name]
        return f"crc32:{info.CRC:08x}:{info.file_size}"

    @contextmanager
    def open(self, name: str) -> Iterator[Readable]:
        try:
            member = self.archive.open(self._members[name])
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, OSError) as e:
            raise MalformedFileError(f"cannot be unpacked ({e}); skipped") from e
        with member:
            yield _Capped(
                member, self.limit, self.budget, "inflates to more than", self.fingerprint(name)
            )


def is_safe_member(name: str) -> bool:
    """False for names that would point outside the export if unpacked
    (`../x`, `/etc/x`, `C:\\x`); such a zip was not written by Slack."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in PurePosixPath(name).parts


@contextmanager
def open_export(
    path: Path, limit: int = MAX_MEMBER_BYTES, total: int = MAX_TOTAL_BYTES
) -> Iterator[ExportFiles]:
    """The export at `path`, a .zip read in place (never unpacked to disk) or a
    folder; `limit` caps one file, `total` everything read."""
    if not path.exists():
        raise ExportError(
            f"{path} does not exist; pass the .zip from Slack's export page "
            "or the folder it was unpacked into"
        )
    budget = _Budget(total, str(path))
    if path.is_dir():
        yield FolderExport(path, limit, budget)
        return
    if not path.is_file():
        raise ExportError(
            f"{path} is not a file or a folder; pass the .zip from Slack's export page"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ExportError(
            f"{path} is not a Slack export: not a .zip file or a folder ({e}); "
            "pass the .zip from Slack's export page or the folder it was unpacked into"
        ) from e
    with archive:
        yield ZipExport(path, archive, limit, budget)


def json_items(stream: Readable) -> Generator[Any, None, None]:
    """The items of the JSON array in an opened member, parsed a piece at a time;
    raises MalformedFileError saying why when the file is no such array."""
    try:
        yield from array_items(stream.read)
    except NotAnArrayError as e:
        raise MalformedFileError(str(e)) from e
