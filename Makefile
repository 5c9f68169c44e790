# CO-THER. `make demo` runs the pipeline on the bundled data; `make test` runs the checks and tests.
# Both set up what they need: uv (from PyPI when it is missing), the locked environment, PostgreSQL.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
BIN := .venv/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test test-fast lint airflow celery docs mlflow-ui db-start db-stop db-status env test-tools

env: .venv/.synced

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Compiled to bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on the CI machines), Python
# would otherwise compile every module it imports in every process (an Airflow command: 11 s of CPU, 5 so).
.venv/.synced: uv.lock pyproject.toml core/pyproject.toml ml/pyproject.toml Makefile | $(UV)
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	touch $@

demo: env
	$(BIN)/cother demo

# Every tier (unit, integration, system; markers in tests/) on two workers, a test file each at a
# time (pytest-xdist; each worker has its own PostgreSQL and Redis), then the 15 slowest tests.
test: env test-tools lint
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

# The unit tier: no services, seconds.
test-fast: env test-tools
	$(BIN)/pytest -m unit

# From Debian: Chromium and ChromeDriver for the test that opens the dbt docs site headless,
# docker-compose, which validates docker-compose.yml without a Docker engine, and redis-server, the
# Celery broker (run by the project on loopback, not as a system service).
TEST_TOOLS := /usr/bin/chromium /usr/bin/chromedriver /usr/bin/docker-compose /usr/bin/redis-server
test-tools: $(TEST_TOOLS)

$(TEST_TOOLS):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver docker-compose redis-server

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project core/cother_core/sql

airflow: env
	$(BIN)/cother stack

# The same stack on the CeleryExecutor: the project's Redis and two Celery workers besides.
celery: env /usr/bin/redis-server
	$(BIN)/cother stack --celery

docs: env
	$(BIN)/cother docs

mlflow-ui: env
	$(BIN)/cother mlflow-ui

db-start: env
	$(BIN)/cother db start

db-stop: env
	$(BIN)/cother db stop

db-status: env
	$(BIN)/cother db status
