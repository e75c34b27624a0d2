"""The HTTP plumbing the fakes share: a server on 127.0.0.1 that starts and stops fast."""

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast

OwnerT = TypeVar("OwnerT", bound="LoopbackServer")


class LoopbackServer:
    """Serves `handler` on a daemon thread, on a free port of 127.0.0.1, between
    ``start()`` and ``stop()`` (or inside ``with``). Handlers reach this object as
    ``self.owner``; subclass it and keep the state they answer from there."""

    def __init__(self, handler: "type[LoopbackHandler[Any]]", thread_name: str) -> None:
        self._handler_class = handler
        self._thread_name = thread_name
        # Without it two racing start() calls could each bind a server and leak one.
        self._lifecycle_lock = threading.Lock()
        self._httpd: _TrackingServer | None = None
        self._serve_thread: threading.Thread | None = None

    def start(self) -> Self:
        with self._lifecycle_lock:
            if self._httpd is None:
                self._httpd = _TrackingServer(self, self._handler_class)
                # A short poll keeps stop() quick; the default would add half a second per test.
                self._serve_thread = threading.Thread(
                    target=self._httpd.serve_forever,
                    args=(0.05,),
                    name=self._thread_name,
                    daemon=True,
                )
                self._serve_thread.start()
        return self

    def stop(self) -> None:
        with self._lifecycle_lock:
            httpd, thread = self._httpd, self._serve_thread
            self._httpd = self._serve_thread = None
            if httpd is not None:
                httpd.shutdown()
                httpd.close_connections()
                httpd.server_close()
            if thread is not None:
                thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        httpd = self._httpd
        if httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        host, port = httpd.server_address[:2]
        return f"http://{host!s}:{port}"


class LoopbackHandler(BaseHTTPRequestHandler, Generic[OwnerT]):
    """Sends GET and POST to ``answer()``; a subclass adds ``do_<VERB>`` for more verbs."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; Nagle plus delayed ACKs would
    # otherwise add ~40 ms to every kept-alive request.
    disable_nagle_algorithm = True

    @property
    def owner(self) -> OwnerT:
        return cast(OwnerT, cast(_TrackingServer, self.server).owner)

    def answer(self) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _TrackingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LoopbackServer, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeouts, stop()) is normal here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        # Kept-alive connections (httpx keeps them) would otherwise hold handler
        # threads after stop().
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
