# labrace: two commands do everything on a fresh clone.
#   make train   create .venv, install labrace with its training extras, run `python train.py`
#   make test    create the virtualenvs, install, run the whole test suite: the core tests in .venv,
#                the RLlib / TorchRL integration tests in .venv-integrations (ray[rllib] pins its
#                own gymnasium, so the core suite keeps testing the newest one)
# torch is pinned to the CPU wheel (2.13.0) in the same pip command, so no multi-GB CUDA build.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
VENV_INT ?= .venv-integrations
PY_INT := $(VENV_INT)/bin/python
TORCH := torch==2.13.0
# no copy of downloaded wheels in pip's cache and no byte-code for modules never imported: less disk
# (a CI machine has run out of it; .venv-integrations measured 1.6 GB instead of 1.9 GB); Python
# still compiles what a test imports
PIP_FLAGS := --quiet --no-cache-dir --no-compile
# ... but where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) no process writes it, so every
# `python train.py` and every worker compiled torch, SB3, scipy, ... from source again (measured: a
# tiny training run 14-15 s, 7.6 s with their byte-code). So setup imports what labrace imports once,
# with byte-code writing on: only those modules (91 MB), not whole packages.
WARM := import labrace.agents.trainers, labrace.agents.sweep, labrace.agents.crossplay, labrace.agents.studies.analysis, torch._dynamo, matplotlib.pyplot, pandas, supersuit, pytest, hypothesis; from stable_baselines3 import A2C, DQN, PPO, SAC

.PHONY: setup setup-integrations train test test-core test-integrations bench policies crossplay report dynamics validate

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) $(TORCH) -e ".[train,dev]"
	touch $@

# a stamp of its own, so that a virtualenv installed before it gets its byte-code too
$(VENV)/.bytecode: $(VENV)/.installed
	PYTHONDONTWRITEBYTECODE= $(PY) -c "$(WARM)"
	touch $@

setup: $(VENV)/.bytecode

$(VENV_INT)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_INT)
	$(PY_INT) -m pip install $(PIP_FLAGS) $(TORCH) -e ".[train,dev,rllib,torchrl]"
	touch $@

$(VENV_INT)/.bytecode: $(VENV_INT)/.installed
	PYTHONDONTWRITEBYTECODE= $(PY_INT) -c "$(WARM); import ray, ray.rllib.algorithms.ppo, torchrl.envs"
	touch $@

setup-integrations: $(VENV_INT)/.bytecode

train: setup
	$(PY) train.py

# pytest exits 5 when it collects no test: that is a failure here, not a pass
test: test-core test-integrations

test-core: setup
	$(PY) -m pytest -m "not slow and not integration"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test-integrations: setup-integrations
	$(PY_INT) -m pytest -m "integration and not slow" tests/integrations; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: setup
	$(PY) benchmarks/env_throughput.py

# the committed learned policies of the main race_v0 scenarios (results/policies/<scenario>/)
SCENARIOS := baseline misuse_hawks accident_doves cruel_tradeoff pivotal_act easy_coordination
policies: setup
	for s in $(SCENARIOS); do \
		$(PY) train.py train --scenario $$s --out results/policies --run-name $$s --overwrite --no-progress || exit 1; \
	done

# the committed policies against each other (focal lab_0 among background labs) and the meta-game
# of who best-responds to whom, in each scenario they were trained in → results/crossplay.md
crossplay: setup
	$(PY) -m labrace.agents.crossplay

# the learners on the canonical games against their theory, 5 seeds → results/canonical/learned.md
validate: setup
	$(PY) -m labrace.agents.validation

# the reference study at its small budget (about 20 minutes on 2 cores, more on slower machines; measured: README) → results/REPORT.md
report: setup
	$(PY) train.py sweep all --budget small

# where best responses lead from every equilibrium-lens run of the small budget (trains the runs
# first where they are missing, as `make report` does) → results/br-dynamics.md (and REPORT.md)
dynamics: setup
	$(PY) train.py sweep all --budget small --br-dynamics 10
