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

.PHONY: install report test demo-data notebooks clean system-deps postgres lock lowest

# Debian packages the tests use: chromium opens the rendered report pages.
SYSTEM_PACKAGES := chromium
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || (command -v sudo >/dev/null && echo "sudo apt-get"))

install: $(VENV)/.installed

# The known-good versions of every dependency (dev extra included): `make lock` writes it.
LOCK := requirements.lock

# Re-install only when the package metadata, its build or the locked versions change. The lock
# first, then churnlab itself without resolving again, so what is tested is what is installed.
$(VENV)/.installed: pyproject.toml setup.py $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r $(LOCK)
	$(BIN)/python -m pip install --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (churnlab)"
	touch $@

demo-data: $(DEMO)/customers.parquet

$(DEMO)/customers.parquet: | $(VENV)/.installed
	$(BIN)/churnlab demo-data --out $(DEMO) --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)

report: install demo-data
	$(BIN)/churnlab run --data $(DEMO) --as-of $(AS_OF) --out $(REPORTS)

# The whole suite (notebooks included); then the data layer again with pandas 3's string dtype
# (future.infer_string); then the unit tests on the oldest versions pyproject.toml allows.
INFER_STRING_TESTS := tests/test_schema.py tests/test_io.py tests/test_mapping.py tests/test_chunked.py \
	tests/test_cli.py tests/test_features.py tests/test_sql.py tests/test_dirt.py
UNIT_TESTS := tests/test_schema.py tests/test_io.py tests/test_mapping.py tests/test_chunked.py \
	tests/test_features.py tests/test_model_parts.py tests/test_cross_section.py tests/test_metrics.py \
	tests/test_value.py tests/test_health.py tests/test_zones.py tests/test_rules.py tests/test_segments.py \
	tests/test_campaigns.py
test: install demo-data system-deps postgres
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -q --infer-string $(INFER_STRING_TESTS)
	$(MAKE) lowest LOWEST_TESTS="$(UNIT_TESTS)"

# Installs what is missing, once; without root or sudo it says what to install and goes on.
system-deps:
	@command -v chromium >/dev/null || { \
		if [ -n "$(APT)" ] && command -v apt-get >/dev/null; then \
			DEBIAN_FRONTEND=noninteractive $(APT) update -qq && \
			DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
		else echo "note: install Debian's $(SYSTEM_PACKAGES) for the browser test (skipped without it)"; fi; }

# The PostgreSQL tests start a throwaway server from Debian's postgresql package
# (tests/postgres_server.py); install it when its binaries are missing. As root (CI) apt-get
# runs directly; the package's own cluster is not created, the tests make their own.
# Developers without root or PostgreSQL can run `CHURNLAB_SKIP_POSTGRES=1 make test`.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ -n "$$CHURNLAB_SKIP_POSTGRES" ]; then echo "PostgreSQL missing: its tests are skipped"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		mkdir -p /etc/postgresql-common && \
		{ [ -e /etc/postgresql-common/createcluster.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; } && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o Dpkg::Options::=--force-confold --no-install-recommends postgresql; \
	else echo "PostgreSQL is missing: run 'sudo apt-get install postgresql' (or set CHURNLAB_SKIP_POSTGRES=1)" >&2; exit 1; fi

# Refresh the outputs stored in the committed notebooks (what reviewers read and nbval compares).
notebooks: install demo-data
	cd notebooks && ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False *.ipynb

# Refresh requirements.lock from pyproject.toml (its dependencies and the dev extra) with uv, in
# a tools venv of its own: versions already locked are kept while they still fit, so adding a
# dependency changes only what it needs; `make lock UPGRADE=1` moves everything to the newest
# versions that fit. Universal: the markers cover every platform and Python >= 3.11.
LOCK_TOOLS := build/lock-tools
UV := $(LOCK_TOOLS)/bin/uv
lock: $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) --output-file $(LOCK)

$(UV):
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet uv

# Check that pyproject.toml's lower bounds are true: the oldest versions it allows (uv's
# lowest-direct resolution) go into a venv of their own, build/lowest, and the tests run there
# (not the notebooks, whose stored outputs come from the locked versions; not the wheel test).
# `make lowest LOWEST_TESTS="tests/test_cli.py tests/test_run.py"` runs fewer.
LOWEST := build/lowest
LOWEST_TESTS ?= tests
lowest: $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev --resolution lowest-direct --python-version 3.11 \
		--output-file $(LOWEST).txt
	[ -x $(LOWEST)/bin/python ] || $(PYTHON) -m venv --without-pip $(LOWEST)
	$(UV) pip sync --quiet --python $(LOWEST)/bin/python $(LOWEST).txt
	$(UV) pip install --quiet --no-deps --python $(LOWEST)/bin/python -e .
	$(LOWEST)/bin/python -m pytest -o addopts=-ra -p no:cacheprovider -m "not wheel" $(LOWEST_TESTS)

clean:
	rm -rf $(VENV) $(DEMO) $(DEMO)-truth
