"""`voiceloop import` of a Slack export vs a floor that only parses it and bulk-inserts, same run.

A synthetic workspace export (40 channels, a day file per channel per day,
questions answered in the channel and in threads, rating reactions on most
replies, each message with the fields Slack writes: blocks, profiles, team
ids) is written once, as a folder or with --zip as a .zip. Each round:

- floor: `json.loads` of every JSON file in the export, then the rows the
  import ends up with (replies and votes, prepared beforehand) inserted with
  sqlite3 `executemany` into an empty voiceloop database in one transaction:
  what any import of this export must at least do;
- import: `voiceloop import PATH --author BOT` into an empty database, run
  through the real command line in this process;
- rerun: the same command again on that database, which adds nothing (no
  channel changed, so none is parsed again; the day files are only hashed).

Targets: import within 3x the floor, rerun within 1x. Each figure is the best
of --repeat rounds, interleaved, so a busy machine slows all three alike;
wall and CPU seconds are both printed, since on a shared machine the CPU time
of this one-thread work is the steadier of the two.

    python bench/import_export.py [--replies 100000] [--zip] [--repeat 3] [--profile]
"""

import argparse
import cProfile
import gc
import json
import os
import pstats
import random
import sqlite3
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typer.testing import CliRunner

from bot.cli.main import app
from bot.export.files import open_export
from bot.export.messages import ImportPolicy
from bot.export.reader import export_layout, read_export
from bot.settings import DEFAULT_BAD_EMOJI, DEFAULT_GOOD_EMOJI
from storage import Reply, Store, Vote

BOT, BOT_ID, TEAM = "U0BOT", "B0BOT", "T0TEAM"
CHANNELS = 40
REPLIES_PER_DAY = 50
PEOPLE = [f"U{k:03d}" for k in range(30)]
WORDS = ("trail", "pack", "tent", "layer", "fleece", "shell", "boots", "stove", "water", "map")
REACTIONS = ["+1", "heart", "white_check_mark", "-1", "thumbsdown", "eyes"]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def rich_text(text: str) -> list[dict[str, Any]]:
    """The blocks Slack writes beside a message's text."""
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": "b1", "elements": [section]}]


def profile(user: str) -> dict[str, Any]:
    return {
        "avatar_hash": "g0123456789a",
        "image_72": f"https://secure.gravatar.com/avatar/{user}.jpg?s=72",
        "first_name": user.lower(),
        "real_name": f"{user.lower()} example",
        "display_name": user.lower(),
        "team": TEAM,
        "name": user.lower(),
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def day_messages(rng: random.Random, start: int, replies: int) -> list[dict[str, Any]]:
    """A day of one channel: half the replies answer in the channel, half in
    threads that go on for a second question."""
    messages: list[dict[str, Any]] = []
    clock = start

    def ts() -> str:
        nonlocal clock
        clock += rng.randint(5, 60)
        return f"{clock}.{rng.randint(0, 999_999):06d}"

    def human(text: str, thread: str | None = None) -> dict[str, Any]:
        user = rng.choice(PEOPLE)
        message = {
            "client_msg_id": f"{rng.getrandbits(128):032x}",
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts(),
            "blocks": rich_text(text),
            "team": TEAM,
            "user_team": TEAM,
            "source_team": TEAM,
            "user_profile": profile(user),
        }
        if thread:
            message["thread_ts"] = thread
        return message

    def answer(thread: str | None = None) -> dict[str, Any]:
        text = " ".join(sentence(rng, 12) for _ in range(rng.randint(1, 3)))
        message: dict[str, Any] = {
            "type": "message",
            "text": text,
            "user": BOT,
            "ts": ts(),
            "bot_id": BOT_ID,
            "app_id": "A0APP",
            "blocks": rich_text(text),
            "team": TEAM,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": "A0APP",
                "name": "Brightside",
                "icons": {"image_72": "https://avatars.slack-edge.com/brightside_72.png"},
                "deleted": False,
                "updated": 1_700_000_000,
                "team_id": TEAM,
            },
        }
        if thread:
            message["thread_ts"] = thread
        if rng.random() < 0.6:
            voters = rng.sample(PEOPLE, rng.randint(1, 3))
            message["reactions"] = [
                {"name": rng.choice(REACTIONS), "users": [voter], "count": 1} for voter in voters
            ]
        return message

    while replies > 0:
        if replies == 1 or rng.random() < 0.5:
            messages += [human(f"<@{BOT}> " + sentence(rng, 14)), answer()]
            replies -= 1
        else:
            root = human(f"<@{BOT}> " + sentence(rng, 14))
            root["thread_ts"] = root["ts"]
            thread = root["ts"]
            messages += [root, answer(thread), human(sentence(rng, 10), thread), answer(thread)]
            replies -= 2
    return messages


