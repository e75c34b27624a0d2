"""Curation time: database to files written, and the pipeline alone, against raw tiktoken.

Synthetic rated replies (a realistic mix of unrated, good, bad, contested and
corrected replies, repeats, personal data, off-voice replies and threads) are
written once per size into a SQLite database with the store's own schema, in
one bulk insert outside the timing. Then, in the same process, in turn:

- tiktoken: encoding every text the pipeline sees (questions, replies, thread
  context, corrections) with `encode_ordinary`, one call per text: the one
  step no curation can skip, so the ratios say what everything else costs.
- in memory: `curate()` on replies already read, plus making the JSONL files.
- end to end: `curation.build_dataset`, exactly what `voiceloop curate` and
  `/retrain` run: read the store, curate, write the version folder, record it.

Ratios are times over the tiktoken time (lower is better); the end-to-end
target is at most 3x at 100,000 replies. Each figure is the best of --repeat
rounds (default 3, 1 from 1M replies), so a busy machine slows all alike,
in wall-clock time and in this process's CPU time, which a neighbour on a
shared machine changes least.

    python bench/curate.py [--sizes 10000,100000,1000000] [--repeat 3]
"""

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import DEFAULT_SHORT_PROMPT, Settings
from curation import CurationConfig, LabeledReply, LabelPolicy, build_dataset, curate, load_rules
from curation.dataset.files import data_files
from curation.dataset.source import labeled_replies
from curation.dataset.tokens import encoding_for
from storage import ChatTurn, Correction, Reply, Store, Vote

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


def write_database(path: Path, replies: list[LabeledReply]) -> None:
    """The replies, votes and corrections as the store keeps them, in one transaction."""
    store = Store(path)
    try:
        with store.transaction() as db:
            db.table("replies").insert_all(_reply_row(r.reply) for r in replies)
            db.table("votes").insert_all(_row(v) for r in replies for v in r.votes)
            db.table("corrections").insert_all(_row(c) for r in replies for c in r.corrections)
    finally:
        store.close()


def _row(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _reply_row(reply: Reply) -> dict[str, Any]:
    row = _row(reply)
    row["context"] = json.dumps([_row(t) for t in reply.context], ensure_ascii=False)
    return row


@dataclass(frozen=True)
class Timing:
    wall: float
    # This process's CPU time: what a busy neighbour on a shared machine
    # changes least (everything timed here runs on one thread).
    cpu: float


def best(rounds: int, run: Callable[[], object]) -> Timing:
    wall = cpu = float("inf")
    for _ in range(rounds):
        gc.collect()
        started, used = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - used)
    return Timing(wall, cpu)


def measure(n: int, rounds: int, config: CurationConfig, folder: Path) -> str:
    """One table row: best times for `n` replies, and their ratios."""
    replies = synthetic_replies(n)
    texts = texts_of(replies)
    database = folder / f"{n}.db"
    write_database(database, replies)
    encode = encoding_for(MODEL).encode_ordinary
    store = Store(database)
    written = iter(range(10**9))
    try:
        baseline = best(rounds, lambda: sum(len(encode(text)) for text in texts))
        in_memory = best(rounds, lambda: data_files(curate(replies, config)))
        read = best(rounds, lambda: labeled_replies(store))
        # A fresh folder each round: a version already there is not written again.
        end_to_end = best(
            rounds, lambda: build_dataset(store, config, folder / f"out-{n}-{next(written)}")
        )
        curated = build_dataset(store, config, folder, dry_run=True).curated
    finally:
        store.close()
    return (
        f"{n:>9,} {len(curated.train) + len(curated.validation):>8,} "
        f"{baseline.wall:>10.2f} {in_memory.wall:>11.2f} {read.wall:>7.2f} "
        f"{end_to_end.wall:>12.2f} {in_memory.wall / baseline.wall:>8.2f}x "
        f"{end_to_end.wall / baseline.wall:>9.2f}x {in_memory.cpu / baseline.cpu:>12.2f}x "
        f"{end_to_end.cpu / baseline.cpu:>9.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--repeat", type=int, default=0, help="rounds per size (default: 3, 1 from 1M replies)"
    )
    args = parser.parse_args()
    config = CurationConfig(
        system_prompt=DEFAULT_SHORT_PROMPT,
        base_model=MODEL,
        rules=load_rules(Settings.model_fields["curation_rules"].default),
        policy=LabelPolicy(),
        validation_share=0.1,
    )
    # Loaded before any timing (the encoding, the language classifier): a
    # running bot has them already.
    curate(synthetic_replies(1_000), config)
    print(f"{'':>9} {'':>8} {'wall time':^43} {'over tiktoken':^20} {'CPU over tiktoken':^23}")
    print(
        f"{'replies':>9} {'kept':>8} {'tiktoken s':>10} {'in-memory s':>11} "
        f"{'read s':>7} {'end-to-end s':>12} {'in-memory':>9} {'end-to-end':>10} "
        f"{'in-memory':>12} {'end-to-end':>10}"
    )
    with tempfile.TemporaryDirectory(prefix="voiceloop-bench-") as folder:
        for n in (int(s) for s in args.sizes.split(",")):
            rounds = args.repeat or (3 if n < 1_000_000 else 1)
            print(measure(n, rounds, config, Path(folder)), flush=True)
    print(
        "Ratios: times over tiktoken's in the same run, wall clock and this process's CPU "
        "time (lower is better); read: the store read alone, part of end-to-end. "
        "Target: end-to-end within 3x at 100,000 replies."
    )


if __name__ == "__main__":
    main()
