"""The verification pipeline can fail: a chapter with a false assert must be caught.

``make test`` executes every chapter (tools/run_chapters.py) and builds the book with warnings
as errors.  These tests build a throw-away chapter whose check cell is false and show
that both steps reject it (and, as a control, accept the same chapter when the
check is true), so a green ``make test`` means something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from helpers import FRONT_MATTER

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.pipeline  # runs nbval and jupyter-book: selected by make test-book


def chapter(claim: str) -> str:
    """A minimal chapter: one computation and one check cell asserting ``claim``."""
    return (
        FRONT_MATTER
        + "# A throw-away chapter\n\n"
        + "```{code-cell} ipython3\nrevenue = 5 / 12\n```\n\n"
        + f"```{{code-cell}} ipython3\n:tags: [remove-cell]\nassert {claim}, 'the check cell'\n```\n"
    )


def run_chapters(tmp_path: Path, claim: str) -> subprocess.CompletedProcess:
    """The test step of ``make test`` (tools/run_chapters.py) on a one-chapter book."""
    source = tmp_path / "book" / "chapter.md"
    source.parent.mkdir(exist_ok=True)
    source.write_text(chapter(claim))
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_chapters.py"), "--out", str(tmp_path / "_build" / "nbval"), str(source)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_the_test_step_fails_on_a_false_assert(tmp_path):
    result = run_chapters(tmp_path, "abs(revenue - 1 / 3) < 1e-9")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError" in result.stdout and "the check cell" in result.stdout
    assert "chapter.md: failed" in result.stdout, "the message names the chapter"


def test_the_test_step_passes_on_a_true_assert_and_keeps_the_outputs(tmp_path):
    result = run_chapters(tmp_path, "abs(revenue - 5 / 12) < 1e-9")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "_build" / "nbval" / "chapter.ipynb").exists()


def test_the_test_step_runs_visible_cells_as_the_class_notebook_does(tmp_path):
    """A check cell runs in a namespace of its own: a visible cell that reads a name only a check cell
    defines fails (the class notebook, which has no check cells, would fail too); a name a later visible
    cell needs and the check cell's helper slice defines (kept in the class notebook) still works, and
    later check cells see what earlier ones defined."""
    source = tmp_path / "book" / "chapter.md"
    source.parent.mkdir()
    check = "```{code-cell} ipython3\n:tags: [remove-cell]\n%s\n```\n\n"
    visible = "```{code-cell} ipython3\n%s\n```\n\n"
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, str(ROOT / "tools" / "run_chapters.py"), "--out", str(tmp_path / "out"), str(source)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    source.write_text(FRONT_MATTER + visible % "revenue = 5 / 12" + check % "tol = 1e-9\nassert revenue > 0"
                      + visible % "helper = tol * 2\nhelper" + check % "assert tol < helper")
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr  # tol: a helper slice, as in the class notebook
    source.write_text(FRONT_MATTER + visible % "revenue = 5 / 12" + check % "assert revenue > 0\nscale = 2"
                      + check % "assert scale == 2" + visible % "revenue * 2")
    assert run().returncode == 0  # a later check cell sees what an earlier one defined
    source.write_text(FRONT_MATTER + visible % "prices = [1, 2]" + check % "prices.append(3)\nassert len(prices) == 3"
                      + visible % "print(len(prices))")
    assert run().returncode == 0
    executed = nbformat.read(tmp_path / "out" / "chapter.ipynb", as_version=4)
    # as in the class notebook; the book prints 3, so the determinism check flags the chapter
    assert executed.cells[-1].outputs[0].text.strip() == "2", "the check cell's append reached the notebook"
    # a binding the class notebook's static analysis cannot see: the class notebook would fail, so does this run
    source.write_text(FRONT_MATTER + check % "globals()['scale'] = 2\nassert scale" + visible % "print(scale)")
    result = run()
    assert result.returncode == 1 and "NameError" in result.stdout, "a visible cell read a check cell's name"


def test_a_stalled_chapter_fails_with_its_name(tmp_path):
    source = tmp_path / "book" / "slow.md"
    source.parent.mkdir()
    source.write_text(FRONT_MATTER + "```{code-cell} ipython3\nimport time\ntime.sleep(60)\n```\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_chapters.py"), "--out", str(tmp_path / "out"),
         "--timeout", "4", str(source)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "slow.md: stalled" in result.stdout, result.stdout


def build_book(tmp_path: Path, claim: str) -> subprocess.CompletedProcess:
    """Build a one-chapter book with the repo's own _config.yml and the strict flags of ``make test``."""
    (tmp_path / "book").mkdir(exist_ok=True)
    (tmp_path / "tools").mkdir()
    (tmp_path / "_build" / "offline_static").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", tmp_path)
    # the local Sphinx extensions of _config.yml, and what they use
    for extension in ("book_ext.py", "latex_ext.py", "a11y_ext.py", "class_notebooks.py"):
        shutil.copy(ROOT / "tools" / extension, tmp_path / "tools")
    shutil.copytree(ROOT / "tools" / "a11y", tmp_path / "tools" / "a11y")
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/chapter\n")
    (tmp_path / "book" / "chapter.md").write_text(chapter(claim))
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_book_build_fails_on_a_false_assert(tmp_path):
    result = build_book(tmp_path, "abs(revenue - 1 / 3) < 1e-9")
    assert result.returncode != 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "AssertionError" in result.stdout + result.stderr


@pytest.mark.slow
def test_book_build_passes_on_a_true_assert(tmp_path):
    result = build_book(tmp_path, "abs(revenue - 5 / 12) < 1e-9")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
