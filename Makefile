# make run: the whole system locally with demo data. make test: every test. Both bootstrap first.
PY := .venv/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: bootstrap run test unit integration infra lint

bootstrap:
	@scripts/bootstrap

run: bootstrap
	$(PY) -m healthcode_local.demo

test: bootstrap
	.venv/bin/ruff check shared functions local tests
	$(PY) -m pytest

unit: bootstrap
	$(PY) -m pytest tests/unit

integration: bootstrap
	$(PY) -m pytest tests/integration

infra: bootstrap
	$(PY) -m pytest tests/infra

lint: bootstrap
	.venv/bin/ruff check shared functions local tests
