# Two set-up commands for a fresh Debian machine: `make run` and `make test` (see README.md).
# Both are idempotent: the venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup system-deps lint bench bench-wire bench-hsm bench-trade bench-sweep bench-verify bench-sdk bench-grants bench-decide bench-limits clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

setup: system-deps $(STAMP)
	$(PY) manage.py hsm_init
	$(PY) manage.py migrate --noinput

## Serve the authority on its embedded defaults (SQLite, file-system broker) with the demo tenants.
run: setup
	$(PY) manage.py demo
	VENV=$(VENV) HOST=$(HOST) PORT=$(PORT) bash scripts/run-dev.sh

## Run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: system-deps $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy authority tokens hsm
	$(VENV)/bin/lint-imports

## Benchmarks: print figures and ratios.
bench: bench-wire bench-hsm bench-verify bench-trade bench-decide bench-sweep bench-sdk bench-grants bench-limits

bench-wire: $(STAMP)
	$(PY) benchmarks/wire_verify.py

bench-hsm: setup
	$(PY) benchmarks/hsm_sign.py

bench-trade: setup
	bash scripts/system-deps.sh bench
	$(PY) benchmarks/trade_load.py

bench-decide: setup
	bash scripts/system-deps.sh bench
	$(PY) benchmarks/decide_load.py

bench-sweep: setup
	bash scripts/system-deps.sh bench
	$(PY) benchmarks/sweep_load.py

bench-grants: setup
	bash scripts/system-deps.sh bench
	$(PY) benchmarks/grant_load.py

bench-verify: setup
	$(PY) benchmarks/verify_rate.py

bench-sdk: $(STAMP)
	$(PY) benchmarks/sdk_calls.py

bench-limits: $(STAMP)
	$(PY) benchmarks/input_limits.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
