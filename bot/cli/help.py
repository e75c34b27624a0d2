"""Help that reads like the commands people type: no `<bool>` after flags, no braces
around arguments."""

from typing import Any

import typer

# typer vendors its own click; its commands take that click's Context and Parameter.
from typer._click import Context, Parameter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def _without_flag_types(params: list[Parameter]) -> list[Parameter]:
    for param in params:
        # A flag takes no value, so its help shows no type (`--dry-run <bool>`
        # suggests `--dry-run true`, which fails); typer prints an empty
        # metavar as nothing.
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class PlainHelpCommand(TyperCommand):
    """A command whose help shows `--dry-run`, not `--dry-run <bool>`, and `FILE`
    in the usage line, not `{file}`."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _without_flag_types(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class PlainHelpGroup(TyperGroup):
    """The top-level `voiceloop` group, with the same plain flags."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _without_flag_types(super().get_params(ctx))


def _usage_name(argument: TyperArgument) -> str:
    name = (argument.metavar or argument.name or "").upper()
    if argument.nargs != 1:
        name += "..."
    return name if argument.required else f"[{name}]"


class VoiceloopTyper(typer.Typer):
    """A Typer whose commands all get plain help, whichever module registers them."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", PlainHelpGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", PlainHelpCommand)
        return super().command(*args, **kwargs)
