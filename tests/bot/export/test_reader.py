"""Slack export import: replies, votes and problems from small synthetic exports."""

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.export.files import ExportError, is_safe_member, open_export
from bot.export.messages import (
    BY_AUTHOR_OR_BOT,
    CONTESTED,
    NO_QUESTION,
    NO_TEXT,
    ON_SKIPPED_REPLY,
    ImportPolicy,
)
from bot.export.reader import ExportReport, export_layout, read_export
from bot.settings import DEFAULT_BAD_EMOJI, DEFAULT_GOOD_EMOJI
from bot.slack_text import reaction_source, reaction_verdict
from storage import ChatTurn, Reply, Store, Vote

BOT = "U0BOT"
BOT_ID = "B0BOT"
POLICY = ImportPolicy(
    authors=frozenset({BOT}),
    good_emoji=frozenset(DEFAULT_GOOD_EMOJI),
    bad_emoji=frozenset(DEFAULT_BAD_EMOJI),
)
USERS = [
    {"id": "U1", "name": "ana"},
    {"id": "U2", "name": "ben"},
    {"id": "U3", "name": "cy"},
    {"id": BOT, "name": "brightside", "is_bot": True, "profile": {"bot_id": BOT_ID}},
    {"id": "U9HELPER", "name": "otherbot", "is_bot": True},
]

Files = dict[str, Any]  # export member name -> JSON document, or bytes written as-is


def human(ts: str, text: str, user: str = "U1", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "ts": ts, "user": user, "text": text, **extra}


def bot(ts: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "ts": ts, "user": BOT, "bot_id": BOT_ID, "text": text, **extra}


def reaction(name: str, *users: str) -> dict[str, Any]:
    return {"name": name, "users": list(users), "count": len(users)}


def export(days: dict[str, Any], **extra: Any) -> Files:
    """An export of #general (C1) with the given day files ("2024-03-01": messages)."""
    files: Files = {
        "channels.json": [{"id": "C1", "name": "general"}],
        "users.json": USERS,
    }
    files.update({f"general/{day}.json": messages for day, messages in days.items()})
    files.update(extra)
    return files


def write_folder(root: Path, files: Files) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return root


def write_zip(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = content if isinstance(content, bytes) else json.dumps(content).encode()
            archive.writestr(name, data)
    return path


def read(path: Path, policy: ImportPolicy = POLICY, limit: int | None = None) -> ExportReport:
    opened = open_export(path) if limit is None else open_export(path, limit)
    with opened as files:
        return read_export(files, export_layout(files, str(path)), policy)


def test_replies_and_votes_come_from_author_messages_and_rating_reactions(as_export: Any) -> None:
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human("100.000100", f"<@{BOT}> Can I wash my down jacket?"),
                    bot(
                        "100.000200",
                        "Yes! Cool water, gentle cycle, then tumble dry with tennis balls.",
                        reactions=[reaction("+1", "U1", "U2"), reaction("x", "U3")],
                    ),
                    human("100.000300", "lunch anyone?", user="U2"),
                ]
            }
        )
    )
    report = read(path)
    assert report.channels == 1 and report.day_files == 1 and report.messages == 3
    [reply] = report.replies
    assert (reply.channel, reply.ts, reply.origin) == ("C1", "100.000200", "import")
    assert reply.question == "Can I wash my down jacket?"  # the mention addressed the bot
    assert reply.asked_by == "U1"
    assert reply.model is None and reply.prompt_id is None and reply.context == ()
    assert reply.created_at.startswith("1970-01-01T00:01:40")
    votes = {(v.user, v.value, v.source) for v in report.votes}
    assert votes == {("U1", 1, "reaction:+1"), ("U2", 1, "reaction:+1"), ("U3", -1, "reaction:x")}
    assert not report.problems


