"""A fake Slack Socket Mode endpoint: a WebSocket server that sends envelopes and
records the acks, for the real slack_sdk Socket Mode client to talk to."""

import itertools
import json
import threading
from typing import Any, Self

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._connection: ServerConnection | None = None
        self._acks: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def start(self) -> Self:
        # The slack_sdk client offers no compression, so none is negotiated.
        self._server = serve(self._serve, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSocketMode is not running; call start() first")
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake"

    def wait_connected(self, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection is not None, timeout):
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    def send_event(self, body: dict[str, Any]) -> str:
        """Sends an Events API payload in an envelope; returns its envelope id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": "events_api",
            "payload": body,
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self.wait_connected()
        assert self._connection is not None
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((a for a in self._acks if a.get("envelope_id") == envelope_id), None)

        with self._cond:
            if not self._cond.wait_for(lambda: find() is not None, timeout):
                raise AssertionError(f"envelope {envelope_id} not acked; acks: {self._acks}")
            ack = find()
            assert ack is not None
            return ack

    def _serve(self, connection: ServerConnection) -> None:
        with self._cond:
            self._connection = connection
            self._cond.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        try:
            for message in connection:
                with self._cond:
                    self._acks.append(json.loads(message))
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                if self._connection is connection:
                    self._connection = None
