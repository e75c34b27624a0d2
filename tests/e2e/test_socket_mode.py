"""`voiceloop serve` in Socket Mode: events arrive over the socket, acks go back."""

import json
import signal
import subprocess
from pathlib import Path

from tests.e2e import slack_requests as sr
from tests.e2e.harness import BOT_TOKEN, OPENAI_KEY
from tests.e2e.test_serve_command import VOICELOOP, clean_env
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode

APP_TOKEN = "xapp-test-app-token-24680"


def test_socket_mode_answers_a_mention_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with (
        FakeSocketMode() as socket,
        FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as slack,
        FakeOpenAI(api_key=OPENAI_KEY) as openai,
    ):
        slack.socket_mode_url = socket.url
        env = clean_env(
            tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
            OPENAI_API_KEY=OPENAI_KEY, OPENAI_BASE_URL=openai.base_url, SLACK_API_URL=slack.url,
        )  # fmt: skip
        process = subprocess.Popen(
            [*VOICELOOP, "serve"], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            socket.wait_connected(timeout=30)
            body = json.loads(sr.event_body(sr.mention("<@UBOT> are you there?")))
            envelope = socket.send_event(body)
            socket.wait_for_ack(envelope)
            update = slack.wait_for("chat.update", timeout=10)[0]
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert "Sorry" not in update.params["text"]
    assert process.returncode == 0, stderr
    assert "Socket Mode" in stderr
    assert "Traceback" not in stderr
    assert APP_TOKEN not in stderr and BOT_TOKEN not in stderr
