# Clover: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run serve test lint translations catalogs browser bench clean

# the locked packages installed by uv (pinned, itself installed by pip): a fresh install
# takes seconds where pip takes half a minute, the bulk of a clean checkout's setup
$(BIN)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	touch $@

# each catalog compiled when its .po changed, so servers starting together never rewrite
# a .mo file another one is reading
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS)

%.mo: %.po | $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

# one machine: Web Push keys made once under instance/, reminders sent every 5 minutes in-process
run: $(BIN)/.installed translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	@echo "demo supervisors, admin and director: second factor TOTP secret CLOVERDEMOTOTP22 (base32);" \
		"the current code: FLASK_APP=app $(BIN)/flask demo code"
	$(BIN)/flask push keys
	CLOVER_REMINDER_LOOP=300 $(BIN)/flask run --host 127.0.0.1 --port 5000

# production profile: migrate once (one deploy at a time), then gunicorn on 127.0.0.1:$PORT
# with the settings in app/gunicorn_conf.py; CLOVER_ENV is production unless set
serve: export CLOVER_ENV ?= production
serve: $(BIN)/.installed translations
	$(BIN)/flask db upgrade
	exec $(BIN)/gunicorn -c python:app.gunicorn_conf

# the browser tests drive Debian's Chromium; install it (and CJK fonts) when missing
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(BIN)/.installed translations browser lint
	$(BIN)/pytest

# refresh the catalogs after changing user-facing strings, then translate what is new
catalogs: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --sort-output --no-location \
		--project Clover -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations \
		--no-fuzzy-matching --ignore-obsolete

bench: $(BIN)/.installed translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance
