# Dynamic Mechanism Design — an executable textbook
#   make book   create .venv, install from this repo, build the HTML book
#   make test   every check: mdlib tests + doctests, every chapter executed once and as a class notebook,
#               the strict (-W) book build, the offline browser and accessibility check,
#               the student edition, the PDF (skipped without TeX), the autograder
# See README.md for the rest (make notebooks, make lab, make pdf, make student, make assignments, make bench).

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
# chapters executed at a time by make test-notebooks: while one kernel starts, two compute (83 s against 92 s with 2)
CHAPTER_JOBS ?= 3
JB_FLAGS    := -W -n --keep-going
# Chapters are MyST-markdown notebooks: every book/**/*.md with a code cell.
CHAPTERS     = $(shell grep -l -r --include='*.md' '^```{code-cell}' book | sort)

.PHONY: help venv book html vendor test test-lib test-notebooks test-book check-site check-determinism \
        lab pdf bench mutation constraints clean distclean student test-student test-pdf chapter-times assignments test-assignments \
        assignments-variants \
        notebooks test-class-notebooks

help:
	@sed -n '1,9p' Makefile

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
# The steps run one after another in the order of TEST_STEPS, each using both cores (JOBS workers), except
# for the builds that use one core: the PDF, the student edition and the problem sets' autograders are
# built side by side (IN_TURN below; make -j$(TEST_JOBS)), and the browser check runs beside the PDF's LaTeX
# passes, which use one core for about 40 s. The book build runs after the chapters step: on a
# fresh clone it executes every chapter, and beside the library tests (whose workers compile and cache the
# numba kernels the first chapters load) one of its kernels died. On 2 cores the heavy steps are CPU-bound:
# running them side by side gained 7 % and once made a Chromium page run past its timeout. Each step's log
# is printed whole when it ends (--output-sync). Every process computes on one thread (BLAS, OpenMP, numba):
# with more processes than cores, spinning worker threads would slow all of them down; no result depends
# on the thread count.
# Kernels: our own steps start theirs on IPC sockets (tools/kernels.py); the book build (Jupyter Book) and
# the autograder (Otter) start theirs on TCP ports, where two processes starting kernels at once can be
# given the same ports (a stalled chapter, seen once): the order below never runs them side by side.
TEST_STEPS  := test-lib test-notebooks check-determinism test-class-notebooks test-book test-pdf test-student \
               check-site test-assignments
