"""Retries after which Slack may have acted anyway are noted for the calling thread."""

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.chat.retries import NotedRetries, retried_calls
from tests.fakes.slack_api import FakeSlack


def client(slack: FakeSlack) -> WebClient:
    fast = FixedValueRetryIntervalCalculator(0.01)
    return WebClient(
        token="xoxb-test",
        base_url=slack.url,
        retry_handlers=[
            NotedRetries(ServerErrorRetryHandler(max_retry_count=2, interval_calculator=fast)),
            RateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def test_a_retry_after_a_server_error_is_noted_inside_the_block_only() -> None:
    with FakeSlack() as slack:
        web = client(slack)
        slack.fail_server("chat.postMessage")
        with retried_calls() as retried:
            web.chat_postMessage(channel="C1", text="hi")
            web.auth_test()
        assert retried == {"chat.postMessage"}
        slack.fail_server("chat.postMessage")
        web.chat_postMessage(channel="C1", text="again")  # nobody watching: nothing kept
        assert retried == {"chat.postMessage"}


def test_a_rate_limited_call_is_not_noted() -> None:
    with FakeSlack() as slack:
        web = client(slack)
        slack.fail_next("chat.postMessage", retry_after=0)
        with retried_calls() as retried:
            web.chat_postMessage(channel="C1", text="hi")
        assert retried == set()
        assert len(slack.calls("chat.postMessage")) == 2
