"""The `voiceloop` command line: serve the bot, curate data, import history."""

import sys

import typer
from rich.console import Console

from bot.cli import curate, importing, serve
from bot.errors import USER_FACING

app = typer.Typer(
    name="voiceloop",
    help="A Slack bot that learns your team's brand voice from your team's ratings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Serve the bot, curate its training data, import history."""


serve.register(app)
curate.register(app)
importing.register(app)


err = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: user-facing failures become one line on stderr, never a traceback."""
    try:
        app()
    except USER_FACING as e:
        err.print(f"voiceloop: {e}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
