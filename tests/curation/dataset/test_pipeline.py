"""The whole pipeline on labeled replies: accounting, privacy, pairs, report."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from curation.dataset.base_models import MIN_TRAINING_EXAMPLES
from curation.dataset.examples import LabeledReply
from curation.dataset.labels import LabelPolicy
from curation.dataset.pipeline import CurationConfig, curate
from curation.dataset.rules import CurationRules, FormatRules, LimitRules, ToneRules
from curation.dataset.split import thread_position
from storage.records import ChatTurn
from tests.curation.dataset.factories import SYSTEM, distinct, labeled

CONFIG = CurationConfig(
    system_prompt=SYSTEM,
    base_model="gpt-4.1-mini-2025-04-14",
    rules=CurationRules(
        format=FormatRules(max_exclamations=1), tone=ToneRules(banned_phrases=["great question"])
    ),
    policy=LabelPolicy(good_threshold=1, contested_share=0.3),
    validation_share=0.2,
)


def test_every_reply_is_either_kept_or_has_one_reason() -> None:
    replies = [
        labeled("1.1", text=distinct(1)),
        labeled("2.1", text=distinct(2), up=0, down=0),
        labeled("3.1", text=distinct(3), up=1, down=1),
        labeled("4.1", text=distinct(4), up=0, down=2),
        labeled("5.1", text="Great question! Bring water."),
        labeled("6.1", text=distinct(1)),  # an exact repeat of 1.1
        labeled("7.1", text=distinct(7), question=""),
        labeled("8.1", text="Wow!! Amazing!!"),
        labeled("9.1", up=0, down=1, corrections=(distinct(9), distinct(10))),
    ]
    curated = curate(replies, CONFIG)
    kept = {e.key for e in curated.train + curated.validation}
    reasons = {r.key: r.reason for r in curated.rejections if r.reason != "superseded_correction"}
    assert kept == {"C1/1.1", "C1/9.1"}
    assert reasons == {
        "C1/2.1": "unrated",
        "C1/3.1": "contested",
        "C1/4.1": "bad",
        "C1/5.1": "style:banned_phrase",
        "C1/6.1": "duplicate",
        "C1/7.1": "no_question",
        "C1/8.1": "style:max_exclamations",
    }
    assert [r.key for r in curated.rejections if r.reason == "superseded_correction"] == ["C1/9.1"]
    # Each reply's own reasons in reply order, then what later stages refused.
    assert [r.key for r in curated.rejections] == [
        "C1/2.1",
        "C1/3.1",
        "C1/4.1",
        "C1/5.1",
        "C1/7.1",
        "C1/8.1",
        "C1/9.1",
        "C1/6.1",
    ]
    assert curated.labels == {
        "good": 5,
        "unrated": 1,
        "contested": 1,
        "bad": 1,
        "corrected": 1,
    }


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.integers(0, 3), st.booleans(), st.integers(0, 5), st.booleans()
        ),
        max_size=25,
    )
)
@settings(max_examples=30, deadline=None)
def test_accounting_holds_for_any_ratings(
    rows: list[tuple[int, int, bool, int, bool]],
) -> None:
    replies: list[LabeledReply] = [
        labeled(
            f"{i}.1",
            text=distinct(variant),
            up=up,
            down=down,
            corrections=(distinct(variant + 50),) if fixed else (),
            thread_ts=f"{i % 4}.0" if threaded else None,
        )
        for i, (up, down, fixed, variant, threaded) in enumerate(rows)
    ]
    curated = curate(replies, CONFIG)
    kept = [e.key for e in curated.train + curated.validation]
    rejected = [r.key for r in curated.rejections if r.reason != "superseded_correction"]
    assert sorted(kept + rejected) == sorted(r.key for r in replies)
    assert {e.thread for e in curated.train}.isdisjoint({e.thread for e in curated.validation})
    json.dumps(curated.report())


def test_personal_data_never_reaches_the_examples() -> None:
    reply = labeled(
        question="Can you email jo@fernleaf.example about <@U024BE7LH>'s order?",
        text="Sure, I'll write to jo@fernleaf.example and call (555) 123-4567.",
        context=(ChatTurn("user", "My card is 4111 1111 1111 1111"),),
    )
    curated = curate([reply], CONFIG)
    written = json.dumps([m.as_json() for m in curated.train[0].messages])
    for secret in ("jo@fernleaf", "U024BE7LH", "555", "4111"):
        assert secret not in written
    assert curated.scrubbed == {"email": 2, "person": 1, "card": 1, "phone": 1}


def test_corrections_make_preference_pairs_on_the_examples_side() -> None:
    replies = [
        labeled(f"{i}.1", text=f"Meh {i}.", up=0, down=1, corrections=(distinct(i),))
        for i in range(30)
    ]
    curated = curate(replies, CONFIG)
    assert {p.key for p in curated.train_pairs} == {e.key for e in curated.train}
    assert {p.key for p in curated.validation_pairs} == {e.key for e in curated.validation}
    pair = curated.train_pairs[0]
    assert pair.non_preferred.startswith("Meh")
    assert pair.as_json()["preferred_output"] == [{"role": "assistant", "content": pair.preferred}]


def test_report_and_warnings() -> None:
    curated = curate([labeled(text=distinct(1))], CONFIG)
    report = curated.report()
    assert report["examples"] == {"train": 1, "validation": 0}
    assert report["rejections"] == {"counts": {}, "replies": []}
    warnings = curated.warnings()
    assert any(f"at least {MIN_TRAINING_EXAMPLES}" in w for w in warnings)
    assert any("no validation examples" in w for w in warnings)
    assert curated.estimate.epochs == 25
    assert curated.estimate.billed_tokens == 25 * curated.train[0].tokens


def test_a_kept_reply_beats_a_bad_reply_to_the_same_prompt() -> None:
    question = "Which stove for a winter overnight? Ask jo@fernleaf.example"
    replies = [
        labeled("1.1", question=question, text=distinct(1), up=2),
        labeled("2.1", question=question, text="Any stove is fine lol", up=0, down=2),
        labeled("3.1", question="Something else entirely?", text="Nope.", up=0, down=1),
    ]
    curated = curate(replies, CONFIG)
    pairs = curated.train_pairs + curated.validation_pairs
    assert [(p.key, p.loser) for p in pairs] == [("C1/1.1", "C1/2.1")]
    assert pairs[0].non_preferred == "Any stove is fine lol"
    assert pairs[0].prompt[-1].content == "Which stove for a winter overnight? Ask [email]"
    # The bad reply is still reported as not kept.
    assert {r.key: r.reason for r in curated.rejections}["C1/2.1"] == "bad"


LIMITED = CurationConfig(
    system_prompt=SYSTEM,
    base_model="gpt-4.1-mini-2025-04-14",
    rules=CurationRules(limits=LimitRules(max_example_tokens=120)),
)


def test_an_example_over_the_token_limit_loses_old_context_first_then_goes() -> None:
    turns = tuple(
        ChatTurn("user" if k % 2 == 0 else "assistant", distinct(k + 20)) for k in range(4)
    )
    replies = [
        labeled("1.1", text=distinct(1), context=turns),
        labeled("2.1", text=" ".join(distinct(k) for k in range(2, 8))),
    ]
    curated = curate(replies, LIMITED)
    (kept,) = curated.train + curated.validation
    assert kept.key == "C1/1.1"
    assert curated.trimmed == 1
    assert kept.tokens <= 120
    # The newest turns stay, in order, right before the question.
    contents = [m.content for m in kept.messages]
    kept_turns = contents[1:-2]
    assert kept_turns and kept_turns == [t.content for t in turns][-len(kept_turns) :]
    # Nothing was cut inside a message.
    assert contents[-1] == distinct(1)
    (refused,) = curated.rejections
    assert (refused.key, refused.reason) == ("C1/2.1", "too_long")
    assert refused.detail.endswith("without any thread context, limit 120")
    assert curated.report()["context_trimmed"] == 1


def test_a_pair_whose_longer_answer_does_not_fit_is_counted_not_written() -> None:
    fits = labeled("1.1", text="Meh.", up=0, down=1, corrections=(distinct(1),))
    long_loser = " ".join(distinct(k) for k in range(2, 8))
    too_long = labeled("2.1", text=long_loser, up=0, down=1, corrections=(distinct(2),))
    curated = curate([fits, too_long], LIMITED)
    assert {e.key for e in curated.train + curated.validation} == {"C1/1.1", "C1/2.1"}
    pairs = curated.train_pairs + curated.validation_pairs
    assert [p.key for p in pairs] == ["C1/1.1"]
    assert pairs[0].tokens <= 120
    assert curated.pairs_too_long == 1
    assert curated.report()["preference_pairs"]["too_long"] == 1  # type: ignore[index]


def test_an_example_the_provider_would_refuse_is_rejected_as_invalid_format() -> None:
    # A blank thread turn cannot be sent: every message needs content.
    blank = labeled("1.1", text=distinct(1), context=(ChatTurn("user", "  "),))
    curated = curate([blank, labeled("2.1", text=distinct(2))], CONFIG)
    reasons = {r.key: (r.reason, r.detail) for r in curated.rejections}
    reason, detail = reasons["C1/1.1"]
    assert reason == "invalid_format"
    assert "message 1" in detail
    assert [e.key for e in curated.train + curated.validation] == ["C1/2.1"]


def test_a_reworded_answer_lands_on_the_same_side_as_its_original() -> None:
    original = (
        "Yes, use a footprint. It protects the tent floor from rocks and roots, and it is a "
        "lot cheaper to replace than the tent itself when it wears through."
    )
    reworded = original.replace("a lot cheaper", "much cheaper").replace("rocks and roots", "rocks")
    # Two threads the split alone would put on different sides.
    addresses = [f"{n}.0" for n in range(1, 200)]
    held = next(a for a in addresses if thread_position(f"C1/{a}") < CONFIG.validation_share)
    trained = next(a for a in addresses if thread_position(f"C1/{a}") > 0.9)
    replies = [
        labeled("1.1", text=original, thread_ts=trained),
        labeled("2.1", text=reworded, thread_ts=held),
        *(labeled(f"{i}.5", text=distinct(i), thread_ts=f"{i}.5") for i in range(10, 30)),
    ]
    curated = curate(replies, CONFIG)
    sides = {e.key: "train" for e in curated.train} | {e.key: "val" for e in curated.validation}
    assert sides["C1/1.1"] == sides["C1/2.1"] == "val"


def test_progress_reports_every_stage_to_its_end() -> None:
    replies = [labeled(f"{i}.1", text=distinct(i)) for i in range(9)]
    heard: list[tuple[str, int, int]] = []
    curate(replies, CONFIG, lambda stage, done, total: heard.append((stage, done, total)))
    last = {stage: (done, total) for stage, done, total in heard}
    assert len(last) == 3
    assert heard[0] == ("Checking replies", 0, 9)
    assert all(done == total for done, total in last.values())
