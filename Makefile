# ShelfReady developer commands. `make demo` and `make test` work on a fresh machine with
# only Python 3.11+ and make: uv is bootstrapped into .tools/ when it is not on PATH.

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
PYTEST_ARGS ?=

.PHONY: help install demo test test-fast lint format typecheck bench migrate check \
	dashboard clean

help:  ## List the targets
	@grep -E '^[a-z%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(UV)  ## Install the whole workspace (all services + dev tools) into .venv
	$(UV) sync --frozen --all-packages --compile-bytecode

demo: install  ## Run the pipeline on the bundled sample photos (no Redis/Postgres/API key needed)
	$(RUN) shelfready demo

test: install  ## Run the test suite (needs PostgreSQL and Redis on localhost)
# Four test processes on two cores: the long tests mostly wait (outages, worker pools).
	$(RUN) pytest -n 4 --dist worksteal $(PYTEST_ARGS)

lint: install  ## Ruff lint + format check, mypy
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/core/src libs/runner/src libs/demo/src services/recognition/src services/listing/src services/imagegen/src services/api/src

format: install  ## Apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

bench: install  ## Benchmarks: peak memory per service on 24 MP photos, render and prepare costs
	$(RUN) python -m bench

migrate: install  ## Apply database migrations (direct connection, advisory lock)
	$(RUN) shelfready migrate

check: install  ## Environment check, database URL diagnostics, connectivity
	$(RUN) shelfready check

# One target for every installed stage: a new stage's package needs no line here.
run-%: install  ## run-STAGE: start one stage's worker service (run-listing...), run-all: all
	$(RUN) shelfready worker $*

DASHBOARD_PORT ?= 9181
dashboard: install  ## rq-dashboard on $$REDIS_URL (a dev tool, never in the service images)
	$(RUN) rq-dashboard --redis-url "$${REDIS_URL:-redis://127.0.0.1:6379/0}" --bind 127.0.0.1 --port $(DASHBOARD_PORT)

clean:  ## Remove generated output and local data
	rm -rf out data .pytest_cache
