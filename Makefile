# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps services translations demo serve worker test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: system-deps $(STAMP) translations

system-deps:
	bash scripts/system-deps.sh

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d server/translations -D messages >/dev/null

services:
	bash scripts/services.sh

demo: install
	$(BIN)/python manage.py init-db
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py serve

serve: install
	$(BIN)/python manage.py serve

worker: install
	$(BIN)/python manage.py worker

test: install services
	$(BIN)/python -m pytest

bench: install services
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/tus_bench.py

lint: install
	$(BIN)/ruff check server sync media tests bench manage.py

clean:
	rm -rf $(VENV) .pytest_cache
