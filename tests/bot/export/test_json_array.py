"""Reading a JSON array a piece at a time gives what json.loads gives, or says why not."""

import io
import json
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.export import json_array
from bot.export.json_array import MAX_DEPTH, NotAnArrayError, array_items


def reader(data: bytes, sizes: list[int] | None = None) -> Callable[[int], bytes]:
    """A stream that hands out at most the given sizes in turn (then what is asked)."""
    stream = io.BytesIO(data)
    pending = list(sizes or [])

    def read(size: int) -> bytes:
        return stream.read(min(size, pending.pop(0)) if pending else size)

    return read


def items(data: bytes, sizes: list[int] | None = None) -> list[Any]:
    return list(array_items(reader(data, sizes)))


def refusal(data: bytes) -> str:
    with pytest.raises(NotAnArrayError) as e:
        items(data)
    return str(e.value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8")),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(json_values, max_size=12),
    st.lists(st.integers(min_value=1, max_value=7), max_size=200),
    st.sampled_from([None, 0, 2]),
)
def test_any_array_cut_anywhere_reads_as_json_loads_reads_it(
    value: list[Any], sizes: list[int], indent: int | None
) -> None:
    data = json.dumps(value, indent=indent, ensure_ascii=bool(sizes and sizes[0] % 2)).encode()
    # Pieces of a few characters put a piece's end inside every kind of token.
    with patch.object(json_array, "READ_CHARS", 1 + len(sizes) % 9):
        assert items(data, sizes) == json.loads(data)


def test_pieces_longer_than_one_read_are_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_array, "READ_CHARS", 16)
    value = [{"text": "x" * 1000, "n": 12345.678e-3}, [True, False, None], "é" * 50, 10**30]
    data = json.dumps(value, ensure_ascii=False).encode()
    assert items(data, [3] * 10_000) == value


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused() -> None:
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert items(f'[1, {deepest}, {{"a": "]]]]"}}]'.encode()) == [
        1,
        json.loads(deepest),
        {"a": "]]]]"},
    ]
    too_deep = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    assert refusal(f"[{too_deep}]".encode()) == f"nested deeper than {MAX_DEPTH} levels; skipped"


def test_brackets_and_escaped_quotes_inside_strings_are_not_nesting() -> None:
    text = '\\"[[[[' * 100 + "\\\\"
    data = f'[{{"text": "{text}", "next": "{{{{{{"}}, "\\\\\\"", "[\\\\"]'.encode()
    assert items(data) == json.loads(data)


def test_what_is_not_an_array_of_items_is_named() -> None:
    assert refusal(b"") == "not valid JSON (empty file)"
    assert refusal(b"  \n") == "not valid JSON (empty file)"
    assert refusal(b'{"messages": []}') == "a JSON dict, not a list"
    assert refusal(b"42") == "a JSON number, not a list"
    assert refusal(b"{not json").startswith("not valid JSON")
    assert refusal(b"[1, 2").startswith("not valid JSON")
    assert refusal(b"[1, 2,]").startswith("not valid JSON")
    assert refusal(b"[1 2]").startswith("not valid JSON")
    assert refusal(b"[1] [2]") == "not valid JSON (extra data after the list)"
    assert refusal(b"[NaN]").startswith("not valid JSON")
    assert refusal(b'["\xff"]') == "not valid JSON (UnicodeDecodeError)"
    assert refusal(b"[" * 100_000) == f"nested deeper than {MAX_DEPTH} levels; skipped"


def test_a_byte_order_mark_and_surrounding_whitespace_are_accepted() -> None:
    assert items(b"\xef\xbb\xbf \n[ ]\n") == []
    assert items(b"\xef\xbb\xbf[1]") == [1]


def test_a_lone_surrogate_half_reads_as_a_question_mark_and_pairs_as_their_emoji() -> None:
    data = b'[{"text": "ok \\ud83d\\ude00"}, {"text": "half \\ud800 here"}]'
    assert items(data) == [{"text": "ok \U0001f600"}, {"text": "half ? here"}]
    assert items(b'["\\ud83d\\ude00"]') == ["\U0001f600"]
