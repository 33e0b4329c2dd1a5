# make run: the whole system locally with demo data. make test: every test. Both bootstrap first.
PY := .venv/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: bootstrap run test unit integration e2e infra lint bench

bootstrap:
	@scripts/bootstrap

run: bootstrap
	.venv/bin/healthcode serve --demo

test: bootstrap
	.venv/bin/ruff check shared functions local ops tests benchmarks
	$(PY) -m pytest

unit: bootstrap
	$(PY) -m pytest tests/unit

integration: bootstrap
	$(PY) -m pytest tests/integration

e2e: bootstrap
	$(PY) -m pytest tests/e2e

infra: bootstrap
	$(PY) -m pytest tests/infra

lint: bootstrap
	.venv/bin/ruff check shared functions local ops tests benchmarks

bench: bootstrap
	$(PY) -m benchmarks.run
