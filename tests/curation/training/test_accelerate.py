"""More GPUs go through `accelerate launch` with a config file; the shipped examples
are valid, and the launch path itself trains (one CPU process here)."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from curation.training.local.trainer import LocalTrainer
from storage import Store
from tests.curation.lifecycle_harness import CHAT_MODEL, VOICE_GUIDE, answer_as
from tests.curation.training.local_harness import (
    drive_until_settled,
    local_lifecycle,
    seed_local_ratings,
)
from tests.fakes.openai_api import FakeOpenAI
from tests.fakes.vllm_api import FakeVllm

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "accelerate"


def test_the_example_configs_say_what_they_promise() -> None:
    ddp = yaml.safe_load((EXAMPLES / "data_parallel.yaml").read_text(encoding="utf-8"))
    fsdp = yaml.safe_load((EXAMPLES / "fsdp2.yaml").read_text(encoding="utf-8"))
    assert (ddp["distributed_type"], ddp["mixed_precision"]) == ("MULTI_GPU", "bf16")
    assert fsdp["distributed_type"] == "FSDP" and fsdp["fsdp_config"]["fsdp_version"] == 2
    assert fsdp["fsdp_config"]["fsdp_state_dict_type"] == "FULL_STATE_DICT"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "voiceloop.db")
    store.deploy_configured(CHAT_MODEL, VOICE_GUIDE)
    seed_local_ratings(store, corrections=0)
    yield store
    store.close()


def test_a_run_under_accelerate_launch_trains(
    store: Store, tmp_path: Path, tiny_model: Path
) -> None:
    with FakeOpenAI() as openai_fake, FakeVllm(base_model=str(tiny_model)) as vllm:
        openai_fake.reply_with(answer_as("live"))
        vllm.reply_with(lambda model, request: "Candidate here. Pack light.")
        lifecycle = local_lifecycle(store, openai_fake, vllm, tmp_path, tiny_model)
        trainer = lifecycle.backend.trainer
        assert isinstance(trainer, LocalTrainer)
        trainer.config = dataclasses.replace(
            trainer.config, accelerate_config=EXAMPLES / "cpu_single_process.yaml"
        )
        preview = lifecycle.preview()
        assert preview.dataset is not None
        run = lifecycle.start(preview.dataset.id, "U1")

        updates = drive_until_settled(lifecycle)

    assert updates[-1].kind == "held", [u.text for u in updates]
    events = store.run_events(run.id)
    started = next(e for e in events if e.message.startswith("trainer process"))
    assert "accelerate.commands.launch" in started.data["command"]  # type: ignore[operator]
    assert any(e.kind == "progress" for e in events)
    done = store.run(run.id)
    assert done is not None and done.trained_model is not None
    assert (Path(done.trained_model) / "adapter_model.safetensors").is_file()
