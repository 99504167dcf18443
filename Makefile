# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/reviewflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/reviewflow
	@bash scripts/demo.sh

test: $(BIN)/reviewflow
	$(BIN)/python -m pytest -q

lint: $(BIN)/reviewflow
	$(BIN)/ruff check reviewflow tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) site build demo-repo
