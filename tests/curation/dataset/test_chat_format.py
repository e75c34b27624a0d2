"""Chat examples: how they are built, and what the format check refuses."""

import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from curation.dataset.chat_format import chat_problems, message_problems, preference_problems
from curation.dataset.examples import ChatMessage, Example, Rejection
from curation.dataset.labels import LabelPolicy, label_reply
from storage.records import ChatTurn
from tests.curation.dataset.factories import SYSTEM, build_example, labeled


def build(**kwargs: Any) -> Example:
    reply = labeled(**kwargs)
    built = build_example(reply, label_reply(reply, LabelPolicy()), SYSTEM)
    assert isinstance(built, Example)
    return built


def test_an_example_is_system_context_question_then_target() -> None:
    context = (ChatTurn("user", "Heading out Friday."), ChatTurn("assistant", "Nice, where to?"))
    example = build(context=context, thread_ts="99.0")
    assert [m.as_json() for m in example.messages] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Heading out Friday."},
        # Earlier bot turns were never rated: context, not something to learn.
        {"role": "assistant", "content": "Nice, where to?", "weight": 0},
        {"role": "user", "content": "Should I use a footprint under my tent?"},
        {
            "role": "assistant",
            "content": "Yes, use a footprint. It protects the floor from rocks and roots.",
        },
    ]
    assert example.thread == "C1/99.0"
    assert example.source == "votes"
    assert chat_problems({"messages": [m.as_json() for m in example.messages]}) == []


def test_a_correction_becomes_the_target_and_the_original_is_kept_as_rejected() -> None:
    example = build(text="Footprints are optional.", corrections=("Yes, use one.",))
    assert example.target == "Yes, use one."
    assert example.rejected == "Footprints are optional."
    assert example.source == "correction"


def test_a_reply_without_its_question_is_refused() -> None:
    reply = labeled(question="  ")
    built = build_example(reply, label_reply(reply, LabelPolicy()), SYSTEM)
    assert isinstance(built, Rejection)
    assert built.reason == "no_question"


def line(*messages: Mapping[str, object]) -> dict[str, object]:
    return {"messages": list(messages)}


USER = {"role": "user", "content": "hi"}
ASSISTANT = {"role": "assistant", "content": "hello"}


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ([1, 2], "not a JSON object"),
        ({"messages": []}, '"messages" is missing or empty'),
        (line(ASSISTANT), "there is no user message"),
        (line(USER), "there is no assistant message"),
        (line(USER, ASSISTANT, USER), "the last message is not from the assistant"),
        (line(USER, {"role": "bot", "content": "x"}), "role 'bot' is not one of"),
        (line(USER, {"role": "assistant", "content": " "}), "content is blank or not a string"),
        (line(USER, {"role": "assistant", "content": None}), "content is blank or not a string"),
        (line(USER, {"role": "assistant"}), "message 1: missing key 'content'"),
        (line({"content": "hi"}, ASSISTANT), "message 0: missing key 'role'"),
        (line(USER, {**ASSISTANT, "tone": "warm"}), "unknown keys tone"),
        (line(USER, {"role": "system", "content": "x"}, ASSISTANT), "may only come first"),
        (line({**USER, "weight": 0}, ASSISTANT), "only assistant messages may carry a weight"),
        (line(USER, {**ASSISTANT, "weight": 2}), "weight must be 0 or 1"),
        (line(USER, {**ASSISTANT, "weight": True}), "weight must be 0 or 1"),
    ],
)
def test_chat_problems(bad: object, problem: str) -> None:
    found = chat_problems(bad)
    assert any(problem in p for p in found), found


# Bad line -> the name of the OpenAI cookbook check (chat fine-tuning data
# prep) that refuses it too, so a user can look our message up there.
COOKBOOK_CHECKS = [
    ([1, 2], "data_type"),
    ({"tools": []}, "missing_messages_list"),
    (line({"role": "user"}, ASSISTANT), "message_missing_key"),
    (line(USER, {"content": "hello"}), "message_missing_key"),
    (line(USER, {**ASSISTANT, "tone": "warm"}), "message_unrecognized_key"),
    (line({"role": "customer", "content": "hi"}, ASSISTANT), "unrecognized_role"),
    (line(USER, {"role": "assistant", "content": ""}), "missing_content"),
    (line({"role": "system", "content": "s"}, USER), "example_missing_assistant_message"),
]


