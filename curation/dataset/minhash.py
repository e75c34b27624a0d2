"""MinHash sketches of byte strings, and LSH bands that find likely near repeats among them.

One-permutation hashing (Li, Owen and Zhang, 2012): each 5-gram is hashed once
and falls into one of BINS bins; a text's sketch is its smallest hash per bin.
Two texts agree on a bin with probability equal to their Jaccard similarity,
as with classic MinHash, but the cost is one hash per gram instead of one per
gram and permutation. Bins no gram of a text fell into borrow from the next
filled bin to their right (densification by rotation, Shrivastava and Li, 2014),
which keeps that probability. Everything is numpy over all texts at once, and
deterministic: the same text gets the same sketch on every run and machine.
"""

import numpy as np
import numpy.typing as npt

SHINGLE = 5
BIN_BITS = 7
BINS = 2**BIN_BITS
# 5-grams hashed at once: small enough that the work stays in the CPU cache.
_CHUNK_GRAMS = 250_000
_EMPTY = np.uint64(2**32)  # above every 32-bit bin value
# Wanted chance that a pair right at the similarity threshold shares a band.
_RECALL_AT_THRESHOLD = 0.9

U64 = npt.NDArray[np.uint64]


def bands_for(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) for BINS bins: the most rows per band (so
    unrelated texts rarely share one) that still finds a pair at the
    threshold with _RECALL_AT_THRESHOLD."""
    for rows in range(BINS, 0, -1):
        bands = BINS // rows
        if 1 - (1 - threshold**rows) ** bands >= _RECALL_AT_THRESHOLD:
            return bands, rows
    return BINS, 1


def band_keys(texts: list[bytes], bands: int, rows: int) -> U64:
    """A (texts x bands) array: texts sharing a key in any band are candidates."""
    keys = np.empty((len(texts), bands), dtype=np.uint64)
    start = 0
    while start < len(texts):
        stop, grams = start, 0
        while stop < len(texts) and (grams == 0 or grams + len(texts[stop]) <= _CHUNK_GRAMS):
            grams += len(texts[stop])
            stop += 1
        sketch = _sketches(texts[start:stop])[:, : bands * rows]
        keys[start:stop] = _fold(sketch.reshape(stop - start, bands, rows))
        start = stop
    # Keys of different bands must never meet: salt each band differently.
    salt = _mix(np.arange(1, bands + 1, dtype=np.uint64))
    keys += salt[None, :]
    return keys


def band_buckets(keys: U64) -> list[list[int]]:
    """The texts of each band key that more than one text has, in text order:
    texts in one bucket are candidates. Buckets, not pairs: a reply repeated
    to a thousand questions fills one bucket of a thousand, not a million pairs."""
    flat = keys.ravel()
    # Any order of equal keys will do (members are sorted below), and numpy's
    # default sort is five times quicker than a stable one here.
    order = np.argsort(flat)
    ordered = flat[order]
    owner = order // keys.shape[1]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    lengths = np.diff(np.append(starts, len(ordered)))
    # Buckets of one are the rule; only the few real ones reach Python.
    real = lengths > 1
    return [
        sorted(set(owner[start : start + length].tolist()))
        for start, length in zip(starts[real].tolist(), lengths[real].tolist(), strict=True)
    ]


def gram_ids(text: bytes) -> U64:
    """Every 5-gram of one text as a 64-bit number that no other 5-gram has
    (the mix is a bijection), so sets of these give the exact Jaccard
    similarity; mixed, because Python's sets slow down on raw byte codes."""
    return _mix(_codes(text))


def _sketches(texts: list[bytes]) -> U64:
    """One-permutation MinHash sketches: (texts x BINS), densified."""
    count = len(texts)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.intp, count=count)
    hashes = _mix(_codes(b"".join(texts)))
    # Each window belongs to the text it starts in; the last SHINGLE - 1 of a
    # text run into the next one, so they go to a spare row that is dropped.
    owner = np.repeat(np.arange(count, dtype=np.intp), lengths)[: len(hashes)]
    crossing = np.cumsum(lengths)[:-1, None] - np.arange(1, SHINGLE, dtype=np.intp)[None, :]
    owner[crossing.ravel()] = count
    # The top bits choose the bin, the low 32 bits are the value.
    owner <<= BIN_BITS
    owner |= (hashes >> np.uint64(64 - BIN_BITS)).view(np.intp)
    sketch = np.full((count + 1) * BINS, _EMPTY, dtype=np.uint64)
    hashes &= np.uint64(0xFFFFFFFF)
    np.minimum.at(sketch, owner, hashes)
    return _densified(sketch[: count * BINS].reshape(count, BINS))


def _densified(sketch: U64) -> U64:
    """Each empty bin takes the next filled bin's value to its right (wrapping
    around), offset by how far it had to look, so it cannot pass for a filled one."""
    rows, columns = np.nonzero(sketch == _EMPTY)
    result = sketch.copy()
    step = 0
    # Few bins are empty, and fewer still after each step: only they are touched.
    while len(rows) and step < BINS:
        step += 1
        found = sketch[rows, (columns + step) % BINS]
        filled = found != _EMPTY
        result[rows[filled], columns[filled]] = found[filled] + np.uint64(step) * _EMPTY
        rows, columns = rows[~filled], columns[~filled]
    return result


def _fold(rows: U64) -> U64:
    """One 64-bit key per (text, band) from the band's row values."""
    key = np.zeros(rows.shape[:2], dtype=np.uint64)
    for column in range(rows.shape[2]):
        key = _mix(key ^ rows[:, :, column])
    return key


def _codes(data: bytes) -> U64:
    """Each 5-gram of `data` (at least SHINGLE bytes) as the 40-bit
    little-endian number its bytes spell, read as eight interleaved runs of
    unaligned 8-byte words instead of byte by byte."""
    windows = len(data) - SHINGLE + 1
    padded = data + bytes(16)
    codes = np.empty(windows + 8, dtype=np.uint64)
    for offset in range(8):
        words = np.frombuffer(padded, dtype="<u8", offset=offset, count=(windows + 8 - offset) // 8)
        codes[offset::8][: len(words)] = words
    return codes[:windows] & np.uint64(2**40 - 1)


def _mix(values: U64) -> U64:
    # splitmix64's finalizer: every input bit moves every output bit, so bins
    # and values are spread evenly even for 5-grams that differ in one byte.
    x = values >> np.uint64(30)
    x ^= values
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x
