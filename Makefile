# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

# Corpus sizes for `make bench` (SIZES=1000,10000,30000 or "1000 10000"); BENCH_100K=1 adds the
# 100,000-article corpus, opt-in because generating it takes long.
SIZES ?= 1000 10000
ifdef BENCH_100K
SIZES += 100000
endif
comma := ,

# The modules mypyc compiles and the C sources of the extensions written in C (reviewflow/compiled.py
# lists both): the venv's install builds them, so editing one rebuilds it here; an older extension
# would otherwise shadow the edited source.
COMPILED_SOURCES := $(shell $(PYTHON) -c 'import runpy; listed = runpy.run_path("reviewflow/compiled.py"); \
	print(*(m.replace(".", "/") + ".py" for m in listed["COMPILED_MODULES"]), \
	*("reviewflow/" + source for source in listed["C_EXTENSIONS"].values()))')

$(BIN)/reviewflow: pyproject.toml setup.py reviewflow/compiled.py $(COMPILED_SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/reviewflow
	@bash scripts/demo.sh

# Then the tests that replace a function of a compiled module (marked `interpreted`: compiled
# callers never see the replacement), again with every compiled module read from its source.
test: $(BIN)/reviewflow
	$(BIN)/python -m pytest -q
	REVIEWFLOW_PURE=1 $(BIN)/python -m pytest -q -m interpreted

lint: $(BIN)/reviewflow
	$(BIN)/ruff check reviewflow tests
	$(BIN)/mypy

# The long fuzz profile: many more generated inputs, and a kill at every step (README, Reliability).
.PHONY: fuzz
fuzz: $(BIN)/reviewflow
	REVIEWFLOW_FUZZ=long $(BIN)/python -m pytest -q tests/test_fuzz_content.py tests/test_fuzz_config.py tests/test_kill.py

bench: $(BIN)/reviewflow
	@command -v hugo >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hugo) >/dev/null 2>&1; } \
		|| echo "hugo is not installed: the Hugo comparison is skipped"
	$(BIN)/python bench/run.py --sizes $(subst $(comma), ,$(SIZES))

clean:
	rm -rf $(VENV) site build demo-repo reviewflow/compiled.json reviewflow__mypyc.*.so
	find reviewflow -name '*.so' -delete
