"""Bring the book's MyST-markdown notebooks to the form JupyterLab writes, and out of the class notebooks' way.

Two mechanical changes, applied to every ``book/**/*.md`` with a code cell (``--check`` only lists the
pages that would change and exits 1 if any):

1. **The jupytext form.** Each page is read and written back with jupytext, using the options pinned in
   ``book/jupytext.toml``, so that opening a page in JupyterLab and saving it keeps its
   bytes. The visible differences: a blank line after a code cell's ``:tags: [...]`` line, and each
   ``---`` block of cell options re-written by the YAML dumper (a multi-line caption or alt text is first
   folded into one line: its line breaks are soft breaks of Markdown, so the page renders the same).
2. **No ``assert`` in a visible cell.** The class notebooks (``make notebooks``) have no check cells, and
   no ``assert`` statement may remain in them; an ``assert`` in a cell the reader sees (not tagged
   ``remove-cell``), such as a sanity check inside a function, becomes the equivalent
   ``if not (...): raise AssertionError(...)``.

Usage: ``python tools/normalise_pages.py [pages ...] [--check]``.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import jupytext
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
FMT = "md:myst"
SIMPLE_TESTS = (ast.Compare, ast.Call, ast.Name, ast.Attribute, ast.Subscript)


def pages() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.md") if re.search(r"^```\{code-cell\}", p.read_text(encoding="utf-8"), re.M))


def config(page: Path):
    """The jupytext options JupyterLab uses for ``page`` (``book/jupytext.toml``)."""
    return load_jupytext_config(str(page.resolve().parent))


def roundtrip(text: str, page: Path) -> str:
    """``text`` read and written back by jupytext with the repository's options (what JupyterLab saves)."""
    cfg = config(page)
    return jupytext.writes(jupytext.reads(text, fmt=FMT, config=cfg), fmt=FMT, config=cfg)


def rewrite_asserts(source: str) -> str:
    """``assert test, msg`` -> ``if not (test): raise AssertionError(msg)``, at every depth of a cell."""
    lines = source.split("\n")
    nodes = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Assert)]
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        first, last = lines[node.lineno - 1], lines[node.end_lineno - 1]
        indent = first[: node.col_offset]
        comment = last[node.end_col_offset:].strip()
        if indent.strip() or (comment and not comment.startswith("#")):
            raise ValueError(f"assert shares its line with another statement: {first.strip()}")
        comment = f"   {comment}" if comment else ""
        test = ast.get_source_segment(source, node.test)
        test = test if isinstance(node.test, SIMPLE_TESTS) else f"({test})"
        message = f"AssertionError({ast.get_source_segment(source, node.msg)})" if node.msg else "AssertionError"
        lines[node.lineno - 1:node.end_lineno] = [f"{indent}if not {test}:{comment}", f"{indent}    raise {message}"]
    return "\n".join(lines)


def fold(value: str) -> str:
    """A caption's or alt text's single line breaks as spaces (Markdown soft breaks); blank lines stay."""
    return "\n\n".join(" ".join(ln.strip() for ln in para.splitlines() if ln.strip())
                       for para in re.split(r"\n\s*\n", value.strip()))


def normalise(text: str, page: Path) -> str:
    cfg = config(page)
    nb = jupytext.reads(text, fmt=FMT, config=cfg)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "remove-cell" not in cell.metadata.get("tags", []) and "assert" in cell.source:
            cell.source = rewrite_asserts(cell.source)
        for part in ("figure", "image"):
            options = cell.metadata.get("mystnb", {}).get(part, {})
            for key in ("caption", "alt"):
                if isinstance(options.get(key), str):
                    options[key] = fold(options[key])
    return jupytext.writes(nb, fmt=FMT, config=cfg)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="list the pages that would change; change nothing")
    args = parser.parse_args(argv)
    changed = []
    for page in args.pages or pages():
        text = page.read_text(encoding="utf-8")
        new = normalise(text, page)
        if roundtrip(new, page) != new:
            raise SystemExit(f"{page}: the normalised page still changes when jupytext reads and writes it")
        if new != text:
            changed.append(page)
            if not args.check:
                page.write_text(new, encoding="utf-8")
    verb = "would change" if args.check else "changed"
    print(f"{len(changed)} pages {verb}" + "".join(f"\n  {p}" for p in changed))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
