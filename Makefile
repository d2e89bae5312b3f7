# The two set-up commands of the README: `make run` and `make test`.
# Both install what is missing (Debian/Ubuntu system packages, a virtual environment with
# the CPU build of PyTorch first, then the project) and are safe to run again.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install sysdeps bench clean train-scorer

run: install
	$(BIN)/coach

test: install
	$(BIN)/ruff check coach tests benchmarks
	$(BIN)/ruff format --check coach tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: sysdeps $(STAMP)

sysdeps:
	@PYTHON=$(PYTHON) bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this takes the CPU build and avoids several GB of CUDA packages.
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || $(BIN)/python -m pip install --quiet torch
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

bench: install
	$(BIN)/python benchmarks/transcribe.py
	$(BIN)/python benchmarks/scoring.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/startup.py

# Train the semantic scoring head from corpus/ (deterministic; a few minutes at most on 2 cores)
# and write coach/scoring/data/semantic_head.npz, the only way that file is made.
train-scorer: install
	$(BIN)/python scripts/split_corpus.py
	$(BIN)/python scripts/train_scorer.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
