"""Slack calls retried after a 5xx or a dropped connection, noted per thread.

Neither proves that Slack did nothing: a chat.postMessage retried after one
may have posted twice. The responder asks whether its "Thinking…" post was
retried and, if it was, removes the extra one the first try left behind.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

_watching = threading.local()


class NotedRetries(RetryHandler):
    """One of slack_sdk's handlers, deciding as it does; each retry it grants
    is noted for the thread making the call (the SDK retries on that thread)."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self.inner._can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        noted: set[str] | None = getattr(_watching, "methods", None)
        if noted is not None:
            noted.add(request.url.rstrip("/").rsplit("/", 1)[-1])
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


@contextmanager
def retried_calls() -> Iterator[set[str]]:
    """The Slack methods (e.g. "chat.postMessage") retried on this thread
    inside the block, through a client whose handlers are NotedRetries."""
    methods: set[str] = set()
    _watching.methods = methods
    try:
        yield methods
    finally:
        _watching.methods = None
