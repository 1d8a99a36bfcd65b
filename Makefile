# flowdeck: every target sets itself up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast lint format bench clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/flowdeck serve

# The browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: $(STAMP) chromium
	$(BIN)/pytest -q -n 3 --dist loadfile

test-fast: $(STAMP)
	$(BIN)/pytest -q -x tests/unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.servers
	$(BIN)/python -m bench
	$(BIN)/python -m bench.distributed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
