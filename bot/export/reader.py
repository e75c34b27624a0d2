"""Reading a whole Slack export into replies, votes and a report of everything skipped."""

import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bot.export.files import ExportError, ExportFiles, MalformedFileError, json_items
from bot.export.messages import (
    ExportMessage,
    ImportPolicy,
    Problem,
    channel_history,
    parse_day,
)
from storage import ImportedChannel, Reply, Vote, now

# Each conversation list and the key that names the conversation's folder:
# channels and private channels by name, group DMs by name, DMs by id.
CONVERSATION_LISTS = {
    "channels.json": "name",
    "groups.json": "name",
    "mpims.json": "name",
    "dms.json": "id",
}
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json")
# Every message read is kept until the import writes; past this many the rest
# of the export is skipped, so a file of millions of tiny messages cannot
# exhaust memory.
MAX_MESSAGES = 5_000_000
_LISTS_NAMED = "channels.json (or groups.json, dms.json, mpims.json)"
# Part of every channel's settings digest: bump it when a change to reading
# makes the same day files give other rows, so channels imported before are
# read again rather than skipped as unchanged.
READER_VERSION = 1


@dataclass(frozen=True)
class Conversation:
    id: str
    folder: str
    days: tuple[tuple[date, str], ...]  # (day, file name), oldest first


@dataclass
class ExportLayout:
    """What the export holds, found from its lists before any day file is read."""

    conversations: list[Conversation] = field(default_factory=list)
    bots: set[str] = field(default_factory=set)  # users marked is_bot
    bot_users: dict[str, str] = field(default_factory=dict)  # bot id -> the bot's user id
    user_names: dict[str, str] = field(default_factory=dict)  # name in users.json -> user id
    problems: list[Problem] = field(default_factory=list)

    @property
    def day_files(self) -> int:
        return sum(len(c.days) for c in self.conversations)

    def policy(self, policy: ImportPolicy) -> ImportPolicy:
        """The policy with the export's bots, and each author under both its ids:
        a bot's messages carry its user id, its bot id or both."""
        authors = set(policy.authors)
        for bot_id, user in self.bot_users.items():
            if bot_id in policy.authors or user in policy.authors:
                authors |= {bot_id, user}
        return replace(policy, authors=frozenset(authors), bots=frozenset(self.bots))


@dataclass
class ExportReport:
    channels: int = 0  # conversations with at least one day file read
    listed_day_files: int = 0
    day_files: int = 0  # read and usable
    messages: int = 0
    replies: list[Reply] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_votes: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    senders: Counter[str] = field(default_factory=Counter)  # messages per user (or bot) id
    bot_senders: Counter[str] = field(default_factory=Counter)  # the bots among them
    authored: int = 0  # messages by the import authors, imported or not
    # Channels not read because nothing that decides their rows changed since
    # their last import (as recorded then), and the day files they hold.
    unchanged: list[ImportedChannel] = field(default_factory=list)
    unchanged_day_files: int = 0
    # Channels read whole and without a problem: what to record for next time.
    imported: list[ImportedChannel] = field(default_factory=list)


def export_layout(files: ExportFiles, source: str) -> ExportLayout:
    """The conversations and users of the export at `source`; ExportError when it is
    not a Slack export at all."""
    layout = ExportLayout()
    names = files.names()
    layout.problems += [Problem(files.display(r.name), r.reason) for r in files.refused]
    root = _root(names)
    if root is None:
        raise ExportError(
            f"{source} is not a Slack export: no {_LISTS_NAMED} at its top; pass the .zip "
            "from Slack's export page or the folder it was unpacked into"
        )
    folders: dict[str, list[tuple[date, str]]] = {}
    for name in names:
        if not name.startswith(root):
            continue
        folder, _, file = name[len(root) :].rpartition("/")
        day = _day(file)
        if folder and "/" not in folder and day is not None:
            folders.setdefault(folder, []).append((day, name))
    listed, readable = _listed_conversations(files, root, set(names), layout.problems)
    if not readable:
        raise ExportError(
            f"{source} is not a Slack export: none of its conversation lists could be read "
            f"({'; '.join(f'{p.path}: {p.detail}' for p in layout.problems)})"
        )
    for folder, conversation_id in listed.items():
        days = folders.pop(folder, None)
        if days:
            layout.conversations.append(Conversation(conversation_id, folder, tuple(sorted(days))))
    for folder, days in sorted(folders.items()):
        layout.problems.append(
            Problem(
                files.display(root + folder),
                f"not listed in {_LISTS_NAMED}; its {len(days)} day files skipped",
            )
        )
    if not layout.conversations:
        raise ExportError(
            f"{source} is not a Slack export: no conversation folder holds day files "
            "(YYYY-MM-DD.json); export again with the channels and dates you want"
        )
    _read_users(files, root + "users.json", names, layout)
    return layout


