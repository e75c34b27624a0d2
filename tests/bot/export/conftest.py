"""Exports written both ways: the tests that take `as_export` hold for folders and zips."""

from pathlib import Path
from typing import Any

import pytest

from tests.bot.export.test_reader import Files, write_folder, write_zip


@pytest.fixture(params=["folder", "zip"])
def as_export(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Writes an export as a folder or a zip (the same path each time, so a
    second write replaces the first, as a newer export would)."""

    def write(files: Files) -> Path:
        if request.param == "zip":
            return write_zip(tmp_path / "export.zip", files)
        return write_folder(tmp_path / "export", files)

    return write
