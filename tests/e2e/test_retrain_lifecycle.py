"""The loop closed over HTTP: /retrain → card → Start → job → gate → live → rollback.

The fake OpenAI's jobs take one step per poll (validating_files → queued →
running → succeeded), its chat answers as the live model or as the trained
one depending on the model asked for, and it judges too: the judge prefers
whichever reply the test says.
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.settings import shipped_voice_guide
from storage import TrainingRun
from tests.e2e import slack_requests as sr
from tests.e2e.harness import OPENAI_KEY, RunningBot, running_bot, wait_until
from tests.e2e.test_curation_flow import TOPICS, rate_replies
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack

ANNOUNCE = "CANNOUNCE"
ADMIN = "UADMIN"
TRAINED = "Trained voice:"
GUIDED = "Guide voice:"
JOBS = "/v1/fine_tuning/jobs"


def chat_and_judge(prefer: str) -> Any:
    """Chat replies marked by which model wrote them; the judge picks `prefer`'s."""
    winner_mark = TRAINED if prefer == "candidate" else GUIDED

    def answer(request: dict[str, Any]) -> str:
        if request.get("response_format"):  # the judge: structured output
            prompt = json.dumps(request["messages"])
            first = prompt.find(TRAINED), prompt.find(GUIDED)
            ours_first = first[0] < first[1] if winner_mark == TRAINED else first[1] < first[0]
            return json.dumps({"winner": "A" if ours_first else "B", "reason": "voice"})
        question = str(request["messages"][-1]["content"])
        topic = next((t for t in TOPICS if t in question), "that")
        mark = TRAINED if str(request["model"]).startswith("ft:") else GUIDED
        return f"{mark} here is what to know about {topic}, plainly put."

    return answer


def click(action_id: str, value: str, *, user: str, response_url: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "trigger-3",
        "response_url": response_url,
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "message": {"ts": "1.000001", "text": "card"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": sr.next_ts(),
            }
        ],
    }


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {message}")


@contextmanager
def retrain_bot(
    slack: FakeSlack, openai_fake: FakeOpenAI, db: Path, **overrides: Any
) -> Iterator[RunningBot]:
    values: dict[str, Any] = {
        "admins": ADMIN,
        "announce_channel": ANNOUNCE,
        "poll_seconds": 0.05,
        "retrain_every_hours": 0,
        "dataset_dir": db.parent / "datasets",
        **overrides,
    }
    with running_bot(slack, openai_fake, db, **values) as bot:
        yield bot


def card(bot: RunningBot, user: str = ADMIN) -> dict[str, Any]:
    """Sends /retrain and returns the dry-run card posted to its response_url."""
    before = len(bot.slack.calls("response_url"))
    response = bot.send_command("/retrain", user=user)
    assert response.status == 200
    assert "Building a dry run" in response.body
    posted = bot.slack.wait_for("response_url", count=before + 1, timeout=60)
    return posted[-1].params


def start(bot: RunningBot, posted: dict[str, Any], user: str = ADMIN) -> None:
    dataset_id = button(posted, "retrain_start")["value"]
    url = bot.slack.response_url("start")
    response = bot.send_interaction(click("retrain_start", dataset_id, user=user, response_url=url))
    assert response.status == 200


def finished(bot: RunningBot, timeout: float = 30.0) -> TrainingRun:
    def done() -> TrainingRun | None:
        runs = bot.store.runs()
        return runs[0] if runs and not runs[0].in_flight else None

    run = wait_until(done, timeout=timeout)
    assert run is not None, f"run still in flight: {bot.store.runs()}"
    bot.settle()
    return run


def ask(bot: RunningBot, question: str) -> dict[str, Any]:
    before = len(bot.openai.chat_requests())
    bot.send_event(sr.mention(f"<@UBOT> {question}"))
    wait_until(lambda: len(bot.openai.chat_requests()) > before)
    bot.settle()
    return bot.openai.chat_requests()[-1]


def announcements(slack: FakeSlack) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in slack.calls("chat.postMessage")
        if c.params.get("channel") == ANNOUNCE
    ]


