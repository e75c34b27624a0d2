"""The fast chat-line writer gives exactly the bytes json.dumps would."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from curation.dataset.chat_jsonl import dpo_line, dumps_chat_jsonl
from curation.dataset.examples import ChatMessage
from curation.dataset.jsonl import dumps_jsonl
from curation.dataset.preferences import PreferencePair

MESSAGES = st.builds(
    ChatMessage,
    st.sampled_from(["system", "user", "assistant"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.just('"\\\n\u2028🌲'),
    st.sampled_from([None, 0, 1, True]),
)


@given(st.lists(st.lists(MESSAGES, max_size=4), max_size=4))
def test_the_same_bytes_as_json_dumps(conversations: list[list[ChatMessage]]) -> None:
    lines: list[Any] = [{"messages": [m.as_json() for m in c]} for c in conversations]
    assert dumps_chat_jsonl(conversations) == dumps_jsonl(lines)


def test_a_shared_system_prompt_is_written_in_every_line() -> None:
    system = ChatMessage("system", "Be brief.")
    answer = ChatMessage("assistant", "a", 1)
    lines = [(system, ChatMessage("user", f"q{i}"), answer) for i in range(2)]
    written = dumps_chat_jsonl(lines).decode().splitlines()
    assert written == [
        f'{{"messages": [{{"role": "system", "content": "Be brief."}}, '
        f'{{"role": "user", "content": "q{i}"}}, '
        f'{{"role": "assistant", "content": "a", "weight": 1}}]}}'
        for i in range(2)
    ]


TEXTS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.just('"\\\n\u2028🌲')


@given(st.lists(MESSAGES, max_size=4), TEXTS, TEXTS)
def test_a_preference_pair_line_is_the_bytes_json_dumps_writes(
    prompt: list[ChatMessage], preferred: str, non_preferred: str
) -> None:
    pair = PreferencePair("C/1", "C/1", tuple(prompt), preferred, non_preferred, 0)
    assert dpo_line(pair.prompt, preferred, non_preferred) == dumps_jsonl([pair.as_json()])
