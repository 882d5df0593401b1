# dxkpi: the two commands are `make demo` and `make test`; everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

WARDS ?= all
STAFF ?= 1000-5000
YEARS ?= 2023,2024,2025
# A day of the last fiscal year to stop the sample at (that year is then provisional).
AS_OF ?=
SEED ?= 7
DIRTY ?= 0.01
DATA ?= data
SAMPLES ?= 7
# make bench-national: the national-scale preset (about 1M staff). STAFF and YEARS count there
# when given (command line or environment); their demo defaults above do not.
MUNICIPALITIES ?= 200
NATIONAL_STAFF := 4000-6000
NATIONAL_YEARS := 2021,2022,2023,2024,2025
national = $(if $(filter file,$(origin $(1))),$(NATIONAL_$(1)),$($(1)))

.PHONY: help env demo run dev test test-daemon lint format generate parse clean bench-latency bench \
	bench-national

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "dxkpi needs Python 3.11 (set PYTHON=python3.11)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on these machines),
	# every process would otherwise compile Dagster, dbt and pandas from source at each start.
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

env: $(STAMP) ## create the virtual environment from the lock file

parse: $(STAMP) ## write the dbt manifest that Dagster loads
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .

generate: $(STAMP) ## write sample exports, catalogue and truth under DATA (WARDS, STAFF, YEARS, AS_OF, SEED, DIRTY)
	$(BIN)/dxkpi-generate --out $(DATA) --wards $(WARDS) --staff $(STAFF) \
		--years $(YEARS) $(if $(AS_OF),--as-of $(AS_OF)) --seed $(SEED) --dirty $(DIRTY)

demo: $(STAMP) parse ## generate the 23-ward sample, run the whole pipeline, print the scorecard
	$(BIN)/python -m orchestration.demo --data $(DATA) --wards $(WARDS) --staff $(STAFF) \
		--years $(YEARS) $(if $(AS_OF),--as-of $(AS_OF)) --seed $(SEED) --dirty $(DIRTY)

run: $(STAMP) parse ## process the landing zone as it is, once, in-process (no daemon; for cron and CI)
	$(BIN)/dxkpi-run

dev: $(STAMP) parse ## start the Dagster UI on localhost:3000 with sensors and schedules on
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m orchestration.dev

test: $(STAMP) lint parse ## lint, then run the tests (all but the real-daemon ones)
	$(BIN)/pytest -q -m "not daemon"

test-daemon: $(STAMP) parse ## the real dagster-daemon and code server on a landing zone (about 9 min)
	$(BIN)/pytest -q -m daemon

lint: $(STAMP) ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

format: $(STAMP) ## fix what ruff and sqlfluff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix dbt_project/models

bench-latency: $(STAMP) parse ## seconds from a new roster landing to its published marts, under the real daemon
	$(BIN)/python -m orchestration.bench_latency --wards $(WARDS) --staff $(STAFF) --years $(YEARS) \
		--seed $(SEED) --samples $(SAMPLES)

bench: $(STAMP) parse ## floor vs pipeline per stage, the no-op and one-new-file runs, peak RSS (WARDS STAFF YEARS SEED)
	$(BIN)/python -m orchestration.bench --wards $(WARDS) --staff $(STAFF) --years $(YEARS) \
		--seed $(SEED)

bench-national: $(STAMP) parse ## 200 municipalities x FY2021-2025: time and peak RSS (MUNICIPALITIES STAFF YEARS SEED)
	$(BIN)/python -m orchestration.bench.national --municipalities $(MUNICIPALITIES) \
		--staff $(call national,STAFF) --years $(call national,YEARS) --seed $(SEED)

clean: ## remove generated data, warehouses and dbt artefacts (keeps the environment)
	rm -rf data dbt_project/target dbt_project/logs .dagster_home
