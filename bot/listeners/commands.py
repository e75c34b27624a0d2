"""The /retrain slash command."""

import logging
from collections.abc import Collection
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.retrain import Retrainer, RetrainRunningError, summary
from curation.errors import CurationError

log = logging.getLogger(__name__)


def register(app: App, retrainer: Retrainer, admins: Collection[str]) -> None:
    allowed = set(admins)

    @app.command("/retrain")
    def on_retrain(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        user = command.get("user_id", "")
        if allowed and user not in allowed:
            ack(text="Only voiceloop admins can run /retrain. Ask one of them to run it.")
            return
        ack(text=":hourglass_flowing_sand: Building a new training set from the team's ratings…")
        try:
            result = retrainer.run()
        except RetrainRunningError:
            respond(text="A /retrain is already running; its summary will appear when it's done.")
            return
        except CurationError as e:
            respond(text=f":x: Could not build the training set: {e}")
            return
        except Exception:
            log.exception("/retrain failed")
            respond(text=":x: /retrain failed unexpectedly; the details are in the bot's log.")
            raise
        log.info("/retrain by %s: dataset %s", user, result.version.id if result.version else None)
        respond(text=summary(result))
