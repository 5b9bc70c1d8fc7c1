# lstmrun -- see README.md. `make help` lists the targets.
#
# Every target works in a virtual environment, .venv (made on first use; `make VENV=` uses the
# Python on PATH instead). Installs are remembered in stamp files and redone only when
# pyproject.toml changes, so a second `make run` or `make test` starts at once.
VENV   ?= .venv
ifeq ($(strip $(VENV)),)
PYTHON ?= python3
BIN    :=
STAMPS := .make
else
PYTHON := $(VENV)/bin/python
BIN    := $(VENV)/bin/
STAMPS := $(VENV)
endif
PIP    ?= $(PYTHON) -m pip
CONFIG ?= configs/paper/exp1_erg_3x2_lr05.yaml
JOBS   ?= 2
LANES  ?= 1

.PHONY: help install install-plot install-dev run test test-slow lint bench bench-lanes bench-peers estimate reproduce reproduce-quick reproduce-exp1 clean

help:  ## list the targets
	@grep -E '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

ifneq ($(strip $(VENV)),)
$(PYTHON):
	python3 -m venv $(VENV)
endif

$(STAMPS)/.installed: pyproject.toml | $(if $(strip $(VENV)),$(PYTHON))
	@mkdir -p $(STAMPS)
	$(PIP) install -q -e .
	@touch $@

$(STAMPS)/.installed-plot: pyproject.toml | $(if $(strip $(VENV)),$(PYTHON))
	@mkdir -p $(STAMPS)
	$(PIP) install -q -e '.[plot]'
	@touch $@ $(STAMPS)/.installed

$(STAMPS)/.installed-dev: pyproject.toml | $(if $(strip $(VENV)),$(PYTHON))
	@mkdir -p $(STAMPS)
	$(PIP) install -q -e '.[dev]'
	@touch $@ $(STAMPS)/.installed $(STAMPS)/.installed-plot

install: $(STAMPS)/.installed  ## install lstmrun and its core dependencies (pip install -e .)

install-plot: $(STAMPS)/.installed-plot  ## install with matplotlib (plots of reports)

install-dev: $(STAMPS)/.installed-dev  ## install with the test dependencies

run: install  ## install, then run the default experiment (Exp 1, 3x2 net, paper config)
	$(BIN)lstmrun train $(CONFIG) --jobs $(JOBS)

test: install-dev  ## install with test extras and run the fast tests (4 minutes on a fresh 2-core machine)
	$(PYTHON) -m pytest -n auto --maxprocesses=4 --durations=10

test-slow: install-dev  ## the slow tier: every test on the specialised kernels, statistical checks and long runs
	LSTMRUN_TEST_SPECIALIZE=1 $(PYTHON) -m pytest -q -m "slow or not slow" --durations=15

lint: install-dev  ## ruff
	$(PYTHON) -m ruff check lstmrun tests bench

bench: install  ## engine throughput beside NumPy peers (+ PyTorch peers if torch is installed); BENCH_ARGS=--quick
	$(PYTHON) bench/bench_engine.py $(BENCH_ARGS)

bench-lanes: install  ## whole-command throughput of 16 adding trials, --lanes 1 vs the CPU's vector width (minutes)
	$(PYTHON) bench/lockstep_e2e.py $(BENCH_ARGS)

bench-peers: install  ## install the PyTorch CPU build (torch==2.13.0, the bench extra), then make bench
	$(PIP) install -q 'torch==2.13.0' && $(PIP) install -q -e '.[bench]'
	$(PYTHON) bench/bench_engine.py $(BENCH_ARGS)

# ---- reproduction: plain lstmrun lines; an interrupted target resumes where it stopped
QUICK_CONFIGS = configs/paper/exp1_erg_3x2_lr05.yaml configs/paper/exp1_erg_4x1_lr05.yaml \
	configs/paper/exp2c_q50_p50.yaml configs/paper/exp2c_q100_p100.yaml \
	configs/paper/exp3a_t100_n3.yaml configs/paper/exp4_adding_t100.yaml \
	configs/paper/exp6a_temporal_order.yaml
EXP1_CONFIGS = $(wildcard configs/paper/exp1_erg_[34]x*.yaml)
ALL_CONFIGS = $(wildcard configs/paper/*.yaml)
# the LSTM rows that take under a minute: rerun with SEEDS for the report's pooled-seed table
SEED_CONFIGS = $(EXP1_CONFIGS) configs/paper/exp2c_q50_p50.yaml configs/paper/exp2c_q100_p100.yaml \
	$(wildcard configs/paper/exp3[abc]_t100_n*.yaml) configs/paper/exp4_adding_t100.yaml \
	configs/paper/exp6a_temporal_order.yaml
SEEDS ?= 1,2,3,4,5,6,7,8,9
# sweep into DIR/runs, resuming if DIR already holds the sweep, then tabulate into DIR
define reproduce
	$(BIN)lstmrun sweep $(1) $(2) --jobs $(JOBS) $(if $(wildcard $(3)/runs/sweep.json),--resume,--out) $(3)/runs
	$(BIN)lstmrun report $(3)/runs/*/ --out $(3) $(if $(NOPLOTS),,--plots) > /dev/null
	@echo "report: $(3)/REPORT.md"
endef

reproduce-quick: install-plot  ## the fast rows, 3 trials each (minutes) -> results/reproduction-quick/
	$(call reproduce,$(QUICK_CONFIGS),--trials 3,results/reproduction-quick)

reproduce-exp1: install-plot  ## Exp 1, all five rows at the paper's 30 trials -> results/reproduction-exp1/
	$(call reproduce,$(EXP1_CONFIGS),,results/reproduction-exp1)

reproduce-exp%: install-plot  ## Exp N (2-6) and its baselines at the paper's trial counts, e.g. reproduce-exp4
	$(call reproduce,$(wildcard configs/paper/exp$*[a-z_]*.yaml),,results/reproduction-exp$*)

reproduce: install-plot  ## every config of configs/paper at the paper's trial counts, the fast rows also over SEEDS (hours) -> results/reproduction/
	$(BIN)lstmrun sweep $(ALL_CONFIGS) --jobs $(JOBS) $(if $(wildcard results/reproduction/runs/sweep.json),--resume,--out) results/reproduction/runs
	$(BIN)lstmrun sweep $(SEED_CONFIGS) --grid seed=$(SEEDS) --jobs $(JOBS) $(if $(wildcard results/reproduction/seeds/sweep.json),--resume,--out) results/reproduction/seeds
	$(BIN)lstmrun report results/reproduction/runs/*/ results/reproduction/seeds/*/ --out results/reproduction $(if $(NOPLOTS),,--plots) > /dev/null
	@echo "report: results/reproduction/REPORT.md"

estimate: install  ## project the hours of every paper row from measured throughput (LANES=8: also with --lanes 8)
	$(PYTHON) bench/estimate_hours.py --jobs $(JOBS) --lanes $(LANES)

clean:  ## remove caches and install stamps (not results, not .venv)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache *.egg-info .make $(STAMPS)/.installed*
