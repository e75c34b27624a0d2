"""Exact and near repeats: one survives, and the right one."""

import random
from dataclasses import replace

from curation.dataset.dedup import dedup_text, deduplicate
from curation.dataset.examples import ChatMessage, Example, Sifted
from curation.dataset.minhash import bands_for
from curation.dataset.words import ascii_words

# Outdoor-shop words for random texts that tokenize and shingle like replies.
WORDS = [
    "trail",
    "pack",
    "tent",
    "layer",
    "fleece",
    "shell",
    "boots",
    "socks",
    "stove",
    "fuel",
    "map",
    "rain",
    "wind",
]

ANSWER = (
    "Yes, use a footprint. It protects the tent floor from rocks and roots, and it is a lot "
    "cheaper to replace than the tent itself when it wears through."
)


def example(
    key: str,
    answer: str = ANSWER,
    question: str = "Should I use a footprint?",
    *,
    net: int = 1,
    source: str = "votes",
    created_at: str = "2026-01-01",
) -> Example:
    return Example(
        key=key,
        thread=key,
        source="correction" if source == "correction" else "votes",
        messages=(
            ChatMessage("system", "s"),
            ChatMessage("user", question),
            ChatMessage("assistant", answer),
        ),
        net_votes=net,
        created_at=created_at,
    )


def text_of(e: Example) -> bytes:
    """dedup_text as screening calls it, with the reply's words where it is ASCII."""
    return dedup_text(e, ascii_words(e.target) if e.target.isascii() else None)


def deduplicated(examples: list[Example], similarity: float) -> Sifted:
    return deduplicate(examples, [text_of(e) for e in examples], similarity)


def test_exact_repeats_keep_the_best_rated() -> None:
    result = deduplicated(
        [example("C/1", net=1), example("C/2", answer=ANSWER.upper(), net=3)], 0.85
    )
    assert [e.key for e in result.kept] == ["C/2"]
    assert [(r.key, r.reason, r.detail) for r in result.rejected] == [
        ("C/1", "duplicate", "same as C/2")
    ]


def test_a_correction_beats_votes_and_newer_beats_older() -> None:
    corrected = example("C/1", source="correction", net=-1)
    voted = example("C/2", net=5)
    assert [e.key for e in deduplicated([voted, corrected], 0.85).kept] == ["C/1"]
    old, new = example("C/3", created_at="2026-01-01"), example("C/4", created_at="2026-03-01")
    assert [e.key for e in deduplicated([old, new], 0.85).kept] == ["C/4"]


def test_near_repeats_are_dropped_and_different_answers_kept() -> None:
    reworded = ANSWER.replace("a lot cheaper", "much cheaper")
    different = example("C/3", answer="Pack layers: a fleece, a shell, and a warm hat for camp.")
    result = deduplicated([example("C/1"), example("C/2", answer=reworded), different], 0.85)
    assert sorted(e.key for e in result.kept) == ["C/1", "C/3"]
    assert [(r.key, r.reason) for r in result.rejected] == [("C/2", "near_duplicate")]


def test_the_same_answer_to_a_different_question_is_kept() -> None:
    other = example("C/2", question="What do you think of the Ridgeline 2 footprint for wet camps?")
    assert len(deduplicated([example("C/1"), other], 0.85).kept) == 2


def test_similarity_one_only_drops_exact_repeats() -> None:
    reworded = replace(example("C/2"), messages=example("C/2", answer=ANSWER + " Truly.").messages)
    assert len(deduplicated([example("C/1"), reworded], 1.0).kept) == 2


def _jaccard(a: Example, b: Example) -> float:
    def grams(e: Example) -> set[bytes]:
        text = text_of(e)
        return {text[i : i + 5] for i in range(len(text) - 4)}

    return len(grams(a) & grams(b)) / len(grams(a) | grams(b))


def test_near_repeats_are_found_reliably() -> None:
    """LSH only proposes candidates; a pair it fails to propose stays in the
    dataset, so nearly every pair above the threshold must be proposed."""
    rng = random.Random(3)
    examples, near = [], []
    for i in range(300):
        question = " ".join(rng.choices(WORDS, k=8))
        answer = rng.choices(WORDS, k=40)
        reworded = list(answer)
        for _ in range(rng.randint(1, 3)):
            reworded[rng.randrange(len(reworded))] = rng.choice(WORDS)
        first = example(f"A/{i}", " ".join(answer), question, net=2)
        second = example(f"B/{i}", " ".join(reworded), question, net=1)
        examples += [first, second]
        if 0.85 <= _jaccard(first, second) < 1:
            near.append(second.key)
    dropped = {r.key for r in deduplicated(examples, 0.85).rejected if r.reason == "near_duplicate"}
    assert len(near) > 100
    assert len(dropped & set(near)) >= 0.97 * len(near)


def test_the_ascii_shortcut_reads_the_same_words() -> None:
    e = example("C/1", "Yes: it_works, 2x as well!", "Is the TRAIL open?")
    assert dedup_text(e, ascii_words(e.target)) == b"is the trail open yes it_works 2x as well"
    assert dedup_text(e, None) == dedup_text(e, ascii_words(e.target))
    # Other text takes the general path, whatever words are passed.
    french = example("C/2", "Oui, le sentier est ouvert.", "Ça marche?")
    assert (
        dedup_text(french, ascii_words(french.target))
        == b"\xc3\xa7a marche oui le sentier est ouvert"
    )


def test_examples_alike_but_below_the_threshold_are_kept_and_related() -> None:
    reworded = ANSWER.replace("a lot cheaper", "much cheaper").replace("rocks and roots", "rocks")
    other = "No, a groundsheet is optional on soft forest duff; pack it for rocky sites."
    result = deduplicated(
        [example("C/1"), example("C/2", answer=reworded), example("C/3", answer=other)], 0.85
    )
    assert [e.key for e in result.kept] == ["C/1", "C/2", "C/3"]
    assert result.related == [("C/1", "C/2")]
    # At a lower threshold the same pair is one example, and nothing is related.
    lower = deduplicated([example("C/1"), example("C/2", answer=reworded)], 0.7)
    assert [r.reason for r in lower.rejected] == ["near_duplicate"]
    assert lower.related == []


def test_one_answer_to_many_questions_costs_links_in_proportion() -> None:
    # A bot that gives one answer to thousands of questions puts them all in
    # the same LSH buckets; linking every pair would grow with the square.
    rng = random.Random(3)
    examples = [
        example(f"C/{i}", question=" ".join(rng.choice(WORDS) for _ in range(30)) + "?")
        for i in range(1500)
    ]
    result = deduplicated(examples, 0.85)
    assert len(result.kept) + len(result.rejected) == 1500
    assert len(result.kept) > 100
    # Each kept example links to at most one earlier example per band.
    bands, _rows = bands_for(0.85)
    assert 0 < len(result.related) <= len(result.kept) * bands
    assert len(result.related) == len(set(result.related))
