# The two commands a reader needs: `make book` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: help venv book test test-lib test-notebooks student lint clean

help:
	@echo "make book     build the rendered book into book/_build/html (executes notebooks)"
	@echo "make test     ruff, then pytest over tests/ and nbval over notebooks/"
	@echo "make student  write the student edition (solutions replaced by stubs) to student/"
	@echo "make lint     ruff over cnnlib, tests, scripts and the notebooks"

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
	$(PY) -m pytest --nbval-lax -p no:cacheprovider --durations=5 notebooks

student: $(STAMP)
	$(PY) scripts/make_student.py notebooks student

lint: $(STAMP)
	$(PY) -m ruff check cnnlib tests scripts benchmarks notebooks
	$(PY) -m ruff format --check cnnlib tests scripts benchmarks

clean:
	rm -rf book/_build book/_vendor student
