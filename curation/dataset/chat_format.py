"""The chat fine-tuning format: building examples from replies and checking JSONL lines.

The checks follow OpenAI's published data-preparation rules, which local SFT and
DPO trainers accept too, so one dataset serves every trainer backend. A problem
that one of the cookbook's chat data-prep checks also finds ends with that
check's name in brackets, e.g. "[unrecognized_role]", so people can look it up.
"""

import json
from collections.abc import Mapping, Sequence

from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.labels import Label, chosen_correction, real_corrections

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS = frozenset(
    {"role", "content", "name", "weight", "tool_calls", "tool_call_id", "function_call"}
)
# Keys a chat line may carry besides its messages: tool definitions for
# tool-calling examples (and their legacy "functions" form).
LINE_KEYS = frozenset({"messages", "tools", "parallel_tool_calls", "functions"})


def no_question(labeled: LabeledReply) -> Rejection | None:
    if labeled.reply.question.strip():
        return None
    return Rejection(labeled.key, "no_question", "the message the bot answered is not stored")


def target_and_rejected(labeled: LabeledReply, label: Label) -> tuple[str, str | None]:
    """The reply to learn from, and the bot's original when a correction replaced it."""
    if label.kind == "corrected":
        return chosen_correction(real_corrections(labeled)).text, labeled.reply.text
    return labeled.reply.text, None


def slack_texts(labeled: LabeledReply, target: str) -> list[str]:
    """The texts of an example that came from Slack, in message order: thread
    context, question, target."""
    reply = labeled.reply
    return [*(turn.content for turn in reply.context), reply.question, target]


def chat_messages(
    labeled: LabeledReply, texts: Sequence[str], system: ChatMessage
) -> tuple[ChatMessage, ...]:
    """System prompt, thread context, question, target, with `texts` (as from
    slack_texts, cleaned or not) as their contents."""
    messages = [system]
    for turn, text in zip(labeled.reply.context, texts, strict=False):
        messages.append(ChatMessage(turn.role, text, 0 if turn.role == "assistant" else None))
    messages.append(ChatMessage("user", texts[-2]))
    messages.append(ChatMessage("assistant", texts[-1]))
    return tuple(messages)


def example_of(
    labeled: LabeledReply,
    label: Label,
    messages: tuple[ChatMessage, ...],
    rejected: str | None,
    tokens: int = 0,
) -> Example:
    return Example(
        key=labeled.key,
        thread=labeled.thread,
        source="correction" if label.kind == "corrected" else "votes",
        messages=messages,
        net_votes=label.net,
        created_at=labeled.reply.created_at,
        rejected=rejected,
        tokens=tokens,
    )


def message_problems(messages: tuple[ChatMessage, ...]) -> list[str]:
    if _plainly_valid(messages):
        return []
    return chat_problems({"messages": [m.as_json() for m in messages]})


def _plainly_valid(messages: tuple[ChatMessage, ...]) -> bool:
    """True only where chat_problems would find nothing, without building the
    JSON first: every example passes through here, and nearly all are valid."""
    if not messages or messages[-1].role != "assistant":
        return False
    has_user = False
    for index, message in enumerate(messages):
        role, content, weight = message.role, message.content, message.weight
        if not isinstance(content, str) or not content or content.isspace():
            return False
        if role == "user":
            has_user = True
        elif role == "system":
            if index:
                return False
        elif role != "assistant":
            return False
        if weight is not None and (
            role != "assistant" or isinstance(weight, bool) or weight not in (0, 1)
        ):
            return False
    return has_user


def chat_problems(line: object) -> list[str]:
    """What is wrong with one supervised-format line; empty when it is valid."""
    if not isinstance(line, Mapping):
        return ["the line is not a JSON object [data_type]"]
    messages = line.get("messages")
    if not isinstance(messages, list) or not messages:
        return ['"messages" is missing or empty [missing_messages_list]']
    problems = [f"unknown key {key!r}" for key in sorted(set(line) - LINE_KEYS, key=str)]
    problems += _tools_problems(line.get("tools"))
    called: set[str] = set()
    for index, message in enumerate(messages):
        found = _message_problems(message, index)
        if isinstance(message, Mapping):
            found += _tool_link_problems(message, called)
        problems += [f"message {index}: {p}" for p in found]
    roles = [m.get("role") for m in messages if isinstance(m, Mapping)]
    if "user" not in roles:
        problems.append("there is no user message")
    if "assistant" not in roles:
        problems.append("there is no assistant message [example_missing_assistant_message]")
    elif roles[-1] != "assistant":
        problems.append("the last message is not from the assistant")
    return problems