def read_export(
    files: ExportFiles,
    layout: ExportLayout,
    policy: ImportPolicy,
    advance: Callable[[], None] = lambda: None,
    max_messages: int = MAX_MESSAGES,
    imported: Mapping[str, ImportedChannel] | None = None,
) -> ExportReport:
    """Every conversation's replies and votes, reading at most `max_messages`
    messages; `advance` is called once per day file. A conversation in
    `imported` (the last complete import of each channel) whose day files and
    import settings are the same is not read again: its rows cannot differ."""
    policy = layout.policy(policy)
    settings = settings_digest(policy)
    report = ExportReport(listed_day_files=layout.day_files, problems=list(layout.problems))
    for conversation in layout.conversations:
        before = (imported or {}).get(conversation.id)
        if before is not None and _unchanged(files, conversation, settings, before):
            report.unchanged.append(before)
            report.unchanged_day_files += len(conversation.days)
            for _ in conversation.days:
                advance()
            continue
        _read_conversation(files, conversation, policy, settings, advance, max_messages, report)
    return report


def settings_digest(policy: ImportPolicy) -> str:
    """What decides a channel's rows besides its day files: the reader's version
    and the policy in force (authors with their bot ids, the export's bots, the
    rating emoji, the context length)."""
    described = json.dumps(
        [
            READER_VERSION,
            sorted(policy.authors),
            sorted(policy.bots),
            sorted(policy.good_emoji),
            sorted(policy.bad_emoji),
            policy.max_context_turns,
        ]
    )
    return hashlib.sha256(described.encode()).hexdigest()


def _files_digest(fingerprints: list[tuple[date, str]]) -> str:
    listed = "\n".join(f"{day.isoformat()} {fingerprint}" for day, fingerprint in fingerprints)
    return hashlib.sha256(listed.encode()).hexdigest()


def _unchanged(
    files: ExportFiles, conversation: Conversation, settings: str, before: ImportedChannel
) -> bool:
    if before.settings_digest != settings:
        return False
    try:
        fingerprints = [(day, files.fingerprint(name)) for day, name in conversation.days]
    except MalformedFileError:
        return False  # reading it says what is wrong
    return _files_digest(fingerprints) == before.files_digest


def _read_conversation(
    files: ExportFiles,
    conversation: Conversation,
    policy: ImportPolicy,
    settings: str,
    advance: Callable[[], None],
    max_messages: int,
    report: ExportReport,
) -> None:
    messages: list[ExportMessage] = []
    fingerprints: list[tuple[date, str]] = []
    problems_before = len(report.problems)
    read_any = False
    for day, name in conversation.days:
        path = files.display(name)
        left = max_messages - report.messages
        if left <= 0:
            advance()  # the problem was reported where the limit was reached
            continue
        try:
            with files.open(name) as stream:
                items = json_items(stream)
                try:
                    # One message past what is left tells a cut file from a whole one.
                    parsed = parse_day(path, day, itertools.islice(items, left + 1), policy)
                finally:
                    items.close()
                fingerprints.append((day, stream.fingerprint()))
        except MalformedFileError as e:
            report.problems.append(Problem(path, str(e)))
            advance()
            continue
        if parsed.seen > left:
            parsed.seen = left
            report.problems.append(
                Problem(
                    path,
                    f"the export holds more than {max_messages:,} messages; the rest of "
                    "this file and the files after it were skipped "
                    "(raise VOICELOOP_IMPORT_MAX_MESSAGES to read them)",
                )
            )
        read_any = True
        report.day_files += 1
        report.messages += parsed.seen
        report.skipped += parsed.skipped
        report.problems += parsed.problems
        report.senders += parsed.senders
        report.bot_senders += parsed.bot_senders
        report.authored += parsed.authored
        messages += parsed.messages
        advance()
    report.channels += read_any
    history = channel_history(conversation.id, messages, policy)
    report.replies += history.replies
    report.votes += history.votes
    report.skipped += history.skipped
    report.skipped_votes += history.skipped_votes
    # Only a channel read whole and without a problem may be skipped next time:
    # one with problems is read again, so they are listed again.
    if len(report.problems) == problems_before and len(fingerprints) == len(conversation.days):
        report.imported.append(
            ImportedChannel(
                channel=conversation.id,
                files_digest=_files_digest(fingerprints),
                settings_digest=settings,
                replies=len(history.replies),
                votes=len(history.votes),
                imported_at=now(),
            )
        )


