"""Check that every chapter gives the same output twice, without running it a third time.

``make test`` executes each chapter twice: once in the test step (``tools/run_chapters.py``, which
keeps the executed notebooks in ``_build/nbval``) and once in the book build (which keeps them in
``_build/jupyter_execute``, or its execution cache ``_build/.jupyter_cache`` for a page rebuilt from
the cache). This script compares the two, output by output: text, HTML, LaTeX and
images must be identical. Unseeded randomness, printed timings or dictionary-order accidents show
up here. Some things are normalised away because they differ by design: the ids that ipywidgets
gives its models, memory addresses in object reprs, and how printed text is split into chunks;
stderr (warnings, which the book hides) is not compared.

Usage: ``python tools/check_determinism.py _build`` (after ``make test-notebooks html``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = [
    (re.compile(r'"model_id": "[0-9a-f]{32}"'), '"model_id": "<id>"'),
    (re.compile(r"[0-9a-f]{32}"), "<id>"),
    (re.compile(r" at 0x[0-9a-f]+"), " at 0x<addr>"),
]
COMPARED = ("text/plain", "text/html", "text/latex", "text/markdown", "image/png", "image/svg+xml")


def normalise(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def outputs(nb: nbformat.NotebookNode) -> list[list[str]]:
    """The comparable outputs of each code cell, as normalised strings."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        found, stdout = [], ""
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                # How a kernel splits printed text into chunks depends on timing, and stderr
                # carries warnings the book hides: compare the whole of stdout only.
                if out.name == "stdout":
                    stdout += out.text
            elif out.output_type in ("display_data", "execute_result"):
                for mime in COMPARED:
                    if mime in out.data:
                        value = out.data[mime]
                        found.append(f"{mime}: {normalise(value if isinstance(value, str) else ''.join(value))}")
        if stdout:
            found.insert(0, f"stdout: {normalise(stdout)}")
        cells.append(found)
    return cells


def book_execution(source: Path, executed: Path, build: Path) -> nbformat.NotebookNode:
    """The book build's execution of ``source``: its entry in the execution cache (``build/.jupyter_cache``)
    when the page's code matches one, else the notebook the build wrote to ``jupyter_execute``.

    A page rebuilt from the cache (its text changed, not its code) is written to ``jupyter_execute``
    without outputs by MyST-NB, while the site shows the cached ones: the cache is what the book shows."""
    cache_dir = build / ".jupyter_cache"
    if cache_dir.is_dir():
        import jupytext
        from jupyter_cache import get_cache

        try:
            cache = get_cache(cache_dir)
            record = cache.match_cache_notebook(jupytext.read(source))
            return cache.get_cache_bundle(record.pk).nb
        except KeyError:  # no cached execution with this code
            pass
    return nbformat.read(executed, as_version=4)


def compare(source: Path, build: Path, root: Path = ROOT) -> list[str]:
    """Differences between the book build's execution of ``source`` and the test step's."""
    page = source.relative_to(root).with_suffix(".ipynb")
    first = build / "jupyter_execute" / page
    second = build / "nbval" / source.relative_to(root / "book").with_suffix(".ipynb")
    if not first.exists():
        return [f"{page}: no executed notebook in {first.parent} (run `make html` first)"]
    if not second.exists():
        return [f"{page}: no executed notebook at {second} (run `make test-notebooks` first)"]
    a, b = outputs(book_execution(source, first, build)), outputs(nbformat.read(second, as_version=4))
    if len(a) != len(b):
        return [f"{page}: {len(a)} code cells in the build, {len(b)} in the test run"]
    problems = []
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            problems.append(f"{page}: code cell {k + 1} gives a different output on a second run")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("build", type=Path, help="the book's build folder, e.g. _build")
    args = parser.parse_args(argv)
    chapters = sorted(p for p in (ROOT / "book").rglob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8"))
    build = args.build.resolve()
    results = [compare(c, build) for c in chapters]
    problems = [p for r in results for p in r]
    for p in problems:
        print(p)
    print(f"determinism check: {len(chapters)} chapters compared (test run against book build), "
          f"{len(chapters) - sum(bool(r) for r in results)} identical")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
