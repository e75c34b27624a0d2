"""`voiceloop doctor`: checks everything `serve` needs, each with ✓ or ✗ and what to do."""

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from bot.errors import UserFacingError
from bot.settings import load_settings

_MARKS = {"pass": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor() -> None:
        """Check settings, Slack, the chat model, the database, the voice guide and
        the trainer; say what to do about each problem.

        Exits 0 only when everything `serve` needs passes.
        """
        console = Console(highlight=False, soft_wrap=True, emoji=False)
        try:
            settings = load_settings()
        except UserFacingError as e:
            _show(
                console, "fail", "Settings", str(e), "fix that variable in .env or the environment"
            )
            raise typer.Exit(1) from None
        env_file = Path(".env")
        source = (
            f"from {env_file.resolve()} and the environment"
            if env_file.is_file()
            else ("from the environment (no .env in this folder)")
        )
        _show(console, "pass", "Settings", f"loaded {source}")
        # Imported here: the Slack and OpenAI clients are slow to load, and only
        # serve and doctor need them.
        from bot.checks import run_checks

        blocking = 0
        for check in run_checks(settings):
            _show(console, check.outcome, check.name, check.detail, check.hint)
            blocking += check.outcome == "fail" and check.needed_to_serve
        if blocking:
            problems = f"{blocking} problem{'s' if blocking > 1 else ''}"
            console.print(f"\n{problems} to fix before `voiceloop serve`.")
            raise typer.Exit(1)
        console.print("\nReady: `voiceloop serve` has what it needs.")


def _show(console: Console, outcome: str, name: str, detail: str, hint: str = "") -> None:
    mark, style = _MARKS[outcome]
    console.print(Text.assemble((f"{mark} ", style), (f"{name}: ", "bold"), detail))
    if hint and outcome != "pass":
        console.print(Text(f"    → {hint}"))
