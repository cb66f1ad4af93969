# OneWindow: `make run` starts everything on embedded defaults; `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/libs
COMPONENTS := gateway services/intake services/approval services/delivery services/rating

.PHONY: chromium help run test test-pg test-long test-scale scale-figures lint format check bench clean venv venv-dev migration catalogue

help:
	@echo "make run      start the whole platform locally (installs what is missing)"
	@echo "make test     run every test on SQLite and an embedded nats-server"
	@echo "make test-pg  the same suite on this machine's PostgreSQL and NATS"
	@echo "make lint     ruff + mypy      make bench   measured figures      make clean"
	@echo "make test-scale  two replicas of everything, a 3-node NATS cluster, nodes killed under load"

$(VENV)/.runtime-stamp: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements-dev.txt
	@$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.runtime-stamp
venv-dev: $(VENV)/.dev-stamp

# The browser tests drive Debian's Chromium (never a downloaded browser); CJK fonts make the
# Chinese labels readable in their screenshots. Installed when missing and when we may.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  echo "installing chromium (Debian package) for the browser tests" && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } || \
	  echo "chromium is missing: the browser tests will fail (apt-get install chromium)"

run: venv
	$(PY) -m tools.run

test: venv-dev chromium
	$(PY) -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

test-pg: venv-dev
	ONEWINDOW_TEST_PG_URL=$${ONEWINDOW_TEST_PG_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432} \
	ONEWINDOW_TEST_NATS_URL=$${ONEWINDOW_TEST_NATS_URL:-nats://127.0.0.1:4222} \
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not makerun and not browser" $(PYTEST_ARGS)

# Scale-out (tests/scale, tools/scale): PostgreSQL and a three-node NATS cluster of our own, two
# replicas of every component; collected only with -m scale, never by test or test-pg.
test-scale: venv-dev
	ONEWINDOW_TEST_PG_URL=$${ONEWINDOW_TEST_PG_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432} \
	$(PY) -m pytest -q -s -m scale tests/scale $(PYTEST_ARGS)

# The long form: throughput with one and two replicas, then the chaos and the rollout, printed.
scale-figures: venv-dev
	ONEWINDOW_TEST_PG_URL=$${ONEWINDOW_TEST_PG_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432} \
	$(PY) -m tools.scale $(SCALE_ARGS)

test-long: venv-dev
	ONEWINDOW_TEST_LONG=1 $(PY) -m pytest -q -m "slow or stack" $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/owkernel libs/owtest services gateway simulators tools

format: venv-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: lint test

bench: venv-dev
	$(PY) -m tools.bench $(BENCH_ARGS)

catalogue: venv
	$(PY) -m tools.catalogue
	$(PY) -m tools.asyncapi
	$(PY) -m tools.dashboards
	$(PY) -m tools.nats_auth

# make migration SVC=services/intake MSG="applications"
migration: venv-dev
	@test -n "$(SVC)" -a -n "$(MSG)" || (echo "usage: make migration SVC=services/intake MSG=..."; exit 2)
	@rm -f /tmp/ow-migration-$$(basename $(SVC)).db
	@name=$$(basename $(SVC) | tr a-z A-Z); \
	env $${name}_DATABASE_URL=sqlite+aiosqlite:////tmp/ow-migration-$$(basename $(SVC)).db $(VENV)/bin/alembic -c $(SVC)/alembic.ini upgrade head && \
	env $${name}_DATABASE_URL=sqlite+aiosqlite:////tmp/ow-migration-$$(basename $(SVC)).db $(VENV)/bin/alembic -c $(SVC)/alembic.ini revision --autogenerate -m "$(MSG)"
	@$(VENV)/bin/ruff format -q $(SVC)/migrations

clean:
	rm -rf .data test-artifacts .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
