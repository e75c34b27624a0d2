"""manifest.yml asks for exactly what the code uses; the README documents every setting."""

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings, _variable

ROOT = Path(__file__).resolve().parent.parent
LISTENERS = sorted((ROOT / "bot" / "listeners").glob("*.py"))

# Which scope each Slack surface the code touches needs.
EVENT_SCOPES = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.im": {"im:history"},
    "message.mpim": {"mpim:history"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
}
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "conversations_replies": {
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
    },
    "users_info": {"users:read"},
    "auth_test": set(),  # voiceloop doctor and start-up; it checks the token itself
    "views_open": set(),
    "views_publish": set(),
}


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def registered(kind: str) -> set[str]:
    pattern = re.compile(rf"\bapp\.{kind}\(\s*\"([^\"]+)\"")
    names: set[str] = set()
    for path in LISTENERS:
        names |= set(pattern.findall(path.read_text()))
    return names


def web_api_methods() -> set[str]:
    sources = [p.read_text() for p in (ROOT / "bot").rglob("*.py")]
    return {m for text in sources for m in re.findall(r"client\.([a-z]+_[A-Za-z]+)\(", text)}


def test_bot_events_match_the_listeners() -> None:
    events = set(manifest()["settings"]["event_subscriptions"]["bot_events"])
    listened = registered("event")
    as_bolt_types = {e.split(".")[0] for e in events}
    assert as_bolt_types == listened


def test_shortcuts_and_commands_match_the_listeners() -> None:
    features = manifest()["features"]
    shortcuts = {s["callback_id"] for s in features.get("shortcuts", [])}
    from bot.chat.blocks import SUGGEST_SHORTCUT_ID

    assert shortcuts == {SUGGEST_SHORTCUT_ID}
    commands = {c["command"] for c in features.get("slash_commands", [])}
    assert commands == registered("command")
    assert manifest()["settings"]["interactivity"]["is_enabled"] is True


def test_scopes_are_exactly_what_the_code_needs() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    methods = web_api_methods()
    assert methods <= set(METHOD_SCOPES), f"add scopes for {methods - set(METHOD_SCOPES)}"
    needed = set().union(*(EVENT_SCOPES[e] for e in events))
    needed |= set().union(*(METHOD_SCOPES[m] for m in methods))
    if manifest()["features"].get("shortcuts") or manifest()["features"].get("slash_commands"):
        needed.add("commands")
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_socket_mode_is_on_by_default() -> None:
    assert manifest()["settings"]["socket_mode_enabled"] is True


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    expected = {_variable(name) for name in Settings.model_fields}
    assert expected == documented
