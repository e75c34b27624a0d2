"""Serves the Bolt app: HTTP mode on /slack/events, or Socket Mode; stops within a grace period."""

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import FrameType
from typing import Any
from wsgiref.types import StartResponse

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.signature import SignatureVerifier
from waitress.server import create_server

from bot.app import Service
from bot.signed_requests import check_signed_request

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class HttpLimits:
    """How much the HTTP side takes on: waitress threads and the largest body read."""

    threads: int = 8
    max_body_bytes: int = 1024 * 1024


class SlackWsgiApp:
    """Slack requests to Bolt (verified first), a health check, 404 for the rest."""

    def __init__(self, app: App, signing_secret: str, max_body_bytes: int) -> None:
        self.bolt = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            if environ.get("REQUEST_METHOD") != "POST":
                return _text(start_response, "405 Method Not Allowed", "POST Slack requests here\n")
            return self._slack(environ, start_response)
        if path == HEALTH_PATH:
            return _text(start_response, "200 OK", "ok\n")
        return _text(start_response, "404 Not Found", "not found\n")

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= self.max_body_bytes:
            # waitress refuses these before they reach here (max_request_body_size);
            # this keeps the cap under any other WSGI server too.
            log.warning("refused a Slack request: body of %d bytes is over the cap", length)
            return _text(start_response, "413 Request Entity Too Large", "body too large\n")
        body = environ["wsgi.input"].read(length) if length else b""
        headers = _headers(environ)
        refusal = check_signed_request(body, headers, self.verifier)
        if refusal is not None:
            # Size and reason only: an unverified body is never logged.
            log.warning("refused a Slack request (%d bytes): %s", len(body), refusal.reason)
            status = HTTPStatus(refusal.status)
            return _text(start_response, f"{status.value} {status.phrase}", refusal.reason + "\n")
        query = environ.get("QUERY_STRING", "")
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        response = self.bolt.dispatch(
            BoltRequest(body=body.decode("utf-8"), query=query, headers=bolt_headers)
        )
        headers_out = [(name, v) for name, values in response.headers.items() for v in values]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers_out)
        return [response.body.encode("utf-8")]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers


def _text(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode("utf-8")]


class HttpServer:
    """A waitress server that can be stopped from another thread (tests, signals)."""

    def __init__(
        self, app: App, signing_secret: str, host: str, port: int, limits: HttpLimits
    ) -> None:
        self._server = create_server(
            SlackWsgiApp(app, signing_secret, limits.max_body_bytes),
            host=host,
            port=port,
            threads=limits.threads,
            # waitress refuses a body of this size or more from its Content-Length,
            # before reading it (its default is 1 GB).
            max_request_body_size=limits.max_body_bytes + 1,
        )
        self.port = int(self._server.effective_port)
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def serve_forever(self) -> None:
        try:
            self._server.run()
        finally:
            self._stopped.set()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="voiceloop-http", daemon=True)
        thread.start()
        return thread

    def stop(self, deadline: float) -> None:
        """Stops accepting requests; requests being answered get until `deadline`."""
        server = self._server

        def close_all() -> None:
            # Runs in the loop's own thread; an empty socket map ends the loop.
            for channel in list(server._map.values()):
                channel.close()

        # The thunk is queued before the trigger is written to: when the loop
        # wakes for another reason in between, it runs close_all, which closes
        # the trigger before this write (EBADF). The sockets are closed either way.
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(close_all)
        remaining = max(0.0, deadline - time.monotonic())
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=remaining)
        self._stopped.wait(max(0.0, deadline - time.monotonic()))


def stop_service(service: Service, deadline: float) -> None:
    """Lets running work finish until `deadline`; what is left is answered at the next start."""
    unfinished = service.stop(deadline)
    if unfinished:
        log.warning(
            "stopped with %d job(s) unfinished (grace period over); "
            "unanswered messages are picked up at the next start",
            unfinished,
        )


def serve_http(
    service: Service, signing_secret: str, host: str, port: int, limits: HttpLimits, grace: float
) -> None:
    server = HttpServer(service.app, signing_secret, host, port, limits)
    log.info("voiceloop listening on http://%s:%d%s (HTTP mode)", host, server.port, EVENTS_PATH)
    deadline = [time.monotonic() + grace]

    def stop() -> None:
        deadline[0] = time.monotonic() + grace
        server.stop(deadline[0])

    stop_on_signals(stop)
    server.serve_forever()  # returns once stop() has closed the sockets
    stop_service(service, deadline[0])
    log.info("voiceloop stopped")


def serve_socket_mode(service: Service, app_token: str, grace: float) -> None:
    handler = SocketModeHandler(service.app, app_token)
    log.info("voiceloop connecting to Slack (Socket Mode)")
    handler.connect()  # type: ignore[no-untyped-call]
    stopping = threading.Event()
    stop_on_signals(stopping.set)
    stopping.wait()
    deadline = time.monotonic() + grace
    handler.close()  # type: ignore[no-untyped-call]
    stop_service(service, deadline)
    log.info("voiceloop stopped")


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Ctrl-C and SIGTERM stop the server cleanly instead of raising mid-request."""

    stopping = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return  # already stopping, within the grace period
        stopping.set()
        log.info("received %s, shutting down", signal.Signals(signum).name)
        threading.Thread(target=stop, name="voiceloop-stop", daemon=True).start()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
