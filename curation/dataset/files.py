"""A dataset version on disk: JSONL files and report.json in a folder named by its id."""

import hashlib
import shutil
import uuid
from pathlib import Path

import orjson

from curation.dataset.examples import Example
from curation.dataset.jsonl import dumps_jsonl
from curation.dataset.pipeline import CuratedDataset
from curation.errors import CurationError

TRAIN = "train.jsonl"
VALIDATION = "validation.jsonl"
DPO_TRAIN = "dpo_train.jsonl"
DPO_VALIDATION = "dpo_validation.jsonl"
REPORT = "report.json"


def data_files(curated: CuratedDataset) -> dict[str, bytes]:
    """The JSONL files a trainer reads; empty ones are left out, since OpenAI
    rejects an empty file rather than treating it as "none"."""
    files = {
        TRAIN: dumps_jsonl(map(_chat_line, curated.train)),
        VALIDATION: dumps_jsonl(map(_chat_line, curated.validation)),
        DPO_TRAIN: dumps_jsonl(p.as_json() for p in curated.train_pairs),
        DPO_VALIDATION: dumps_jsonl(p.as_json() for p in curated.validation_pairs),
    }
    return {name: data for name, data in files.items() if data}


def _chat_line(example: Example) -> dict[str, object]:
    return {"messages": [m.as_json() for m in example.messages]}


def dataset_id(files: dict[str, bytes], base_model: str, epochs: int) -> str:
    """Same training data and plan, same id: reruns on unchanged ratings are no-ops."""
    digest = hashlib.sha256(f"{base_model}\n{epochs}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}\n{len(files[name])}\n".encode())
        digest.update(files[name])
    return digest.hexdigest()[:16]


def file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def write_version(
    out_root: Path, version_id: str, files: dict[str, bytes], report: dict[str, object]
) -> Path:
    """Write the folder all at once (a temporary folder renamed into place), so a
    trainer never sees half a dataset. An existing folder with this id already
    holds these exact files and is left as it is."""
    target = out_root / version_id
    if target.is_dir():
        return target
    tmp = out_root / f".{version_id}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.mkdir(parents=True)
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / REPORT).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            # Another run wrote the same version first; theirs is identical.
    except OSError as e:
        raise CurationError(
            f"{out_root}: cannot write the dataset ({e.strerror or e}); "
            "choose a writable folder with --out or VOICELOOP_DATASET_DIR"
        ) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
