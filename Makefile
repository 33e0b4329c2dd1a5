# make run: the whole system locally with demo data. make test: every test. Both bootstrap first.
PY := .venv/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: bootstrap run test check unit integration e2e infra lint types bench lock build deploy i18n

bootstrap:
	@scripts/bootstrap

run: bootstrap
	.venv/bin/healthcode serve --demo

# every test on both cores (heavy ones first), in a new random order each run (pytest-randomly prints
# its seed; --randomly-seed=N repeats an order, -p no:randomly keeps the files' order), then the 15 slowest
test: bootstrap
	.venv/bin/ruff check shared functions local ops tests benchmarks
	.venv/bin/mypy
	$(PY) -m pytest -n 2 --dist load --durations=15

# the inner loop: lint, the type checker, the unit tests on fakes (no socket), in well under a minute
check: bootstrap
	.venv/bin/ruff check shared functions local ops tests benchmarks
	.venv/bin/mypy
	$(PY) -m pytest tests/unit -n 2

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

types: bootstrap
	.venv/bin/mypy

bench: bootstrap
	$(PY) -m benchmarks.run

# the layer's lock: every transitive version pinned with its hashes, for the Lambda platform, from
# pyproject's pins (boto3 and its own dependencies come with the runtime and are left out)
lock: bootstrap
	.venv/bin/uv pip compile pyproject.toml --quiet --python-version 3.13 --python-platform aarch64-manylinux2014 \
	  --generate-hashes --custom-compile-command "make lock" --no-emit-package boto3 --no-emit-package botocore \
	  --no-emit-package s3transfer --no-emit-package python-dateutil --no-emit-package six -o shared/requirements.txt

# the message catalogues: extract the N_("...") messages, update each language's .po, compile the .mo
i18n: bootstrap
	scripts/i18n

build: bootstrap
	scripts/build

deploy: build
	scripts/deploy
