# sopflow: `make run` serves a demo site, `make test` runs the whole suite.
# DATABASE_URL switches from the embedded SQLite file (var/db.sqlite3) to PostgreSQL.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run setup test test-fast serve bench messages clean screenshots

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

# Database, the shipped SOPs and one demo user per position.
setup: $(STAMP)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_sops fixtures/sops
	@if $(BIN)/python manage.py help demo_users >/dev/null 2>&1; then $(BIN)/python manage.py demo_users; fi

run: setup
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The production profile on this machine (docs/deploy.md): DEBUG=0, gunicorn on 127.0.0.1:8000
# (GUNICORN_BIND, GUNICORN_WORKERS), static files hashed and served by whitenoise, against whatever
# DATABASE_URL says (default var/db.sqlite3). Plain HTTP here: SOPFLOW_HTTPS=0 unless you set it,
# so no HTTPS redirect, secure-only cookies or HSTS. Without SECRET_KEY, one is generated once into
# var/secret-key (mode 600) and reused.
serve: $(STAMP)
	@mkdir -p var
	@test -n "$$SECRET_KEY" || test -s var/secret-key || \
	  (umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret-key)
	export DEBUG=0 SOPFLOW_HTTPS="$${SOPFLOW_HTTPS:-0}" SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret-key)}" && \
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python manage.py collectstatic --noinput && \
	  exec $(BIN)/gunicorn -c sopflow/gunicorn.conf.py sopflow.wsgi

# The whole suite. Browser tests need Debian's chromium (.ci/run installs it).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser"

# The benchmark (docs/performance.md) on the local PostgreSQL, in its own database created and
# dropped here (BENCH_DATABASE_URL): writes bench/results.json and prints a table.
# BENCH_RUNS=5000 make bench for a quick look; the default is 100,000 runs.
bench: $(STAMP)
	$(BIN)/python -m bench.run

# The SOP reader's property tests (tests/test_sopfile_properties.py) with SOPFLOW_FUZZ times the
# suite's 300 examples, drawn afresh: `make fuzz`, or `SOPFLOW_FUZZ=100 make fuzz` for longer.
.PHONY: fuzz
fuzz: $(STAMP)
	SOPFLOW_FUZZ=$${SOPFLOW_FUZZ:-20} $(BIN)/python -m pytest tests/test_sopfile_properties.py -q \
	  --hypothesis-show-statistics

# Refresh the translation catalogue after changing user-visible strings.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l id --no-obsolete --ignore '.venv/*' --ignore 'var/*'
	$(BIN)/python manage.py compilemessages -l id --ignore '.venv/*'

clean:
	rm -rf var .pytest_cache

# docs/screenshots/: the inbox, a task, Persetujuan and a run at 1366 × 900 and 390 × 844 (Chromium).
screenshots: $(STAMP)
	$(BIN)/python -m pytest tests/browser/screenshots.py -q
