# The two commands a reader needs: `make book` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: help venv book test test-lib test-notebooks student lint data clean

help:
	@echo "make book     build the rendered book into book/_build/html (executes notebooks)"
	@echo "make test     ruff, then pytest over tests/ and nbval over notebooks/"
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

test: lint test-lib test-notebooks

test-lib: $(STAMP)
	$(PY) -m pytest tests

test-notebooks: $(STAMP)
	CNNLIB_PROGRESS=0 $(PY) -m pytest --nbval-lax --nbval-cell-timeout=1200 -p no:cacheprovider \
	  --durations=5 notebooks

student: $(STAMP)
	$(PY) scripts/make_student.py notebooks student

lint: $(STAMP)
	$(PY) -m ruff check cnnlib tests scripts benchmarks data notebooks
	$(PY) -m ruff format --check cnnlib tests scripts benchmarks data

# Needs Debian's espeak-ng, asterisk-core-sounds-en-wav and dataset-fashion-mnist; the
# scripts say what is missing. Rewrites data/SHA256SUMS from the files it made.
data: $(STAMP)
	$(PY) -m pip install --quiet -r data/requirements-data.txt
	for script in data/make_*.py; do $(PY) $$script || exit 1; done
	$(PY) -m cnnlib.data --write-checksums

clean:
	rm -rf book/_build book/_vendor student