def announced(slack: FakeSlack, words: str) -> str:
    """Waits for an announcement containing `words`: it follows the run's status change."""
    found = wait_until(lambda: [t for t in announcements(slack) if words in t], timeout=10)
    assert found, f"nothing announced with {words!r}: {announcements(slack)}"
    return found[-1]


def test_retrain_promotes_swaps_the_model_and_rolls_back(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db") as bot:
        rate_replies(bot)
        openai_fake.reply_with(chat_and_judge(prefer="candidate"))
        posted = card(bot)
        text = json.dumps(posted["blocks"])
        for figure in ("Examples", "Tokens", "Preference pairs", "Estimate", "Base model"):
            assert figure in text
        assert button(posted, "retrain_dismiss")
        start(bot, posted)
        run = finished(bot)
        assert run.status == "promoted", run
        promoted = announced(slack, "Promoted.")
        assert "win rate" in promoted and "System prompt per reply" in promoted

        request = ask(bot, "what about tent sizes?")
        assert request["model"] == run.trained_model
        assert request["messages"][0]["content"] == bot.settings.short_prompt

        response = bot.send_command("/retrain", user=ADMIN, text="rollback")
        assert "Rolling back" in response.body
        bot.settle()
        request = ask(bot, "and rain shells?")
        assert request["model"] == "gpt-4.1-mini"
        assert request["messages"][0]["content"] == shipped_voice_guide()


def test_a_failed_job_is_reported_and_changes_nothing(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db") as bot:
        rate_replies(bot)
        live = bot.store.live_deployment()
        openai_fake.fail_jobs("Training file has invalid examples.")
        start(bot, card(bot))
        run = finished(bot)
        assert run.status == "failed"
        assert "Training file has invalid examples" in announced(slack, "Failed.")
        assert bot.store.live_deployment() == live


def test_two_start_clicks_at_once_start_one_run(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db", poll_seconds=3600) as bot:
        rate_replies(bot)
        posted = card(bot)
        clicks = [threading.Thread(target=start, args=(bot, posted)) for _ in range(2)]
        for thread in clicks:
            thread.start()
        for thread in clicks:
            thread.join()
        bot.settle()
        assert len(bot.store.runs()) == 1
        said = [str(c.params.get("text", "")) for c in slack.calls("response_url")]
        assert sum("Not started: run #1 is" in text for text in said) == 1, said


def test_a_non_admin_is_refused_and_nothing_starts(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db") as bot:
        rate_replies(bot)
        response = bot.send_command("/retrain", user="U2")
        assert "Only voiceloop admins" in response.body
        posted = card(bot)
        start(bot, posted, user="U2")
        bot.settle()
        assert bot.store.runs() == []
        assert openai_fake.calls(JOBS) == []
        said = [str(c.params.get("text", "")) for c in slack.calls("response_url")]
        assert any("Only voiceloop admins" in text for text in said)


def test_a_held_run_can_be_promoted_anyway_by_an_admin(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db") as bot:
        rate_replies(bot)
        live = bot.store.live_deployment()
        openai_fake.reply_with(chat_and_judge(prefer="live"))
        start(bot, card(bot))
        run = finished(bot)
        assert run.status == "held"
        assert bot.store.live_deployment() == live
        announced(slack, "Held.")
        (hold,) = [
            c.params
            for c in slack.calls("chat.postMessage")
            if c.params.get("channel") == ANNOUNCE and "retrain_promote_anyway" in str(c.params)
        ]
        promote = button(hold, "retrain_promote_anyway")
        url = bot.slack.response_url("promote")
        bot.send_interaction(
            click(promote["action_id"], promote["value"], user="U2", response_url=url)
        )
        bot.settle()
        assert bot.store.live_deployment() == live
        bot.send_interaction(
            click(promote["action_id"], promote["value"], user=ADMIN, response_url=url)
        )
        bot.settle()
        promoted = bot.store.live_deployment()
        assert promoted is not None and promoted.model == run.trained_model


def test_a_restart_while_a_job_runs_resumes_it_and_promotes_once(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "v.db"
    with retrain_bot(slack, openai_fake, db, poll_seconds=3600) as bot:
        rate_replies(bot)
        openai_fake.reply_with(chat_and_judge(prefer="candidate"))
        start(bot, card(bot))
        wait_until(lambda: bool(openai_fake.calls(JOBS)), timeout=30)
        bot.settle()
        (run,) = bot.store.runs()
        assert run.in_flight
    with retrain_bot(slack, openai_fake, db) as bot:
        run = finished(bot)
        assert run.status == "promoted"
        created = [c for c in openai_fake.calls(JOBS) if c.method == "POST"]
        assert len(created) == 1
        promotions = [d for d in bot.store.deployments() if d.run_id == run.id]
        assert len(promotions) == 1


def test_the_scheduler_starts_a_run_only_when_enough_new_examples_exist(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(
        slack, openai_fake, tmp_path / "v.db", retrain_min_new_examples=len(TOPICS) + 5
    ) as bot:
        rate_replies(bot)
        assert bot.service.retraining.scheduled_check() is None
        assert bot.store.runs() == []
    with retrain_bot(slack, openai_fake, tmp_path / "v.db", retrain_min_new_examples=5) as bot:
        run = bot.service.retraining.scheduled_check()
        assert run is not None
        assert bot.store.runs()[0].requested_by == "scheduler"
        assert any(f"run {run.id} started" in t for t in announcements(slack))


def test_a_refused_job_creation_fails_the_run_with_the_providers_message(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db") as bot:
        rate_replies(bot)
        live = bot.store.live_deployment()
        openai_fake.refuse_jobs("This organization is not allowed to create fine-tuning jobs.")
        start(bot, card(bot))
        run = finished(bot)
        assert run.status == "failed"
        failure = announced(slack, "Failed.")
        assert "not allowed to create fine-tuning jobs" in failure
        assert "VOICELOOP_TRAINER=local" in failure
        assert OPENAI_KEY not in json.dumps([c.params for c in slack.calls()])
        # The requester heard it too, in a direct message.
        assert any(
            c.params.get("channel") == ADMIN and "Failed." in str(c.params.get("text"))
            for c in slack.calls("chat.postMessage")
        )
        assert bot.store.live_deployment() == live


def home_opened(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home",
            "event_ts": sr.next_ts()}  # fmt: skip


def home_click(action_id: str, value: str, *, user: str) -> dict[str, Any]:
    payload = click(action_id, value, user=user, response_url="")
    for key in ("response_url", "container", "channel", "message"):
        payload.pop(key)
    payload["container"] = {"type": "view", "view_id": "VHOME"}
    payload["view"] = {"id": "VHOME", "type": "home", "blocks": []}
    return payload


def test_app_home_shows_the_loop_and_gives_admins_the_buttons(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    with retrain_bot(slack, openai_fake, tmp_path / "v.db", retrain_every_hours=12) as bot:
        rate_replies(bot)
        openai_fake.reply_with(chat_and_judge(prefer="candidate"))
        start(bot, card(bot))
        finished(bot)
        announced(slack, "Promoted.")
        bot.send_event(home_opened("U2"))
        bot.send_event(home_opened(ADMIN))
        bot.settle()
        views = {c.params["user_id"]: c.params["view"] for c in slack.calls("views.publish")}
        shown = json.dumps(views[ADMIN], ensure_ascii=False)
        assert "Live:* `ft:" in shown and "System prompt per reply" in shown
        assert "Last evaluation:* win rate" in shown and "Next scheduled check: 2026" in shown
        assert "; 0 new kept examples (as of the dataset built" in shown  # all trained on
        assert "retrain_rollback" in shown and "retrain_preview" in shown
        assert "retrain_rollback" not in json.dumps(views["U2"])

        bot.send_interaction(home_click("retrain_rollback", "home", user=ADMIN))
        bot.settle()
        live = bot.store.live_deployment()
        assert live is not None and live.model == "gpt-4.1-mini"
        told = [c.params for c in slack.calls("chat.postMessage") if c.params["channel"] == ADMIN]
        assert "rolled back" in str(told[-1]["text"])
        assert len(slack.calls("views.publish")) == 3  # the tab was redrawn
