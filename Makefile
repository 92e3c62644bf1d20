# labrace: two commands do everything on a fresh clone.
#   make train   create .venv, install labrace with its training extras, run `python train.py`
#   make test    create .venv, install labrace with its dev extras, run the test suite
# torch is pinned to the CPU wheel (2.13.0) in the same pip command, so no multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH := torch==2.13.0

.PHONY: setup train test test-slow test-all bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH) -e ".[train,dev]"
	touch $@

setup: $(VENV)/.installed

train: setup
	$(PY) train.py

# pytest exits 5 when it collects no test: that is a failure here, not a pass
test: setup
	$(PY) -m pytest -m "not slow"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-slow: setup
	$(PY) -m pytest -m slow; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-all: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/env_throughput.py
