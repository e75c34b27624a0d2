# `make run` and `make test` each build .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.local-installed
# The CPU build: the tests train a tiny model on the CPU, and any other torch would
# pull a multi-GB CUDA build. Override for a GPU machine: make TORCH=torch ...
TORCH ?= torch==2.13.0

.PHONY: install run test lint typecheck check wheel-check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The CLI lives in .venv/bin: `source .venv/bin/activate` puts it on PATH.
install: $(STAMP)
	@echo "voiceloop is installed in $(VENV); run: source $(VENV)/bin/activate"

# The `local` extra (torch, transformers, peft, trl, ...): the tests and the type
# check cover the self-hosted trainer, so they install it; `make run` does not.
$(LOCAL_STAMP): $(STAMP)
	$(BIN)/pip install --quiet '$(TORCH)'
	$(BIN)/pip install --quiet -e '.[dev,local]'
	touch $(LOCAL_STAMP)

run: $(STAMP)
	$(BIN)/voiceloop serve

test: $(LOCAL_STAMP)
	$(BIN)/pytest -q

lint: $(LOCAL_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(LOCAL_STAMP)
	$(BIN)/mypy

check: lint typecheck test

# Build the wheel, install it into a fresh virtual environment, run it away
# from the source tree (needs only the package registries).
wheel-check: $(STAMP)
	PYTHON=$(BIN)/python bash .ci/wheel-check

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/ack_latency.py --mode retrain
	$(BIN)/python bench/curate.py
	$(BIN)/python bench/prompt_tokens.py
	$(BIN)/python bench/read_replies.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
