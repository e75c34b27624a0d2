"""Warnings and notes on stderr, so the results on stdout stay clean for pipes."""

from rich.console import Console
from rich.text import Text

# Console(stderr=True) looks sys.stderr up on every print, so tests capture it.
_err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def warn(message: str) -> None:
    # Text, not markup: messages carry paths and model names with "[" in them.
    _err.print(Text.assemble(("warning: ", "yellow"), message))


def note(message: str) -> None:
    _err.print(Text.assemble(("note: ", "cyan"), message))
