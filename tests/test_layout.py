"""Imports point one way (bot → curation → storage), each through the package's public API."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "curation", "bot")
# What each package may not import at all.
FORBIDDEN = {
    "storage": {"curation", "bot", "slack_bolt", "slack_sdk", "openai"},
    "curation": {"bot", "slack_bolt", "slack_sdk"},
    "bot": set(),
}


def imported_modules(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way_through_public_apis(package: str) -> None:
    wrong = []
    for path in sources(package):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
            elif top in PACKAGES and top != package and module != top:
                wrong.append(f"{path.relative_to(ROOT)} reaches into {module}; import from {top}")
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from bot.settings import Settings\nimport curation.dataset.split\n")
    assert imported_modules(module) == ["bot.settings", "curation.dataset.split"]
