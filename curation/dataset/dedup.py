"""Dropping repeated examples, so one popular answer does not drown out the rest.

Exact repeats are caught on normalized text; near repeats (same question and
answer, reworded a little) by MinHash LSH over character 5-grams (see
curation.dataset.minhash), each candidate confirmed with the exact Jaccard similarity
before anything is dropped. Character grams, not word grams: replies are short,
and one changed word in a 40-word reply already breaks a tenth of its word 3-grams.
"""

import re
from collections.abc import Callable, Sequence
from functools import cache

from curation.dataset.examples import Example, Rejection, Sifted
from curation.dataset.minhash import SHINGLE, band_buckets, band_keys, bands_for, gram_ids
from curation.dataset.words import ascii_words

_WORD = re.compile(r"\w+")
# Kept examples of one LSH bucket that a new example is compared with.
CANDIDATES_PER_BUCKET = 64


def survivors_first(examples: Sequence[Example]) -> list[Example]:
    """The order in which repeats are met, so the first one met is kept: a
    correction, then more net votes, then the newer reply (the voice drifts,
    and newer is closer to today's), then the reply address, for reruns."""
    return [examples[i] for i in _survivor_order(examples)]


def _survivor_order(examples: Sequence[Example]) -> list[int]:
    # Sort keys gathered first and read by list.__getitem__, a C call, rather
    # than a lambda per comparison key: tens of thousands of examples.
    keys = [e.key for e in examples]
    order = sorted(range(len(examples)), key=keys.__getitem__)
    created = [e.created_at for e in examples]
    order.sort(key=created.__getitem__, reverse=True)  # stable, like every sort
    rank = [(e.source != "correction", -e.net_votes) for e in examples]
    order.sort(key=rank.__getitem__)
    return order


def deduplicate(examples: Sequence[Example], texts: Sequence[bytes], similarity: float) -> Sifted:
    """Repeats dropped; `texts` holds each example's dedup_text."""
    result = Sifted()
    order = _survivor_order(examples)
    ordered = [examples[i] for i in order]
    texts = [texts[i] for i in order]
    # Sketch each distinct text once; exact repeats never need a sketch.
    distinct: dict[bytes, int] = {}
    text_ids = [distinct.setdefault(text, len(distinct)) for text in texts]
    keys = band_keys(list(distinct), *bands_for(similarity))
    buckets = band_buckets(keys)
    buckets_of: dict[int, list[int]] = {}
    for bucket, members in enumerate(buckets):
        for member in members:
            buckets_of.setdefault(member, []).append(bucket)
    # Kept examples (positions in `ordered`) with a text in each bucket.
    kept_in: list[list[int]] = [[] for _ in buckets]

    @cache
    def grams(index: int) -> frozenset[int]:
        # Only candidate pairs need exact sets; most examples never do.
        return frozenset(gram_ids(texts[index]).tolist())

    # Kept examples by distinct text: a kept text is never kept twice.
    kept_of_text: dict[int, int] = {}
    for index, (example, text_id) in enumerate(zip(ordered, text_ids, strict=True)):
        twin = kept_of_text.get(text_id)
        if twin is not None:
            detail = f"same as {ordered[twin].key}"
            result.rejected.append(Rejection(example.key, "duplicate", detail))
            continue
        in_buckets = buckets_of.get(text_id, ())
        if in_buckets:  # most texts share no band with any other
            near = _nearest_kept(index, in_buckets, kept_in, grams, similarity)
            if near is not None:
                detail = f"close to {ordered[near].key}"
                result.rejected.append(Rejection(example.key, "near_duplicate", detail))
                continue
        kept_of_text[text_id] = index
        result.kept.append(example)
        linked: set[int] = set()
        for bucket in in_buckets:
            members = kept_in[bucket]
            if members and members[0] not in linked:
                # Alike, but short of the threshold: the split keeps them
                # together. A link to each bucket's first is enough for that.
                linked.add(members[0])
                result.related.append((ordered[members[0]].key, example.key))
            members.append(index)
    return result


def _nearest_kept(
    index: int,
    buckets: list[int],
    kept_in: list[list[int]],
    grams: Callable[[int], frozenset[int]],
    similarity: float,
) -> int | None:
    """The first kept example, in survivor order, at least `similarity`
    alike with example `index`, among those sharing one of its buckets. A
    bucket's first CANDIDATES_PER_BUCKET kept examples are compared, so that
    a reply repeated to thousands of questions costs thousands of
    comparisons, not millions; a near repeat shares several buckets with
    what it repeats, so one of them nearly always has it early."""
    candidates = sorted(
        {kept for bucket in buckets for kept in kept_in[bucket][:CANDIDATES_PER_BUCKET]}
    )
    mine = grams(index)
    return next((c for c in candidates if _jaccard(mine, grams(c)) >= similarity), None)


def dedup_text(example: Example, target_words: list[bytes] | None) -> bytes:
    """What repeats are judged on: the question and the reply, as lowercase
    words. The system prompt is the same everywhere and the earlier thread is
    only context. `target_words` is ascii_words(example.target) of an ASCII
    reply, made already for the style checks, and None for any other."""
    question, target = example.question, example.target
    if target_words is not None and question.isascii():
        # The same words as below, a few times faster: for ASCII, \\w is
        # [A-Za-z0-9_] and casefold() is lower().
        joined = b" ".join(ascii_words(question) + target_words)
    else:
        text = f"{question}\n{target}"
        joined = " ".join(_WORD.findall(text.casefold())).encode("utf-8")
    # Padded so even a tiny text has one whole 5-gram.
    return joined.ljust(SHINGLE, b"\0")


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)
