"""The request fits the token budget: question cut, history dropped oldest first."""

from bot.chat.prompting import build_request
from curation.dataset.tokens import count_chat_tokens, count_tokens
from storage import ChatTurn

MODEL = "gpt-4.1-mini"


def test_everything_fits_when_small() -> None:
    history = [ChatTurn("user", "hi"), ChatTurn("assistant", "hello!")]
    request = build_request("Be kind.", history, "how are you?", model=MODEL, budget=1000)
    assert [m["role"] for m in request.messages] == ["system", "user", "assistant", "user"]
    assert request.context == tuple(history)
    assert request.question == "how are you?"


def test_history_is_dropped_oldest_first() -> None:
    history = [ChatTurn("user", f"message number {i} " * 20) for i in range(50)]
    request = build_request("Be kind.", history, "latest?", model=MODEL, budget=500)
    assert 0 < len(request.context) < 50
    assert request.context[-1] == history[-1]
    assert count_chat_tokens(request.messages, MODEL) <= 500


def test_a_huge_question_is_cut_not_dropped() -> None:
    question = "word " * 200_000
    request = build_request("Be kind.", [], question, model=MODEL, budget=300)
    assert request.question
    assert count_tokens(request.question, MODEL) < 300
    assert count_chat_tokens(request.messages, MODEL) <= 300


def test_unknown_model_ids_still_count() -> None:
    for model in ("ft:gpt-4.1-mini-2025-04-14:acme::abc123", "Qwen/Qwen2.5-7B-Instruct"):
        request = build_request("Be kind.", [], "hi " * 1000, model=model, budget=200)
        assert count_chat_tokens(request.messages, model) <= 200
