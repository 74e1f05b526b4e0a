# Booker Portal. `make run` for the demo, `make test` for the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1:8000

.PHONY: install run test lint worker beat bench screenshots clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving the demo at http://$(HOST)/  (Ctrl+C to stop)"
	$(BIN)/python manage.py runserver $(HOST)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

worker: install
	$(BIN)/celery -A portal worker --loglevel=info

beat: install
	$(BIN)/celery -A portal beat --loglevel=info

# Benchmarks (not part of `make test`): a small default size; see bench/README.md to scale up.
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.run_all

# PNGs of the main pages (desktop 1280x800, phone 375x812) from the demo, into docs/screenshots/.
screenshots: install
	SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_screenshots.py -q

clean:
	rm -rf $(VENV) db.sqlite3 var *.egg-info