@pytest.mark.parametrize(("bad", "check"), COOKBOOK_CHECKS)
def test_problems_carry_the_cookbook_check_name(bad: object, check: str) -> None:
    found = chat_problems(bad)
    assert any(p.endswith(f" [{check}]") for p in found), found


def test_every_cookbook_check_is_covered() -> None:
    assert {check for _, check in COOKBOOK_CHECKS} == {
        "data_type",
        "missing_messages_list",
        "message_missing_key",
        "message_unrecognized_key",
        "unrecognized_role",
        "missing_content",
        "example_missing_assistant_message",
    }


def test_a_missing_role_is_named_once_not_as_an_unknown_role() -> None:
    assert chat_problems(line({"content": "hi"}, USER, ASSISTANT)) == [
        "message 0: missing key 'role' [message_missing_key]"
    ]


def test_a_tool_calling_assistant_may_have_null_content() -> None:
    call = {"name": "trail_status", "arguments": "{}"}
    calling = {"role": "assistant", "content": None, "function_call": call}
    answer = {"role": "function", "name": "trail_status", "content": "{}"}
    assert chat_problems(line(USER, calling, answer, ASSISTANT)) == []


def test_a_valid_line_has_no_problems() -> None:
    assert chat_problems(line({"role": "system", "content": "s"}, USER, ASSISTANT)) == []


def test_preference_lines() -> None:
    good = {
        "input": {"messages": [USER]},
        "preferred_output": [ASSISTANT],
        "non_preferred_output": [{"role": "assistant", "content": "meh"}],
    }
    assert preference_problems(good) == []
    assert "the input does not end with a user message" in preference_problems(
        {**good, "input": {"messages": [USER, ASSISTANT]}}
    )
    assert '"preferred_output" must hold exactly one message' in preference_problems(
        {**good, "preferred_output": [ASSISTANT, ASSISTANT]}
    )
    weighted = {**good, "input": {"messages": [{**ASSISTANT, "weight": 0}, USER]}}
    assert any("weights are not allowed" in p for p in preference_problems(weighted))


def test_checking_an_example_agrees_with_checking_its_json() -> None:
    # Every message of up to three turns from these parts: small enough to try
    # them all, and each part is one way a message can be wrong.
    roles: list[Any] = ["system", "user", "assistant", "tool"]
    weights: list[Any] = [None, 0, 2, True]
    parts = itertools.product(roles, ["Bring water.", " \n"], weights)
    messages = [ChatMessage(role, content, weight) for role, content, weight in parts]
    for length in range(4):
        for chosen in itertools.product(messages, repeat=length):
            as_json = {"messages": [m.as_json() for m in chosen]}
            assert message_problems(chosen) == chat_problems(as_json), chosen


TOOL_LINE = {
    "tools": [{"type": "function", "function": {"name": "trail_status", "parameters": {}}}],
    "messages": [
        {"role": "user", "content": "Is the ridge trail open?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "trail_status", "arguments": '{"trail": "ridge"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"open": true}'},
        {"role": "assistant", "content": "It's open. Pack layers.", "weight": 1},
    ],
}


def test_tool_calling_examples_are_valid() -> None:
    assert chat_problems(TOOL_LINE) == []


def test_broken_tool_calls_are_named() -> None:
    import copy

    line = copy.deepcopy(TOOL_LINE)
    call = line["messages"][1]["tool_calls"][0]  # type: ignore[index]
    call["function"]["arguments"] = "{not json"
    line["messages"][2]["tool_call_id"] = "call_9"  # type: ignore[index]
    line["tools"] = [{"type": "retrieval"}]
    line["extra"] = True
    problems = chat_problems(line)
    assert "unknown key 'extra'" in problems
    assert 'tool 0: needs type "function" and a function name' in problems
    assert "message 1: tool call 0: arguments are not valid JSON" in problems
    assert "message 2: tool_call_id 'call_9' answers no earlier tool call" in problems


def test_tool_messages_need_their_call_id_and_only_assistants_call() -> None:
    line = {
        "messages": [
            {"role": "user", "content": "hi", "tool_calls": []},
            {"role": "tool", "content": "{}"},
            {"role": "assistant", "content": None},
        ]
    }
    problems = chat_problems(line)
    assert "message 0: only assistant messages may call tools" in problems
    assert "message 1: a tool message needs the tool_call_id it answers" in problems
    assert "message 2: content is blank or not a string [missing_content]" in problems