def preference_problems(line: object) -> list[str]:
    """What is wrong with one preference-format (DPO) line; empty when valid."""
    if not isinstance(line, Mapping):
        return ["the line is not a JSON object [data_type]"]
    problems = []
    prompt = line.get("input")
    messages = prompt.get("messages") if isinstance(prompt, Mapping) else None
    if not isinstance(messages, list) or not messages:
        problems.append('"input.messages" is missing or empty')
    else:
        for index, message in enumerate(messages):
            problems += [f"input message {index}: {p}" for p in _message_problems(message, index)]
            if isinstance(message, Mapping) and "weight" in message:
                problems.append(f"input message {index}: weights are not allowed in DPO input")
        last = messages[-1]
        if not isinstance(last, Mapping) or last.get("role") != "user":
            problems.append("the input does not end with a user message")
    for side in ("preferred_output", "non_preferred_output"):
        output = line.get(side)
        if not isinstance(output, list) or len(output) != 1:
            problems.append(f'"{side}" must hold exactly one message')
            continue
        problems += [f"{side}: {p}" for p in _message_problems(output[0], 1)]
        if isinstance(output[0], Mapping) and output[0].get("role") != "assistant":
            problems.append(f'"{side}" is not an assistant message')
    return problems


def _message_problems(message: object, index: int) -> list[str]:
    if not isinstance(message, Mapping):
        return ["not a JSON object"]
    problems = []
    unknown = sorted(set(message) - MESSAGE_KEYS, key=str)
    if unknown:
        problems.append(f"unknown keys {', '.join(map(str, unknown))} [message_unrecognized_key]")
    role = message.get("role")
    if "role" not in message:
        problems.append("missing key 'role' [message_missing_key]")
    elif role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)} [unrecognized_role]")
    if role == "system" and index != 0:
        problems.append("a system message may only come first")
    problems += _content_problems(message, role)
    calls = message.get("tool_calls")
    if calls is not None:
        problems += _tool_calls_problems(calls, role)
    if "function_call" in message:
        problems += _function_problems(message["function_call"], role, "function_call")
    if role == "tool" and not _nonblank(message.get("tool_call_id")):
        problems.append("a tool message needs the tool_call_id it answers")
    if role == "function" and not _nonblank(message.get("name")):
        problems.append("a function message needs the function's name")
    if "weight" in message:
        if role != "assistant":
            problems.append("only assistant messages may carry a weight")
        weight = message["weight"]
        # True == 1 in Python, but JSON's true is not a weight.
        if isinstance(weight, bool) or weight not in (0, 1):
            problems.append("weight must be 0 or 1")
    return problems


def _content_problems(message: Mapping[str, object], role: object) -> list[str]:
    content = message.get("content")
    # An assistant message that calls a tool may have no text of its own.
    calls_instead = role == "assistant" and (
        message.get("tool_calls") is not None or "function_call" in message
    )
    if calls_instead and content is None:
        return []
    if "content" not in message:
        return ["missing key 'content' [message_missing_key]"]
    if not isinstance(content, str) or not content.strip():
        return ["content is blank or not a string [missing_content]"]
    return []


def _tool_calls_problems(calls: object, role: object) -> list[str]:
    if role != "assistant":
        return ["only assistant messages may call tools"]
    if not isinstance(calls, list) or not calls:
        return ["tool_calls must be a non-empty list"]
    problems = []
    for number, call in enumerate(calls):
        if not isinstance(call, Mapping):
            problems.append(f"tool call {number}: not a JSON object")
            continue
        if not _nonblank(call.get("id")):
            problems.append(f"tool call {number}: no id")
        if call.get("type") != "function":
            problems.append(f'tool call {number}: type must be "function"')
        problems += _function_problems(call.get("function"), role, f"tool call {number}")
    return problems


def _function_problems(function: object, role: object, where: str) -> list[str]:
    if role != "assistant":
        return [f"{where}: only assistant messages may call functions"]
    if not isinstance(function, Mapping) or not _nonblank(function.get("name")):
        return [f"{where}: the function has no name"]
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        return [f"{where}: arguments must be a JSON string"]
    try:
        json.loads(arguments)
    except ValueError:
        return [f"{where}: arguments are not valid JSON"]
    return []


def _tool_link_problems(message: Mapping[str, object], called: set[str]) -> list[str]:
    """Tool results must answer a call made earlier in the conversation."""
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        called.update(str(c.get("id")) for c in calls if isinstance(c, Mapping))
    call_id = message.get("tool_call_id")
    if message.get("role") == "tool" and _nonblank(call_id) and call_id not in called:
        return [f"tool_call_id {call_id!r} answers no earlier tool call"]
    return []


def _tools_problems(tools: object) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        return ['"tools" must be a list']
    problems = []
    for number, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if (
            not isinstance(tool, Mapping)
            or tool.get("type") != "function"
            or not isinstance(function, Mapping)
            or not _nonblank(function.get("name"))
        ):
            problems.append(f'tool {number}: needs type "function" and a function name')
    return problems


def _nonblank(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
