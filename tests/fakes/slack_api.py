"""A fake Slack Web API on loopback that records every call, for slack_sdk's WebClient."""

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from tests.fakes.loopback import LoopbackHandler, LoopbackServer

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
BOT_NAME = "voiceloop"
TEAM_NAME = "Fernleaf"
TEAM_URL = "https://fernleaf.slack.com/"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

# Bot posts are stamped as Slack stamps them, with the time they are posted
# (so they sort after the events tests stamp with the time they are sent),
# and always after anything already in the log: a stamp from a counter of its
# own sorted a reply before the mention it answered, and hid the "Thinking…"
# a crashed attempt left from the attempt that redid it.
_TS_STEP_MICROS = 1


@dataclass(frozen=True)
class SlackCall:
    """One Web API call as it arrived: method name, decoded params, bearer token."""

    method: str
    params: dict[str, Any]
    token: str | None


class SlackError(Exception):
    """Answered as {"ok": false, "error": ...} with HTTP 200, as Slack does."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int
    remaining: int
    skip: int  # calls still answered normally before this failure starts
    applied: bool = False  # the call takes effect before the error is answered


def _ts_key(ts: str) -> tuple[int, int]:
    # Slack timestamps are "seconds.micros"; comparing them as floats loses digits.
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0), int(fraction.ljust(6, "0")[:6] or 0)


def _ts_from_micros(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _decode_value(value: str) -> Any:
    # Form-encoded calls carry blocks, views and attachments as JSON strings.
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def manifest_scopes() -> list[str]:
    """The bot scopes manifest.yml asks for."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


