"""Logging set-up: one format, and secrets redacted from every record."""

import logging

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    """Replaces secret values wherever they appear in a record's final message.

    Exceptions from HTTP clients can echo headers or URLs; redacting the
    rendered message catches them no matter which library logged them.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # Longest first so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string must not stop the bot
            message = f"{record.msg} {record.args}"
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Request-level chatter from HTTP clients is noise at INFO.
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai", "waitress.queue"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