def export_files(replies: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    channels = [{"id": f"C{k:03d}", "name": f"support-{k}"} for k in range(CHANNELS)]
    users: list[dict[str, Any]] = [{"id": person, "name": person.lower()} for person in PEOPLE]
    users.append({"id": BOT, "name": "brightside", "is_bot": True, "profile": {"bot_id": BOT_ID}})
    files: dict[str, Any] = {"channels.json": channels, "users.json": users}
    days = -(-replies // (CHANNELS * REPLIES_PER_DAY))
    left = replies
    for day in range(days):
        for channel in channels:
            count = min(REPLIES_PER_DAY, left)
            if count <= 0:
                break
            start = 1_704_067_200 + day * 86_400
            name = f"{channel['name']}/{time.strftime('%Y-%m-%d', time.gmtime(start))}.json"
            files[name] = day_messages(rng, start, count)
            left -= count
    return files


def write_export(root: Path, files: dict[str, Any], as_zip: bool) -> Path:
    if as_zip:
        path = root.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in files.items():
                archive.writestr(name, json.dumps(content))
        return path
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    return root


def parse_all(path: Path) -> int:
    """json.loads of every JSON file in the export: the floor's reading half."""
    documents = 0
    if path.is_dir():
        for file in path.rglob("*.json"):
            json.loads(file.read_bytes())
            documents += 1
    else:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".json"):
                    json.loads(archive.read(name))
                    documents += 1
    return documents


def floor_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows an import of `path` writes, as sqlite3 parameter tuples."""
    policy = ImportPolicy(
        authors=frozenset({BOT}),
        good_emoji=frozenset(DEFAULT_GOOD_EMOJI),
        bad_emoji=frozenset(DEFAULT_BAD_EMOJI),
    )
    with open_export(path) as files:
        report = read_export(files, export_layout(files, str(path)), policy)
    replies = []
    for reply in report.replies:
        context = json.dumps([{"role": t.role, "content": t.content} for t in reply.context])
        replies.append(
            tuple(context if f.name == "context" else getattr(reply, f.name) for f in fields(Reply))
        )
    votes = [tuple(getattr(vote, f.name) for f in fields(Vote)) for vote in report.votes]
    return replies, votes


def floor(path: Path, db: Path, rows: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> None:
    parse_all(path)
    replies, votes = rows
    reply_columns = [f.name for f in fields(Reply)]
    vote_columns = [f.name for f in fields(Vote)]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT INTO replies ({', '.join(reply_columns)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(reply_columns))})",
        replies,
    )
    conn.executemany(
        f"INSERT INTO votes ({', '.join(vote_columns)}) "  # noqa: S608
        f"VALUES ({', '.join('?' * len(vote_columns))})",
        votes,
    )
    conn.execute("COMMIT")
    conn.close()


def voiceloop_import(path: Path, db: Path) -> str:
    result = CliRunner().invoke(
        app, ["import", str(path), "--author", BOT], env={"VOICELOOP_DB": str(db)}
    )
    if result.exit_code != 0:
        raise SystemExit(f"voiceloop import failed ({result.exit_code}): {result.output}")
    return result.output


def empty_database(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    Store(path).close()
    return path


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of `run`: on a shared machine the CPU time of this
    one-thread work is the steadier figure."""
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu


def counts(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    replies = conn.execute("SELECT count(*) FROM replies").fetchone()[0]
    votes = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
    conn.close()
    return replies, votes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--zip", action="store_true", help="a .zip export instead of a folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one import and rerun")
    args = parser.parse_args()
    # The command reads settings from the environment; none of this machine's.
    for name in [n for n in os.environ if n.startswith(("VOICELOOP_", "SLACK_", "OPENAI_"))]:
        del os.environ[name]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.chdir(work)  # no .env from wherever this was started
        path = write_export(work / "export", export_files(args.replies), args.zip)
        rows = floor_rows(path)
        print(
            f"export: {path.name}, {len(rows[0]):,} replies, {len(rows[1]):,} votes, "
            f"{sum(1 for _ in (path.rglob('*.json') if path.is_dir() else [0]))} files"
        )
        best = {name: (float("inf"), float("inf")) for name in ("floor", "import", "rerun")}

        def keep(name: str, run: Callable[[], object]) -> None:
            wall, cpu = timed(run)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))

        for _ in range(args.repeat):
            db = empty_database(work / "floor.db")
            keep("floor", partial(floor, path, db, rows))
            assert counts(db) == (len(rows[0]), len(rows[1]))
            db = empty_database(work / "import.db")
            keep("import", partial(voiceloop_import, path, db))
            assert counts(db) == (len(rows[0]), len(rows[1])), counts(db)
            keep("rerun", partial(voiceloop_import, path, db))
        wall_floor, cpu_floor = best["floor"]
        print(f"{'':>8} {'wall s':>8} {'x floor':>8} {'cpu s':>8} {'x floor':>8}")
        for name, (wall, cpu) in best.items():
            print(
                f"{name:>8} {wall:>8.2f} {wall / wall_floor:>7.2f}x "
                f"{cpu:>8.2f} {cpu / cpu_floor:>7.2f}x"
            )
        if args.profile:
            db = empty_database(work / "profile.db")
            for run in ("import", "rerun"):
                print(f"-- {run}")
                profile = cProfile.Profile()
                profile.runcall(voiceloop_import, path, db)
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
