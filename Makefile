# Two commands do everything on a fresh machine with Python 3.11+:
#   make demo   set up .venv and run the baseline scenario (results under results/)
#   make test   set up .venv and run the whole test suite
# (make test-fast runs the unit, worked-example, oracle, golden and property tests in under a minute)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Build the batch engine's compiled loops once, into their cache beside the source, by running one
# replication on each engine (later runs, and worker processes, load them in a fraction of a second).
define WARM
from sim.experiments.replicate import replicate
from sim.spec.loader import load_scenario
scenario = load_scenario("scenarios/baseline.toml").scenario
for engine in ("batch", "des"):
    replicate(scenario, 0, [0], engine)
endef
export WARM

.PHONY: demo test test-fast setup lint bench readme clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,discover]'
	$(BIN)/python -c "$$WARM"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/schemesim run scenarios/baseline.toml

test: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/python -m pytest -m fast -q

lint: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests
	$(BIN)/mypy

readme: $(STAMP)
	$(BIN)/python -m tests.readme

bench: $(STAMP)
	$(BIN)/schemesim bench

clean:
	rm -rf $(VENV) results/*/ results/.tmp-*