def test_thread_replies_get_the_nearest_question_and_earlier_turns_as_context(
    as_export: Any,
) -> None:
    root = "100.000100"
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human(root, "Which tent for the Cairngorms in March?", thread_ts=root),
                    bot("100.000200", "The Ridgeline 2: it shrugs off wind.", thread_ts=root),
                    human("100.000250", "someone joined", subtype="channel_join", user="U3"),
                ],
                # The thread goes on the next day, in the next day file.
                "2024-03-02": [
                    human("190000.000100", "And for two people?", thread_ts=root, user="U2"),
                    bot("190000.000200", "Then the Ridgeline 3.", thread_ts=root),
                ],
            }
        )
    )
    report = read(path)
    by_ts = {r.ts: r for r in report.replies}
    assert set(by_ts) == {"100.000200", "190000.000200"}
    first, second = by_ts["100.000200"], by_ts["190000.000200"]
    assert first.question == "Which tent for the Cairngorms in March?" and first.context == ()
    assert first.thread_ts == root
    assert second.question == "And for two people?" and second.asked_by == "U2"
    assert second.context == (
        ChatTurn("user", "Which tent for the Cairngorms in March?"),
        ChatTurn("assistant", "The Ridgeline 2: it shrugs off wind."),
    )


def test_thread_context_keeps_only_the_latest_turns(tmp_path: Path) -> None:
    root = "100.000000"
    messages: list[Any] = [human(root, "q0", thread_ts=root)]
    for i in range(1, 30):
        messages.append(bot(f"{100 + i}.000001", f"a{i}", thread_ts=root))
        messages.append(human(f"{100 + i}.000002", f"q{i}", thread_ts=root))
    messages.append(bot("200.000000", "the last answer", thread_ts=root))
    path = write_folder(tmp_path / "export", export({"2024-03-01": messages}))
    last = next(r for r in read(path).replies if r.ts == "200.000000")
    assert last.question == "q29"
    assert len(last.context) == POLICY.max_context_turns
    assert last.context[-1] == ChatTurn("assistant", "a29")


def test_channel_questions_older_than_the_previous_day_do_not_count(tmp_path: Path) -> None:
    path = write_folder(
        tmp_path / "export",
        export(
            {
                "2024-03-01": [human("100.000000", "Do you ship to Norway?")],
                "2024-03-02": [bot("190000.000000", "We do, in 3 to 5 days.")],
                "2024-03-04": [bot("370000.000000", "Reminder: sale ends Friday.")],
            }
        ),
    )
    report = read(path)
    assert [r.ts for r in report.replies] == ["190000.000000"]
    assert report.skipped[NO_QUESTION] == 1


def test_author_messages_without_a_question_are_skipped_and_counted(as_export: Any) -> None:
    path = as_export(
        export(
            {
                "2024-03-01": [
                    bot("100.000000", "Good morning, team!", reactions=[reaction("+1", "U1")]),
                    bot("101.000000", f"<@{BOT}> has joined", subtype="channel_join"),
                ]
            }
        )
    )
    report = read(path)
    assert report.replies == [] and report.votes == []
    assert report.skipped[NO_QUESTION] == 1  # the join is a system message, not a reply


def test_skin_tones_count_as_the_base_emoji_and_agree_with_the_live_bot(as_export: Any) -> None:
    names = ["+1::skin-tone-2", "thumbsdown::skin-tone-5", "heart", "eyes", "x::skin-tone-3"]
    users = {name: f"U{i}" for i, name in enumerate(names, start=10)}
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human("100.000000", "Is the Ridgeline waterproof?"),
                    bot(
                        "100.100000",
                        "To 3000 mm.",
                        reactions=[reaction(n, users[n]) for n in names],
                    ),
                ]
            }
        )
    )
    votes = {v.user: (v.value, v.source) for v in read(path).votes}
    live = {
        users[n]: (verdict, reaction_source(n))
        for n in names
        if (verdict := reaction_verdict(n, DEFAULT_GOOD_EMOJI, DEFAULT_BAD_EMOJI)) is not None
    }
    assert votes == live
    assert votes[users["+1::skin-tone-2"]] == (1, "reaction:+1")


