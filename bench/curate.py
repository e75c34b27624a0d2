"""Curation throughput: the whole pipeline vs raw tiktoken encoding of the same texts.

Synthetic rated replies (a realistic mix of unrated, good, bad, contested and
corrected replies, repeats, personal data, off-voice replies and threads) go
through `curation.dataset.pipeline.curate` with the shipped rules file, and the kept
examples are serialized to their JSONL files in memory: what a user waits for
before anything is written. The baseline is encoding every text the pipeline
sees (questions, replies, thread context, corrections) with tiktoken's
`encode_ordinary`, one call per text on one thread: the one step no curation
can skip, so the ratio says what everything else costs on top. The target is a
pipeline at least half as fast as that baseline, growing linearly.

Each size runs baseline and pipeline in turn, --repeat times, and keeps each
one's best time, so a busy machine slows both alike. From 8,000 replies the
pipeline screens in two processes (curation.dataset.fanout) and the baseline runs on
one thread, so a neighbour taking a core costs the pipeline more than the
baseline: five rounds give both a fair chance at a quiet moment.

    python bench/curate.py [--sizes 10000,100000,1000000] [--repeat 3] [--stages]
"""

import argparse
import cProfile
import gc
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import DEFAULT_SHORT_PROMPT, Settings
from curation.dataset.examples import LabeledReply
from curation.dataset.files import data_files
from curation.dataset.labels import LabelPolicy
from curation.dataset.pipeline import CurationConfig, curate
from curation.dataset.rules import load_rules
from curation.dataset.tokens import encoding_for
from storage.records import ChatTurn, Correction, Reply, Vote

MODEL = "gpt-4.1-mini-2025-04-14"
# Outdoor-shop vocabulary, so the text tokenizes like real replies.
VOCABULARY = """
trail pack tent layer fleece shell boots socks stove fuel water filter map compass
headlamp sunscreen ridge creek camp permit trip guide weather rain wind snow miles
feet gain loop overnight daypack footprint stakes guyline zipper warranty return
size fit order shipping delay refund stock color weight ounces liters warm dry
"""
WORDS = tuple(VOCABULARY.split())
# Real English replies are about two-fifths function words; leaving them out
# would make every reply look foreign to the language rule's cheap check.
FUNCTION_WORDS = (
    "the",
    "and",
    "to",
    "you",
    "your",
    "for",
    "of",
    "a",
    "is",
    "it",
    "we",
    "on",
    "with",
)
# A few replies in another language, for the language rule to catch.
SPANISH = (
    "Sí, el sendero de la cresta está abierto este fin de semana y conviene llevar capas.",
    "Te recomiendo la tienda más ligera, pero revisa el pronóstico antes de salir.",
)
OPENERS = ["Yes,", "Good call:", "Quick answer:", "Here's what I'd do:", "Worth knowing:"]
OFF_VOICE = ["Great question! ", "We apologize for any inconvenience. ", "**Note:** "]


def sentence(rng: random.Random, words: int) -> str:
    chosen = (rng.choice(FUNCTION_WORDS if rng.random() < 0.4 else WORDS) for _ in range(words))
    return " ".join(chosen).capitalize() + "."


