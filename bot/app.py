"""Builds the Bolt app: the Slack client, the responder and every listener."""

from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.chat.model import ChatModel
from bot.chat.replying import Responder
from bot.example_brand import example_brand_use
from bot.listeners import corrections, feedback, messages, reactions, retrain
from bot.maintenance import Maintenance
from bot.settings import Settings, SettingsError
from curation import Lifecycle, build_backend
from storage import Store


@dataclass
class Service:
    app: App
    store: Store
    lifecycle: Lifecycle
    responder: Responder
    maintenance: Maintenance


def build_service(
    settings: Settings, store: Store | None = None, listener_executor: Executor | None = None
) -> Service:
    """Everything `serve` runs, ready to attach to HTTP or Socket Mode."""
    missing = settings.missing_for_serve()
    if missing:
        raise SettingsError(
            "missing settings: " + ", ".join(missing) + " (set them in the environment or .env)"
        )
    assert settings.slack_bot_token is not None
    voice_guide = settings.read_voice_guide()
    # Read the curation rules now so a broken rules file stops start-up, not /retrain.
    lifecycle_config = settings.lifecycle_config()
    endpoints = settings.endpoints()
    backend = build_backend(settings.trainer_config(), endpoints)
    store = store or Store(settings.db)
    store.deploy_configured(settings.chat_model, voice_guide)

    token = settings.slack_bot_token.get_secret_value()
    signing_secret = settings.slack_signing_secret
    # Slack rate-limits bursts (a busy thread, a big /retrain summary) and has
    # bad minutes: wait and retry, so one 500 or 429 does not cost a reply.
    retries = settings.slack_retries
    client = WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
            RateLimitErrorRetryHandler(max_retry_count=retries),
        ],
    )
    try:
        app = App(
            client=client,
            # Socket Mode needs no signing secret: the socket itself is authenticated.
            signing_secret=signing_secret.get_secret_value() if signing_secret else "",
            listener_executor=listener_executor,
        )
    except BoltError as e:
        # Bolt checks the token with auth.test while building the app.
        cause = e.__cause__ or e.__context__
        error = cause.response.get("error") if isinstance(cause, SlackApiError) else None
        raise SettingsError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({error or 'auth.test failed'})"
        ) from None
    except (OSError, SlackClientError) as e:
        raise SettingsError(
            f"cannot reach Slack at {settings.slack_api_url} ({type(e).__name__})"
        ) from None
    chat = ChatModel(
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        max_retries=settings.openai_max_retries,
        timeout=settings.openai_timeout,
        max_tokens=settings.reply_tokens,
    )
    responder = Responder(
        store,
        chat,
        context_tokens=settings.context_tokens,
        claim_expiry=timedelta(seconds=settings.claim_expiry_seconds),
    )
    messages.register(app, responder, store, settings.channels)
    reactions.register(app, store, settings.good_emoji, settings.bad_emoji)
    feedback.register(app, store)
    corrections.register(app, store)
    lifecycle = Lifecycle(store, lifecycle_config, backend, endpoints)
    brand = example_brand_use(settings)
    retrain.register(app, lifecycle, settings.admins, brand.notice() if brand else None)
    maintenance = Maintenance(responder, store, client, every=settings.maintenance_seconds)
    return Service(
        app=app, store=store, lifecycle=lifecycle, responder=responder, maintenance=maintenance
    )
