"""Serves the Bolt app: HTTP mode on /slack/events, or Socket Mode."""

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any
from wsgiref.types import StartResponse

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackWsgiApp:
    """Slack requests to Bolt, a health check for load balancers, 404 for the rest."""

    def __init__(self, app: App) -> None:
        self.bolt = SlackRequestHandler(app, path=EVENTS_PATH)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            try:
                return self.bolt(environ, start_response)
            except ValueError:
                # Bolt parses the body before checking the signature; a body that
                # is not JSON (or a form with a broken payload) must not be a 500.
                log.warning("refused a request whose body is not a Slack payload")
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"malformed Slack payload\n"]
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]


class HttpServer:
    """A waitress server that can be stopped from another thread (tests, signals)."""

    def __init__(self, app: App, host: str, port: int, threads: int = 8) -> None:
        self.app = app
        self._server = create_server(SlackWsgiApp(app), host=host, port=port, threads=threads)
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

    def stop(self, timeout: float = 10.0) -> None:
        """Stops accepting requests, then lets in-flight replies finish."""
        server = self._server

        def close_all() -> None:
            # Runs in the loop's own thread; an empty socket map ends the loop.
            for channel in list(server._map.values()):
                channel.close()

        server.trigger.pull_trigger(close_all)
        self._server.task_dispatcher.shutdown(timeout=timeout)
        self._stopped.wait(timeout)
        finish_listeners(self.app, timeout)


def finish_listeners(app: App, timeout: float) -> None:
    """Waits for listener threads (replies being generated) before exiting."""
    executor = app.listener_runner.listener_executor
    done = threading.Event()

    def wait() -> None:
        executor.shutdown(wait=True)
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    if not done.wait(timeout):
        log.warning("stopped waiting for replies still in progress after %.0fs", timeout)


def serve_http(app: App, host: str, port: int) -> None:
    server = HttpServer(app, host, port)
    log.info("voiceloop listening on http://%s:%d%s (HTTP mode)", host, server.port, EVENTS_PATH)
    stop_on_signals(server.stop)
    server.serve_forever()
    log.info("voiceloop stopped")


def serve_socket_mode(app: App, app_token: str) -> None:
    handler = SocketModeHandler(app, app_token)
    log.info("voiceloop connecting to Slack (Socket Mode)")
    handler.connect()  # type: ignore[no-untyped-call]
    stopping = threading.Event()

    def stop() -> None:
        stopping.set()

    stop_on_signals(stop)
    stopping.wait()
    handler.close()  # type: ignore[no-untyped-call]
    finish_listeners(app, 10.0)
    log.info("voiceloop stopped")


def stop_on_signals(stop: Callable[[], None]) -> None:
    """Ctrl-C and SIGTERM stop the server cleanly instead of raising mid-request."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        threading.Thread(target=stop, name="voiceloop-stop", daemon=True).start()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
