"""`voiceloop import PATH` as people run it: exit codes, one-line errors, rows written."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.bot.export.test_reader import (
    BOT,
    bot,
    export,
    human,
    reaction,
    write_folder,
    write_zip,
)

VOICELOOP = [sys.executable, "-c", "from bot.cli.main import main; main()"]


def run_import(
    tmp_path: Path, *args: str, authors: str = BOT, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "VOICELOOP_"))
    }
    env["VOICELOOP_DB"] = str(tmp_path / "voiceloop.db")
    env["VOICELOOP_IMPORT_AUTHORS"] = authors
    env["COLUMNS"] = "200"  # keep rich from wrapping the paths the tests look for
    env.update(extra_env)
    return subprocess.run(
        [*VOICELOOP, "import", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "voiceloop.db") as db:
        return db.execute(sql).fetchall()


def history() -> dict[str, object]:
    return export(
        {
            "2024-03-01": [
                human("100.000000", f"<@{BOT}> Can I wash my down jacket?"),
                bot(
                    "100.100000",
                    "Yes: cool water, gentle cycle.",
                    reactions=[reaction("+1::skin-tone-2", "U1"), reaction("x", "U2")],
                ),
            ],
            "2024-03-02": b"<html>not json</html>",
        }
    )


def test_an_export_is_imported_once_and_skipped_files_are_listed(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", history())
    first = run_import(tmp_path, str(path))
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert f"{path}:general/2024-03-02.json: not valid JSON" in first.stdout
    assert rows(tmp_path, "SELECT channel, ts, question, origin, model FROM replies") == [
        ("C1", "100.100000", "Can I wash my down jacket?", "import", None)
    ]
    votes = rows(tmp_path, "SELECT user, value, source FROM votes ORDER BY user")
    assert votes == [("U1", 1, "reaction:+1"), ("U2", -1, "reaction:x")]

    second = run_import(tmp_path, str(path))
    assert second.returncode == 0, second.stderr
    replies_row = next(line for line in second.stdout.splitlines() if "replies" in line)
    assert replies_row.split()[1:] == ["0", "1"]  # new, already there
    assert rows(tmp_path, "SELECT count(*) FROM replies") == [(1,)]
    assert rows(tmp_path, "SELECT count(*) FROM votes") == [(2,)]


def test_author_option_overrides_the_setting(tmp_path: Path) -> None:
    path = write_folder(tmp_path / "export", history())
    result = run_import(tmp_path, str(path), "--author", BOT, authors="U_SOMEONE_ELSE")
    assert result.returncode == 0, result.stderr
    assert rows(tmp_path, "SELECT ts FROM replies") == [("100.100000",)]


def test_something_that_is_not_an_export_fails_on_one_line(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "photos.zip", {"beach.jpg": b"\xff\xd8\xff"})
    result = run_import(tmp_path, str(path))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"voiceloop: {path} is not a Slack export: no channels.json")
    assert "Traceback" not in result.stderr


def test_a_missing_path_fails_on_one_line(tmp_path: Path) -> None:
    result = run_import(tmp_path, str(tmp_path / "nope.zip"))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "nope.zip does not exist" in line


def test_an_export_with_no_readable_day_file_fails(tmp_path: Path) -> None:
    files = export({"2024-03-01": b"\x00\x01", "2024-03-02": {"not": "a list"}})
    result = run_import(tmp_path, str(write_folder(tmp_path / "export", files)))
    assert result.returncode != 0
    assert "nothing could be read" in result.stderr
    assert "general/2024-03-01.json" in result.stdout  # the problems are still listed
    assert "Traceback" not in result.stderr
    assert rows(tmp_path, "SELECT name FROM sqlite_master WHERE name = 'replies'") == []


def test_no_authors_is_a_clear_error(tmp_path: Path) -> None:
    result = run_import(tmp_path, str(write_folder(tmp_path / "export", history())), authors="")
    assert result.returncode != 0
    assert "VOICELOOP_IMPORT_AUTHORS" in result.stderr and "--author" in result.stderr


def integration_export() -> dict[str, object]:
    """An export whose only bot is an integration with no user in users.json,
    posting its content in attachments, and never answering a question."""
    github = [
        {
            "type": "message",
            "subtype": "bot_message",
            "ts": f"{100 + i}.000000",
            "bot_id": "B0GITHUB",
            "text": "",
            "attachments": [{"fallback": f"PR #{i} merged"}],
            "reactions": [reaction("+1", "U1")],
        }
        for i in range(3)
    ]
    people = [human(f"{200 + i}.000000", "standup?", user="U2") for i in range(2)]
    users = [{"id": "U1", "name": "ana"}, {"id": "U2", "name": "ben"}, {"id": BOT, "name": "pim"}]
    return export({"2024-03-01": github + people}, **{"users.json": users})


def test_an_import_that_finds_no_reply_says_why_and_exits_2(tmp_path: Path) -> None:
    path = write_folder(tmp_path / "export", integration_export())
    result = run_import(tmp_path, str(path), "--author", "B0GITHUB")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "3 messages by B0GITHUB were found, and every one was skipped: 3 reply with no " in (
        result.stdout
    )
    assert "vote: rating on a skipped reply" in result.stdout
    assert result.stderr.startswith(f"voiceloop: nothing imported from {path}: no reply by")


def test_an_unknown_author_gets_the_ids_that_posted_and_a_name_gets_its_id(
    tmp_path: Path,
) -> None:
    path = write_folder(tmp_path / "export", integration_export())
    result = run_import(tmp_path, str(path), "--author", "pim")
    assert result.returncode == 2
    out = result.stdout
    assert "no message in this export was written by pim" in out
    assert f"pim is a name in users.json; its user id is {BOT}" in out
    assert "bots that posted most: B0GITHUB (3 messages)" in out
    assert "users.json marks no user as a bot" in out
    assert "people who posted most: U2 (2 messages)" in out
    assert "users.json lists every bot" not in out


def test_progress_is_drawn_on_stderr_and_only_in_a_terminal(tmp_path: Path) -> None:
    path = str(write_zip(tmp_path / "export.zip", history()))
    redirected = run_import(tmp_path, path)
    assert redirected.returncode == 0
    assert "Reading day files" not in redirected.stdout + redirected.stderr
    # rich takes TTY_COMPATIBLE=1 to mean a terminal, as if both streams were one.
    in_terminal = run_import(tmp_path, path, TTY_COMPATIBLE="1")
    assert in_terminal.returncode == 0
    assert "Reading day files" in in_terminal.stderr
    assert "Reading day files" not in in_terminal.stdout


def two_channels(random_answer: str = "Noon.") -> dict[str, object]:
    files = export(
        {
            "2024-03-01": [
                human("100.000000", f"<@{BOT}> Waterproof?"),
                bot("100.100000", "To 3000 mm.", reactions=[reaction("+1", "U1")]),
            ]
        }
    )
    files["channels.json"] = [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]
    files["random/2024-03-01.json"] = [
        human("200.000000", f"<@{BOT}> Lunch?"),
        bot("200.100000", random_answer),
    ]
    return files


def imported_row(result: subprocess.CompletedProcess[str], name: str) -> list[str]:
    return next(line for line in result.stdout.splitlines() if line.split()[:1] == [name]).split()


def test_a_rerun_skips_unchanged_channels_and_says_so(tmp_path: Path) -> None:
    path = write_folder(tmp_path / "export", two_channels())
    assert run_import(tmp_path, str(path)).returncode == 0
    second = run_import(tmp_path, str(path))
    assert second.returncode == 0, second.stderr
    assert "2 channels are unchanged since their last import and were not read again" in (
        second.stdout
    )
    assert imported_row(second, "replies")[1:] == ["0", "2"]  # new, already there
    assert imported_row(second, "votes")[1:] == ["0", "1"]
    assert imported_row(second, "messages")[1:] == ["0"]

    forced = run_import(tmp_path, str(path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "unchanged" not in forced.stdout
    assert imported_row(forced, "messages")[1:] == ["4"]
    assert imported_row(forced, "replies")[1:] == ["0", "2"]


def test_a_changed_channel_is_read_again_and_its_rows_refreshed(tmp_path: Path) -> None:
    assert run_import(tmp_path, str(write_zip(tmp_path / "a.zip", two_channels()))).returncode == 0
    newer = write_zip(tmp_path / "b.zip", two_channels(random_answer="Noon, in the park."))
    result = run_import(tmp_path, str(newer))
    assert result.returncode == 0, result.stderr
    assert "1 channels are unchanged" in result.stdout
    assert imported_row(result, "messages")[1:] == ["2"]
    assert rows(tmp_path, "SELECT text FROM replies WHERE channel = 'C2'") == [
        ("Noon, in the park.",)
    ]


def test_other_authors_read_every_channel_again(tmp_path: Path) -> None:
    path = write_folder(tmp_path / "export", two_channels())
    assert run_import(tmp_path, str(path)).returncode == 0
    result = run_import(tmp_path, str(path), "--author", BOT, "--author", "B0OTHERBOT")
    assert result.returncode == 0, result.stderr
    assert "unchanged" not in result.stdout
    assert imported_row(result, "messages")[1:] == ["4"]
