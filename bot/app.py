"""Builds the Bolt app: the Slack client, the responder and every listener."""

import threading
import time
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
from bot.chat.retries import NotedRetries
from bot.dry_run import DryRunWorker
from bot.example_brand import example_brand_use
from bot.lifecycle import build_lifecycle
from bot.listeners import corrections, feedback, home, messages, reactions, retrain
from bot.maintenance import Maintenance
from bot.retraining import Retraining
from bot.scheduler import RetrainScheduler
from bot.settings import Settings, SettingsError
from bot.work_pool import WorkerPool
from curation import Lifecycle
from storage import Store, WalCheckpointer


@dataclass
class Service:
    """The app and the pools its work runs on.

    `listeners` runs Bolt's listener bodies, which only ack, write votes and
    hand off; nothing slow may run there, or acks wait. `replies` runs model
    calls (bounded: a full queue sheds load with a "busy" note), `background`
    runs retrain work (dry runs, Start, Cancel, App Home), so it never takes a
    reply's worker.
    """

    app: App
    store: Store
    lifecycle: Lifecycle
    responder: Responder
    maintenance: Maintenance
    retraining: Retraining
    # Polls the run in flight (at once: a restart resumes it) and runs the periodic check.
    scheduler: RetrainScheduler
    listeners: WorkerPool
    replies: WorkerPool
    # Retrain work the listeners hand off: dry runs, Start, Cancel, rollback, App Home.
    background: WorkerPool
    # Builds each dry run in a child process (bot/dry_run.py).
    dry_runs: DryRunWorker
    checkpoints: WalCheckpointer | None = None

    def start(self) -> None:
        """Starts what runs beside the listeners, once the app is built."""
        # Before anything is answered, so the first reply does not stall acks.
        self.responder.warm_up()
        # So no ack's commit pays for a checkpoint (storage/checkpoints.py).
        self.checkpoints = self.store.start_background_checkpoints()
        # Answers what a crash left unanswered, then keeps redoing failed work.
        self.maintenance.start()
        # The fork server dry runs start from, loading curation meanwhile.
        self.dry_runs.start()
        # Resumes a run a restart left in flight, then polls it and checks on schedule.
        self.scheduler.start()

    @property
    def pools(self) -> tuple[WorkerPool, ...]:
        # Listeners first: they hand work to the others.
        return (self.listeners, self.replies, self.background)

    def stop(self, deadline: float) -> int:
        """Takes no new work and lets running work finish until `deadline`
        (time.monotonic()); returns how many jobs were dropped or cut short."""
        for pool in self.pools:
            pool.shutdown(wait=False)  # refuse new work everywhere at once
        # The scheduler waits for a poll in progress; it gets the grace period, no more.
        stopping = threading.Thread(target=self.scheduler.shutdown, daemon=True)
        stopping.start()
        self.maintenance.stop(max(0.0, deadline - time.monotonic()))
        unfinished = sum(pool.stop(deadline) for pool in self.pools)
        stopping.join(max(0.0, deadline - time.monotonic()))
        if self.checkpoints is not None:
            self.checkpoints.stop(max(0.0, deadline - time.monotonic()))
        self.responder.intake.close()
        return unfinished + stopping.is_alive()


def build_service(settings: Settings, store: Store | None = None) -> Service:
    """Everything `serve` runs, ready to attach to HTTP or Socket Mode."""
    missing = settings.missing_for_serve()
    if missing:
        raise SettingsError(
            "missing settings: " + ", ".join(missing) + " (set them in the environment or .env)"
        )
    assert settings.slack_bot_token is not None
    voice_guide = settings.read_voice_guide()
    store = store or Store(settings.db)
    store.deploy_configured(settings.chat_model, voice_guide)
    # Built now so a broken rules file or trainer setting stops start-up, not /retrain.
    lifecycle = build_lifecycle(settings, store)

    token = settings.slack_bot_token.get_secret_value()
    signing_secret = settings.slack_signing_secret
    # One listener thread per HTTP thread, so a listener is always free to ack.
    listeners = WorkerPool("listener", settings.http_threads)
    # Slack rate-limits bursts (a busy thread, a big /retrain summary) and has
    # bad minutes: wait and retry, so one 500 or 429 does not cost a reply.
    retries = settings.slack_retries
    client = WebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            # Noted: after these two Slack may have done what was asked (bot/chat/retries.py).
            NotedRetries(ConnectionErrorRetryHandler(max_retry_count=retries)),
            NotedRetries(ServerErrorRetryHandler(max_retry_count=retries)),
            RateLimitErrorRetryHandler(max_retry_count=retries),
        ],
    )
    try:
        app = App(
            client=client,
            # Socket Mode needs no signing secret: the socket itself is authenticated.
            signing_secret=signing_secret.get_secret_value() if signing_secret else "",
            listener_executor=listeners,
            # Every HTTP request is verified before anything parses it
            # (bot/signed_requests.py), and Socket Mode needs no signature:
            # Bolt's own check would only verify each request a second time.
            request_verification_enabled=False,
            # Built-ins for features voiceloop does not use (workflow functions,
            # the assistant's say/set_status helpers), each run on every event.
            attaching_function_token_enabled=False,
            attaching_conversation_kwargs_enabled=False,
            ignoring_self_assistant_message_events_enabled=False,
        )
    except BoltError as e:
        listeners.shutdown(wait=False)
        # Bolt checks the token with auth.test while building the app.
        cause = e.__cause__ or e.__context__
        error = cause.response.get("error") if isinstance(cause, SlackApiError) else None
        raise SettingsError(
            f"SLACK_BOT_TOKEN: Slack refused the token ({error or 'auth.test failed'})"
        ) from None
    except (OSError, SlackClientError) as e:
        listeners.shutdown(wait=False)
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
    replies = WorkerPool("reply", settings.reply_workers, settings.reply_queue)
    messages.register(app, responder, store, settings.channels, replies)
    reactions.register(app, store, settings.good_emoji, settings.bad_emoji)
    feedback.register(app, store)
    corrections.register(app, store)
    dry_runs = DryRunWorker(settings)
    brand = example_brand_use(settings)
    retraining = Retraining(
        lifecycle,
        build_dry_run=dry_runs.build,
        build_dry_run_if_due=dry_runs.build_if_due,
        client=client,
        admins=settings.admins,
        announce_channel=settings.announce_channel,
        example_brand=brand.notice() if brand else None,
    )
    scheduler = RetrainScheduler(
        retraining.advance,
        retraining.scheduled_check,
        every_hours=settings.retrain_every_hours,
        poll_seconds=settings.poll_seconds,
    )
    retraining.poll_soon = scheduler.poll_soon
    retraining.next_check = scheduler.next_check
    background = WorkerPool("retrain", 2)
    retrain.register(app, retraining, background)
    home.register(app, retraining, background)
    maintenance = Maintenance(responder, store, client, every=settings.maintenance_seconds)
    return Service(
        app=app,
        store=store,
        lifecycle=lifecycle,
        responder=responder,
        maintenance=maintenance,
        retraining=retraining,
        scheduler=scheduler,
        listeners=listeners,
        replies=replies,
        background=background,
        dry_runs=dry_runs,
    )
