"""Everything curation decides about one reply on its own: label, example, privacy, voice, size.

Each reply goes through here once and its example is built once, already
scrubbed and with its token count, instead of being copied at every stage.
What needs the other replies (repeats, the split, pairs) happens afterwards.
"""

from collections.abc import Sequence
from typing import NamedTuple

from curation.chat_format import (
    chat_messages,
    example_of,
    message_problems,
    no_question,
    slack_texts,
    target_and_rejected,
)
from curation.chat_jsonl import ChatLines
from curation.dedup import dedup_text
from curation.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.labels import (
    KEPT_KINDS,
    Label,
    LabelKind,
    LabelPolicy,
    chosen_correction,
    label_reply,
    real_corrections,
)
from curation.language import detected_language
from curation.limits import MessageTokens, context_to_drop, too_long
from curation.minhash import band_keys, bands_for
from curation.pii import Scrubber
from curation.rules import CurationRules
from curation.style import StyleChecker


class Screened(NamedTuple):
    """What became of one reply before it met the others. A named tuple, not
    a dataclass: workers send these back by the hundred thousand, and a tuple
    is several times cheaper to pickle and rebuild."""

    label: LabelKind
    # In report order: superseded corrections, then why the reply itself went.
    rejections: tuple[Rejection, ...] = ()
    # Passed every check so far, fitted to the token limit.
    example: Example | None = None
    # The reply's own tokens, so preference pairs need not count them again.
    target_tokens: int = 0
    # What repeats are judged on (see curation.dedup).
    dedup_text: bytes = b""
    # Built and checked, but too long even without context; reported after
    # every other per-reply reason, as the token limit is the later stage.
    too_long: Rejection | None = None
    trimmed: bool = False
    # A reply voted bad, built like an example: the losing side of a pair.
    loser: Example | None = None
    # Made by ReplyScreen.screen_many for each example, where it was built:
    # its LSH band keys as raw uint64s (curation.minhash) and its JSONL line.
    sketch: bytes = b""
    line: bytes = b""


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
        self._language = rules.format.language
        self.bands = bands_for(rules.dedup.similarity)

    def load_models(self) -> None:
        """Load now what screening would load on first use, so that forked
        workers share this copy instead of each loading its own (half a
        second for the language classifier)."""
        if self._language is not None:
            # Not ASCII, so it always reaches the classifier.
            detected_language("Ceci n'est qu'une phrase d'essai, écrite en français.", "en")

    def screen_many(self, replies: Sequence[LabeledReply]) -> list[Screened]:
        """Each reply screened, and each example's band keys and JSONL line
        made too: in bulk, and in the worker that built the examples."""
        screened = [self.screen(reply) for reply in replies]
        built = [i for i, s in enumerate(screened) if s.example is not None]
        if not built:
            return screened
        keys = band_keys([screened[i].dedup_text for i in built], *self.bands)
        lines = ChatLines()
        for i, row in zip(built, keys, strict=True):
            one = screened[i]
            assert one.example is not None
            screened[i] = one._replace(sketch=row.tobytes(), line=lines.line(one.example.messages))
        return screened

    def screen(self, labeled: LabeledReply) -> Screened:
        label = label_reply(labeled, self.policy)
        if label.kind not in KEPT_KINDS:
            rejection = Rejection(labeled.key, label.kind, label.reason(self.policy))
            loser = self._loser(labeled, label) if label.kind == "bad" else None
            return Screened(label.kind, (rejection,), loser=loser)
        rejections = _superseded(labeled)
        missing = no_question(labeled)
        if missing is not None:
            return Screened(label.kind, (*rejections, missing))
        target, rejected = target_and_rejected(labeled, label)
        # The system prompt is the team's own text; everything else came from Slack.
        texts = slack_texts(labeled, target)
        if rejected is not None:
            texts.append(rejected)
        texts = self.scrubber.scrub_all(texts)
        if rejected is not None:
            rejected = texts.pop()
        messages = chat_messages(labeled, texts, self._system)
        violations = self.style.violations(messages[-1].content)
        if violations:
            detail = "; ".join(v.detail for v in violations)
            style = Rejection(labeled.key, f"style:{violations[0].rule}", detail)
            return Screened(label.kind, (*rejections, style))
        problems = message_problems(messages)
        if problems:
            invalid = Rejection(labeled.key, "invalid_format", "; ".join(problems))
            return Screened(label.kind, (*rejections, invalid))
        counts = self._tokens(messages)
        dropped, tokens = context_to_drop(counts, self.limit)
        if tokens > self.limit:
            refused = too_long(labeled.key, tokens, self.limit)
            return Screened(label.kind, tuple(rejections), too_long=refused)
        if dropped:
            messages = messages[:1] + messages[1 + dropped :]
        example = example_of(labeled, label, messages, rejected, tokens)
        return Screened(
            label.kind,
            tuple(rejections),
            example=example,
            target_tokens=counts[-1] - self._tokens.overhead["assistant"],
            dedup_text=dedup_text(example),
            trimmed=dropped > 0,
        )

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
