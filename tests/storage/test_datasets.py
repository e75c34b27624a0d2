"""Dataset versions: recorded once per id, read back whole."""

from storage import DatasetVersion, Store, dataset_version, record_dataset
from tests.storage.rows import ids


def version(dataset_id: str, prompt_id: str, **changes: object) -> DatasetVersion:
    fields: dict[str, object] = {
        "id": dataset_id,
        "path": f"datasets/{dataset_id}",
        "base_model": "gpt-4.1-mini-2025-04-14",
        "prompt_id": prompt_id,
        "train_examples": 12,
        "validation_examples": 2,
        "preference_pairs": 1,
        "train_tokens": 1200,
        "validation_tokens": 200,
        "epochs": 8,
        "estimated_cost_usd": 0.048,
        "files": {"train.jsonl": "ab" * 32},
        "report": {"rejections": {"counts": {"unrated": 3}}},
    }
    fields.update(changes)
    return DatasetVersion(**fields)  # type: ignore[arg-type]


def test_a_version_round_trips_and_is_recorded_once() -> None:
    store = Store(":memory:")
    prompt = store.ensure_prompt("Be Brightside.", "post_training")
    first = record_dataset(store, version("v1", prompt.id))
    assert first.created_at
    assert first.files == {"train.jsonl": "ab" * 32}
    assert first.report == {"rejections": {"counts": {"unrated": 3}}}
    again = record_dataset(store, version("v1", prompt.id, train_examples=99))
    assert again == first
    assert dataset_version(store, "v1") == first
    assert dataset_version(store, "nope") is None


def test_versions_are_kept_in_order_and_allow_no_price() -> None:
    store = Store(":memory:")
    prompt = store.ensure_prompt("Be Brightside.", "post_training")
    record_dataset(store, version("v1", prompt.id, created_at="2026-01-01T00:00:00.000+00:00"))
    record_dataset(
        store,
        version(
            "v2",
            prompt.id,
            base_model="Qwen/Qwen2.5-7B-Instruct",
            estimated_cost_usd=None,
            created_at="2026-02-01T00:00:00.000+00:00",
        ),
    )
    assert ids(store, "datasets", order_by="created_at") == ["v1", "v2"]
    second = dataset_version(store, "v2")
    assert second is not None and second.estimated_cost_usd is None


def test_recording_the_same_files_again_points_at_the_newest_folder() -> None:
    store = Store(":memory:")
    prompt = store.ensure_prompt("Be Brightside.", "post_training")
    record_dataset(store, version("v1", prompt.id, path="/tmp/old/v1"))
    again = record_dataset(store, version("v1", prompt.id, path="datasets/v1"))
    assert again.path == "datasets/v1"
