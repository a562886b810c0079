# Two commands an analyst needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PARAMS ?= params/south-gloucestershire.yaml
KERNEL := strategic-assessment
OUTPUT ?= outputs/south-gloucestershire-2020-12

.PHONY: run pdf test lab venv default-data geography offence-codes population csp-lookup sample-extract sample-delivery sample-partners benchmark check-documents clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "). Set PYTHON=/path/to/python3.11 (or 3.12, 3.13)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Strategic Assessment (.venv)" >/dev/null
	@touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m pipeline run $(PARAMS)

# The same run, with an A4 PDF of each published document beside its HTML.
pdf: venv
	$(PY) -m pipeline run --pdf $(PARAMS)

# Accessibility (axe-core, WCAG 2.2 AA) and A4 print checks of the last run's documents, in
# Debian's Chromium: needs `apt-get install chromium poppler-utils` and npm.
check-documents:
	cd scripts/a11y && npm ci --no-audit --no-fund
	node scripts/a11y/check_documents.mjs $(OUTPUT)

test: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n auto --dist loadfile

# JupyterLab on the stage notebooks: Run All uses PARAMS and its last run (README: "Exploring a stage in JupyterLab").
lab: venv
	STRATEGIC_ASSESSMENT_PARAMS="$(abspath $(PARAMS))" $(VENV)/bin/jupyter lab --notebook-dir=notebooks \
		--config=scripts/lab/jupyter_server_config.py

# Rebuild the bundled default data from ../shared/data (maintainers only).
default-data: venv
	$(PY) scripts/build_default_data.py

# Rebuild the bundled boundaries, ward lookup and deprivation ranks from
# ../shared/reference-data (maintainers only).
geography: venv
	$(PY) scripts/build_geography.py

# Rebuild the shipped offence code lookup from ../shared/reference-data, and the synthetic
# sample force extract from the bundled police.uk data (maintainers only).
offence-codes: venv
	$(PY) scripts/build_offence_codes.py

# Rebuild the shipped LSOA -> partnership -> force lookup from ../shared/reference-data.
# Rebuild the bundled ONS district populations and LSOA-name -> district lookup (maintainers).
population: venv
	$(PY) scripts/build_population.py

csp-lookup: venv
	$(PY) scripts/build_csp_lookup.py

sample-extract: venv
	$(PY) scripts/make_sample_extract.py

benchmark: venv
	$(PY) -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_read.py
	$(PY) benchmarks/bench_runs.py
	$(PY) benchmarks/bench_extract.py
	$(PY) benchmarks/bench_force.py
	$(PY) benchmarks/bench_forecasts.py
	$(PY) benchmarks/targets.py

clean:
	rm -rf $(VENV) data/processed/*/

# Rebuild the illustrative sample delivery inputs (last year's review, the Q2 update sheet).
sample-delivery: venv
	$(PY) scripts/make_sample_delivery.py

# Rebuild the synthetic sample partner data (maintainers).
sample-partners: venv
	$(PY) scripts/make_sample_partners.py
