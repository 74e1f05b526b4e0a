# Booker Portal. `make run` for the demo, `make test` for the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1:8000
# Links in email are built on SITE_URL (never on a request's Host header): the demo's own address.
SITE_URL ?= http://$(HOST)

.PHONY: install run test lint worker beat bench screenshots clean lock upgrade messages

# Installs come from the committed lock files (exact versions and hashes), never straight from the
# ranges in pyproject.toml: a new release of a dependency cannot change what a fresh clone runs.
$(INSTALLED): requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(INSTALLED)

# The translations: locale/<language>/LC_MESSAGES/django.po, compiled to .mo here (the .mo files
# are not committed). msgfmt --check also refuses a translation whose placeholders don't match.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))
%.mo: %.po
	msgfmt --check -o $@ $<

install: $(INSTALLED) $(MO_FILES)

# After adding or changing interface strings: every catalogue gets the new ones (untranslated) and
# loses those no longer used. Then translate them (README, "Languages").
messages: install
	$(BIN)/python manage.py makemessages $(addprefix -l ,$(notdir $(wildcard locale/*))) --no-obsolete \
		-i ".venv/*" -i "tests/*" -i "bench/*" -i "var/*" -i "templates/admin/*"

# The lock files after a change to pyproject.toml's ranges (keeps every pin the ranges still allow).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet
lock: install
	$(UV_COMPILE) $(UV_FLAGS) -o requirements/prod.txt
	$(UV_COMPILE) $(UV_FLAGS) --extra dev --extra bench -o requirements/dev.txt

# The newest versions the ranges allow; run `make test` afterwards before committing the lock files.
upgrade: UV_FLAGS = --upgrade
upgrade: lock
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving the demo at http://$(HOST)/  (Ctrl+C to stop)"
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver $(HOST)

# lint-imports: the direction of imports between the apps (pyproject.toml's contracts).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

worker: install
	$(BIN)/celery -A portal worker --loglevel=info

beat: install
	$(BIN)/celery -A portal beat --loglevel=info

# Benchmarks (not part of `make test`): a small default size; see bench/README.md to scale up.
bench: install
	$(BIN)/python -m bench.run_all

# PNGs of the main pages (desktop 1280x800, phone 375x812) from the demo, into docs/screenshots/.
screenshots: install
	SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_screenshots.py -q

clean:
	rm -rf $(VENV) db.sqlite3 var *.egg-info
