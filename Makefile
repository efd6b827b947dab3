# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser code (field/): npm packages, and the bundles the server serves as static files:
# the field app in server/field/static/ (build.json lists it) and the desk's upload script.
FIELD_STAMP := field/node_modules/.installed
FIELD_BUILD := server/field/static/build.json

.PHONY: install system-deps services translations assets catalog demo serve worker test fuzz \
	lint bench soak clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: system-deps $(STAMP) translations assets

$(FIELD_STAMP): field/package.json field/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20.19 or newer with npm" >&2; exit 1; }
	npm ci --prefix field --no-audit --no-fund
	touch $(FIELD_STAMP)

$(FIELD_BUILD): $(FIELD_STAMP) field/build.mjs $(shell find field/src -type f 2>/dev/null)
	npm run build --prefix field

assets: $(FIELD_BUILD)

system-deps:
	bash scripts/system-deps.sh

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d server/translations -D messages >/dev/null

# After changing a string people read: refresh the catalog, translate the new entries
# in server/translations/zh/LC_MESSAGES/messages.po, then `make translations`.
catalog: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project Mingcha \
		--version 1 --header-comment "# Strings of Mingcha (明察) that people read; make catalog." \
		-o server/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i server/translations/messages.pot \
		-d server/translations -l zh

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

# The field app's unit tests (Vitest), then everything else (pytest, browsers included),
# one pytest process per core (at most 8: each has a Redis database of its own, 15 down to 8).
test: install services
	npm test --prefix field
	$(BIN)/python -m pytest -n auto --maxprocesses 8 --durations=15

# Issue 9, point 15: the media library fed FUZZ_EXAMPLES damaged, truncated and hostile
# files (`make test` runs a few hundred); prints the cases, time and peak memory.
FUZZ_EXAMPLES ?= 10000
fuzz: install
	MINGCHA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/media/test_fuzz.py

bench: install services
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/tus_bench.py
	$(BIN)/python bench/desk_bench.py
	$(BIN)/python bench/field_bench.py
	$(BIN)/python bench/bulletin_bench.py
	$(BIN)/python bench/load_bench.py
	$(BIN)/python bench/load_bench.py --hosts 2

# Issue 9, point 16: 50 phones on a faulty network while gunicorn, the worker and Redis die.
soak: install services
	$(BIN)/python bench/soak.py

lint: install
	$(BIN)/ruff check server sync media tests bench manage.py

clean:
	rm -rf $(VENV) .pytest_cache field/node_modules server/static/build
