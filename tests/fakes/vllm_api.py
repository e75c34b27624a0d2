"""A fake vLLM OpenAI-compatible server on loopback: /v1/models, chat completions,
and the runtime LoRA endpoints (/v1/load_lora_adapter, /v1/unload_lora_adapter),
answering as vLLM does (plain-text success, JSON errors, 404 for unknown models)."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.loopback import LoopbackHandler, LoopbackServer

DEFAULT_BASE_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"
DEFAULT_API_KEY = "vllm-test-key"

# (model, request) -> reply text
ModelReply = Callable[[str, dict[str, Any]], str]


@dataclass(frozen=True)
class ServerCall:
    method: str
    path: str
    json: dict[str, Any] | None


def _default_reply(model: str, request: dict[str, Any]) -> str:
    return f"{model} says hello."


class FakeVllm(LoopbackServer):
    def __init__(
        self, base_model: str = DEFAULT_BASE_MODEL, api_key: str | None = DEFAULT_API_KEY
    ) -> None:
        super().__init__(_Handler, thread_name="fake-vllm")
        self.base_model = base_model
        self.api_key = api_key
        self._lock = threading.Lock()
        self.adapters: dict[str, str] = {}  # name -> path
        self.calls: list[ServerCall] = []
        self._reply: ModelReply = _default_reply
        self._fail_loads: list[tuple[int, str]] = []
        self._accept_without_listing = False
        self.runtime_lora = True

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    # -- test controls -----------------------------------------------------------
    def reply_with(self, reply: ModelReply) -> None:
        self._reply = reply

    def fail_next_load(self, status: int = 400, message: str = "injected load failure") -> None:
        with self._lock:
            self._fail_loads.append((status, message))

    def accept_loads_without_listing(self) -> None:
        """Answer loads with success but never list the adapter (a broken server)."""
        self._accept_without_listing = True

    def restart(self) -> None:
        """What a vLLM restart does to runtime adapters: they are gone."""
        with self._lock:
            self.adapters.clear()

    def calls_to(self, path: str) -> list[ServerCall]:
        with self._lock:
            return [c for c in self.calls if c.path == path]

    # -- endpoints ---------------------------------------------------------------
    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        with self._lock:
            self.calls.append(ServerCall(method, path, body))
        if path == "/v1/models" and method == "GET":
            return 200, self._models()
        if path == "/v1/chat/completions" and method == "POST":
            return self._chat(body or {})
        if path.endswith("_lora_adapter") and not self.runtime_lora:
            return 404, {"detail": "Not Found"}
        if path == "/v1/load_lora_adapter" and method == "POST":
            return self._load(body or {})
        if path == "/v1/unload_lora_adapter" and method == "POST":
            return self._unload(body or {})
        return 404, {"detail": "Not Found"}

    def _models(self) -> dict[str, Any]:
        with self._lock:
            adapters = dict(self.adapters)
        data = [{"id": self.base_model, "object": "model", "owned_by": "vllm", "root": "base"}]
        data += [
            {"id": name, "object": "model", "owned_by": "vllm", "root": path}
            for name, path in adapters.items()
        ]
        return {"object": "list", "data": data}

    def _load(self, body: dict[str, Any]) -> tuple[int, Any]:
        name, path = body.get("lora_name"), body.get("lora_path")
        with self._lock:
            if self._fail_loads:
                status, message = self._fail_loads.pop(0)
                return status, _error(message, status)
            if not name or not path:
                return 400, _error("Both 'lora_name' and 'lora_path' must be provided.", 400)
            if name in self.adapters:
                return 400, _error(f"The lora adapter '{name}' has already been loaded.", 400)
            if not (Path(path) / "adapter_config.json").is_file():
                return 400, _error(f"Loading lora {name} failed: No adapter found for {path}", 400)
            if not self._accept_without_listing:
                self.adapters[name] = path
        return 200, f"Success: LoRA adapter '{name}' added successfully."

    def _unload(self, body: dict[str, Any]) -> tuple[int, Any]:
        name = body.get("lora_name")
        with self._lock:
            if name not in self.adapters:
                return 404, _error(f"The lora adapter '{name}' cannot be found.", 404)
            del self.adapters[name]
        return 200, f"Success: LoRA adapter '{name}' removed successfully."

    def _chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = str(body.get("model"))
        with self._lock:
            known = model == self.base_model or model in self.adapters
        if not known:
            return 404, _error(f"The model `{model}` does not exist.", 404)
        text = self._reply(model, body)
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


def _error(message: str, status: int) -> dict[str, Any]:
    kind = "NotFoundError" if status == 404 else "BadRequestError"
    return {"error": {"message": message, "type": kind, "param": None, "code": status}}


class _Handler(LoopbackHandler[FakeVllm]):
    def answer(self) -> None:
        server = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        wanted = f"Bearer {server.api_key}"
        if server.api_key is not None and self.headers.get("Authorization") != wanted:
            self._send(401, _error("Unauthorized", 401))
            return
        body = json.loads(raw) if raw else None
        status, payload = server.handle(self.command, self.path.split("?")[0], body)
        self._send(status, payload)

    def _send(self, status: int, payload: Any) -> None:
        if isinstance(payload, str):
            data, kind = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