def test_reactions_by_authors_and_bots_are_ignored(as_export: Any) -> None:
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human("100.000000", "Is the Ridgeline waterproof?"),
                    bot(
                        "100.100000",
                        "To 3000 mm.",
                        reactions=[reaction("+1", BOT, "U9HELPER", "U1"), reaction("-1", BOT)],
                    ),
                ]
            }
        )
    )
    report = read(path)
    assert [(v.user, v.value) for v in report.votes] == [("U1", 1)]
    assert report.skipped_votes[BY_AUTHOR_OR_BOT] == 3


def test_an_author_given_by_bot_id_also_covers_its_user_id(tmp_path: Path) -> None:
    message = {"ts": "100.100000", "user": BOT, "text": "To 3000 mm."}  # no bot_id field
    path = write_folder(
        tmp_path / "export",
        export({"2024-03-01": [human("100.000000", "Waterproof?"), message]}),
    )
    by_bot_id = ImportPolicy(frozenset({BOT_ID}), POLICY.good_emoji, POLICY.bad_emoji)
    assert [r.ts for r in read(path, by_bot_id).replies] == ["100.100000"]


def test_a_person_who_left_good_and_bad_reactions_casts_no_vote(as_export: Any) -> None:
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human("100.000000", "Is the Ridgeline waterproof?"),
                    bot(
                        "100.100000",
                        "To 3000 mm.",
                        reactions=[
                            reaction("+1", "U1", "U2"),
                            reaction("heart", "U2"),
                            reaction("-1::skin-tone-2", "U1"),
                        ],
                    ),
                ]
            }
        )
    )
    report = read(path)
    # U2's two good reactions are one vote, from the first rating emoji.
    assert [(v.user, v.value, v.source) for v in report.votes] == [("U2", 1, "reaction:+1")]
    assert report.skipped_votes[CONTESTED] == 1


def test_malformed_files_and_messages_are_reported_with_their_path_and_the_rest_imports(
    as_export: Any,
) -> None:
    good_day = [human("100.000000", "Waterproof?"), bot("100.100000", "To 3000 mm.")]
    bad_messages = [
        "not an object",
        {"user": "U1", "text": "no ts"},
        human("300.000000", "x" * 10_000_000),
        human("300.100000", "Still waterproof?"),
        bot("300.200000", "Still 3000 mm."),
    ]
    path = as_export(
        export(
            {
                "2024-03-01": good_day,
                "2024-03-02": b"{not json",
                "2024-03-03": {"messages": []},
                "2024-03-04": bad_messages,
            }
        )
    )
    report = read(path)
    assert [r.ts for r in report.replies] == ["100.100000", "300.200000"]
    assert report.day_files == 2
    problems = {(p.path.replace("\\", "/"), p.detail.split(";")[0]) for p in report.problems}
    paths = {p for p, _ in problems}
    for day in ("2024-03-02", "2024-03-03", "2024-03-04"):
        assert any(p.endswith(f"general/{day}.json") for p in paths), paths
    details = sorted(d for _, d in problems)
    assert any(d.startswith("not valid JSON") for d in details)
    assert "a JSON dict, not a list" in details
    assert "message [0]: not a JSON object" in details
    assert "message [1]: no valid ts" in details
    assert "message [2]: text longer than 40,000 characters" in details
    assert sum(report.skipped.values()) == 3


def test_a_member_that_inflates_past_the_limit_is_skipped(tmp_path: Path) -> None:
    padding = [human(f"{200 + i}.000000", "y" * 1000) for i in range(200)]
    files = export({"2024-03-01": [human("100.000000", "Q?"), bot("100.100000", "A.")]})
    files["general/2024-03-02.json"] = padding  # compresses to a few KB, inflates to 200 KB
    path = write_zip(tmp_path / "export.zip", files)
    assert path.stat().st_size < 50_000
    report = read(path, limit=100_000)
    assert [r.ts for r in report.replies] == ["100.100000"]
    [problem] = report.problems
    assert problem.path.endswith("general/2024-03-02.json")
    assert "inflates to more than 100,000 bytes" in problem.detail


