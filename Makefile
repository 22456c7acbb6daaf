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

.PHONY: install report test demo-data notebooks clean system-deps postgres

# Debian packages the tests use: chromium opens the rendered report pages.
SYSTEM_PACKAGES := chromium
APT := $(shell [ "$$(id -u)" = 0 ] && echo apt-get || (command -v sudo >/dev/null && echo "sudo apt-get"))

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

test: install demo-data system-deps postgres
	$(BIN)/python -m pytest && $(BIN)/python -m pytest -q --infer-string tests/test_schema.py tests/test_io.py tests/test_mapping.py tests/test_chunked.py tests/test_cli.py tests/test_features.py

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

clean:
	rm -rf $(VENV) $(DEMO) $(DEMO)-truth
