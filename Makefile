# Two commands do everything on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Notebooks run with the settings in edlib/course/execute.py, both when tests check them
# (notebooks/conftest.py) and when `make notebooks` regenerates their stored outputs.

.PHONY: lab test lint notebooks unit nbval bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)  ## open the course in JupyterLab
	$(VENV)/bin/jupyter lab notebooks/

test: $(STAMP) lint  ## lint, then run every test: unit, exercises, strict nbval, browser and broker tests
	$(PY) -m pytest

lint: $(STAMP)  ## ruff over edlib and tests, mypy over edlib (config in pyproject.toml)
	$(PY) -m ruff check edlib tests
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit

nbval: $(STAMP)  ## strict nbval over every notebook
	$(PY) -m pytest notebooks/

notebooks: $(STAMP)  ## re-execute every notebook in place with the test settings
	$(PY) -m edlib.course.execute notebooks/*.ipynb

clean:
	rm -rf $(VENV) build *.egg-info
