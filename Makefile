# The two commands a reader needs: `make book` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed
# pytest-xdist workers for the tests (`make test JOBS=1`; JOBS=0 runs in one process,
# for --pdb): by default one per CPU core, at most 8, since each worker also runs a
# notebook's kernel (about 1 GB) and more would not help: the longest notebook alone
# takes about two minutes. Notebook kernels and workers each use one thread.
JOBS   ?= $(shell $(PY) -c 'import os; print(min(8, len(os.sched_getaffinity(0))  \
            if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))')
PYTEST  = CNNLIB_PROGRESS=0 $(PY) -m pytest -n $(JOBS)
NBVAL   = --nbval-lax --nbval-cell-timeout=1200 -p no:cacheprovider

.PHONY: help venv book test test-lib test-notebooks student lint data clean

help:
	@echo "make book     build the rendered book into book/_build/html (executes notebooks)"
	@echo "make test     ruff, then pytest over tests/ and nbval over notebooks/, in parallel"
	@echo "              (JOBS workers, default one per CPU core: make test JOBS=1)"
	@echo "make test-lib / make test-notebooks   only tests/ / only the notebooks"
	@echo "make student  write the student edition (solutions replaced by stubs) to student/"
	@echo "make lint     ruff over cnnlib, tests, scripts and the notebooks"
	@echo "make data     regenerate every file in data/ and data/SHA256SUMS (see data/README.md)"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "Python 3.10 or newer is needed (found: $$($(PYTHON) --version 2>&1)); run e.g. make PYTHON=python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" bash scripts/build_book.sh

# One pytest run for both, so the library tests fill the gaps between the notebooks
# (conftest.py starts the longest notebooks first and keeps each one on one worker).
test: $(STAMP) lint
	$(PYTEST) $(NBVAL) --durations=10 tests notebooks

test-lib: $(STAMP)
	$(PYTEST) tests

test-notebooks: $(STAMP)
	$(PYTEST) $(NBVAL) --durations=5 notebooks

student: $(STAMP)
	$(PY) scripts/make_student.py notebooks student

lint: $(STAMP)
	$(PY) -m ruff check conftest.py cnnlib tests scripts benchmarks data notebooks
	$(PY) -m ruff format --check conftest.py cnnlib tests scripts benchmarks data

# Needs Debian's espeak-ng, asterisk-core-sounds-en-wav and dataset-fashion-mnist; the
# scripts say what is missing. Rewrites data/SHA256SUMS from the files it made.
data: $(STAMP)
	$(PY) -m pip install --quiet -r data/requirements-data.txt
	for script in data/make_*.py; do $(PY) $$script || exit 1; done
	$(PY) -m cnnlib.data --write-checksums

clean:
	rm -rf book/_build book/_vendor student