def test_zip_members_that_leave_the_export_are_refused(tmp_path: Path) -> None:
    files = export({"2024-03-01": [human("100.000000", "Q?"), bot("100.100000", "A.")]})
    files["../evil/2024-03-01.json"] = [human("1.0", "Q?"), bot("1.1", "A.")]
    files["general/../../2024-03-05.json"] = [human("1.0", "Q?"), bot("1.1", "A.")]
    path = write_zip(tmp_path / "export.zip", files)
    report = read(path)
    assert [r.ts for r in report.replies] == ["100.100000"]
    refused = [p.path for p in report.problems if "leaves the export" in p.detail]
    assert len(refused) == 2
    assert not (tmp_path / "evil").exists()
    assert not is_safe_member("/etc/passwd") and not is_safe_member("C:\\x.json")
    assert is_safe_member("general/2024-03-01.json")


def test_an_export_zipped_inside_its_folder_is_still_read(tmp_path: Path) -> None:
    files = export({"2024-03-01": [human("100.000000", "Q?"), bot("100.100000", "A.")]})
    path = write_zip(tmp_path / "export.zip", {f"Fernleaf/{k}": v for k, v in files.items()})
    assert [r.ts for r in read(path).replies] == ["100.100000"]


def test_private_channels_dms_and_group_dms_are_read_by_their_folder_names(
    tmp_path: Path,
) -> None:
    day = [human("100.000000", "Q?"), bot("100.100000", "A.")]
    files = {
        "channels.json": [],
        "groups.json": [{"id": "G1", "name": "product-secret"}],
        "dms.json": [{"id": "D1", "members": ["U1", BOT]}],
        "mpims.json": [{"id": "G2", "name": "mpdm-ana--ben--brightside-1"}],
        "product-secret/2024-03-01.json": day,
        "D1/2024-03-01.json": day,
        "mpdm-ana--ben--brightside-1/2024-03-01.json": day,
        "unlisted/2024-03-01.json": day,
    }
    report = read(write_folder(tmp_path / "export", files))
    assert sorted(r.channel for r in report.replies) == ["D1", "G1", "G2"]
    [problem] = report.problems
    assert problem.path.endswith("unlisted") and "not listed" in problem.detail


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"notes.txt": b"hello"}, "no channels.json"),
        ({"channels.json": b"[oops"}, "none of its conversation lists could be read"),
        ({"channels.json": [{"id": "C1", "name": "general"}]}, "no conversation folder"),
    ],
)
def test_something_that_is_not_an_export_is_one_clear_error(
    tmp_path: Path, files: Files, reason: str
) -> None:
    path = write_zip(tmp_path / "photos.zip", files)
    with pytest.raises(ExportError) as raised:
        read(path)
    message = str(raised.value)
    assert message.startswith(f"{path} is not a Slack export: ") and reason in message
    assert "\n" not in message


def test_missing_paths_and_other_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        read(tmp_path / "nope.zip")
    text = tmp_path / "export.txt"
    text.write_text("hello")
    with pytest.raises(ExportError, match=r"is not a Slack export: not a \.zip"):
        read(text)


def imported(store: Store, path: Path) -> tuple[int, int, int, int]:
    report = read(path)
    new_replies, new_votes = store.import_history(report.replies, report.votes)
    return new_replies, len(report.replies) - new_replies, new_votes, len(report.votes) - new_votes


def test_a_second_import_adds_nothing(as_export: Any) -> None:
    path = as_export(
        export(
            {
                "2024-03-01": [
                    human("100.000000", "Q?"),
                    bot("100.100000", "A.", reactions=[reaction("+1", "U1"), reaction("-1", "U2")]),
                ]
            }
        )
    )
    store = Store(":memory:")
    assert imported(store, path) == (1, 0, 2, 0)
    first = (list(store.replies()), store.votes())
    assert imported(store, path) == (0, 1, 0, 2)
    assert (list(store.replies()), store.votes()) == first


