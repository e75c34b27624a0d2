"""Everything curation decides about one reply on its own: label, example, privacy, voice, size.

Each reply goes through here once and its example is built once, already
scrubbed and with its token count, instead of being copied at every stage.
What needs the other replies (repeats, the split, pairs) happens afterwards.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from curation.dataset.chat_format import (
    chat_messages,
    example_of,
    message_problems,
    no_question,
    slack_texts,
    target_and_rejected,
)
from curation.dataset.chat_jsonl import ChatLines
from curation.dataset.dedup import dedup_text
from curation.dataset.examples import ChatMessage, Example, LabeledReply, Rejection
from curation.dataset.labels import (
    KEPT_KINDS,
    UNRATED,
    Label,
    LabelPolicy,
    chosen_correction,
    label_reply,
    real_corrections,
)
from curation.dataset.language import detected_language
from curation.dataset.limits import MessageTokens, context_to_drop, too_long
from curation.dataset.minhash import band_keys, bands_for
from curation.dataset.pii import Scrubber
from curation.dataset.preferences import normalized_question
from curation.dataset.rules import CurationRules
from curation.dataset.split import thread_position
from curation.dataset.style import StyleChecker
from curation.dataset.words import ascii_words


@dataclass
class ScreenedChunk:
    """What became of a run of replies, gathered by kind, each list in reply
    order. Screening writes each reply's outcome straight into these lists,
    and the calling process takes in a whole chunk at a time, not a reply at
    a time; workers send chunks back (curation.dataset.fanout)."""

    labels: Counter[str] = field(default_factory=Counter)
    # In report order: for each reply, superseded corrections, then why the
    # reply itself went. Replies too long even without context come later,
    # as the token limit is the later stage.
    rejections: list[Rejection] = field(default_factory=list)
    # Passed every check so far, fitted to the token limit.
    examples: list[Example] = field(default_factory=list)
    # For each example: its reply's own tokens (so preference pairs need not
    # count them again), what repeats are judged on (curation.dataset.dedup), what
    # pairs match on first (curation.dataset.preferences), and, made where it was
    # built, its LSH band keys (curation.dataset.minhash, a row of uint64s each) and
    # its JSONL line.
    target_tokens: list[int] = field(default_factory=list)
    # The tokens of the reply a correction replaced (the pair's losing side),
    # 0 where none was.
    rejected_tokens: list[int] = field(default_factory=list)
    dedup_texts: list[bytes] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    # Where its thread falls in the split (curation.dataset.split.thread_position).
    positions: list[float] = field(default_factory=list)
    sketches: bytearray = field(default_factory=bytearray)
    lines: list[bytes] = field(default_factory=list)
    # Examples that lost old context turns to fit.
    trimmed: int = 0
    too_long: list[Rejection] = field(default_factory=list)
    # Replies voted bad, built like examples: the losing side of a pair.
    losers: list[Example] = field(default_factory=list)

    def extend(self, other: "ScreenedChunk") -> None:
        """`other`'s replies added after this chunk's."""
        for name in _FIELDS:
            mine = getattr(self, name)
            if isinstance(mine, int):
                setattr(self, name, mine + getattr(other, name))
            else:
                mine += getattr(other, name)  # lists, bytes and counts, in place


_FIELDS = tuple(f.name for f in fields(ScreenedChunk))


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
        self._unrated = UNRATED.reason(policy)

    def load_models(self) -> None:
        """Load now what screening would load on first use, so that forked
        workers share this copy instead of each loading its own (half a
        second for the language classifier)."""
        if self._language is not None:
            # Not ASCII, so it always reaches the classifier.
            detected_language("Ceci n'est qu'une phrase d'essai, écrite en français.", "en")

    def screen_many(self, replies: Sequence[LabeledReply]) -> ScreenedChunk:
        """Each reply screened, and each example's band keys and JSONL line
        made too: in bulk, and in the worker that built the examples."""
        chunk = ScreenedChunk()
        screen = self.screen
        for reply in replies:
            screen(reply, chunk)
        if chunk.examples:
            keys = band_keys(chunk.dedup_texts, *self.bands)
            chunk.sketches = bytearray(keys.tobytes())
            chunk.lines = list(map(ChatLines().line, (e.messages for e in chunk.examples)))
        return chunk

    def screen(self, labeled: LabeledReply, chunk: ScreenedChunk) -> None:
        """What becomes of one reply, added to `chunk`."""
        if not labeled.votes and not labeled.corrections:
            # Most replies: nobody reacted, and the report says just that.
            chunk.labels["unrated"] += 1
            chunk.rejections.append(Rejection(labeled.key, "unrated", self._unrated))
            return
        label = label_reply(labeled, self.policy)
        chunk.labels[label.kind] += 1
        if label.kind not in KEPT_KINDS:
            chunk.rejections.append(Rejection(labeled.key, label.kind, label.reason(self.policy)))
            if label.kind == "bad":
                loser = self._loser(labeled, label)
                if loser is not None:
                    chunk.losers.append(loser)
            return
        if labeled.corrections:
            chunk.rejections += _superseded(labeled)
        missing = no_question(labeled)
        if missing is not None:
            chunk.rejections.append(missing)
            return
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
            chunk.rejections.append(Rejection(labeled.key, rule, detail))
            return
        problems = message_problems(messages)
        if problems:
            invalid = Rejection(labeled.key, "invalid_format", "; ".join(problems))
            chunk.rejections.append(invalid)
            return
        counts = self._tokens(messages)
        dropped, tokens = context_to_drop(counts, self.limit)
        if tokens > self.limit:
            chunk.too_long.append(too_long(labeled.key, tokens, self.limit))
            return
        if dropped:
            messages = messages[:1] + messages[1 + dropped :]
            chunk.trimmed += 1
        example = example_of(labeled, label, messages, rejected, tokens)
        chunk.examples.append(example)
        chunk.target_tokens.append(counts[-1] - self._tokens.overhead["assistant"])
        chunk.rejected_tokens.append(0 if rejected is None else self._tokens.text(rejected))
        chunk.dedup_texts.append(dedup_text(example, words))
        chunk.questions.append(normalized_question(example))
        chunk.positions.append(thread_position(example.thread))

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
