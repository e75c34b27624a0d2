"""Preference pairs (for DPO): which of two answers to the same prompt the team preferred.

Two sources: a team member's correction beats the bot reply it corrects, and a
kept reply beats a reply voted bad that answered exactly the same prompt (same
thread context and question, after scrubbing).
"""

from dataclasses import dataclass

from curation.dataset.dedup import survivors_first
from curation.dataset.examples import ChatMessage, Example
from curation.dataset.tokens import count_tokens
from curation.dataset.words import collapse_whitespace


@dataclass(frozen=True)
class PreferencePair:
    # The preferred example's reply: its thread decides the split.
    key: str
    # The reply whose text lost (the same reply, for a correction).
    loser: str
    prompt: tuple[ChatMessage, ...]
    preferred: str
    non_preferred: str
    tokens: int

    def as_json(self) -> dict[str, object]:
        return {
            # DPO input carries no weights: the whole prompt is context.
            "input": {"messages": [{"role": m.role, "content": m.content} for m in self.prompt]},
            "preferred_output": [{"role": "assistant", "content": self.preferred}],
            "non_preferred_output": [{"role": "assistant", "content": self.non_preferred}],
        }


def preference_pairs(
    kept: list[Example],
    bad: list[Example],
    limit: int,
    model: str,
) -> tuple[list[PreferencePair], int]:
    """Pairs from corrections and from bad replies to a kept example's prompt,
    and how many pairs did not fit the token limit.

    `bad` holds replies voted bad, built and scrubbed like kept examples. A
    loser that differs from the winner only in whitespace teaches nothing.
    """
    # (winner, loser's key, losing text)
    candidates: list[tuple[Example, str, str]] = [
        (e, e.key, e.rejected) for e in kept if e.rejected is not None
    ]
    # Only prompts some bad reply answered can pair.
    loser_questions = [normalized_question(loser) for loser in bad]
    asked = set(loser_questions)
    answered = [e for e in kept if normalized_question(e) in asked] if asked else []
    best_for_prompt: dict[tuple[tuple[str, str], ...], Example] = {}
    for example in survivors_first(answered):
        best_for_prompt.setdefault(_prompt_key(example), example)
    won = {collapse_whitespace(e.question) for e in best_for_prompt.values()}
    for loser, question in zip(bad, loser_questions, strict=True):
        if question in won:  # no need to build a key for the rest
            winner = best_for_prompt.get(_prompt_key(loser))
            if winner is not None:
                candidates.append((winner, loser.key, loser.target))
    pairs = []
    too_long = 0
    for winner, loser_key, losing_text in candidates:
        if collapse_whitespace(losing_text) == collapse_whitespace(winner.target):
            continue
        # The trainer reads the prompt with each answer in turn; the longer
        # answer decides whether the pair fits.
        target = count_tokens(winner.target, model)
        losing = count_tokens(losing_text, model)
        tokens = winner.tokens - target + max(target, losing)
        if tokens > limit:
            too_long += 1
            continue
        pairs.append(
            PreferencePair(
                key=winner.key,
                loser=loser_key,
                prompt=winner.messages[:-1],
                preferred=winner.target,
                non_preferred=losing_text,
                tokens=tokens,
            )
        )
    return pairs, too_long


def normalized_question(example: Example) -> str:
    """The question as pairing compares it: only a prompt some bad reply
    answered can pair, and comparing questions first spares building a key
    for every kept example."""
    return collapse_whitespace(example.question)


def _prompt_key(example: Example) -> tuple[tuple[str, str], ...]:
    return tuple((m.role, collapse_whitespace(m.content)) for m in example.messages[1:-1])
