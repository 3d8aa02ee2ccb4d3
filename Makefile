# ML for Speech Engineers: the two commands of the README, and a few helpers.
#   make course   set up .venv, build the offline data, run every notebook, grade round trip, summary
#   make test     set up .venv, run the whole test suite (what CI runs)
#   make lab      JupyterLab on the course, nbgrader extension enabled
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
# one BLAS/OpenMP thread per process: notebooks reproduce their stored outputs (nbval),
# and the two pytest workers do not fight over the two cores
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
	@# library, notebooks under papermill, nbgrader round trip; then nbval (one worker per notebook)
	$(BIN)/python -m pytest -n 2 --dist worksteal --timeout 900 tests course_lib; unit=$$?; \
	$(BIN)/python -m pytest -n 2 --dist loadfile --timeout 900 \
		--nbval --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks; nbval=$$?; \
	exit $$(( unit || nbval ))

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

release: $(STAMP)
	$(BIN)/course release

clean:
	rm -rf build .pytest_cache
