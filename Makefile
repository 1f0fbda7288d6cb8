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
# Anything but a positive whole number would only fail deep inside a chapter, as libgomp's
# complaint about OMP_NUM_THREADS in a cell's output; stop here with a plain message instead.
# Make's own functions only, on the unexpanded text: the value never reaches a shell.
$(if $(and $(filter 1,$(words $(value THREADS))),$(filter-out 0%,$(value THREADS)),$(if $(strip $(subst 0,,\
  $(subst 1,,$(subst 2,,$(subst 3,,$(subst 4,,$(subst 5,,$(subst 6,,$(subst 7,,$(subst 8,,$(subst 9,,\
  $(value THREADS)))))))))))),,ok)),,\
  $(error THREADS must be a positive whole number of CPU threads, such as THREADS=2 or THREADS=8; got '$(value THREADS)'))
export OMP_NUM_THREADS = $(THREADS)

.PHONY: env lock lint book test unit notebooks reader-notebooks colab-check memory benchmark playground-bench lab lighthouse clean

env: $(STAMP)

# Every package, dependencies included, comes from requirements.lock, pinned and checked
# against its SHA-256 hash; only the project itself is installed without one.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Resolve pyproject.toml's pins and all their dependencies again into requirements.lock,
# with the hashes of every published file (for Linux, macOS and Windows).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --no-header --quiet --output-file requirements.lock

# Execute every chapter (cached by content) and write the site to _build/html, with its
# downloads: the whole lesson as one PDF and the reader notebooks as one zip.
# The cache is keyed on the chapters' code only, so it is cleared first when
# lesson4_support/ or pyproject.toml changed (scripts/cache_stamp.py).
book: $(STAMP)
	$(BIN)/python scripts/cache_stamp.py
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	$(BIN)/python scripts/optimize_site.py
	$(BIN)/python scripts/make_downloads.py

# axe-core, the accessibility rules the browser tests run on every page, at the version
# (and hash) tests/axe/package-lock.json pins.  Without npm the audit is skipped (CI fails it).
AXE := tests/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/axe/package.json tests/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/axe --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility audit will be skipped"; fi

# Lighthouse (the version tests/lighthouse/package-lock.json pins) on every page of the built
# site, served gzipped, with its mobile profile: the median of RUNS runs per page in a table,
# the reports in _build/lighthouse/.  A benchmark, not a test: its timings follow the load.
LIGHTHOUSE := tests/lighthouse/node_modules/lighthouse/cli/index.js
RUNS ?= 3
$(LIGHTHOUSE): tests/lighthouse/package.json tests/lighthouse/package-lock.json
	npm ci --prefix tests/lighthouse --no-audit --no-fund --silent --ignore-scripts

lighthouse: $(STAMP) $(LIGHTHOUSE)
	$(BIN)/python scripts/lighthouse_site.py --runs $(RUNS) $(if $(PAGES),--pages $(PAGES))

# The pyflakes and bugbear rules over the package, scripts/, tests/ and the chapters'
# notebooks; pyproject.toml's [tool.ruff] names the rules and the few exceptions.
lint: $(STAMP)
	$(BIN)/ruff check

# Lint, build the site, then run the unit tests, compare every chapter with its reference
# outputs (nbval), and check the built pages (static checks, and in Chromium when present).
test: lint book $(AXE)
	$(BIN)/python -m pytest tests chapters --nbval --sanitize-with tests/sanitize.cfg \
		--nbval-cell-timeout=900

# Everything in tests/ (unit, configuration and site checks), without nbval over the chapters.
# The accessibility audit is among them, so axe-core is installed first, as for `test`.
unit: $(STAMP) $(AXE)
	$(BIN)/python -m pytest tests

# One MNIST epoch the original notebook's way (with and without workers) and the optimized way, on CPU and CUDA.
benchmark: $(STAMP)
	$(BIN)/python -m lesson4_support.benchmark_cli

# The in-page playground (browser/playground/) in headless Chromium: one epoch of a 2-8-8-2
# network on 500 points plus a full repaint of its views; prints the median time.
playground-bench: $(STAMP)
	$(BIN)/python scripts/playground_bench.py

# Re-execute every chapter and store its text outputs in the .ipynb pair.
notebooks: $(STAMP)
	$(BIN)/python scripts/refresh_notebooks.py

# Write the reader notebooks (notebooks/*.ipynb, plain Jupyter Markdown for Colab and
# JupyterLab) from the chapters and the values of the last `make book`.
reader-notebooks: $(STAMP)
	$(BIN)/python scripts/make_reader_notebooks.py

# Run every reader notebook in a separate environment (.venv-colab) with the library
# versions Colab ships (compat/colab-requirements.txt), the package installed --no-deps.
colab-check: $(STAMP)
	$(BIN)/python scripts/colab_check.py

# JupyterLab for this machine only (127.0.0.1), rooted at the clone and opening at
# notebooks/.  It prints the address to open, login token included.  Another port:
# make lab PORT=8890.  .jupyter/ adds two settings: Markdown files open as notebooks
# (through Jupytext), so chapters/NN_name.md opens with its cells, and Lab neither asks
# about nor fetches Jupyter news.
PORT ?= 8888
# JupyterLab refuses to start as root unless told; containers often run as root.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/.jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(BIN)/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root)

# Each chapter's peak memory (PSS of its kernel and all its children) in a fresh kernel.
# `make test` checks the same budget while nbval runs the chapters.
memory: $(STAMP)
	$(BIN)/python scripts/measure_memory.py --json _build/memory.json

clean:
	rm -rf _build
