# The README's commands. Everything runs from .venv, made here on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Local runs show debug pages and use the embedded defaults (SQLite file,
# in-memory channel layer) unless DATABASE_URL / REDIS_URL are set.
export DEBUG ?= true
# A phone that loses its network keeps its socket open on the server for as
# long as TCP does (minutes), shown « connecté »: daphne pings every 5 s and
# drops a socket whose pong is 10 s late. The same in Dockerfile,
# docker-compose.yml and bench/fanout.py (tests/test_docker_compose.py).
DAPHNE_PING := --ping-interval 3 --ping-timeout 5

STAMP := $(VENV)/.installed-stamp

.PHONY: help install translations run test bench messages
help:
	@echo "make run    install, migrate, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   install, ruff check, the whole pytest suite"
	@echo "make install | make bench (fan-out benchmark, docs/performance.md) | make messages"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel --quiet compile --domain django --directory locale --statistics

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Codev : http://$(HOST):$(PORT)/  (Ctrl+C pour arrêter)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) $(DAPHNE_PING) codev.asgi:application

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# In one process, a step change reaching 9, 60 and 150 sockets (latency, queries);
# bench/costs.py: the CPU each part of a click takes; then bench/fanout.py: 800
# sockets under daphne, the bytes per card and step change, CPU per click with
# clicks only, a page load's CPU, 50 clicks/s with page loads, 150/s for capacity,
# burst, resync, the bare floor; its last line the summary (docs/performance.md). Set DATABASE_URL and REDIS_URL for PostgreSQL
# and Redis; the bench uses a database of its own.
bench: install
	$(BIN)/python -m pytest -m bench -s -q -p no:cacheprovider tests/bench
	DEBUG=false $(BIN)/python bench/costs.py
	DEBUG=false $(BIN)/python bench/fanout.py

# Extracting strings needs GNU gettext (apt-get install gettext); compiling does not.
messages: install
	$(BIN)/python manage.py makemessages --locale en --extension html,txt,py,md --ignore '.venv/*' --ignore 'tests/*' --ignore 'staticfiles/*' --no-obsolete
