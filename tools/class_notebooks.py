"""Write the class notebooks (``make notebooks``): every chapter and problem set as a plain ``.ipynb``.

A class notebook is what an instructor projects and students run in class, in any JupyterLab:

- the book's check cells (tag ``remove-cell``) are left out, so no ``assert`` appears; where a later
  cell uses a name that a check cell defines, the statements of the check cell that define it (and
  only those, never an ``assert``) are kept in a collapsed cell in its place;
- a cell the book shows collapsed (tag ``hide-input``) is collapsed here too
  (cell metadata ``jupyter.source_hidden: true``; its output stays visible);
- in a problem set, every solution is left out: ``{solution}`` blocks and everything between
  ``{solution-start}`` and ``{solution-end}``, code cells included (the answer cells);
- figures and widgets are the code cells that make them, so they appear when the notebook runs; a figure's
  caption (cell option ``mystnb.figure.caption``) follows it as a Markdown cell;
- the notebook is written unexecuted, with the book's jupytext header replaced by a plain kernelspec.

The same notebooks are offered by the site's download menu (``tools/book_ext.py`` calls
:func:`class_notebook` for each page it builds).

Usage: ``python tools/class_notebooks.py [pages ...] [--out DIR]`` (default: every ``book/**/*.md`` with
a code cell, into ``_build/notebooks/<chapter>.ipynb``; problem sets as ``problem_sets_<set>.ipynb``).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
OUT = ROOT / "_build" / "notebooks"
FENCE = re.compile(r"^\s*(`{3,}|:{3,})\{([\w:-]+)\}")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
KEEP_CELL_METADATA = ("tags", "mystnb")


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_problem_set(source: Path) -> bool:
    return source.resolve().parent == (BOOK / "problem_sets").resolve()


def strip_solutions(text: str, state: dict) -> str:
    """``text`` without ``{solution}`` blocks and without what lies inside a gated solution.

    ``state["in_solution"]`` carries a gated solution (``solution-start`` … ``solution-end``) across cells.
    """
    lines, out, k = text.splitlines(), [], 0
    while k < len(lines):
        m = FENCE.match(lines[k])
        kind = m.group(2) if m else None
        if kind in ("solution", "solution-start", "solution-end"):
            fence, j = m.group(1), k + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            if kind != "solution":
                state["in_solution"] = kind == "solution-start"
            k = j + 1
            continue
        if not state["in_solution"]:
            out.append(lines[k])
        k += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


HELPER_NOTE = "# Definitions from the book's hidden check cells that the cells below use.\n"


def _python(source: str) -> str:
    """A cell's source without IPython magics and shell escapes, for ``ast``."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


def _stores(node: ast.AST) -> set[str]:
    """Every name a statement binds, at any depth (targets, loop variables, definitions, imports, arguments)."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.arg):
            names.add(n.arg)
    return names


SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
          ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _binds(node: ast.AST) -> set[str]:
    """The names a top-level statement leaves bound in the namespace (not the locals of a function,
    lambda or comprehension inside it)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, SCOPES):
        return set()
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, (ast.Store, ast.Del)) else set()
    if isinstance(node, ast.NamedExpr) or isinstance(node, (ast.Import, ast.ImportFrom)):
        return _stores(node)
    return set().union(*(_binds(child) for child in ast.iter_child_nodes(node)))


def _free(node: ast.stmt) -> set[str]:
    """The names a statement reads that it does not bind itself."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - _stores(node)


def _needed_later(code: list[str]) -> set[str]:
    """Names read by the cells ``code`` (in order) before they bind them."""
    needed, bound = set(), set()
    for source in code:
        for node in ast.parse(_python(source)).body:
            needed |= _free(node) - bound
            bound |= _binds(node)
    return needed


def helper_slice(check: str, needed: set[str]) -> str:
    """The statements of the check cell ``check`` that bind a name of ``needed``, with what they read.

    No ``assert`` statement is kept; an empty string when the cell defines nothing needed.
    """
    body = ast.parse(_python(check)).body
    keep: list[ast.stmt] = []
    want = set(needed)
    for node in reversed(body):
        if isinstance(node, ast.Assert) or not (_binds(node) & want):
            continue
        if any(isinstance(n, ast.Assert) for n in ast.walk(node)):
            raise ValueError(f"a check cell defines {sorted(_binds(node) & want)} in a statement with an assert: "
                             f"move the definition out of the check cell\n{ast.get_source_segment(check, node)}")
        keep.insert(0, node)
        want = (want - _binds(node)) | _free(node)
    return "\n".join(ast.get_source_segment(check, n) for n in keep)


def _helper_slices(nb: nbformat.NotebookNode) -> dict[int, str]:
    """The helper slice of each check cell (by cell index): what later cells (visible ones, or kept
    definitions) read from it, found from the last cell to the first."""
    later: list[str] = []
    slices: dict[int, str] = {}
    for k in range(len(nb.cells) - 1, -1, -1):
        cell = nb.cells[k]
        if cell.cell_type != "code":
            continue
        source = cell.source
        if "remove-cell" in tags(cell):
            source = slices[k] = helper_slice(cell.source, _needed_later(later))
        if source:
            later.insert(0, source)
    return slices


# A check cell as the test step runs it (``checks_isolated``): in a namespace of its own, which sees the
# notebook's names and what earlier check cells defined, and leaves the notebook's namespace as it was;
# containers (lists, dicts, sets, arrays, data frames) are copied, so appending to a list or writing into
# an array does not reach the notebook either. Its last expression's value is the cell's result, as in the book.
ISOLATED_CHECK = """{helper}def __run_check_cell__(source, notebook=globals()):
    import ast, copy
    del notebook["__run_check_cell__"]
    defined = notebook.setdefault("__check_cell_names__", {{}})
    def private(value):
        if isinstance(value, (list, dict, set, bytearray)):
            return copy.copy(value)
        if str(type(value).__module__).split(".")[0] in ("numpy", "pandas") and hasattr(value, "copy"):
            return value.copy()
        return value
    namespace = {{**defined, **{{k: private(v) for k, v in notebook.items()}}}}
    body = ast.parse(source).body
    last = body.pop() if body and isinstance(body[-1], ast.Expr) else None
    exec(compile(ast.Module(body, []), "<check cell>", "exec"), namespace)
    value = eval(compile(ast.Expression(last.value), "<check cell>", "eval"), namespace) if last else None
    defined.update((k, v) for k, v in namespace.items() if k not in notebook)
    return value
