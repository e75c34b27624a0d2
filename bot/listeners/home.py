"""App Home: what is live, what is training, what is next; admins get the buttons."""

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App

from bot.retraining import Retraining

log = logging.getLogger(__name__)


def register(app: App, retraining: Retraining, background: Executor) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        # The Messages tab opens with this event too; only the Home tab is ours to draw.
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        user = str(event["user"])

        def publish() -> None:
            try:
                retraining.publish_home(user)
            except Exception:
                log.exception("could not draw App Home for %s", user)

        background.submit(publish)