def synthetic_replies(n: int, seed: int = 7) -> list[LabeledReply]:
    rng = random.Random(seed)
    replies: list[LabeledReply] = []
    earlier: list[str] = []
    for i in range(n):
        channel = f"C{i % 40:03d}"
        ts = f"{1_700_000_000 + i}.{i % 1_000_000:06d}"
        thread = f"{1_700_000_000 + i - i % 3}.000000"
        question = sentence(rng, rng.randint(6, 25)).rstrip(".") + "?"
        if rng.random() < 0.05:
            question += (
                f" Email me at sam{i}@example.com or call 555-01{i % 100:02d}-{i % 9999:04d}."
            )
        text = f"{rng.choice(OPENERS)} " + " ".join(
            sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(1, 4))
        )
        if rng.random() < 0.08:
            text = rng.choice(OFF_VOICE) + text
        if rng.random() < 0.02:
            text = rng.choice(SPANISH)
        if earlier and rng.random() < 0.05:
            text = rng.choice(earlier)  # the bot repeating itself
        earlier = [*earlier[-49:], text]
        context = tuple(
            ChatTurn("user" if k % 2 == 0 else "assistant", sentence(rng, rng.randint(5, 20)))
            for k in range(rng.choice((0, 0, 2, 4)))
        )
        created = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000+00:00"
        reply = Reply(
            channel,
            ts,
            text,
            thread_ts=thread,
            question=question,
            context=context,
            created_at=created,
        )
        roll = rng.random()
        up, down = (
            (0, 0)
            if roll < 0.4
            else (1, 0)
            if roll < 0.75
            else (2, 0)
            if roll < 0.82
            else (0, 1)
            if roll < 0.9
            else (2, 2)
        )
        votes = tuple(
            Vote(channel, ts, f"U{k}", 1 if k < up else -1, "reaction:+1", created)
            for k in range(up + down)
        )
        corrections: tuple[Correction, ...] = ()
        if rng.random() < 0.05:
            fix = f"{rng.choice(OPENERS)} {sentence(rng, rng.randint(8, 18))}"
            corrections = (Correction(channel, ts, "U9", fix, created),)
        replies.append(LabeledReply(reply, votes, corrections))
    return replies


def texts_of(replies: list[LabeledReply]) -> list[str]:
    texts = []
    for labeled in replies:
        reply = labeled.reply
        texts += [reply.question, reply.text, *(t.content for t in reply.context)]
        texts += [c.text for c in labeled.corrections]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--repeat", type=int, default=0, help="runs per size (default: 5, 1 from 1M replies)"
    )
    parser.add_argument("--stages", action="store_true", help="profile the largest size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    config = CurationConfig(
        system_prompt=DEFAULT_SHORT_PROMPT,
        base_model=MODEL,
        rules=load_rules(Settings.model_fields["curation_rules"].default),
        policy=LabelPolicy(),
        validation_share=0.1,
    )
    encode = encoding_for(MODEL).encode_ordinary
    encode("warm up the encoder")
    print(
        f"{'replies':>9} {'kept':>8} {'pipeline s':>10} {'tiktoken s':>10} "
        f"{'pipeline/s':>11} {'tiktoken/s':>11} {'tokens/s':>11} {'ratio':>6}"
    )
    per_thousand = []
    for n in sizes:
        replies = synthetic_replies(n)
        texts = texts_of(replies)
        repeat = args.repeat or (5 if n < 1_000_000 else 1)
        baseline = elapsed = float("inf")
        for _ in range(repeat):
            gc.collect()
            started = time.perf_counter()
            tokens = 0
            for text in texts:
                tokens += len(encode(text))
            baseline = min(baseline, time.perf_counter() - started)
            gc.collect()
            started = time.perf_counter()
            curated = curate(replies, config)
            data_files(curated)
            elapsed = min(elapsed, time.perf_counter() - started)
        kept = len(curated.train) + len(curated.validation)
        # Same replies in both, so the throughput ratio is the time ratio.
        print(
            f"{n:>9,} {kept:>8,} {elapsed:>10.2f} {baseline:>10.2f} "
            f"{n / elapsed:>11,.0f} {n / baseline:>11,.0f} {tokens / baseline:>11,.0f} "
            f"{baseline / elapsed:>6.0%}"
        )
        per_thousand.append(f"{n:,}: {elapsed / n * 1000 * 1000:.0f} ms")
        if args.stages and n == max(sizes):
            profiler = cProfile.Profile()
            profiler.enable()
            data_files(curate(replies, config))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        del replies, texts, curated
    print("pipeline time per 1k replies (flat = linear): " + ", ".join(per_thousand))
    print("ratio = pipeline throughput / raw tiktoken throughput; the target is at least 50%")


if __name__ == "__main__":
    main()
