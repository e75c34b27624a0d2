"""/retrain and its buttons: the dry-run card, Start, Cancel, Promote anyway, Rollback.

Every listener acks at once and hands its work to the background executor:
a dry run curates the whole history (in a worker process), and starting,
cancelling, promoting and rolling back talk to the database and the provider.
The same buttons appear on messages and on App Home; a click on App Home has
no message to answer in, so its answer comes as a direct message and the tab
is redrawn.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol

from slack_bolt import Ack, App, Respond

from bot import retrain_blocks as blocks
from bot.errors import USER_FACING
from bot.retraining import Retraining
from curation import RetrainRunningError
from storage import RunInFlightError

log = logging.getLogger(__name__)

REFUSAL = (
    "Only voiceloop admins can retrain, promote or roll back the bot. "
    "Ask one of them, or see what is live with `/retrain status`."
)
BUSY = "A dry run is already being built; its card will appear when it's done."


class Answer(Protocol):
    def __call__(
        self, text: str, message: list[blocks.Block] | None = None, *, replace: bool = False
    ) -> None: ...


# What an admin's button click does once acked: (user, action, answer).
ButtonWork = Callable[[str, dict[str, Any], Answer], None]


def register(app: App, retraining: Retraining, background: Executor) -> None:
    def later(answer: Answer, what: str, work: Callable[[], None]) -> None:
        """Runs `work` off the listener thread; a failure is told, never swallowed."""

        def run() -> None:
            try:
                work()
            except RetrainRunningError:
                answer(BUSY)
            except USER_FACING as e:
                answer(f":x: Could not {what}: {e}")
            except Exception:
                log.exception("could not %s", what)
                answer(
                    f":x: Could not {what}: something unexpected went wrong; "
                    "the details are in the bot's log."
                )

        background.submit(run)

    def answer_command(respond: Respond) -> Answer:
        def answer(
            text: str, message: list[blocks.Block] | None = None, *, replace: bool = False
        ) -> None:
            respond(text=text, blocks=message or blocks.text_blocks(text))

        return answer

    def answer_click(body: dict[str, Any], respond: Respond) -> Answer:
        user = _user(body)
        on_home = (body.get("view") or {}).get("type") == "home"

        def answer(
            text: str, message: list[blocks.Block] | None = None, *, replace: bool = False
        ) -> None:
            if on_home:
                retraining.tell(user, text, message)
                retraining.publish_home(user)
            else:
                message = message or blocks.text_blocks(text)
                respond(text=text, blocks=message, replace_original=replace)

        return answer

    @app.command("/retrain")
    def on_retrain(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        user = str(command.get("user_id", ""))
        verb = str(command.get("text", "")).strip().lower()
        answer = answer_command(respond)
        if verb in ("help", "?"):
            ack(text=blocks.HELP)
        elif verb == "status":
            ack(text=":hourglass_flowing_sand: Looking up the live model and the run in flight…")
            later(
                answer,
                "show the status",
                lambda: answer(*blocks.status_message(retraining.status())),
            )
        elif not retraining.is_admin(user):
            ack(text=REFUSAL)
        elif verb == "rollback":
            ack(text=":hourglass_flowing_sand: Rolling back to the previous deployment…")
            later(answer, "roll back", lambda: _rollback(retraining, user, answer))
        elif verb == "":
            ack(text=":hourglass_flowing_sand: Building a dry run from the team's ratings…")
            later(
                answer,
                "build the dry run",
                lambda: answer(*blocks.dry_run_card(retraining.dry_run())),
            )
        else:
            ack(text=f"I don't know `/retrain {verb}`.\n{blocks.HELP}")

    def admin_click(action_id: str, what: str, work: ButtonWork) -> None:
        """A button only admins may use: acked at once, refused politely for
        anyone else, its work done off the listener thread."""

        @app.action(action_id)
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
        ) -> None:
            ack()
            user, answer = _user(body), answer_click(body, respond)
            if not retraining.is_admin(user):
                answer(REFUSAL)
                return
            later(answer, what, lambda: work(user, action, answer))

    def preview(user: str, action: dict[str, Any], answer: Answer) -> None:
        answer(*blocks.dry_run_card(retraining.dry_run()))

    def start(user: str, action: dict[str, Any], answer: Answer) -> None:
        try:
            run = retraining.start(str(action.get("value", "")), user)
        except RunInFlightError as e:
            answer(f":hourglass: Not started: {e}.")
            return
        answer(*blocks.run_started_reply(run), replace=True)

    def cancel(user: str, action: dict[str, Any], answer: Answer) -> None:
        answer(blocks.run_cancelled(retraining.lifecycle.cancel(_run_id(action), user), user))

    def promote(user: str, action: dict[str, Any], answer: Answer) -> None:
        deployment = retraining.lifecycle.promote_anyway(_run_id(action), user)
        text = blocks.promoted_anyway(deployment, user)
        answer(text, replace=True)
        retraining.announce(text, blocks.text_blocks(text))

    def rollback(user: str, action: dict[str, Any], answer: Answer) -> None:
        _rollback(retraining, user, answer)

    admin_click(blocks.PREVIEW_ACTION, "build the dry run", preview)
    admin_click(blocks.START_ACTION, "start the run", start)
    admin_click(blocks.CANCEL_RUN_ACTION, "cancel the run", cancel)
    admin_click(blocks.PROMOTE_ACTION, "promote the run", promote)
    admin_click(blocks.ROLLBACK_ACTION, "roll back", rollback)

    @app.action(blocks.DISMISS_ACTION)
    def on_dismiss(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        answer_click(body, respond)("Dry run dismissed; nothing was started.", replace=True)


def _rollback(retraining: Retraining, user: str, answer: Answer) -> None:
    deployment = retraining.lifecycle.rollback(user)
    text = blocks.rolled_back(deployment, user)
    answer(text)
    retraining.announce(text, blocks.text_blocks(text))


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _run_id(action: dict[str, Any]) -> int:
    value = str(action.get("value", ""))
    return int(value) if value.isdigit() else 0
