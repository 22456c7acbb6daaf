# Two commands for a new user: `make report` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := data/demo
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 7
# The demo world ends on 2026-06-30; the report looks at it from its last day.
AS_OF ?= 2026-06-30
REPORTS ?= reports

.PHONY: install report test demo-data notebooks clean

install: $(VENV)/.installed

# Re-install only when the package metadata changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (churnlab)"
	touch $@

demo-data: $(DEMO)/customers.parquet

$(DEMO)/customers.parquet: | $(VENV)/.installed
	$(BIN)/churnlab demo-data --out $(DEMO) --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)

report: install demo-data
	$(BIN)/churnlab run --data $(DEMO) --as-of $(AS_OF) --out $(REPORTS)

test: install demo-data
	$(BIN)/python -m pytest

# Refresh the outputs stored in the committed notebooks (what reviewers read and nbval compares).
notebooks: install demo-data
	cd notebooks && ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False *.ipynb

clean:
	rm -rf $(VENV) $(DEMO) $(DEMO)-truth
