# The two set-up commands of the README: `make run` and `make test` (everything; CI runs it).
# Both install what is missing (Debian/Ubuntu system packages, a virtual environment with
# the CPU build of PyTorch first, then the project) and are safe to run again.
# `make check` is the fast inner loop while developing: lint, format, types and every test
# that needs no real Whisper model, no microphone and no tmux (the model package is hidden
# while it runs, to prove it); under 2 minutes on 2 cores.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint install sysdeps bench clean train-scorer check-labels

CHECK_MARKERS := not audio and not slow and not tmux and not e2e
# pytest-xdist workers for `make check` (auto: one per core).
CHECK_JOBS ?= auto

run: install
	$(BIN)/coach

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install lint
	COACH_TEST_HIDE_MODELS=1 $(BIN)/python -m pytest -q -n $(CHECK_JOBS) -m "$(CHECK_MARKERS)" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check coach tests benchmarks scripts
	$(BIN)/ruff format --check coach tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

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
	$(BIN)/python benchmarks/guard.py --candidates rules

# Train the semantic scoring layer from corpus/ (deterministic; ~35 minutes on 2 cores): the
# encoder's tuned top layers, the sentence head and the answer layer (coach/scoring/data/
# encoder_top.npz, semantic_head.npz, answer_head.npz: the only way those files are made), then
# the floor of the tone note's second look on dev (coach/scoring/decide.py SECOND_LOOK).
train-scorer: install
	$(BIN)/python scripts/split_corpus.py
	$(BIN)/python scripts/train_scorer.py
	$(BIN)/python scripts/second_look.py --write

# Near-identical corpus sentences whose tone labels disagree (for an annotator; see the script).
check-labels: install
	$(BIN)/python scripts/check_labels.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
