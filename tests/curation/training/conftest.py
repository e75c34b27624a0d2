"""The tiny model every local-trainer test shares, built once per test session."""

from pathlib import Path
from typing import Any

import pytest

from tests.curation.training.tiny_model import PLAIN_CHAT_TEMPLATE, build_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="session")
def plain_tokenizer(tiny_model: Path) -> Any:
    """The same tokenizer with a template that has no {% generation %} markers."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
    return tokenizer