def _root(names: list[str]) -> str | None:
    """The folder the export's lists sit in: the top, or the one folder a
    re-zipped export was wrapped in; None when there are no lists."""
    if any(name in CONVERSATION_LISTS for name in names):
        return ""
    wrappers = {
        name.rpartition("/")[0] + "/"
        for name in names
        if name.count("/") == 1 and name.rpartition("/")[2] in CONVERSATION_LISTS
    }
    return wrappers.pop() if len(wrappers) == 1 else None


def _day(file: str) -> date | None:
    match = _DAY_FILE.fullmatch(file)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def _listed_conversations(
    files: ExportFiles, root: str, names: set[str], problems: list[Problem]
) -> tuple[dict[str, str], bool]:
    """Folder name -> conversation id from every list present, and whether any list
    could be read."""
    listed: dict[str, str] = {}
    readable = False
    for list_name, folder_key in CONVERSATION_LISTS.items():
        if root + list_name not in names:
            continue
        path = files.display(root + list_name)
        entries = _json_list(files, root + list_name, problems)
        if entries is None:
            continue
        readable = True
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                problems.append(Problem(path, f"entry [{index}] is not a JSON object; skipped"))
                continue
            conversation_id, folder = entry.get("id"), entry.get(folder_key)
            if isinstance(conversation_id, str) and isinstance(folder, str) and folder:
                listed.setdefault(folder, conversation_id)
            else:
                detail = f"entry [{index}] has no id or {folder_key}; skipped"
                problems.append(Problem(path, detail))
    return listed, readable


def _read_users(files: ExportFiles, name: str, names: list[str], layout: ExportLayout) -> None:
    # Without users.json the import still works; it just cannot tell bots'
    # reactions from people's unless the bot is one of the authors.
    if name not in names:
        return
    for index, user in enumerate(_json_list(files, name, layout.problems) or []):
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str):
            layout.problems.append(
                Problem(files.display(name), f"entry [{index}] has no id; skipped")
            )
            continue
        if user.get("is_bot") is True:
            layout.bots.add(user_id)
        profile = user.get("profile")
        known_as: list[object] = [user.get("name"), user.get("real_name")]
        if isinstance(profile, dict):
            known_as += [profile.get("display_name"), profile.get("real_name")]
        for alias in known_as:
            if isinstance(alias, str) and alias:
                layout.user_names.setdefault(alias, user_id)
        bot_id = profile.get("bot_id") if isinstance(profile, dict) else None
        if isinstance(bot_id, str):
            layout.bot_users[bot_id] = user_id


def _json_list(files: ExportFiles, name: str, problems: list[Problem]) -> Iterator[Any] | None:
    """The list's entries as they are parsed; a list that turns out broken part
    way is reported, and the entries before the break still count."""
    path = files.display(name)
    entries = _items(files, name)
    try:
        first = next(entries, _END)
    except MalformedFileError as e:
        problems.append(Problem(path, str(e)))
        return None

    def rest() -> Iterator[Any]:
        try:
            if first is not _END:
                yield first
                yield from entries
        except MalformedFileError as e:
            problems.append(Problem(path, f"{e}; the entries after it were skipped"))

    return rest()


_END = object()


def _items(files: ExportFiles, name: str) -> Iterator[Any]:
    with files.open(name) as stream:
        yield from json_items(stream)
