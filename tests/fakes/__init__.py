"""Fake Slack and OpenAI servers on loopback, driven by the real SDKs in tests."""

from tests.fakes.openai_api import FakeOpenAI, OpenAICall
from tests.fakes.slack_api import FakeSlack, SlackCall

__all__ = ["FakeOpenAI", "FakeSlack", "OpenAICall", "SlackCall"]
