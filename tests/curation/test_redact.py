"""Secrets never reach a run's error, its events or an announcement."""

from curation.redact import redact


def test_keys_and_tokens_are_redacted_and_the_rest_is_kept() -> None:
    text = (
        "Incorrect API key provided: sk-test-voiceloop-1234. Bearer abcdefgh12345678 "
        "xoxb-1234-5678-abcdef, xapp-1-A0-123456; HTTP 401"
    )
    assert redact(text) == (
        "Incorrect API key provided: [redacted]. Bearer [redacted] [redacted], [redacted]; HTTP 401"
    )
    assert redact("job ftjob-000001 failed: bad file") == "job ftjob-000001 failed: bad file"
