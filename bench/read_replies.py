"""Reading labeled replies out of SQLite: curation's read vs a raw sqlite3 scan, same run.

A database of synthetic rated replies (thread context on some, votes on about
60%, corrections on 5%) is built once per size, outside the timing. The
baseline fetches every row of the three tables with plain sqlite3 and builds
nothing from them: the floor any read of the same rows pays. The read is
`curation.dataset.source.labeled_replies`, what `voiceloop curate` and
`/retrain` run, giving typed `LabeledReply` records. The target is a read
within 2x the scan.

Each size runs scan and read in turn, --repeat times, and keeps each one's
best time, so a busy machine slows both alike; wall and CPU seconds are both
printed, since on a shared machine the CPU time of this one-thread work is
the steadier of the two.

    python bench/read_replies.py [--sizes 10000,100000] [--repeat 5] [--profile]
"""

import argparse
import cProfile
import gc
import json
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curation.dataset.examples import LabeledReply
from curation.dataset.source import labeled_replies
from storage import Store

WORDS = ("trail", "pack", "tent", "layer", "fleece", "shell", "boots", "stove", "water", "map")


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build_database(path: Path, n: int, seed: int = 7) -> None:
    """n replies with the mix of ratings a team leaves, written in bulk."""
    rng = random.Random(seed)
    replies, votes, corrections = [], [], []
    for i in range(n):
        channel, ts = f"C{i % 40:03d}", f"{1_700_000_000 + i}.{i % 1_000_000:06d}"
        created = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000+00:00"
        context = [
            {"role": "user" if k % 2 == 0 else "assistant", "content": sentence(rng, 12)}
            for k in range(rng.choice((0, 0, 2, 4)))
        ]
        replies.append(
            {
                "channel": channel,
                "ts": ts,
                "thread_ts": f"{1_700_000_000 + i - i % 3}.000000",
                "asked_by": f"U{i % 50}",
                "question": sentence(rng, 15),
                "context": json.dumps(context),
                "text": " ".join(sentence(rng, 12) for _ in range(rng.randint(1, 4))),
                "model": "gpt-4.1-mini-2025-04-14",
                "prompt_id": "0123456789abcdef",
                "deployment_id": 1,
                "prompt_tokens": 900,
                "completion_tokens": 60,
                "latency_ms": 800,
                "origin": "live",
                "created_at": created,
            }
        )
        roll = rng.random()
        voters = 0 if roll < 0.4 else 1 if roll < 0.75 else 2 if roll < 0.9 else 4
        for k in range(voters):
            value = 1 if rng.random() < 0.8 else -1
            votes.append(
                {
                    "channel": channel,
                    "ts": ts,
                    "user": f"U{k}",
                    "value": value,
                    "source": "reaction:+1" if value > 0 else "reaction:-1",
                    "updated_at": created,
                }
            )
        if rng.random() < 0.05:
            corrections.append(
                {
                    "channel": channel,
                    "ts": ts,
                    "user": "U9",
                    "text": sentence(rng, 14),
                    "created_at": created,
                }
            )
    store = Store(path)
    with store.transaction() as db:
        db.table("replies").insert_all(replies, batch_size=1000)
        db.table("votes").insert_all(votes, batch_size=1000)
        db.table("corrections").insert_all(corrections, batch_size=1000)
    store.close()


def raw_scan(path: Path) -> list[list[Any]]:
    conn = sqlite3.connect(path)
    tables = [
        conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        for table in ("replies", "votes", "corrections")
    ]
    conn.close()
    return tables


def curation_read(path: Path) -> list[LabeledReply]:
    store = Store(path)
    try:
        return labeled_replies(store)
    finally:
        store.close()


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds `run` takes; what it returns is freed after the
    clock stops, in both the scan and the read, since freeing is not reading."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    result = run()
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    del result
    return elapsed


def best(kept: tuple[float, float], new: tuple[float, float]) -> tuple[float, float]:
    return min(kept[0], new[0]), min(kept[1], new[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile the largest size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'replies':>9} {'rows':>9} {'scan s':>8} {'read s':>8} {'read/scan':>9}"
        f" {'scan cpu':>9} {'read cpu':>9} {'read/scan':>9}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"{n}.db"
            build_database(path, n)
            rows = sum(len(table) for table in raw_scan(path))
            assert len(curation_read(path)) == n
            scan = read = (float("inf"), float("inf"))
            for _ in range(args.repeat):
                # Interleaved, so machine noise lands on both.
                scan = best(scan, timed(partial(raw_scan, path)))
                read = best(read, timed(partial(curation_read, path)))
            print(
                f"{n:>9,} {rows:>9,} {scan[0]:>8.3f} {read[0]:>8.3f} {read[0] / scan[0]:>8.2f}x"
                f" {scan[1]:>9.3f} {read[1]:>9.3f} {read[1] / scan[1]:>8.2f}x"
            )
        if args.profile:
            path = Path(folder) / f"{max(sizes)}.db"
            profile = cProfile.Profile()
            profile.runcall(curation_read, path)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(20)


if __name__ == "__main__":
    main()
