# diplotag — set-up, model, service and tests. `make serve` and `make test` are all a user needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DIPLOTAG_HOME ?= $(CURDIR)/.home
MODEL_DIR := $(DIPLOTAG_HOME)/models/default
HOST ?= 127.0.0.1
PORT ?= 8000
TRAIN ?=

.PHONY: install model serve test test-slow test-e2e e2e-deps lint check-data bench gpu-prep clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## create .venv and install torch (CPU) and diplotag

model: install ## build the e5-small base and the default model when missing (TRAIN=1 retrains)
	$(BIN)/diplotag build-base e5-small
	$(BIN)/diplotag model build $(if $(TRAIN),--train,)

serve: model ## set up everything, then serve on http://$(HOST):$(PORT)
	$(BIN)/diplotag serve --host $(HOST) --port $(PORT)

test: install ## the fast offline suite (tiny models, no e5 weights)
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]  # 5 = no test collected

test-slow: install ## tests that build the real e5-small base, check the shipped model, run Ray
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,ray]'
	$(BIN)/python -m pytest -q -m slow || [ $$? -eq 5 ]

e2e-deps: install ## Debian's chromium and playwright for the browser test
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev,e2e]'

test-e2e: e2e-deps ## the browser test in headless chromium (screenshot in artifacts/)
	$(BIN)/python -m pytest -q -m e2e || [ $$? -eq 5 ]

bench: model ## speed and quality benchmarks side by side (benchmarks/results/latest.md)
	$(BIN)/python benchmarks/bench.py

GPU_WHEELS := pydantic pydantic-core pydantic-settings python-dotenv typing-inspection annotated-types fastapi starlette uvicorn annotated-doc peft

gpu-prep: model ## pack e5-small (.devcarry/) and the wheels a torch-only GPU image lacks (.whl/) for benchmarks/gpu_run.sh
	mkdir -p .devcarry .whl
	$(BIN)/python benchmarks/gpu_pack.py pack .devcarry/e5-small-bench.bin.xz
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
	  $$(for w in $(GPU_WHEELS); do $(BIN)/python -m pip show $$w 2>/dev/null | awk -v n=$$w '/^Version:/{print n"=="$$2}'; done)

lint: install ## ruff on the code, hadolint on the Dockerfile
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

check-data: install
	$(BIN)/diplotag data check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
