# Dynamic Mechanism Design — an executable textbook
#   make book   create .venv, install from this repo, build the HTML book
#   make test   every check: mdlib tests + doctests, chapters under nbval,
#               the strict (-W) book build, the offline browser check
# See README.md for the rest (make lab, make pdf, make bench).

SHELL       := bash
.SHELLFLAGS := -euo pipefail -c
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.installed
BUILD       := _build
NBDIR       := $(BUILD)/nbval
JOBS        ?= 2
JB_FLAGS    := -W -n --keep-going
# Chapters are MyST-markdown notebooks: every book/**/*.md with a code cell.
CHAPTERS     = $(shell grep -l -r --include='*.md' '^```{code-cell}' book | sort)

.PHONY: help venv book html vendor test test-lib test-notebooks test-book check-site check-determinism \
        lab pdf bench constraints clean distclean

help:
	@sed -n '1,8p' Makefile

$(STAMP): pyproject.toml tools/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -c tools/constraints.txt -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	@touch $@

venv: $(STAMP)

vendor: $(STAMP)
	$(PY) tools/vendor_js.py

# The HTML book (executes every chapter; execution results are cached in _build/.jupyter_cache).
html: vendor
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . $(JB_FLAGS)

book: html
	@echo "The book is at: $(abspath $(BUILD)/html/index.html)"

# ---------------------------------------------------------------- tests
test: test-lib test-notebooks test-book check-site check-determinism
	@echo "make test: all checks passed"

# mdlib unit + property tests and doctests (pytest config lives in pyproject.toml).
test-lib: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -q

# Every chapter converted by jupytext and run under nbval (lax: every cell runs, assert cells are the checks).
test-notebooks: $(STAMP)
	rm -rf $(NBDIR) && mkdir -p $(NBDIR)
	for f in $(CHAPTERS); do \
	  $(BIN)/jupytext --quiet --to ipynb -o "$(NBDIR)/$$(echo $${f#book/} | tr / _ | sed 's/\.md$$/.ipynb/')" "$$f"; \
	done
	cd $(NBDIR) && MPLBACKEND=Agg ../../$(PY) -m pytest --nbval-lax --nbval-current-env -n $(JOBS) --dist loadfile \
	  -p no:cacheprovider -o addopts="" -o testpaths="" --rootdir=. -q .

# The strict book build: warnings are errors, a failing cell fails the build.
test-book: html

# Headless Chromium, no network at all: math typeset and widgets rendered on every page that has them.
check-site: html
	$(PY) tools/check_site.py $(BUILD)/html

# Every chapter executed a second time gives the same outputs as in the book build (seeded randomness).
check-determinism: html
	$(PY) tools/check_determinism.py $(BUILD)

# ---------------------------------------------------------------- extras
lab: $(STAMP)
	$(PY) -m pip install -qq -c tools/constraints.txt -e ".[dev]"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab book/

pdf: vendor
	@{ command -v xelatex && command -v latexmk && fc-list -q FreeSerif; } >/dev/null || { echo "make pdf needs (about 130 MB to download):" \
	  "apt-get install --no-install-recommends texlive-xetex texlive-latex-recommended texlive-latex-extra" \
	  "texlive-fonts-recommended latexmk tex-gyre fonts-freefont-otf lmodern"; exit 1; }
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . --builder pdflatex
	@echo "The PDF is at: $(abspath $(BUILD)/latex/book.pdf)"

bench: $(STAMP)
	$(PY) benchmarks/bench_chapters.py

constraints: $(STAMP)
	{ sed -n '1,2p' tools/constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^mdlib'; } > tools/constraints.txt.new
	mv tools/constraints.txt.new tools/constraints.txt

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV)
