"""Runs the real app in HTTP mode against the fakes and waits for its work."""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.app import Service, build_service
from bot.server import HttpServer
from bot.settings import Settings, load_settings
from storage import Store
from tests.e2e import slack_requests as sr
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-test-bot-token-1234567890"
SIGNING_SECRET = "test-signing-secret-abcdef123456"
OPENAI_KEY = "sk-test-openai-key-0987654321"

T = TypeVar("T")


class TrackingExecutor(ThreadPoolExecutor):
    """Knows when every listener it ran has finished, so tests can assert on
    what did NOT happen without sleeping."""

    def __init__(self, name: str = "listener") -> None:
        super().__init__(max_workers=8, thread_name_prefix=name)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> "Future[T]":
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: "Future[Any]") -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: self._pending == 0, timeout):
                raise AssertionError(f"{self._pending} listener(s) still running after {timeout}s")


@dataclass
class RunningBot:
    settings: Settings
    store: Store
    server: HttpServer
    executor: TrackingExecutor
    slack: FakeSlack
    openai: FakeOpenAI
    service: Service
    background: TrackingExecutor

    def send_event(self, event: dict[str, Any], **kwargs: Any) -> sr.Response:
        headers = kwargs.pop("headers", None)
        body = sr.event_body(event, **kwargs)
        return self.post(body, headers=headers)

    def send_interaction(self, payload: dict[str, Any]) -> sr.Response:
        return self.post(
            sr.interaction_body(payload), content_type="application/x-www-form-urlencoded"
        )

    def send_command(self, command: str, *, user: str = "U1", text: str = "") -> sr.Response:
        body = sr.command_body(
            command, user=user, text=text, response_url=self.slack.response_url(command[1:])
        )
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def post(self, body: str, **kwargs: Any) -> sr.Response:
        return sr.post(self.server.url, body, secret=SIGNING_SECRET, **kwargs)

    def settle(self, timeout: float = 30.0) -> None:
        """Waits until every listener started so far, and the work it handed
        off, has finished."""
        self.executor.wait_idle(timeout)
        self.background.wait_idle(timeout)


def bot_settings(slack: FakeSlack, openai: FakeOpenAI, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.url,
        "openai_api_key": OPENAI_KEY,
        "openai_base_url": openai.base_url,
        "chat_model": "gpt-4.1-mini",
        "db": db,
        "host": "127.0.0.1",
        "port": 0,
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@contextmanager
def running_bot(
    slack: FakeSlack, openai: FakeOpenAI, db: Path, **overrides: Any
) -> Iterator[RunningBot]:
    settings = bot_settings(slack, openai, db, **overrides)
    executor, background = TrackingExecutor(), TrackingExecutor("retrain")
    service = build_service(settings, listener_executor=executor, background=background)
    server = HttpServer(service.app, "127.0.0.1", 0, threads=4)
    server.start_in_thread()
    service.scheduler.start()
    try:
        yield RunningBot(
            settings, service.store, server, executor, slack, openai, service, background
        )
    finally:
        server.stop(timeout=5)
        service.stop_retraining()
        service.store.close()


def wait_until(check: Callable[[], T], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)
