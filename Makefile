# `make run` and `make test` each build .venv on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The CLI lives in .venv/bin: `source .venv/bin/activate` puts it on PATH.
install: $(STAMP)
	@echo "voiceloop is installed in $(VENV); run: source $(VENV)/bin/activate"

run: $(STAMP)
	$(BIN)/voiceloop serve

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP)
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/curate.py
	$(BIN)/python bench/prompt_tokens.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
