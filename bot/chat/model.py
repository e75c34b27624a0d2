"""Talks to the chat model through the openai SDK's Chat Completions API."""

import logging
import threading
import time
from dataclasses import dataclass

import openai

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_ms: int


class ChatModelError(Exception):
    """The model could not produce a reply (after the SDK's retries)."""


class ChatModel:
    """One openai client per base URL: a promoted model may live on another server.

    Chat Completions is the API every OpenAI-compatible server implements, so a
    deployment is fully described by (base_url, model, system prompt).
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        max_retries: int,
        timeout: float,
        max_tokens: int,
    ) -> None:
        # Self-hosted servers often need no key, but the SDK insists on one.
        self._api_key = api_key or "unused"
        self._default_base_url = base_url
        self._max_retries = max_retries
        self._timeout = timeout
        self._max_tokens = max_tokens
        self._clients: dict[str | None, openai.OpenAI] = {}
        self._lock = threading.Lock()

    def client(self, base_url: str | None = None) -> openai.OpenAI:
        key = base_url or self._default_base_url
        with self._lock:
            if key not in self._clients:
                self._clients[key] = openai.OpenAI(
                    api_key=self._api_key,
                    base_url=key,
                    max_retries=self._max_retries,
                    timeout=self._timeout,
                )
            return self._clients[key]

    def complete(
        self, messages: list[dict[str, str]], *, model: str, base_url: str | None = None
    ) -> Completion:
        started = time.perf_counter()
        try:
            response = self.client(base_url).chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_completion_tokens=self._max_tokens,
            )
        except openai.APIStatusError as e:
            raise ChatModelError(f"{type(e).__name__} (HTTP {e.status_code})") from e
        except openai.APIError as e:
            raise ChatModelError(type(e).__name__) from e
        latency_ms = round((time.perf_counter() - started) * 1000)
        choice = response.choices[0] if response.choices else None
        text = (choice.message.content or "").strip() if choice else ""
        if not text:
            raise ChatModelError("the model returned an empty reply")
        usage = response.usage
        return Completion(
            text=text,
            model=response.model or model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency_ms=latency_ms,
        )
