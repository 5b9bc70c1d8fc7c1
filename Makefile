# lstmrun -- see README.md. `make help` lists the targets.
PYTHON ?= python3
PIP    ?= $(PYTHON) -m pip
CONFIG ?= configs/paper/exp1_erg_3x2_lr05.yaml
JOBS   ?= 2

.PHONY: help install install-dev run test test-slow lint bench estimate clean

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install:  ## install lstmrun and its core dependencies (pip install -e .)
	$(PIP) install -q -e .

install-dev:  ## install with the test dependencies
	$(PIP) install -q -e '.[dev]'

run: install  ## install, then run the default experiment (Exp 1, 3x2 net, paper config)
	lstmrun train $(CONFIG) --jobs $(JOBS)

test: install-dev  ## install with test extras and run the fast tests
	$(PYTHON) -m pytest -q

test-slow: install-dev  ## the slow tier: statistical checks and long runs
	$(PYTHON) -m pytest -q -m slow

lint: install-dev  ## ruff
	$(PYTHON) -m ruff check lstmrun tests bench

bench: install  ## engine throughput (time steps/s, sequences/s)
	$(PYTHON) bench/bench_engine.py

estimate: install  ## project the hours of every paper row from measured throughput
	$(PYTHON) bench/estimate_hours.py --jobs $(JOBS)

clean:  ## remove caches (not results)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache *.egg-info
