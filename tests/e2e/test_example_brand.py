"""Until a team has its own prompts, `/retrain` says it is using the example brand."""

from pathlib import Path

from tests.e2e.harness import running_bot
from tests.e2e.test_curation_flow import rate_replies
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.slack_api import FakeSlack


def test_retrain_names_the_example_brand_until_the_team_has_its_own(
    slack: FakeSlack, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    guide = tmp_path / "voice_guide.md"
    guide.write_text("You are Pim, the assistant for Acme Kites. Be brief.", encoding="utf-8")
    own = {"voice_guide": guide, "short_prompt": "You are Pim, the assistant for Acme Kites."}
    for overrides, names_example in (({}, True), (own, False)):
        slack.reset()
        db = tmp_path / f"{names_example}.db"
        with running_bot(slack, openai_fake, db, dataset_dir=tmp_path / "d", **overrides) as bot:
            rate_replies(bot)
            bot.send_command("/retrain", user="U2")
            # The dry run curates in a worker process: give it time to start.
            (posted,) = slack.wait_for("response_url", timeout=60)
            bot.settle()
        text = posted.params["text"]
        assert ("Using the example brand (Fernleaf Outdoor Co. / Brightside)" in text) is (
            names_example
        ), text
