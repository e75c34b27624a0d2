"""Runs the real app in HTTP mode against the fakes and waits for its work."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.app import Service, build_service
from bot.server import HttpLimits, HttpServer
from bot.settings import Settings, load_settings
from storage import Store
from tests.e2e import slack_requests as sr
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

BOT_TOKEN = "xoxb-test-bot-token-1234567890"
SIGNING_SECRET = "test-signing-secret-abcdef123456"
OPENAI_KEY = "sk-test-openai-key-0987654321"

T = TypeVar("T")


@dataclass
class RunningBot:
    settings: Settings
    store: Store
    server: HttpServer
    slack: FakeSlack
    openai: FakeOpenAI
    service: Service

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
        """Waits until every job started so far (listeners, then what they handed
        off) has finished, so tests can assert on what did NOT happen without sleeping."""
        for pool in self.service.pools:
            if not pool.wait_idle(timeout):
                raise AssertionError(f"{pool.pending} {pool.name} job(s) still running")


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
    service = build_service(settings)
    limits = HttpLimits(settings.http_threads, settings.max_body_bytes)
    server = HttpServer(service.app, SIGNING_SECRET, "127.0.0.1", 0, limits)
    server.start_in_thread()
    service.scheduler.start()
    try:
        yield RunningBot(settings, service.store, server, slack, openai, service)
    finally:
        deadline = time.monotonic() + 5
        server.stop(deadline)
        service.stop(deadline)
        service.store.close()


def wait_until(check: Callable[[], T], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)
