# ML for Speech Engineers: the two commands of the README, and a few helpers.
#   make course   set up .venv, build the offline data, run every notebook, grade round trip, summary
#   make test     set up .venv, run the whole test suite (what CI runs)
#   make lab      JupyterLab on the course, nbgrader extension enabled
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
# one BLAS/OpenMP thread per process: the two pytest workers do not fight over the two cores
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export MKL_CBWR ?= AUTO,STRICT

.PHONY: install course full test lab release clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

course: $(STAMP)
	$(BIN)/course run

full: $(STAMP)
	$(BIN)/course run --full

test: $(STAMP)
	$(BIN)/course data
	@# library and doctests, every notebook under papermill with its stored outputs checked (and again with
	@# the CPU dispatch forced down to baseline kernels), the nbgrader round trip, wrong answers, benchmarks
	$(BIN)/python -m pytest -n 2 --dist worksteal --timeout 900 tests course_lib

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

release: $(STAMP)
	$(BIN)/course release

clean:
	rm -rf build .pytest_cache
