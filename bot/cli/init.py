"""`voiceloop init`: a team's own settings, voice guide and curation rules, from the examples."""

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from bot.errors import UserFacingError
from bot.example_brand import EXAMPLE_BRAND
from bot.settings import shipped_voice_guide
from curation import shipped_rules_text

ENV_FILE = ".env"
VOICE_GUIDE_FILE = "voice_guide.md"
RULES_FILE = "curation_rules.toml"


@dataclass(frozen=True)
class Team:
    brand: str
    bot_name: str

    @property
    def short_prompt(self) -> str:
        # The same shape as the example's, so trained models learn the same job.
        return (
            f"You are {self.bot_name}, the assistant for {self.brand}. Answer the team's "
            f"questions in {self.brand}'s voice."
        )


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        brand: Annotated[
            str | None, typer.Option(help="Your brand or company name, as customers know it.")
        ] = None,
        bot_name: Annotated[
            str | None, typer.Option(help="The bot's name in Slack (the app's display name).")
        ] = None,
        folder: Annotated[
            Path | None,
            typer.Option(
                "--dir", help="Where to write .env, the voice guide and the rules \\[default: .]"
            ),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Overwrite files that are already there.")
        ] = False,
    ) -> None:
        """Start your team's setup: a .env, your own voice guide and curation rules.

        Asks for what the flags do not give (in a terminal). Never overwrites a
        file unless --force is given.
        """
        team = Team(
            brand=_ask(brand, "--brand", "Brand or company name"),
            bot_name=_ask(bot_name, "--bot-name", "The bot's name in Slack"),
        )
        where = folder or Path(_ask(None, "--dir", "Folder for the files", default="."))
        files = {
            where / ENV_FILE: env_text(team),
            where / VOICE_GUIDE_FILE: shipped_voice_guide(),
            where / RULES_FILE: rules_text(team),
        }
        there = [path for path in files if path.exists()]
        if there and not force:
            raise UserFacingError(
                f"not overwriting {', '.join(map(str, there))}: move them aside, or pass --force"
            )
        try:
            where.mkdir(parents=True, exist_ok=True)
            for path, text in files.items():
                path.write_text(text, encoding="utf-8")
        except OSError as e:
            raise UserFacingError(
                f"cannot write to {where} ({e.strerror or type(e).__name__})"
            ) from None
        _next_steps(Console(highlight=False, soft_wrap=True), where, list(files))


def _ask(value: str | None, flag: str, question: str, default: str | None = None) -> str:
    if value is not None:
        if not value.strip():
            raise UserFacingError(f"{flag} must not be blank")
        return value.strip()
    if default is not None and not sys.stdin.isatty():
        return default
    if not sys.stdin.isatty():
        raise UserFacingError(f"{flag} is missing: pass it, or run voiceloop init in a terminal")
    answer: str = typer.prompt(question, default=default)
    if not answer.strip():
        raise UserFacingError(f"{flag} must not be blank")
    return answer.strip()


def env_text(team: Team) -> str:
    """A .env in which every setting `serve` needs is named and explained."""
    return f"""\
# voiceloop settings for {team.brand}. voiceloop reads this file from the folder
# it runs in; the environment wins over it. Every setting is in README.md.

# -- Required: Slack ----------------------------------------------------------
# Bot User OAuth Token: api.slack.com/apps -> your app -> OAuth & Permissions.
# SLACK_BOT_TOKEN=xoxb-...
# Socket Mode (the manifest's default; no public URL needed): an app-level token
# with connections:write, from Basic Information -> App-Level Tokens.
# SLACK_APP_TOKEN=xapp-...
# HTTP mode instead: leave SLACK_APP_TOKEN unset and set the signing secret
# (Basic Information -> App Credentials).
# SLACK_SIGNING_SECRET=...

# -- Required: the chat model -------------------------------------------------
# An OpenAI API key, or OPENAI_BASE_URL for any OpenAI-compatible server.
# OPENAI_API_KEY=sk-...
# OPENAI_BASE_URL=http://localhost:8000/v1

# -- Your brand ---------------------------------------------------------------
# The long prompt the bot answers with until a trained model is promoted. It
# starts as a copy of the example brand's guide: rewrite it in your voice.
VOICELOOP_VOICE_GUIDE={VOICE_GUIDE_FILE}
# The short prompt trained models get; it starts every training example.
VOICELOOP_SHORT_PROMPT={_env_value(team.short_prompt)}
# Tone and format rules for curating training data.
VOICELOOP_CURATION_RULES={RULES_FILE}

# -- Optional -----------------------------------------------------------------
# Only answer in these channels (DMs always work); comma-separated ids.
# VOICELOOP_CHANNELS=C0123456789
# Who may run /retrain; empty means anyone.
# VOICELOOP_ADMINS=U0123456789
# VOICELOOP_DB=voiceloop.db
"""


def _env_value(value: str) -> str:
    # In double quotes, python-dotenv keeps spaces and apostrophes and reads \" as ".
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rules_text(team: Team) -> str:
    """The shipped rules, with their comments naming the team's brand."""
    text = shipped_rules_text()
    text = text.replace(EXAMPLE_BRAND, team.brand).replace("Fernleaf", team.brand)
    return text.replace("bot/defaults/voice_guide.md", VOICE_GUIDE_FILE)


def _next_steps(console: Console, where: Path, written: list[Path]) -> None:
    for path in written:
        console.print(Text.assemble(("wrote ", "green"), str(path)))
    go = "" if where.resolve() == Path.cwd().resolve() else f"cd {where} && "
    console.print(
        "\nNext:\n"
        f"  1. Put your Slack and OpenAI tokens in {where / ENV_FILE}.\n"
        f"  2. Rewrite {where / VOICE_GUIDE_FILE} in your team's voice: it is a copy of "
        "the example brand's.\n"
        f"  3. {go}voiceloop doctor",
        markup=False,
    )
