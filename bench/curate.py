"""Curation throughput: the whole pipeline vs raw tiktoken encoding of the same texts.

Synthetic rated replies (a realistic mix of unrated, good, bad, contested and
corrected replies, repeats, personal data, off-voice replies and threads) go
through `curation.pipeline.curate` with the shipped rules file. The baseline is
encoding every text the pipeline sees once with tiktoken, the one step no
curation can skip, so the ratio says what everything else costs on top.

    python bench/curate.py [--sizes 10000,100000,1000000] [--stages]
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
from curation.examples import LabeledReply
from curation.labels import LabelPolicy
from curation.pipeline import CurationConfig, curate
from curation.rules import load_rules
from curation.tokens import count_tokens
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
OPENERS = ["Yes,", "Good call:", "Quick answer:", "Here's what I'd do:", "Worth knowing:"]
OFF_VOICE = ["Great question! ", "We apologize for any inconvenience. ", "**Note:** "]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


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
    count_tokens("warm up the encoder", MODEL)
    print(
        f"{'replies':>9} {'kept':>8} {'pipeline s':>11} {'tiktoken s':>11} {'ratio':>6} "
        f"{'replies/s':>10}"
    )
    for n in sizes:
        replies = synthetic_replies(n)
        texts = texts_of(replies)
        gc.collect()
        started = time.perf_counter()
        for text in texts:
            count_tokens(text, MODEL)
        baseline = time.perf_counter() - started
        profiler = cProfile.Profile() if args.stages and n == max(sizes) else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        curated = curate(replies, config)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        kept = len(curated.train) + len(curated.validation)
        print(
            f"{n:>9,} {kept:>8,} {elapsed:>11.2f} {baseline:>11.2f} "
            f"{elapsed / baseline:>6.1f} {n / elapsed:>10,.0f}"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        del replies, texts, curated


if __name__ == "__main__":
    main()
