"""The /retrain slash command."""

import logging
from collections.abc import Collection
from typing import Any

from slack_bolt import Ack, App, Respond

from curation import BuildResult, CurationError, Lifecycle, RetrainRunningError

log = logging.getLogger(__name__)


def register(
    app: App, lifecycle: Lifecycle, admins: Collection[str], example_brand: str | None = None
) -> None:
    """`example_brand`: a line saying the team still uses the example brand, or None."""
    allowed = set(admins)

    @app.command("/retrain")
    def on_retrain(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        user = command.get("user_id", "")
        if allowed and user not in allowed:
            ack(text="Only voiceloop admins can run /retrain. Ask one of them to run it.")
            return
        ack(text=":hourglass_flowing_sand: Building a new training set from the team's ratings…")
        try:
            result = lifecycle.preview().build
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
        notice = (
            f"\n• :warning: {example_brand[:1].upper()}{example_brand[1:]}" if example_brand else ""
        )
        respond(text=summary(result) + notice)


def summary(result: BuildResult) -> str:
    """The outcome in Slack mrkdwn: what was kept, what was not and why, the cost."""
    curated = result.curated
    lines = []
    if result.version is None:
        lines.append(
            f":warning: No training set yet: none of the {curated.replies:,} stored replies "
            "could be used. Rate or correct more replies, then run `/retrain` again."
        )
    else:
        version = result.version
        lines.append(f":white_check_mark: Training set `{version.id}` is ready.")
        lines.append(
            f"• *{len(curated.train):,}* training and *{len(curated.validation):,}* validation "
            f"examples ({curated.train_tokens + curated.validation_tokens:,} tokens), "
            f"{version.preference_pairs:,} preference pairs"
        )
        lines.append(f"• {curated.estimate.describe(curated.model.name).capitalize()}")
    if curated.rejections:
        top = list(curated.rejection_counts.items())[:5]
        reasons = ", ".join(f"{reason} ({count:,})" for reason, count in top)
        lines.append(f"• Not kept: {len(curated.rejections):,} ({reasons})")
    lines.extend(f"• :warning: {warning}" for warning in curated.warnings())
    if result.version is not None:
        lines.append(
            "Training runs are not part of this release yet: the files are in "
            f"`{result.version.path}` for a fine-tuning job."
        )
    return "\n".join(lines)
