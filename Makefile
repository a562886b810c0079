# Two commands an analyst needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PARAMS ?= params/south-gloucestershire.yaml
KERNEL := strategic-assessment

.PHONY: run test lab venv default-data benchmark clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed (found " + sys.version.split()[0] + "). Set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Strategic Assessment (.venv)" >/dev/null
	@touch $@

venv: $(VENV)/.installed

run: venv
	$(PY) -m pipeline run $(PARAMS)

test: venv
	$(PY) -m pytest

lab: venv
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

# Rebuild the bundled default data from ../shared/data (maintainers only).
default-data: venv
	$(PY) scripts/build_default_data.py

benchmark: venv
	$(PY) benchmarks/bench_pipeline.py

clean:
	rm -rf $(VENV) data/processed/*/