class FakeSlack(LoopbackServer):
    """Slack's Web API, enough of it for voiceloop: posts, threads, users, views.

    Start it (``with FakeSlack() as slack:`` or ``start()``), give ``slack.url`` to
    ``WebClient(base_url=...)`` or ``SLACK_API_URL``, then assert on ``calls()``.
    """

    # State that reset() restores; set in _clear().
    _calls: list[SlackCall]
    _log: dict[str, dict[str, dict[str, Any]]]
    _users: dict[str, dict[str, Any]]
    _views: dict[str, dict[str, Any]]
    _failures: dict[str, list[_Failure]]
    _delays: dict[str, float]
    _last_ts: int
    _view_count: int

    def __init__(
        self,
        bot_token: str | None = None,
        app_token: str | None = None,
        socket_mode_url: str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> None:
        super().__init__(_Handler, thread_name="fake-slack")
        # Slack lists the token's scopes in an X-OAuth-Scopes header on every
        # answer; by default the fake grants exactly manifest.yml's bot scopes.
        self.scopes = list(manifest_scopes() if scopes is None else scopes)
        self.bot_token = bot_token
        # Socket Mode: apps.connections.open takes the app-level token and hands
        # out the WebSocket URL to connect to.
        self.app_token = app_token
        self.socket_mode_url = socket_mode_url
        self._cond = threading.Condition()
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete_message,
            "conversations.replies": self._replies,
            "users.info": self._user_info,
            "views.open": self._store_view,
            "views.push": self._store_view,
            "views.publish": self._store_view,
            "views.update": self._update_view,
            "reactions.add": self._add_reaction,
            "assistant.threads.setStatus": _ok,
            "assistant.threads.setSuggestedPrompts": _ok,
            "assistant.threads.setTitle": _ok,
        }
        self._clear()

    # -- addresses (start, stop and `with` come from LoopbackServer) -----------
    @property
    def url(self) -> str:
        """Web API base URL, ending in "/" as WebClient expects."""
        return self.origin + "/api/"

    def response_url(self, name: str = "command") -> str:
        """A response_url for slash command and interaction payloads; what is
        posted to it is recorded as a call of method "response_url"."""
        return self.origin + f"/response/{name}"

    # -- test helpers ----------------------------------------------------------
    def reset(self) -> None:
        """Forget calls, messages, users, views and pending failures."""
        with self._cond:
            self._clear()

    def add_message(
        self,
        channel: str,
        ts: str,
        user: str,
        text: str,
        thread_ts: str | None = None,
        bot_id: str | None = None,
    ) -> None:
        """Seed the message log, e.g. with the thread a test event points into."""
        message: dict[str, Any] = {"type": "message", "ts": ts, "user": user, "text": text}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        if bot_id is not None:
            message["bot_id"] = bot_id
        with self._cond:
            self._log.setdefault(channel, {})[ts] = message
            seconds, micros = _ts_key(ts)
            self._last_ts = max(self._last_ts, seconds * 1_000_000 + micros)

    def add_user(
        self,
        user_id: str,
        is_bot: bool = False,
        name: str | None = None,
        real_name: str | None = None,
    ) -> None:
        name = name or user_id.lower()
        real_name = real_name or name
        with self._cond:
            self._users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": real_name,
                "deleted": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "profile": {"real_name": real_name, "display_name": name},
            }

    def calls(self, method: str | None = None) -> list[SlackCall]:
        """Every call that arrived (injected failures included), oldest first."""
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[SlackCall], bool] | None = None,
    ) -> list[SlackCall]:
        """Block until `count` matching calls arrived; the app answers on other threads."""

        def matching() -> list[SlackCall]:
            return [c for c in self._calls if c.method == method and (where is None or where(c))]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                return matching()
            found, arrived = len(matching()), list(self._calls)
        condition = " matching the predicate" if where is not None else ""
        summary = "\n".join(f"  {c.method} {_brief(c.params)}" for c in arrived) or "  (none)"
        raise AssertionError(
            f"FakeSlack: expected {count} {method} call(s){condition} within {timeout}s, "
            f"got {found}. Calls that arrived:\n{summary}"
        )

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's message log (seeded and posted), sorted by ts."""
        with self._cond:
            log = self._log.get(channel, {})
            return [dict(log[ts]) for ts in sorted(log, key=_ts_key)]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self._cond:
            found = self._log.get(channel, {}).get(ts)
            if found is None:
                raise KeyError(f"FakeSlack: no message {ts} in channel {channel}")
            return dict(found)

    def views(self) -> list[dict[str, Any]]:
        """Views opened, pushed or published, with their latest content."""
        with self._cond:
            return [dict(v) for v in self._views.values()]

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        after: int = 0,
        applied: bool = False,
    ) -> None:
        """Answer `times` calls to `method` with an error (429s carry Retry-After),
        starting after the next `after` calls to it succeed; failures queued for
        one method apply one after another. `applied`: the call does what it
        asks before the error is answered (Slack timing out after posting)."""
        with self._cond:
            self._failures.setdefault(method, []).append(
                _Failure(error, status, retry_after, times, after, applied)
            )

    def fail_server(
        self, method: str, times: int = 1, after: int = 0, status: int = 500, applied: bool = False
    ) -> None:
        """Answer `times` calls to `method` with a 5xx, as Slack does on a bad minute."""
        self.fail_next(
            method, error="internal_error", status=status, times=times, after=after, applied=applied
        )

    def slow_down(self, method: str, seconds: float) -> None:
        """Answer every later call to `method` only after `seconds` (0 undoes it)."""
        with self._cond:
            self._delays[method] = seconds

    # -- request handling (called on server threads) ---------------------------
    def _clear(self) -> None:
        self._calls = []
        self._log = {}
        self._users = {}
        self._views = {}
        self._failures = {}
        self._delays = {}
        self._last_ts = 0
        self._view_count = 0
        self.add_user(BOT_USER_ID, is_bot=True, name=BOT_NAME)

    def _handle(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._cond:
            delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)  # outside the lock: other calls go on meanwhile
        with self._cond:
            self._calls.append(SlackCall(method, params, token))
            self._cond.notify_all()
            if method == "apps.connections.open":
                return 200, {}, self._open_connection(token)
            if self.bot_token is not None and token != self.bot_token:
                return (
                    200,
                    {},
                    {"ok": False, "error": "not_authed" if not token else "invalid_auth"},
                )
            failure = self._take_failure(method)
            if failure is not None and failure.applied and method in self._handlers:
                with contextlib.suppress(SlackError):
                    self._handlers[method](params)
            if failure is not None:
                headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
                return failure.status, headers, {"ok": False, "error": failure.error}
            handler = self._handlers.get(method)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            try:
                return 200, {"X-OAuth-Scopes": ",".join(self.scopes)}, handler(params)
            except SlackError as e:
                return 200, {}, {"ok": False, "error": e.error}

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.skip > 0:
            failure.skip -= 1
            return None
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _next_ts(self) -> str:
        # After every ts seen so far (add_message keeps _last_ts past what it
        # seeds), so a bot reply sorts after the seeded thread. A scan of the
        # whole log for the newest made each post cost more than the last.
        micros = max(self._last_ts + _TS_STEP_MICROS, time.time_ns() // 1000)
        self._last_ts = micros
        return _ts_from_micros(micros)

    def _find(self, params: dict[str, Any], ts_param: str = "ts") -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get(ts_param, ""))
        found = self._log.get(channel, {}).get(ts)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def _open_connection(self, token: str | None) -> dict[str, Any]:
        if self.socket_mode_url is None or token is None or token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode_url}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "text": params.get("text", ""),
        }
        for key in ("thread_ts", "blocks", "attachments", "metadata"):
            if params.get(key):
                message[key] = params[key]
        self._log.setdefault(channel, {})[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _update_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": params["channel"],
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        # Ephemeral messages never enter channel history, so they stay out of the log.
        if not params.get("channel"):
            raise SlackError("channel_not_found")
        if not params.get("user"):
            raise SlackError("user_not_in_channel")
        return {"ok": True, "message_ts": self._next_ts()}

    def _delete_message(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        del self._log[str(params["channel"])][message["ts"]]
        return {"ok": True, "channel": params["channel"], "ts": message["ts"]}

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        log = self._log.get(str(params.get("channel", "")), {})
        ts = str(params.get("ts", ""))
        # Asking with a reply's ts still returns its whole thread.
        root_ts = str(log[ts].get("thread_ts") or ts) if ts in log else ts
        thread = sorted(
            (m for m in log.values() if root_ts in (m["ts"], m.get("thread_ts"))),
            key=lambda m: _ts_key(m["ts"]),
        )
        if not thread:
            raise SlackError("thread_not_found")
        thread = [dict(m) for m in thread]
        if thread[0]["ts"] == root_ts and len(thread) > 1:
            thread[0].update(thread_ts=root_ts, reply_count=len(thread) - 1)
        cursor = str(params.get("cursor") or "")
        if cursor.startswith("next_ts:"):
            start = _ts_key(cursor.removeprefix("next_ts:"))
            thread = [m for m in thread if _ts_key(m["ts"]) >= start]
        limit = int(params.get("limit") or 1000)
        page, rest = thread[:limit], thread[limit:]
        next_cursor = f"next_ts:{rest[0]['ts']}" if rest else ""
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _user_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            raise SlackError("user_not_found")
        return {"ok": True, "user": json.loads(json.dumps(user))}

    def _store_view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        self._view_count += 1
        stored = {
            **view,
            "id": f"V{self._view_count:08d}",
            "team_id": TEAM_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": f"{time.time_ns()}.{self._view_count}",
        }
        self._views[stored["id"]] = stored
        return {"ok": True, "view": dict(stored)}

    def _update_view(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments")
        view_id, external_id = params.get("view_id"), params.get("external_id")
        for stored in self._views.values():
            if stored["id"] == view_id or (
                external_id and stored.get("external_id") == external_id
            ):
                stored.update(view)
                return {"ok": True, "view": dict(stored)}
        raise SlackError("not_found")

    def _add_reaction(self, params: dict[str, Any]) -> dict[str, Any]:
        # Lenient on unknown messages: tests often react to messages never seeded.
        channel, ts = str(params.get("channel", "")), str(params.get("timestamp", ""))
        message = self._log.get(channel, {}).get(ts)
        if message is not None:
            name = str(params.get("name", ""))
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if entry is None:
                reactions.append({"name": name, "users": [BOT_USER_ID], "count": 1})
            elif BOT_USER_ID in entry["users"]:
                raise SlackError("already_reacted")
            else:
                entry["users"].append(BOT_USER_ID)
                entry["count"] += 1
        return {"ok": True}


def _ok(params: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


def _brief(params: dict[str, Any]) -> str:
    text = json.dumps(params, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


class _Handler(LoopbackHandler[FakeSlack]):
    def answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.owner
        if url.path.startswith("/response/"):
            # Slack answers response_url posts without checking a token.
            posted = json.loads(body) if body else {}
            with fake._cond:
                fake._calls.append(SlackCall("response_url", posted, None))
                fake._cond.notify_all()
            self._send(200, {}, {"ok": True})
            return
        if not url.path.startswith("/api/"):
            self._send(404, {}, {"ok": False, "error": "not_found"})
            return
        params = {k: _decode_value(v) for k, v in parse_qsl(url.query, keep_blank_values=True)}
        content_type = self.headers.get("Content-Type", "")
        if body and "application/json" in content_type:
            try:
                decoded = json.loads(body)
            except ValueError:
                self._send(200, {}, {"ok": False, "error": "invalid_json"})
                return
            if isinstance(decoded, dict):
                params.update(decoded)
        elif body:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: _decode_value(v) for k, v in pairs})
        token = params.pop("token", None)
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        status, headers, payload = fake._handle(url.path.removeprefix("/api/"), params, token)
        self._send(status, headers, payload)

    def _send(self, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
