# Two commands matter: `make demo` runs the whole job on an embedded default; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml sim/pyproject.toml | cksum | cut -d' ' -f1)

.DELETE_ON_ERROR:
.PHONY: demo test lint typecheck contracts unit integration bench chaos redis clean mutation replant

# Installs the product and, from sim/, the Genesys simulator (test and demo support, a distribution of its own).
$(STAMP): pyproject.toml sim/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -e ./sim
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The install above also compiles the PII engine's hot modules with mypyc (setup.py). After an edit to
# shared/pii the compiled build no longer matches its sources and is not run (shared/pii/_compiled.py runs
# the sources, with a warning); this rebuilds it, so every target below runs the compiled engine again.
PII_DIGEST := shared/pii/_compiled_digest.py
PII_SOURCES := $(filter-out $(PII_DIGEST),$(wildcard shared/pii/*.py))
$(PII_DIGEST): $(PII_SOURCES) setup.py | $(STAMP)
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(PII_DIGEST)
INSTALLED := $(STAMP) $(PII_DIGEST)

# `make demo KIND=anonymise` anonymises the synthetic subjects instead of erasing them; KIND=access exports them.
KIND ?= erase
demo: $(INSTALLED)
	$(VENV)/bin/erasure demo --kind $(KIND)

redis:
	@scripts/ensure-redis.sh

lint: $(INSTALLED)
	$(VENV)/bin/ruff check shared services tests bench sim

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy shared services sim bench

# The architecture's import contracts ([tool.importlinter] in pyproject.toml).
contracts: $(INSTALLED)
	$(VENV)/bin/lint-imports

# Two test processes by default (CI has 2 cores); PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= 2
test: $(INSTALLED) redis lint typecheck contracts
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# The fast tier: no Redis, no worker processes (fakeredis and the in-process simulator).
unit: $(INSTALLED)
	$(VENV)/bin/pytest -q -m "not integration"

# The real Redis, the simulator over HTTP and real Celery worker processes.
integration: $(INSTALLED) redis
	$(VENV)/bin/pytest -q -m integration

bench: $(INSTALLED) redis
	$(PY) -m bench

# One benchmark alone: killed workers, a Redis restart and platform faults on a seeded schedule, with a
# Redis of its own (needs redis-server on PATH); writes bench/results/chaos.json.
chaos: $(INSTALLED)
	$(PY) -m bench chaos

clean:
	rm -rf $(VENV) erasure-output .pytest_cache .mypy_cache .ruff_cache mutants build $(PII_DIGEST)
	find shared -name '*.so' -delete
	rm -f shared_pii_engine__mypyc*.so

# Mutation testing of the core (slow; not in `make test`): writes bench/results/mutation.json.
mutation: $(INSTALLED)
	$(PY) scripts/mutation.py

# The one-line bugs issue 12 found surviving, planted again one at a time: each must fail a fast test.
replant: $(INSTALLED)
	$(PY) scripts/replant.py
