"""Class notebooks (``make notebooks``): what an instructor projects and students run in class.

The conversion tests always run: check cells are left out, ``hide-input`` cells are collapsed,
no code cell has an ``assert`` statement, a problem set's solutions are left out while its
exercises stay, and figures and widgets keep the cells that make them.

``make test-class-notebooks`` also reads every class notebook of ``_build/notebooks`` (no ``assert``)
and executes each problem set's top to bottom in a fresh kernel, requiring that no cell fails. A
chapter's class notebook is not executed again: ``make test-notebooks`` runs the chapter with its check
cells isolated, so its visible cells run as in the class notebook (a test below shows that the code run
in the notebook's namespace is, cell for cell, the class notebook's code). Those tests carry the
``pipeline`` marker: ``make test-lib`` leaves them out, and the make step that writes the
notebooks selects them with ``-m pipeline``.
"""

from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from helpers import load_module

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(os.environ.get("CLASS_NOTEBOOKS_DIR", ROOT / "_build" / "notebooks"))


class_notebooks = load_module("class_notebooks", ROOT / "tools" / "class_notebooks.py")
PAGES = class_notebooks.pages()
PROBLEM_SETS = [p for p in PAGES if class_notebooks.is_problem_set(p)]
ids = lambda p: str(p.relative_to(ROOT / "book"))  # noqa: E731


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def python_of(source: str) -> str:
    """A cell's source without IPython magics and shell escapes, for ``ast``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def asserts_in(nb) -> list[str]:
    found = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(python_of(cell.source))):
                if isinstance(node, ast.Assert):
                    found.append(f"cell {k}, line {node.lineno}: {ast.get_source_segment(python_of(cell.source), node)[:100]}")
    return found


def gated_solution_code(source: Path) -> list[str]:
    """Lines of code of the code cells between ``solution-start`` and ``solution-end``."""
    state, lines = {"in_solution": False}, []
    for cell in jupytext.read(source).cells:
        if cell.cell_type == "markdown":
            class_notebooks.strip_solutions(cell.source, state)
        elif state["in_solution"]:
            lines += [ln.strip() for ln in cell.source.splitlines() if len(ln.strip()) > 12]
    return lines


# ------------------------------------------------------------------ the conversion (always)
def test_every_chapter_and_problem_set_has_a_class_notebook():
    names = [class_notebooks.notebook_name(p) for p in PAGES]
    assert "static_mechanisms.ipynb" in names and "problem_sets_static_benchmark.ipynb" in names
    assert len(set(names)) == len(names) and len(PROBLEM_SETS) >= 4


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_class_notebook_cells(page):
    source = jupytext.read(page)
    nb = class_notebooks.class_notebook(page)
    nbformat.validate(nb)
    assert not [c for c in nb.cells if "remove-cell" in tags(c)], "a check cell reached the class notebook"
    checks = [c.source for c in source.cells if "remove-cell" in tags(c)]
    kept = {c.source for c in nb.cells}
    assert not [s for s in checks if s in kept]
    hidden = [c for c in nb.cells if "hide-input" in tags(c)]
    assert all(c.metadata.get("jupyter", {}).get("source_hidden") is True for c in hidden)
    assert all(c.cell_type != "code" or "source_hidden" not in c.metadata.get("jupyter", {})
               for c in nb.cells if "hide-input" not in tags(c))
    assert "jupytext" not in nb.metadata and nb.metadata["kernelspec"]["name"] == "python3"
    # figures and widgets: the visible cells that draw or show them are all there
    for cell in source.cells:
        if cell.cell_type == "code" and "remove-cell" not in tags(cell) and not class_notebooks.is_problem_set(page):
            assert cell.source in kept


@pytest.mark.parametrize("page", PAGES, ids=ids)
def test_no_assert_statement_in_any_code_cell(page):
    found = asserts_in(class_notebooks.class_notebook(page))
    assert not found, (f"{page.name}: visible cells with an assert statement (check cells are tagged remove-cell; "
                       "run tools/normalise_pages.py):\n" + "\n".join(found))


@pytest.mark.parametrize("page", PROBLEM_SETS, ids=ids)
def test_problem_set_class_notebooks_have_no_solution(page):
    nb = class_notebooks.class_notebook(page)
    text = "\n".join(c.source for c in nb.cells)
    assert not re.search(r"\{solution", text), "a solution directive reached the class notebook"
    assert not [c for c in nb.cells if "assignment-answer" in tags(c)]
    code = gated_solution_code(page)
    assert code, "the problem set has no gated solution code: the check would be vacuous"
    assert not [ln for ln in code if ln in text]
    exercises = re.findall(r"\{exercise\}", page.read_text(encoding="utf-8"))
    assert exercises and len(re.findall(r"\{exercise\}", text)) == len(exercises), "every exercise stays"


def test_solutions_are_stripped_across_cells():
    state = {"in_solution": False}
    text = "Intro.\n\n```{exercise} E\n:label: e\n\nDo it.\n```\n\n````{solution-start} e\n:class: dropdown\n````\n\nSecret."
    assert class_notebooks.strip_solutions(text, state) == "Intro.\n\n```{exercise} E\n:label: e\n\nDo it.\n```"
    assert state["in_solution"]
    assert class_notebooks.strip_solutions("More secret.\n\n````{solution-end}\n````\n\nAfter.", state) == "After."
    assert not state["in_solution"]
    assert class_notebooks.strip_solutions("A.\n\n```{solution} e\n:class: dropdown\n\nHidden.\n```\nB.", state) == "A.\n\nB."


def test_an_assert_is_found():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nx = 1\nassert x == 1, 'one'")])
    assert len(asserts_in(nb)) == 1


# ------------------------------------------------------------------ execution (make test-class-notebooks)
def built_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.pipeline
def test_every_page_was_written():
    assert sorted(p.name for p in built_notebooks()) == sorted(class_notebooks.notebook_name(p) for p in PAGES)


@pytest.mark.pipeline
@pytest.mark.parametrize("name", [class_notebooks.notebook_name(p) for p in PAGES])
def test_class_notebook_has_no_assert(name):
    assert not asserts_in(nbformat.read(NOTEBOOKS / name, as_version=4)), f"{name} has an assert statement"


@pytest.mark.parametrize("page", [p for p in PAGES if p not in PROBLEM_SETS], ids=ids)
def test_the_test_step_runs_the_class_notebook_of_a_chapter(page):
    """``make test-notebooks`` runs a chapter with its check cells isolated (``checks_isolated``): the code it
    runs in the notebook's namespace is, cell for cell, the class notebook's code. So that one execution
    (compared with the book build's by the determinism check) stands for running the class notebook."""
    isolated = [c for c in class_notebooks.checks_isolated(page).cells if c.cell_type == "code"]
    in_notebook = [c.source.split("def __run_check_cell__")[0].strip() if "remove-cell" in tags(c) else c.source
                   for c in isolated]
    taught = [c.source.removeprefix(class_notebooks.HELPER_NOTE).strip()
              for c in class_notebooks.class_notebook(page).cells if c.cell_type == "code"]
    assert [s for s in in_notebook if s] == taught


@pytest.mark.pipeline
@pytest.mark.parametrize("name", [class_notebooks.notebook_name(p) for p in PROBLEM_SETS])
def test_problem_set_class_notebook_runs_top_to_bottom(name):
    """A problem set's class notebook has no solutions (the test step runs them), so it runs on its own.
    A chapter's class notebook runs in the test step (above)."""
    kernels = load_module("kernels", ROOT / "tools" / "kernels.py")  # IPC sockets: no TCP port to race for

    path = NOTEBOOKS / name
    nb = nbformat.read(path, as_version=4)
    # run where the book runs the page (its folder), in a fresh kernel
    cwd = ROOT / "book" / ("problem_sets" if name.startswith("problem_sets_") else "")
    start = time.perf_counter()
    kernels.execute(nb, cwd, 600)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    print(f"{name}: {time.perf_counter() - start:.1f} s")


def test_definitions_that_later_cells_need_are_kept_without_asserts():
    check = "import math\nx = 2\ny = math.sqrt(x)\nz = 7\nassert abs(y * y - x) < 1e-12\nfor k in range(3):\n    assert k < 3"
    assert class_notebooks.helper_slice(check, {"y"}) == "import math\nx = 2\ny = math.sqrt(x)"
    assert class_notebooks.helper_slice(check, {"w"}) == ""
    assert class_notebooks._needed_later(["a = b + 1\nprint(a, c)", "c = 3\nd = [i for i in range(c)]"]) == {"b", "c", "print", "range"}


def test_figure_captions_follow_their_figures():
    page = next(p for p in PAGES if p.name == "static_mechanisms.md")
    nb = class_notebooks.class_notebook(page)
    captions = [k for k, c in enumerate(nb.cells) if "caption" in tags(c)]
    figures = [c for c in jupytext.read(page).cells if c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption")]
    assert captions and len(captions) == len(figures)
    assert all(nb.cells[k - 1].cell_type == "code" and nb.cells[k].source.startswith("*") for k in captions)
