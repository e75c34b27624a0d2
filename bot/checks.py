"""What `voiceloop doctor` checks before `serve`: each check says what it found and,
when something is wrong, what to do about it."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import openai
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.example_brand import example_brand_use
from bot.settings import Settings, SettingsError
from curation import CurationError, load_rules, unknown_base_model
from storage import StorageError, Store

# manifest.yml's bot scopes (a test keeps the two equal): what `serve` needs.
BOT_SCOPES = frozenset(
    {
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
        "chat:write",
        "reactions:read",
        "users:read",
        "commands",
    }
)
# Doctor waits this long for each answer: a check should fail, not hang.
TIMEOUT_SECONDS = 15.0

Outcome = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str
    hint: str = ""
    # `serve` cannot work without it; the others (training) only warn in the exit code.
    needed_to_serve: bool = True


def run_checks(settings: Settings) -> Iterator[Check]:
    """Every check, in the order a newcomer fixes things."""
    yield from _slack(settings)
    yield _connection_mode(settings)
    yield from _chat_model(settings)
    yield _database(settings)
    yield from _voice(settings)
    yield from _trainer(settings)


def _slack(settings: Settings) -> Iterator[Check]:
    if not settings.slack_bot_token:
        yield Check(
            "Slack token",
            "fail",
            "SLACK_BOT_TOKEN is not set",
            "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page "
            "into .env",
        )
        return
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(TIMEOUT_SECONDS),
    )
    try:
        answer = client.auth_test()
    except SlackApiError as e:
        error = e.response.get("error", "refused")
        yield Check(
            "Slack token",
            "fail",
            f"Slack refused SLACK_BOT_TOKEN ({error})",
            "copy the Bot User OAuth Token again (reinstalling the app changes it)",
        )
        return
    except (OSError, SlackClientError) as e:
        yield Check(
            "Slack token",
            "fail",
            f"cannot reach Slack at {settings.slack_api_url} ({type(e).__name__})",
            "check the network, or SLACK_API_URL if you set it",
        )
        return
    yield Check("Slack token", "pass", f"accepted: @{answer.get('user')} in {answer.get('team')}")
    # Slack lists the token's scopes in this header of every Web API answer.
    header = answer.headers.get("x-oauth-scopes") or answer.headers.get("X-OAuth-Scopes")
    if header is None:
        yield Check(
            "Slack scopes",
            "warn",
            "Slack did not say which scopes the token has",
            "compare OAuth & Permissions → Scopes with manifest.yml",
        )
        return
    granted = {scope.strip() for scope in str(header).split(",") if scope.strip()}
    missing = sorted(BOT_SCOPES - granted)
    if missing:
        yield Check(
            "Slack scopes",
            "fail",
            f"the token lacks {', '.join(missing)}",
            "add them under OAuth & Permissions → Scopes (or paste manifest.yml again), "
            "then reinstall the app to the workspace",
        )
    else:
        yield Check("Slack scopes", "pass", f"all {len(BOT_SCOPES)} of the manifest's scopes")


def _connection_mode(settings: Settings) -> Check:
    if settings.slack_app_token is not None:
        token = settings.slack_app_token.get_secret_value()
        if not token.startswith("xapp-"):
            return Check(
                "Connection",
                "fail",
                "SLACK_APP_TOKEN is not an app-level token (xapp-…)",
                "create one under Basic Information → App-Level Tokens with connections:write",
            )
        return Check("Connection", "pass", "Socket Mode (SLACK_APP_TOKEN)")
    if settings.slack_signing_secret:
        return Check("Connection", "pass", f"HTTP mode on port {settings.port} (/slack/events)")
    return Check(
        "Connection",
        "fail",
        "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set",
        "for Socket Mode, create an app-level token with connections:write under Basic "
        "Information → App-Level Tokens and set SLACK_APP_TOKEN",
    )


def _openai_client(settings: Settings) -> openai.OpenAI:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    # A server that needs no key still needs a value for the SDK.
    return openai.OpenAI(
        api_key=key or "unused",
        base_url=settings.openai_base_url,
        max_retries=0,
        timeout=TIMEOUT_SECONDS,
    )


def _api_problem(e: openai.OpenAIError) -> str:
    if isinstance(e, openai.APIStatusError):
        return f"HTTP {e.status_code}: {e.message}"
    return type(e).__name__


def _chat_model(settings: Settings) -> Iterator[Check]:
    model = settings.chat_model
    if not settings.openai_api_key and not settings.openai_base_url:
        yield Check(
            "Chat model",
            "fail",
            "OPENAI_API_KEY is not set",
            "set OPENAI_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server",
        )
        return
    client = _openai_client(settings)
    try:
        client.models.retrieve(model)
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Reply with the word OK."}],
            max_completion_tokens=16,
        )
    except openai.AuthenticationError:
        yield Check(
            "Chat model",
            "fail",
            "the model server refused OPENAI_API_KEY",
            "copy a current key from your provider into .env",
        )
        return
    except openai.NotFoundError:
        yield Check(
            "Chat model",
            "fail",
            f"{model} is not a model this server offers",
            "set VOICELOOP_CHAT_MODEL to one it lists (GET /v1/models)",
        )
        return
    except openai.OpenAIError as e:
        where = settings.openai_base_url or "OpenAI"
        yield Check(
            "Chat model",
            "fail",
            f"{model} did not answer at {where} ({_api_problem(e)})",
            "check OPENAI_BASE_URL and that the server is up",
        )
        return
    yield Check("Chat model", "pass", f"{model} answers")


def _database(settings: Settings) -> Check:
    path = settings.db
    if not path.exists():
        return Check("Database", "pass", f"none yet at {path}; serve creates it")
    try:
        Store(path).close()  # opening migrates it, as serve would
    except StorageError as e:
        return Check("Database", "fail", str(e), "check the file's permissions, or VOICELOOP_DB")
    return Check("Database", "pass", f"{path} opens and is migrated")


def _voice(settings: Settings) -> Iterator[Check]:
    try:
        guide = settings.read_voice_guide()
    except SettingsError as e:
        yield Check("Voice guide", "fail", str(e), "point VOICELOOP_VOICE_GUIDE at your guide")
    else:
        source = settings.voice_guide or "the shipped example"
        yield Check("Voice guide", "pass", f"{source}: {len(guide.split()):,} words")
    try:
        load_rules(settings.curation_rules)
    except CurationError as e:
        yield Check("Curation rules", "fail", str(e), "fix the line it names")
    else:
        yield Check("Curation rules", "pass", str(settings.curation_rules or "the shipped rules"))
    brand = example_brand_use(settings)
    if brand:
        yield Check("Brand", "warn", brand.notice(), needed_to_serve=False)


def _trainer(settings: Settings) -> Iterator[Check]:
    unknown = unknown_base_model(settings.base_model, "VOICELOOP_BASE_MODEL")
    if unknown:
        yield Check("Base model", "warn", unknown, needed_to_serve=False)
    try:
        # serve builds the training backend at start-up, so a trainer it
        # cannot build stops serve too.
        settings.trainer_config()
    except SettingsError as e:
        fix = "set VOICELOOP_TRAINER=openai"
        if settings.trainer == "local":
            fix = "do as it says, or " + fix
        yield Check("Trainer", "fail", str(e), fix)
        return
    if not settings.openai_api_key and not settings.openai_base_url:
        return
    client = _openai_client(settings)
    try:
        client.fine_tuning.jobs.list(limit=1)
    except openai.NotFoundError:
        # An OpenAI-compatible server (vLLM, Ollama) serves chat, not fine-tuning.
        yield Check(
            "Fine-tuning",
            "fail",
            f"the server at {settings.openai_base_url or 'OpenAI'} has no fine-tuning API",
            "VOICELOOP_TRAINER=openai trains through OpenAI's API; chat can still use this server",
            needed_to_serve=False,
        )
    except openai.OpenAIError as e:
        yield Check(
            "Fine-tuning",
            "fail",
            f"this organisation cannot use OpenAI fine-tuning ({_api_problem(e)})",
            "OpenAI takes no new fine-tuning jobs after 2027-01-06 and already refuses most "
            "organisations; train on a self-hosted open-weight model instead",
            needed_to_serve=False,
        )
    else:
        yield Check(
            "Fine-tuning", "pass", "OpenAI's fine-tuning API answers", needed_to_serve=False
        )
    for label, model in (("chat", settings.chat_model), ("base", settings.base_model)):
        shutdown = _shutdown_date(client, model)
        if shutdown:
            yield Check(
                "Model retirement",
                "warn",
                f"the {label} model {model} shuts down on {shutdown}",
                "pick a newer model before then",
                needed_to_serve=False,
            )


def _shutdown_date(client: openai.OpenAI, model: str) -> str | None:
    """The model's `shutdown_date`, where the server's models endpoint lists one."""
    try:
        found = client.models.retrieve(model)
    except openai.OpenAIError:
        return None  # unknown to this server: the chat check reports what matters
    # Not a declared field of the SDK's Model; the SDK keeps undeclared keys as attributes.
    value = getattr(found, "shutdown_date", None)
    return str(value) if value else None
