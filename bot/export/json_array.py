"""The items of a JSON array read from a byte stream a piece at a time, no deeper than a limit.

The standard library's C decoder builds each item (`raw_decode`), so parsing
costs about what `json.loads` of the whole file would, but only one piece of
the file (READ_CHARS of text and the items it holds) is in memory at a time,
beside the largest single item. The C decoder itself stops deep nesting only
at the interpreter's recursion limit, so each piece's nesting is measured
first on its text, with byte operations that run in C (see `_height`).
"""

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

# Slack's messages nest blocks a dozen levels at most; deeper is not an export,
# and the code that reads messages must not meet unbounded nesting.
MAX_DEPTH = 64
# Text decoded before its items are handed out: all items of one piece are
# held at once (their nesting is checked together), so this bounds memory.
# Small pieces also leave fewer items alive when the cycle collector looks,
# so fewer of them reach its oldest generation and its full walks (at 64 KB
# an import of 100,000 replies made twice as many full collections).
READ_CHARS = 16 * 1024
# A decoding error this close to the end of the text read so far may only mean
# the text stops inside an item (`tru`, `1.`, `"\u12`): read on before judging.
_MARGIN = 16

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What follows an item, whitespace included: one match per item.
_DELIMITER = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
_KINDS = {"{": "dict", "[": "list", '"': "str", "t": "bool", "f": "bool", "n": "null"}
# Surrogate escapes (`\ud83d`) are halves of an emoji; one without its other half
# is no Unicode text, and SQLite would refuse to store it.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
# Brackets of both kinds become one (the text is valid JSON, so they match)
# and everything but brackets and quotes goes: what `_height` counts.
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')


class NotAnArrayError(ValueError):
    """The stream holds no JSON array of items; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


class _Text:
    """Text decoded from the stream, read on when more is needed."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text = ""
        self.eof = False

    def more(self) -> None:
        """At least doubles what is held (so an item longer than a piece is
        decoded again only a few times), or reaches the end."""
        wanted = max(READ_CHARS, len(self.text))
        pieces = [self.text]
        got = 0
        while got < wanted and not self.eof:
            data = self._read(READ_CHARS)
            piece = self._decoder.decode(data, final=not data)
            self.eof = not data
            pieces.append(piece)
            got += len(piece)
        self.text = "".join(pieces)

    def drop(self, pos: int) -> None:
        self.text = self.text[pos:]

    def skip_space(self, pos: int) -> int:
        """The position of the next character that is not whitespace, reading on
        as needed; len(text) at the end of the stream."""
        while True:
            pos = _after_space(self.text, pos)
            if pos < len(self.text) or self.eof:
                return pos
            self.more()


def _after_space(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def array_items(read: Callable[[int], bytes]) -> Iterator[Any]:
    """The items of the JSON array that `read(size)` returns the bytes of; raises
    NotAnArrayError saying why when it holds anything else, or nests too deep."""
    try:
        yield from _items(_Text(read))
    except UnicodeDecodeError as e:
        raise NotAnArrayError("not valid JSON (UnicodeDecodeError)") from e


def _items(source: _Text) -> Iterator[Any]:
    pos = source.skip_space(0)
    if pos == len(source.text):
        raise NotAnArrayError("not valid JSON (empty file)")
    first = source.text[pos]
    if first != "[":
        _decode_one(source, pos)  # a broken document says so, before its kind is named
        raise NotAnArrayError(f"a JSON {_KINDS.get(first, 'number')}, not a list")
    pos = source.skip_space(pos + 1)
    if source.text[pos : pos + 1] == "]":
        _expect_end(source, pos + 1)
        return
    while True:
        batch, pos, done = _decode_piece(source, pos)
        # Last first off the reversed list: each item is freed as soon as its
        # reader is done with it, not with the whole piece.
        batch.reverse()
        while batch:
            yield batch.pop()
        if done:
            _expect_end(source, pos)
            return
        source.drop(pos)
        source.more()
        pos = 0


def _decode_piece(source: _Text, pos: int) -> tuple[list[Any], int, bool]:
    """The items that lie whole in the text held from `pos`, where to go on, and
    whether the array's end was reached."""
    text, eof = source.text, source.eof
    start = last = pos = _after_space(text, pos)
    batch: list[Any] = []
    done = False
    while True:
        try:
            item, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            if not eof and (e.pos >= len(text) - _MARGIN or e.msg.startswith("Unterminated")):
                break  # the item goes on past what was read
            raise NotAnArrayError(f"not valid JSON ({e})") from e
        except RecursionError as e:
            raise NotAnArrayError(f"nested deeper than {MAX_DEPTH} levels; skipped") from e
        except ValueError as e:
            raise NotAnArrayError(f"not valid JSON ({e})") from e
        delimiter = _DELIMITER.match(text, end)
        if delimiter is None:
            if not eof and (end >= len(text) - _MARGIN or _after_space(text, end) == len(text)):
                break  # a number may go on (`1.`), or the delimiter is not read yet
            raise NotAnArrayError(f"not valid JSON (expecting ',' or ']' at character {end})")
        batch.append(item)
        last, pos = end, delimiter.end()
        if delimiter.group(1) == "]":
            done = True
            break
    span = text[start:last]
    if _height(span.encode()) > MAX_DEPTH:
        raise NotAnArrayError(f"nested deeper than {MAX_DEPTH} levels; skipped")
    if _SURROGATE.search(span) and _SURROGATE.search(_SURROGATE_PAIR.sub("", span)):
        batch = [_without_lone_surrogates(item) for item in batch]
    return batch, pos, done


def _height(text: bytes) -> int:
    """How deep the valid JSON `text` nests (a bare value 0), up to MAX_DEPTH + 1.

    Strings go first: escaped backslashes and quotes, then every quoted run
    (after the deletion, `""` is an empty string or two strings with no bracket
    between them, so dropping it keeps the rest as it was). What is left is
    brackets, and each pass of `replace` removes exactly the innermost level.
    """
    if b"\\" in text:
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = text.translate(_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    if b'"' in text:
        text = b"".join(text.split(b'"')[::2])
    for depth in range(MAX_DEPTH + 1):
        if not text:
            return depth
        text = text.replace(b"[]", b"")
    return MAX_DEPTH + 1


def _without_lone_surrogates(item: Any) -> Any:
    # Rare (no Slack client writes one), so a round trip through the C encoder
    # is simpler than a walk: each lone half becomes "?".
    data = json.dumps(item, ensure_ascii=False).encode("utf-8", "replace")
    return json.loads(data)


def _decode_one(source: _Text, pos: int) -> None:
    while True:
        try:
            _DECODER.raw_decode(source.text, pos)
            return
        except json.JSONDecodeError as e:
            if source.eof:
                raise NotAnArrayError(f"not valid JSON ({e})") from e
            source.more()
        except RecursionError as e:
            raise NotAnArrayError(f"nested deeper than {MAX_DEPTH} levels; skipped") from e
        except ValueError as e:
            raise NotAnArrayError(f"not valid JSON ({e})") from e


def _expect_end(source: _Text, pos: int) -> None:
    """Only whitespace may follow the array: trailing garbage is a parse error."""
    source.drop(pos)
    if source.skip_space(0) < len(source.text):
        raise NotAnArrayError("not valid JSON (extra data after the list)")
