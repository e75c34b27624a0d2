"""LoRA adapters on an OpenAI-compatible server with vLLM's runtime LoRA API:
load, list, unload. The openai SDK carries the calls (its retries, timeouts and
API key), since chat goes through it too.

vLLM answers each name from what it loaded under that name, and can serve stale
cached results when a name is reused, so every run loads under a name of its own.
"""

from dataclasses import dataclass

import openai

from curation.training.backend import TrainingRefusedError, TrainingUnavailableError

ADAPTER_PREFIX = "voiceloop-"


def adapter_name(run_id: int) -> str:
    return f"{ADAPTER_PREFIX}{run_id}"


@dataclass
class AdapterServer:
    client: openai.OpenAI

    def served_models(self) -> list[str]:
        try:
            return [model.id for model in self.client.models.list()]
        except openai.OpenAIError as e:
            raise _error(e, f"cannot list the models at {self.client.base_url}") from e

    def load(self, name: str, path: str) -> None:
        """Load `path` under `name`, and return only once the server lists it.
        Loading a name that is already listed does nothing, so a load that a
        restart interrupted can simply be done again."""
        if name in self.served_models():
            return
        try:
            self.client.post(
                "/load_lora_adapter", cast_to=str, body={"lora_name": name, "lora_path": path}
            )
        except openai.NotFoundError as e:
            raise TrainingRefusedError(
                f"{self.client.base_url} has no runtime LoRA API ({_reason(e)}); start vLLM "
                "with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"
            ) from e
        except openai.OpenAIError as e:
            where = f"the server at {self.client.base_url} did not load {path} as {name}"
            raise _error(e, where) from e
        if name not in self.served_models():
            raise TrainingRefusedError(
                f"the server at {self.client.base_url} accepted {name} but does not list it "
                "in /v1/models; the live model was left as it is"
            )

    def unload(self, name: str) -> None:
        try:
            self.client.post("/unload_lora_adapter", cast_to=str, body={"lora_name": name})
        except openai.NotFoundError:
            return  # already gone (a server restart drops runtime adapters)
        except openai.OpenAIError as e:
            where = f"the server at {self.client.base_url} did not unload {name}"
            raise _error(e, where) from e


def _error(error: openai.OpenAIError, where: str) -> Exception:
    """A refusal (4xx) fails the run; anything that may pass (no connection,
    5xx, 429) is worth trying again later."""
    message = f"{where}: {_reason(error)}"
    status = error.status_code if isinstance(error, openai.APIStatusError) else None
    if status is not None and status < 500 and status != 429:
        return TrainingRefusedError(message)
    return TrainingUnavailableError(message)


def _reason(error: openai.OpenAIError) -> str:
    if isinstance(error, openai.APIStatusError):
        body = error.body
        message = body.get("message") if isinstance(body, dict) else None
        return f"HTTP {error.status_code}: {message or error.message}"
    if isinstance(error, openai.APIConnectionError):
        return "cannot connect"
    return type(error).__name__
