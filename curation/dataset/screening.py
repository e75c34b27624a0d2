"""Everything curation decides about one reply on its own: label, example, privacy, voice, size.

Each reply goes through here once and its example is built once, already
scrubbed and with its token count, instead of being copied at every stage.
What needs the other replies (repeats, the split, pairs) happens afterwards.
"""

from dataclasses import dataclass, field

from curation.dataset.chat_format import (
    chat_messages,
    example_of,
    message_problems,
    no_question,
    slack_texts,
    target_and_rejected,
)
from curation.dataset.dedup import dedup_text
from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.labels import (
    KEPT_KINDS,
    UNRATED,
    Label,
    LabelKind,
    LabelPolicy,
    chosen_correction,
    label_reply,
    real_corrections,
)
from curation.dataset.limits import MessageTokens, context_to_drop, too_long
from curation.dataset.pii import Scrubber
from curation.dataset.rules import CurationRules
from curation.dataset.style import StyleChecker
from curation.dataset.words import ascii_words


@dataclass(slots=True)
class Screened:
    """What became of one reply on its own."""

    label: LabelKind
    # Older corrections a newer one replaced, then why the reply itself went,
    # if it did.
    rejections: list[Rejection] = field(default_factory=list)
    # Passed every check so far, fitted to the token limit; with what repeats
    # are judged on (curation.dataset.dedup.dedup_text).
    example: Example | None = None
    dedup_text: bytes = b""
    # Lost old context turns to fit.
    trimmed: bool = False
    # A reply voted bad, built like an example: the losing side of a pair.
    loser: Example | None = None


class ReplyScreen:
    """The per-reply stages, set up once for a whole curation run."""

    def __init__(
        self,
        *,
        system_prompt: str,
        base_model: str,
        token_limit: int,
        rules: CurationRules,
        policy: LabelPolicy,
    ) -> None:
        self.policy = policy
        self.scrubber = Scrubber.with_extra(rules.pii)
        self.style = StyleChecker(rules)
        self.limit = token_limit
        self._system = ChatMessage("system", system_prompt)
        self._tokens = MessageTokens(base_model)
        self._unrated = UNRATED.reason(policy)

    def screen(self, labeled: LabeledReply) -> Screened:
        """What becomes of one reply."""
        if not labeled.votes and not labeled.corrections:
            # Most replies: nobody reacted, and the report says just that.
            return Screened("unrated", [Rejection(labeled.key, "unrated", self._unrated)])
        label = label_reply(labeled, self.policy)
        if label.kind not in KEPT_KINDS:
            rejection = Rejection(labeled.key, label.kind, label.reason(self.policy))
            loser = self._loser(labeled, label) if label.kind == "bad" else None
            return Screened(label.kind, [rejection], loser=loser)
        screened = Screened(label.kind, _superseded(labeled) if labeled.corrections else [])
        missing = no_question(labeled)
        if missing is not None:
            screened.rejections.append(missing)
            return screened
        target, rejected = target_and_rejected(labeled, label)
        # The system prompt is the team's own text; everything else came from Slack.
        texts = slack_texts(labeled, target)
        if rejected is not None:
            texts.append(rejected)
        texts = self.scrubber.scrub_all(texts)
        if rejected is not None:
            rejected = texts.pop()
        messages = chat_messages(labeled, texts, self._system)
        reply = messages[-1].content
        words = ascii_words(reply) if reply.isascii() else None
        violations = self.style.violations(reply, words)
        if violations:
            detail = "; ".join(v.detail for v in violations)
            rule = f"style:{violations[0].rule}"
            screened.rejections.append(Rejection(labeled.key, rule, detail))
            return screened
        problems = message_problems(messages)
        if problems:
            invalid = Rejection(labeled.key, "invalid_format", "; ".join(problems))
            screened.rejections.append(invalid)
            return screened
        counts = self._tokens(messages)
        dropped, tokens = context_to_drop(counts, self.limit)
        if tokens > self.limit:
            screened.rejections.append(too_long(labeled.key, tokens, self.limit))
            return screened
        if dropped:
            messages = messages[:1] + messages[1 + dropped :]
            screened.trimmed = True
        screened.example = example_of(labeled, label, messages, rejected, tokens)
        screened.dedup_text = dedup_text(screened.example, words)
        return screened

    def _loser(self, labeled: LabeledReply, label: Label) -> Example | None:
        if no_question(labeled) is not None:
            return None
        target, rejected = target_and_rejected(labeled, label)
        texts = self.scrubber.scrub_all(slack_texts(labeled, target))
        messages = chat_messages(labeled, texts, self._system)
        return example_of(labeled, label, messages, rejected)


def _superseded(labeled: LabeledReply) -> list[Rejection]:
    corrections = real_corrections(labeled)
    if len(corrections) < 2:
        return []
    chosen = chosen_correction(corrections)
    return [
        Rejection(labeled.key, "superseded_correction", "a newer correction is used")
        for c in corrections
        if c is not chosen
    ]
