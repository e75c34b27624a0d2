"""openai SDK errors as the flow's two kinds: a refusal (final) or an outage (may pass).

openai is imported only when an error is looked at: the CLI loads curation
without it, and it takes most of a second to import.
"""

from curation.training.backend import (
    LOCAL_HINT,
    TrainingRefusedError,
    TrainingUnavailableError,
)


def classified(e: Exception, what: str, *, hint: bool = True) -> Exception:
    """A 4xx other than 429 is a refusal and (with `hint`) says how to switch
    backends; 429, 5xx, timeouts and connection errors may pass."""
    import openai

    if not isinstance(e, openai.APIError):
        return e
    message = provider_message(e)
    if isinstance(e, openai.APIStatusError) and 400 <= e.status_code < 500 and e.status_code != 429:
        return TrainingRefusedError(f"{what}: {message}." + (f" {LOCAL_HINT}" if hint else ""))
    return TrainingUnavailableError(f"{what}: {message}")


def provider_message(e: Exception) -> str:
    """The provider's own words, with the HTTP status; never the request."""
    import openai

    if isinstance(e, openai.APIStatusError):
        body = e.body if isinstance(e.body, dict) else {}
        text = body.get("message") if isinstance(body.get("message"), str) else None
        return f"HTTP {e.status_code}, {(text or e.message).rstrip('.')}"
    if isinstance(e, openai.APITimeoutError):
        return "the request timed out"
    if isinstance(e, openai.APIConnectionError):
        return "could not connect"
    return str(e)
