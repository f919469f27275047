# One command to run the panel, one to test it; both set themselves up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PYPROJECT := $(shell sha1sum pyproject.toml | cut -c1-12)
# `make run` needs only what the panel runs on; tests, lint and benchmarks also need `.[dev]`
# (pytest, playwright, mypy…), which holds the runtime set too.
DEV := $(VENV)/.installed-$(PYPROJECT)
RUNTIME := $(VENV)/.installed-runtime-$(PYPROJECT)

.PHONY: install run test lint format bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(VENV)/bin/python
	test -f $(DEV) || $(VENV)/bin/pip install --quiet -e .
	rm -f $(VENV)/.installed-runtime-* && touch $@

$(DEV): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@ $(RUNTIME)

install: $(DEV)

run: $(RUNTIME)
	scripts/run

test: install
	scripts/test $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	GP_TESTING=1 DJANGO_DEBUG=1 $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	scripts/bench $(ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
