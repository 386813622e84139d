# Kefu developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/kefu db upgrade
	$(BIN)/kefu demo seed --once
	KEFU_DEMO=$${KEFU_DEMO:-true} $(BIN)/kefu serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Runs the suite on SQLite, then again on PostgreSQL when KEFU_TEST_POSTGRES_URL is set.
test: lint
	$(BIN)/pytest -n 2 -q
	@if [ -n "$$KEFU_TEST_POSTGRES_URL" ]; then \
		echo "== PostgreSQL =="; \
		KEFU_TEST_DATABASE=postgres $(BIN)/pytest -n 2 -q; \
	else echo "KEFU_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf var/kefu.db var/kefu.db-wal var/kefu.db-shm