TEST_JOBS   ?= 2
ONE_THREAD  := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
test: $(STAMP)
	$(ONE_THREAD) $(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target IN_TURN=1 $(TEST_STEPS)
	@echo "make test: all checks passed"

ifdef IN_TURN
test-notebooks: | test-lib
html: | test-notebooks
check-determinism: | test-notebooks
test-class-notebooks: | check-determinism
test-book: | test-class-notebooks
test-pdf test-student assignments-variants: | test-book
check-site: | test-student assignments-variants
test-assignments: | test-pdf
endif

# mdlib unit + property tests and doctests (pytest config lives in pyproject.toml); the tests marked
# pipeline (the build steps and what they build) are left out here and run by the step that builds.
PIPELINE_TESTS := $(PY) -m pytest -q -p no:cacheprovider -o addopts="" -m pipeline

test-lib: vendor
	$(PY) -m pytest -n $(JOBS) -q

# Every chapter executed in a fresh kernel (a failing assert cell fails it; a stalled kernel fails it
# within 5 minutes, naming it); each check cell runs in a namespace of its own, so the visible cells run
# as in the class notebook; the executed notebooks are kept in _build/nbval for check-determinism
# (no MPLBACKEND=Agg: the kernel's inline backend gives the figures the book build gets).
test-notebooks: $(STAMP)
	rm -rf $(NBDIR) && mkdir -p $(NBDIR)
	$(PY) tools/run_chapters.py --out $(NBDIR) --jobs $(CHAPTER_JOBS) $(CHAPTERS)

# Every class notebook (make notebooks): no assert statement; each problem set's run top to bottom in a fresh
# kernel, no error (a chapter's class notebook runs in test-notebooks, whose check cells run isolated).
test-class-notebooks: notebooks
	$(PIPELINE_TESTS) -n $(JOBS) tests/test_class_notebooks.py

# The strict book build: warnings are errors, a failing cell fails the build; then the checks that both
# execution steps reject a chapter with a false assert.
test-book: html
	$(PIPELINE_TESTS) -n $(JOBS) tests/test_pipeline.py

# Headless Chromium, no network at all: math typeset and widgets rendered on every page that has them.
check-site: html
	$(PY) tools/check_site.py $(BUILD)/html
	REQUIRE_BUILT_SITES=1 $(PIPELINE_TESTS) tests/test_reader_text.py

# The test step's outputs (_build/nbval) equal the book build's (_build/jupyter_execute): seeded randomness.
# No third execution: each chapter runs once in test-notebooks and once in the book build.
check-determinism: test-notebooks html
	$(PY) tools/check_determinism.py $(BUILD)
	$(PIPELINE_TESTS) tests/test_determinism_check.py

# The student edition has every exercise and no solution (the instructor book is the negative control).
test-student: html student
	REQUIRE_BUILT_SITES=1 $(PIPELINE_TESTS) tests/test_student_edition.py

PDF_BUILD   = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter-book build . --builder pdflatex

# The PDF has every chapter title of _toc.yml and no unresolved reference "??" (skipped without TeX).
test-pdf: html
	@if command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null; then \
	  $(PDF_BUILD) && REQUIRE_BUILT_PDF=1 $(PIPELINE_TESTS) tests/test_pdf.py; \
	else \
	  echo "test-pdf SKIPPED: needs xelatex, latexmk and pdftotext (README, section PDF; .ci/run installs them)"; \
	fi

# The autograder (otter run) gives the reference solution full marks, a blank or wrong notebook less.
# Three variants of each problem set are built and graded (in parallel, JOBS at a time).
test-assignments: assignments-variants | $(if $(IN_TURN),check-site)
	REQUIRE_BUILT_ASSIGNMENTS=1 JOBS=$(JOBS) $(PIPELINE_TESTS) tests/test_assignments.py

assignments-variants: $(STAMP)
	$(MAKE) assignments VARIANTS=3

# ---------------------------------------------------------------- extras
# Each problem set as a student notebook + an Otter-Grader autograder, in _build/assignments/<set>/;
# VARIANTS=N also writes student/<set>-v<k>.ipynb (k = 0..N-1, each with its own parameters) and its
# reference solution autograder/<set>-v<k>.ipynb, all graded by the same autograder.
VARIANTS    ?= 0
assignments: $(STAMP)
	MPLBACKEND=Agg $(PY) tools/make_assignments.py --variants $(VARIANTS) --jobs $(JOBS)

# Class notebooks, to project and run in class: each chapter and problem set as _build/notebooks/<page>.ipynb,
# without check cells or problem-set solutions, hide-input cells collapsed (the site's download menu offers the same).
notebooks: $(STAMP)
	rm -rf $(BUILD)/notebooks
	$(PY) tools/class_notebooks.py --out $(BUILD)/notebooks

# The student edition: the same book without solutions, in _build/student/html (reuses the execution cache).
student: html
	$(PY) tools/build_student.py $(JB_FLAGS)

# JupyterLab with the jupytext and widget extensions, opened on book/ (--allow-root when run as root, e.g. in a container).
LAB_FLAGS   ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(PY) -m pip install -qq -c tools/constraints.txt -e ".[dev]"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/jupyter lab $(LAB_FLAGS) book/

pdf: html
	@{ command -v xelatex && command -v latexmk && fc-list -q FreeSerif; } >/dev/null || { echo "make pdf needs (about 130 MB to download):" \
	  "apt-get install --no-install-recommends texlive-xetex texlive-latex-recommended texlive-latex-extra" \
	  "texlive-fonts-recommended latexmk tex-gyre fonts-freefont-otf lmodern"; exit 1; }
	$(PDF_BUILD)
	@echo "The PDF is at: $(abspath $(BUILD)/latex/book.pdf)"

# Every benchmark script, with the peers it compares with (the bench extra), then every chapter's run time.
bench: $(STAMP)
	$(PY) -m pip install -qq -c tools/constraints.txt -e ".[bench]"
	for b in $(filter-out benchmarks/bench_chapters.py,$(wildcard benchmarks/bench_*.py)); do \
	  echo "== $$b"; MPLBACKEND=Agg $(PY) "$$b"; \
	done
	$(PY) benchmarks/bench_chapters.py

# Mutation testing of mdlib (mutmut, one worker at nice 19; not part of make test): each module's mutants
# run that module's tests and doctests; the per-module report is benchmarks/mutation.json.
# Partial runs: make mutation MODULES="gittins distributions finite._audit" SAMPLE=0.2 (a fixed fifth of the
# mutants); MUTATION_JOBS=2 runs two mutants at a time.
MODULES     ?=
SAMPLE      ?= 1
MUTATION_JOBS ?= 1
mutation: $(STAMP)
	$(PY) -m pip install -qq -c tools/constraints.txt -e ".[mutation]"
	PATH="$(abspath $(BIN)):$$PATH" $(PY) tools/mutation.py --jobs $(MUTATION_JOBS) --sample $(SAMPLE) $(if $(strip $(MODULES)),--modules $(MODULES),)

# Each page's run time, for the table of the instructor guide (commit the JSON file).
chapter-times: $(STAMP)
	$(PY) benchmarks/bench_chapters.py --json benchmarks/chapter_times.json

constraints: $(STAMP)
	{ sed -n '1,2p' tools/constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^mdlib'; } > tools/constraints.txt.new
	mv tools/constraints.txt.new tools/constraints.txt

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV)
