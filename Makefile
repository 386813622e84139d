# Kefu developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# browser libraries from npm (package.json), served by the app from node_modules
NODE_STAMP := node_modules/.installed

.PHONY: run test lint bench nlu install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: install
	mkdir -p var
	$(BIN)/kefu db upgrade
	$(BIN)/kefu demo seed --once
	KEFU_DEMO=$${KEFU_DEMO:-true} $(BIN)/kefu serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# Runs the suite on SQLite, then again on PostgreSQL when KEFU_TEST_POSTGRES_URL is set.
test: lint $(NODE_STAMP)
	$(BIN)/pytest -n 2 -q --durations=15
	@if [ -n "$$KEFU_TEST_POSTGRES_URL" ]; then \
		echo "== PostgreSQL =="; \
		KEFU_TEST_DATABASE=postgres $(BIN)/pytest -n 2 -q --durations=15; \
	else echo "KEFU_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

# Train the intent model as the server does at first use: data counts, time, fingerprint.
nlu: $(STAMP)
	$(BIN)/kefu nlu train

bench: install
	@for f in bench/[a-z]*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var/kefu.db var/kefu.db-wal var/kefu.db-shm
