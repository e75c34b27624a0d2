"""Loading adapters into a vLLM-compatible server, against a fake one on loopback."""

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from curation import TrainingRefusedError, TrainingUnavailableError
from curation.training.local.adapter_server import AdapterServer
from tests.fakes.vllm_api import DEFAULT_API_KEY, FakeVllm


@pytest.fixture
def vllm() -> Iterator[FakeVllm]:
    with FakeVllm() as server:
        yield server


@pytest.fixture
def adapters(vllm: FakeVllm) -> AdapterServer:
    client = openai.OpenAI(base_url=vllm.base_url, api_key=DEFAULT_API_KEY, max_retries=0)
    return AdapterServer(client)


def adapter_folder(tmp_path: Path, name: str) -> str:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text("{}", encoding="utf-8")
    return str(folder)


def test_load_returns_once_the_server_lists_the_adapter(
    vllm: FakeVllm, adapters: AdapterServer, tmp_path: Path
) -> None:
    path = adapter_folder(tmp_path, "run-1")
    adapters.load("voiceloop-1", path)
    assert vllm.adapters == {"voiceloop-1": path}
    assert "voiceloop-1" in adapters.served_models()
    # Again (a restart mid-promotion): nothing is loaded twice.
    adapters.load("voiceloop-1", path)
    assert len(vllm.calls_to("/v1/load_lora_adapter")) == 1


def test_a_refused_load_says_why(vllm: FakeVllm, adapters: AdapterServer, tmp_path: Path) -> None:
    with pytest.raises(TrainingRefusedError, match=r"did not load .* No adapter found"):
        adapters.load("voiceloop-2", str(tmp_path / "nothing-here"))
    assert vllm.adapters == {}


def test_a_load_the_server_does_not_list_is_an_error(
    vllm: FakeVllm, adapters: AdapterServer, tmp_path: Path
) -> None:
    vllm.accept_loads_without_listing()
    with pytest.raises(TrainingRefusedError, match="does not list it"):
        adapters.load("voiceloop-3", adapter_folder(tmp_path, "run-3"))


def test_a_server_without_runtime_lora_is_named(
    vllm: FakeVllm, adapters: AdapterServer, tmp_path: Path
) -> None:
    vllm.runtime_lora = False
    with pytest.raises(TrainingRefusedError, match="VLLM_ALLOW_RUNTIME_LORA_UPDATING=True"):
        adapters.load("voiceloop-4", adapter_folder(tmp_path, "run-4"))


def test_unload_removes_and_tolerates_a_gone_adapter(
    vllm: FakeVllm, adapters: AdapterServer, tmp_path: Path
) -> None:
    adapters.load("voiceloop-5", adapter_folder(tmp_path, "run-5"))
    adapters.unload("voiceloop-5")
    adapters.unload("voiceloop-5")
    assert vllm.adapters == {}


def test_a_wrong_api_key_is_reported_without_the_key(vllm: FakeVllm) -> None:
    client = openai.OpenAI(base_url=vllm.base_url, api_key="sk-wrong-secret", max_retries=0)
    wrong = AdapterServer(client)
    with pytest.raises(TrainingRefusedError, match="HTTP 401") as caught:
        wrong.served_models()
    assert "sk-wrong-secret" not in str(caught.value)


def test_an_unreachable_server_is_worth_trying_again(tmp_path: Path) -> None:
    with FakeVllm() as gone:
        url = gone.base_url
    client = openai.OpenAI(base_url=url, api_key=DEFAULT_API_KEY, max_retries=0, timeout=2)
    with pytest.raises(TrainingUnavailableError, match="cannot connect"):
        AdapterServer(client).load("voiceloop-6", adapter_folder(tmp_path, "run-6"))
