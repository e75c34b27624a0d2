"""The `voiceloop` command line: serve the bot, curate data, import history."""

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from rich.console import Console

from bot.cli import curate, doctor, importing, init, retrain, serve
from bot.cli.help import VoiceloopTyper
from bot.errors import USER_FACING

app = VoiceloopTyper(
    name="voiceloop",
    help="A Slack bot that learns your team's brand voice from your team's ratings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Subcommands inherit this, so `voiceloop curate -h` works too.
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"voiceloop {package_version()}")
        raise typer.Exit()


def package_version() -> str:
    try:
        return version("voiceloop")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print voiceloop's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Serve the bot, curate its training data, import history, retrain and roll back.

    New here? Run `voiceloop init`, then `voiceloop doctor`.
    """


init.register(app)
doctor.register(app)
serve.register(app)
curate.register(app)
importing.register(app)
retrain.register(app)


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
