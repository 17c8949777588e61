"""The book's layout contract: what every chapter and the repo's top level must satisfy.

These checks are cheap and catch, before any notebook runs, the slips that would
otherwise surface as a confusing build failure (or not at all): a chapter missing
from the table of contents, a committed ``.ipynb``, a chapter without check cells,
a citation key that is not in ``references.bib``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TOP_LEVEL = {"book", "_config.yml", "_toc.yml", "mdlib", "tests", "environment.yml", "README.md",
             "pyproject.toml", "Makefile", ".ci", "benchmarks", "tools"}
PAGES = sorted(BOOK.rglob("*.md"))
NOTEBOOKS = [p for p in PAGES if "```{code-cell}" in p.read_text(encoding="utf-8")]


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return out.stdout.split()


def toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.add(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return {f.removesuffix(".md") for f in files}


def test_top_level_is_the_promised_layout():
    top = {path.split("/")[0] for path in tracked_files() if not path.startswith(".git")}
    top.discard(".gitignore")
    assert top == TOP_LEVEL, f"unexpected top-level entries: {sorted(top ^ TOP_LEVEL)}"


def test_no_notebook_is_committed():
    assert not [f for f in tracked_files() if f.endswith(".ipynb")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_names_are_snake_case_without_numbers(page):
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*\.md", page.name), f"{page.name}: snake_case, no digits"


def test_every_page_is_in_the_toc_and_every_toc_entry_exists():
    pages = {str(p.relative_to(ROOT)).removesuffix(".md") for p in PAGES}
    assert pages == toc_files()


@pytest.mark.parametrize("page", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_is_a_python3_myst_notebook_with_checks(page):
    text = page.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---", 2)[1])
    assert front["jupytext"]["text_representation"]["format_name"] == "myst"
    assert front["kernelspec"]["name"] == "python3"
    assert re.search(r"^assert ", text, flags=re.M), f"{page.name} runs code but asserts nothing"


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(encoding="utf-8")))
    cited = set()
    for page in PAGES:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in group.split(","))
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    assert keys <= cited, f"in references.bib but never cited: {sorted(keys - cited)}"


def test_every_public_mdlib_name_is_in_the_reference_page():
    import mdlib

    page = (BOOK / "mdlib_reference.md").read_text(encoding="utf-8")
    missing = [name for name in mdlib.__all__ if name != "__version__" and not re.search(rf"\b{name}\b", page)]
    assert not missing, f"add these to book/mdlib_reference.md: {missing}"


def nested_fence_errors(text: str) -> list[str]:
    """Directives opened inside a directive with a fence that is not longer than the outer one.

    MyST closes a block at the first fence of its own length, so a ```` ```{math} ```` inside a
    ```` ```{prf:definition} ```` ends the definition early: its label vanishes and every
    reference to it breaks. The outer block needs the longer fence (````` ```` `````).
    """
    errors, stack = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        m = re.match(r"^(`{3,}|:{3,})(\{[^}]*\})?", line)
        if not m:
            continue
        fence, name = m.group(1), m.group(2)
        if name:
            if stack and stack[-1][0][0] == fence[0] and len(stack[-1][0]) <= len(fence):
                errors.append(f"line {number}: {fence}{name} inside {stack[-1][0]}{stack[-1][1]} of line {stack[-1][2]}")
            stack.append((fence, name, number))
        elif stack and stack[-1][0] == fence:
            stack.pop()
    return errors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_nested_directives_use_longer_fences(page):
    errors = nested_fence_errors(page.read_text(encoding="utf-8"))
    assert not errors, f"{page.name}: " + "; ".join(errors)


def test_the_fence_check_catches_a_short_outer_fence():
    bad = "```{prf:definition} D\n:label: d\n\n```{math}\nx\n```\n```\n"
    good = "````{prf:definition} D\n:label: d\n\n```{math}\nx\n```\n````\n"
    assert nested_fence_errors(bad) and not nested_fence_errors(good)
