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

# Every benchmark runs, whatever an earlier one's verdicts; the misses are listed at the end.
bench: $(STAMP)
	@status=0; missed=""; \
	for module in bench.servers bench bench.distributed; do \
	  $(BIN)/python -m $$module || { status=1; missed="$$missed $$module"; }; \
	done; \
	if [ $$status -ne 0 ]; then echo "make bench: targets missed in:$$missed"; \
	else echo "make bench: every benchmark met its targets"; fi; \
	exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
