"""A page opened and saved in JupyterLab keeps its bytes.

JupyterLab opens a chapter (``Open With > Jupytext Notebook``) by reading it with jupytext and saves
it by writing it back, with the options of ``book/jupytext.toml``. Every
``book/**/*.md`` with a code cell must come back byte for byte from that read and write; a page that
does not is brought to jupytext's form by ``tools/normalise_pages.py``.
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("normalise_pages", ROOT / "tools" / "normalise_pages.py")
normalise_pages = importlib.util.module_from_spec(spec)
sys.modules["normalise_pages"] = normalise_pages
spec.loader.exec_module(normalise_pages)
PAGES = normalise_pages.pages()


def test_the_jupytext_options_are_pinned_in_the_repository():
    options = tomllib.loads((ROOT / "book" / "jupytext.toml").read_text(encoding="utf-8"))
    assert "-all" in options["notebook_metadata_filter"] and "-all" in options["cell_metadata_filter"]
    config = normalise_pages.config(ROOT / "book" / "intro.md")
    assert config is not None and config.notebook_metadata_filter == options["notebook_metadata_filter"]
    nb = jupytext.read(ROOT / "book" / "intro.md")
    assert nb.metadata["jupytext"]["text_representation"]["format_version"] in ("0.13", 0.13)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_page_roundtrips_through_jupytext(page):
    text = page.read_text(encoding="utf-8")
    back = normalise_pages.roundtrip(text, page)
    diff = "\n".join(list(difflib.unified_diff(text.splitlines(), back.splitlines(), "page", "saved", lineterm="", n=0))[:30])
    assert back == text, f"{page.relative_to(ROOT)} changes when saved from JupyterLab (run tools/normalise_pages.py):\n{diff}"


def test_what_jupyterlab_adds_is_not_saved():
    """Execution times, collapsed flags, language_info and widget state stay out of the page."""
    page = ROOT / "book" / "problem_sets" / "static_benchmark.md"
    text = normalise_pages.normalise(page.read_text(encoding="utf-8"), page)
    cfg = normalise_pages.config(page)
    nb = jupytext.reads(text, fmt="md:myst", config=cfg)
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata.update(execution={"iopub.execute_input": "2026-01-01"}, collapsed=False, scrolled=True,
                                 jupyter={"source_hidden": True})
    assert jupytext.writes(nb, fmt="md:myst", config=cfg) == text


def test_assert_rewrite_keeps_meaning():
    source = "def f(x):\n    assert x > 0, 'positive'   # why\n    assert x < 9\n    return x\nassert f(1) == 1 and f(2) == 2"
    new = normalise_pages.rewrite_asserts(source)
    assert "assert" not in new.replace("AssertionError", "")
    assert new == ("def f(x):\n    if not x > 0:   # why\n        raise AssertionError('positive')\n"
                   "    if not x < 9:\n        raise AssertionError\n    return x\n"
                   "if not (f(1) == 1 and f(2) == 2):\n    raise AssertionError")
    scope: dict = {}
    exec(new.split("\nif not (f(1)")[0], scope)
    assert scope["f"](3) == 3
    with pytest.raises(AssertionError, match="positive"):
        scope["f"](-1)
