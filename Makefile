# Lesson 4 course site. `make book` builds the site, `make test` runs every test.
# Both create the Python environment in .venv the first time and reuse it afterwards.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Floating-point sums depend on how many threads share them, so the stored reference
# outputs are computed with a fixed number of CPU threads; the same number here makes
# `make test` reproduce them on any machine.  Override for speed: make book THREADS=8
THREADS ?= 2
export OMP_NUM_THREADS = $(THREADS)

.PHONY: env book test unit notebooks benchmark clean

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Execute every chapter (cached by content) and write the site to _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

# Build the site, then run the unit tests, compare every chapter with its reference
# outputs (nbval), and check the built pages (static checks, and in Chromium when present).
test: book
	$(BIN)/python -m pytest tests chapters --nbval --sanitize-with tests/sanitize.cfg \
		--nbval-cell-timeout=900

# Everything in tests/ (unit, configuration and site checks), without nbval over the chapters.
unit: $(STAMP)
	$(BIN)/python -m pytest tests

# One MNIST epoch the syllabus way (with and without workers) and the optimized way, on CPU and CUDA.
benchmark: $(STAMP)
	$(BIN)/python -m lesson4_support.benchmark

# Re-execute every chapter and store its text outputs in the .ipynb pair.
notebooks: $(STAMP)
	$(BIN)/python scripts/refresh_notebooks.py

clean:
	rm -rf _build
