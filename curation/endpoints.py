"""openai SDK clients by base URL: the chat endpoint, the trainer, a model server."""

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import openai


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server: base_url None is the SDK's default (OpenAI)."""

    base_url: str | None
    api_key: str | None


class Endpoints:
    """One client per base URL, each with the key that URL needs: the
    candidate may answer on a self-hosted server while the judge is OpenAI."""

    def __init__(
        self,
        default: Endpoint,
        others: tuple[Endpoint, ...] = (),
        *,
        max_retries: int = 3,
        timeout: float = 60.0,
    ) -> None:
        self.default = default
        self._keys = {e.base_url.rstrip("/"): e.api_key for e in others if e.base_url}
        self._max_retries = max_retries
        self._timeout = timeout
        self._clients: dict[str | None, openai.OpenAI] = {}
        self._lock = threading.Lock()

    def client(self, base_url: str | None = None) -> "openai.OpenAI":
        # Imported on first use: the CLI's dataset commands never call a model.
        import openai

        url = base_url.rstrip("/") if base_url else self.default.base_url
        key = self._keys.get(url or "", self.default.api_key) if base_url else self.default.api_key
        with self._lock:
            if url not in self._clients:
                self._clients[url] = openai.OpenAI(
                    # Self-hosted servers often need no key, but the SDK insists on one.
                    api_key=key or "unused",
                    base_url=url,
                    max_retries=self._max_retries,
                    timeout=self._timeout,
                )
            return self._clients[url]
