# Every target creates .venv on first use, so a fresh machine needs nothing else.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,spark,app]'
	touch $(STAMP)

demo: $(STAMP)  ## generate the demo shop and print every agent's metrics
	$(BIN)/kefu demo --out demo-data --force
	$(BIN)/kefu metrics --data demo-data --start 2024-06-01 --end 2024-06-30 --format table
	$(BIN)/kefu evaluate --data demo-data --scheme presale --start 2024-06-01 --end 2024-06-30 --format table

serve: $(STAMP)  ## the web app with the demo shop and a demo user for every role
	$(BIN)/kefu serve --demo --workspace demo-workspace

test: $(STAMP)  ## the whole test suite (what CI runs)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/bench_metrics.py

clean:
	rm -rf $(VENV) demo-data demo-workspace demo-workspace-app.sqlite3 demo-workspace-app-pages