__run_check_cell__({source!r})
"""


def checks_isolated(source: Path) -> nbformat.NotebookNode:
    """The notebook of ``source`` as the test step executes it: every check cell runs its helper slice
    (what the class notebook keeps) in the notebook's namespace, then its whole code in a namespace of
    its own; the other cells are the book's.

    So the visible cells run exactly as in the class notebook: a visible cell that reads a name only a
    check cell defines fails here, and a visible cell whose output depends on a check cell's side effects
    gives a different output from the book build's (``tools/check_determinism.py`` compares them). The
    check cells still run, and a false ``assert`` still fails the chapter.
    """
    nb = jupytext.read(source)
    for k, helper in _helper_slices(nb).items():
        cell = nb.cells[k]
        cell.source = ISOLATED_CHECK.format(helper=f"{helper}\n" if helper else "", source=cell.source)
    return nb


def class_notebook(source: Path) -> nbformat.NotebookNode:
    """The class notebook of the MyST-markdown notebook ``source``."""
    nb = jupytext.read(source)
    # check cells: keep what later cells (visible ones, or kept definitions) read
    for k, helper in _helper_slices(nb).items():
        nb.cells[k].source = helper
        nb.cells[k].metadata["class-helper"] = bool(helper)
    solutions = is_problem_set(source)
    state = {"in_solution": False}
    cells = []
    for cell in nb.cells:
        helper = cell.metadata.get("class-helper", False)
        if "remove-cell" in tags(cell) and not helper:
            continue
        if solutions:
            if cell.cell_type == "markdown":
                cell.source = strip_solutions(cell.source, state)
                if not cell.source:
                    continue
            elif state["in_solution"]:
                continue
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in KEEP_CELL_METADATA}
        if helper:
            cell.source = HELPER_NOTE + cell.source
            metadata = {"tags": ["hide-input"]}
        if cell.cell_type == "code":
            if "hide-input" in tags(cell) or helper:
                metadata["jupyter"] = {"source_hidden": True}
            new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption:
                cells.append(new)
                new = nbformat.v4.new_markdown_cell(f"*{' '.join(caption.split())}*", metadata={"tags": ["caption"]})
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
        cells.append(new)
    if state["in_solution"]:
        raise ValueError(f"{source}: solution-start without solution-end")
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata["kernelspec"] = dict(KERNELSPEC)
    out.metadata["language_info"] = {"name": "python"}
    for k, cell in enumerate(out.cells):   # stable ids: the same source gives the same bytes
        cell["id"] = f"cell-{k}"
    nbformat.validate(out)
    return out


def notebook_name(source: Path) -> str:
    """``book/static_mechanisms.md`` -> ``static_mechanisms.ipynb``; ``book/problem_sets/x.md`` -> ``problem_sets_x.ipynb``."""
    rel = source.resolve().relative_to(BOOK.resolve()).with_suffix(".ipynb")
    return "_".join(rel.parts)


def pages() -> list[Path]:
    """Every page of the book with a code cell (the Makefile's CHAPTERS)."""
    return sorted(p for p in BOOK.rglob("*.md") if re.search(r"^```\{code-cell\}", p.read_text(encoding="utf-8"), re.M))


def write(source: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / notebook_name(source)
    nbformat.write(class_notebook(source), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path, help="pages (default: every book/**/*.md with a code cell)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    written = [write(p, args.out) for p in (args.pages or pages())]
    print(f"{len(written)} class notebooks in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
