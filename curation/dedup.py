"""Dropping repeated examples, so one popular answer does not drown out the rest.

Exact repeats are caught on normalized text; near repeats (same question and
answer, reworded a little) by MinHash LSH over character 5-grams, each candidate
confirmed with the exact Jaccard similarity before anything is dropped.
Character grams, not word grams: replies are short, and one changed word in a
40-word reply already breaks a tenth of its word 3-grams.
"""

import re
from functools import cache

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

from curation.examples import Example, Rejection, Sifted

# 64 permutations are plenty to propose candidates; the exact check decides.
NUM_PERM = 64
SHINGLE = 5
# LSH only proposes candidates; above 0.9 its banding degenerates, and the
# exact check holds the line anyway.
LSH_THRESHOLD_CAP = 0.9
# 5-grams hashed at once: (permutations x grams) uint32 is then about 100 MB.
_CHUNK_GRAMS = 400_000
_WORD = re.compile(r"\w+")


def survivors_first(examples: list[Example]) -> list[Example]:
    """The order in which repeats are met, so the first one met is kept: a
    correction, then more net votes, then the newer reply (the voice drifts,
    and newer is closer to today's), then the reply address, for reruns."""
    ordered = sorted(examples, key=lambda e: e.key)
    ordered.sort(key=lambda e: e.created_at, reverse=True)  # stable, like every sort
    ordered.sort(key=lambda e: (e.source != "correction", -e.net_votes))
    return ordered


def deduplicate(examples: list[Example], similarity: float) -> Sifted:
    result = Sifted()
    ordered = survivors_first(examples)
    texts = [_normalized(e) for e in ordered]
    template = MinHash(num_perm=NUM_PERM)
    signatures = _signatures(texts, template)
    lsh = MinHashLSH(threshold=min(similarity, LSH_THRESHOLD_CAP), num_perm=NUM_PERM)

    @cache
    def grams(index: int) -> frozenset[bytes]:
        # Only candidate pairs need exact sets; most examples never do.
        return frozenset(_shingles(texts[index]))

    first_of_text: dict[bytes, int] = {}
    for index, example in enumerate(ordered):
        twin = first_of_text.get(texts[index])
        if twin is not None:
            detail = f"same as {ordered[twin].key}"
            result.rejected.append(Rejection(example.key, "duplicate", detail))
            continue
        signature = MinHash(
            hashvalues=signatures[index], permutations=template.permutations, scheme=template.scheme
        )
        near = next(
            (
                other
                for other in sorted(lsh.query(signature))
                if _jaccard(grams(index), grams(other)) >= similarity
            ),
            None,
        )
        if near is not None:
            detail = f"close to {ordered[near].key}"
            result.rejected.append(Rejection(example.key, "near_duplicate", detail))
            continue
        first_of_text[texts[index]] = index
        lsh.insert(index, signature)
        result.kept.append(example)
    return result


def _normalized(example: Example) -> bytes:
    # The question and the reply say what is repeated; the system prompt is the
    # same everywhere and the earlier thread is only context.
    words = _WORD.findall(f"{example.question}\n{example.target}".casefold())
    # Padded so even a tiny text has one whole 5-gram.
    return " ".join(words).encode("utf-8").ljust(SHINGLE, b"\0")


def _shingles(text: bytes) -> set[bytes]:
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def _jaccard(a: frozenset[bytes], b: frozenset[bytes]) -> float:
    return len(a & b) / len(a | b)


def _signatures(texts: list[bytes], template: MinHash) -> npt.NDArray[np.uint32]:
    """MinHash signatures of every text's 5-grams, computed with numpy in bulk.

    The same sketch as feeding each 5-gram to `template.update`, with a 5-gram's
    own bytes (mixed) as its hash: hashing each gram in Python would be most of
    the time curation takes.
    """
    a, b = (np.asarray(p, dtype=np.uint32) for p in template.permutations)
    signatures = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    start = 0
    while start < len(texts):
        stop, grams = start, 0
        while stop < len(texts) and (grams == 0 or grams + len(texts[stop]) <= _CHUNK_GRAMS):
            grams += len(texts[stop]) - SHINGLE + 1
            stop += 1
        hashes, first = _gram_hashes(texts[start:stop])
        # Permutations x grams, so each text's grams are contiguous in memory:
        # reduceat along rows is many times faster than down columns.
        permuted = a[:, None] * hashes[None, :] + b[:, None]  # wraps mod 2**32
        signatures[start:stop] = np.minimum.reduceat(permuted, first, axis=1).T
        start = stop
    return signatures


def _gram_hashes(texts: list[bytes]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.intp]]:
    """32-bit hashes of every text's 5-grams, and where each text's run starts."""
    buffer = np.frombuffer(b"".join(texts), dtype=np.uint8).astype(np.uint64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.intp, count=len(texts))
    ends = np.cumsum(lengths)
    # Each 5-gram as the 40-bit number its bytes spell.
    windows = len(buffer) - SHINGLE + 1
    codes = np.zeros(windows, dtype=np.uint64)
    for k in range(SHINGLE):
        codes = (codes << np.uint64(8)) | buffer[k : k + windows]
    # Windows that run from one text into the next are not 5-grams of either.
    inside = np.ones(windows, dtype=bool)
    crossing = (ends[:, None] - np.arange(1, SHINGLE, dtype=np.intp)[None, :]).ravel()
    inside[crossing[crossing < windows]] = False
    counts = lengths - SHINGLE + 1
    first = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
    return _mix32(codes[inside]), first


def _mix32(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    # splitmix64's finalizer: every input bit moves every output bit, so the
    # affine permutations see well-spread values.
    x = values ^ (values >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    mixed: npt.NDArray[np.uint32] = (x >> np.uint64(32)).astype(np.uint32)
    return mixed