def test_live_replies_and_their_votes_are_never_overwritten(tmp_path: Path) -> None:
    store = Store(":memory:")
    live = Reply(channel="C1", ts="100.100000", text="Live text.", question="Q?", model="m")
    store.save_reply(live)
    store.record_vote("C1", "100.100000", "U1", -1, "feedback_button")
    path = write_folder(
        tmp_path / "export",
        export(
            {
                "2024-03-01": [
                    human("100.000000", "Q?"),
                    bot("100.100000", "A.", reactions=[reaction("+1", "U1", "U2")]),
                ]
            }
        ),
    )
    assert imported(store, path) == (0, 1, 1, 1)
    reply = store.reply("C1", "100.100000")
    assert reply is not None and (reply.text, reply.origin, reply.model) == (
        "Live text.",
        "live",
        "m",
    )
    votes = {v.user: (v.value, v.source) for v in store.votes()}
    assert votes == {"U1": (-1, "feedback_button"), "U2": (1, "reaction:+1")}


def test_an_import_that_fails_midway_writes_nothing() -> None:
    store = Store(":memory:")
    reply = Reply(channel="C1", ts="1.0", text="A.", origin="import", created_at="x")
    # The vote's reply does not exist, so the foreign key fails after the reply was written.
    orphan = Vote("C9", "9.9", "U1", 1, "reaction:+1", "2024-03-01T00:00:00.000+00:00")
    with pytest.raises(sqlite3.IntegrityError):
        store.import_history([reply], [orphan])
    assert list(store.replies()) == []


def test_a_ts_no_clock_can_show_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    messages: list[Any] = [
        human("100.000000", "Do you ship to Norway?"),
        bot("inf", "We do."),
        bot("99999999999999", "We do."),
        bot("101.000000", "We do, in 3 to 5 days."),
    ]
    report = read(write_folder(tmp_path / "export", export({"2024-03-01": messages})))
    assert [r.ts for r in report.replies] == ["101.000000"]


def test_integration_bot_text_is_read_from_blocks_and_attachments(tmp_path: Path) -> None:
    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Pack the "},
                        {"type": "link", "url": "https://x.example/tent", "text": "Ridgeline 2"},
                        {"type": "emoji", "name": "tent"},
                    ],
                }
            ],
        }
    ]
    attachments = [{"fallback": "[gear] Ridgeline 3 restocked", "color": "good"}]
    path = write_folder(
        tmp_path / "export",
        export(
            {
                "2024-03-01": [
                    human("100.000100", "Which tent?"),
                    bot("100.000200", "", blocks=blocks),
                    human("100.000300", "Any news?"),
                    bot("100.000400", "", attachments=attachments),
                    human("100.000500", "And now?"),
                    bot("100.000600", "", attachments=[{"color": "good"}]),
                ]
            }
        ),
    )
    report = read(path)
    assert [r.text for r in report.replies] == [
        "Pack the Ridgeline 2:tent:",
        "[gear] Ridgeline 3 restocked",
    ]
    assert report.skipped == {NO_TEXT: 1}


def test_ratings_on_skipped_replies_are_counted(tmp_path: Path) -> None:
    path = write_folder(
        tmp_path / "export",
        export(
            {
                "2024-03-01": [
                    bot("100.000100", "Morning all!", reactions=[reaction("+1", "U1", "U2")]),
                    human("100.000200", "Hi"),
                    bot("100.000300", "", reactions=[reaction("x", "U3"), reaction("tada", "U1")]),
                ]
            }
        ),
    )
    report = read(path)
    assert report.replies == []
    assert report.skipped == {NO_QUESTION: 1, NO_TEXT: 1}
    assert report.skipped_votes == {ON_SKIPPED_REPLY: 3}
    assert report.authored == 2
