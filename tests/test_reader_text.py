"""What a reader sees cites what a reader can open.

The book, the library's docstrings, the README, the benchmarks' output and the tests' names and
messages cite the sources of the course by their own numbering ("Proposition 12.9 of the slides")
and the book's own labels. Our working notes on the sources, and the labels in them, are not
something a reader has, so no text may point to them: no "digest", no "claim 7", no "the issue",
and no bare internal label such as ``C13`` or ``E4`` used as a reference.

A built page must show numbers as numbers: a numpy scalar repr such as ``np.float64(0.25)`` is
what ``repr`` prints for a numpy scalar at the end of a cell, not what a reader should see.
The second check reads the built HTML: it carries the ``pipeline`` marker, so ``make check-site``
selects it after the build (``-m pipeline``; ``REQUIRE_BUILT_SITES=1`` makes a missing site fail).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Everything a user reads: the book's pages, the library, the README, the benchmarks, the tools
# that print messages, and the tests (names, messages, comments).
READER_FILES = sorted(
    [*(ROOT / "book").rglob("*.md"), *(ROOT / "mdlib").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"),
     *(ROOT / "tools").glob("*.py"), *(ROOT / "tests").glob("*.py"), ROOT / "README.md"]
)
THIS_FILE = Path(__file__).resolve()

FORBIDDEN = {
    "a reference to our working notes": re.compile(r"(?<!hex)digest", re.IGNORECASE),
    "a numbered claim of our notes": re.compile(r"\bclaims?\s+\d", re.IGNORECASE),
    "a reference to the tracker": re.compile(r"\bthe issues?\b(?!\s+(?:of|is|here|with|at stake)\b)", re.IGNORECASE),
    # C13, E4, C4–C6, E1/E2, L1, T1: one of the label letters of our notes and a number, standing alone as a word. Subscripts
    # ($C_1$), code such as `E_1` and words like "E1000" are not matched.
    "an internal label (C<n>, E<n>, G<n>, L<n>, S<n>, T<n>, X<n>)": re.compile(r"(?<![\w\\$^_.'\"-])[CEGLSTX]\d{1,2}(?![\w(])"),
}

NUMPY_REPR = re.compile(r"np\.(?:float\d+|int\d+|uint\d+|complex\d+|bool_?|True_|False_|str_)\(|np\.(?:True_|False_)\b")


def offending_lines(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for what, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()[:120]}")
    return found


@pytest.mark.parametrize("path", [p for p in READER_FILES if p != THIS_FILE], ids=lambda p: str(p.relative_to(ROOT)))
def test_text_cites_what_a_reader_can_open(path):
    found = offending_lines(path)
    assert not found, "text points to something the reader does not have:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line,bad",
    [
        ("These are the digest's C4–C6.", True),
        ("See digest 002, section 4.6.", True),
        ("as claim 22 says", True),
        ("The issue states that deferred = static.", True),
        ("(E4) the slides' sign", True),
        ("checked against C13", True),
        ("Proposition 12.9 of the slides {cite}`slides`", False),
        ("$C_1$ and $E_2$ are constants", False),
        ("values in E1000 units", False),
        ("the issue of timing", False),
        ("H_E2 = sp.Piecewise(...)", False),
    ],
)
def test_the_guard_catches_what_it_should(tmp_path, line, bad):
    page = tmp_path / "page.md"
    page.write_text(line + "\n", encoding="utf-8")
    found = []
    for what, pattern in FORBIDDEN.items():
        if pattern.search(line):
            found.append(what)
    assert bool(found) is bad, (line, found)


def built_pages() -> list[Path]:
    html = ROOT / "_build" / "html"
    pages = sorted(html.rglob("*.html")) if html.is_dir() else []
    pages = [p for p in pages if "_static" not in p.parts and "offline_static" not in p.parts]
    if not pages:
        if os.environ.get("REQUIRE_BUILT_SITES") == "1":  # fail instead of skipping
            pytest.fail("no built site in _build/html: run `make book` first")
        pytest.skip("the site is not built (make book)")
    return pages


@pytest.mark.pipeline
def test_built_pages_show_numbers_not_numpy_reprs():
    found = []
    for page in built_pages():
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            if NUMPY_REPR.search(line):
                found.append(f"{page.relative_to(ROOT)}:{number}: {NUMPY_REPR.search(line).group(0)}")
    assert not found, "a built page shows a numpy scalar repr (print or round the number):\n" + "\n".join(found[:40])


@pytest.mark.parametrize("text,bad", [("np.float64(0.249964)", True), ("np.True_", True), ("0.249964", False),
                                      ("(np.int64(3), 2)", True), ("np.float64 is a type", False)])
def test_the_repr_guard_catches_what_it_should(text, bad):
    assert bool(NUMPY_REPR.search(text)) is bad


if __name__ == "__main__":  # list every offending line: python tests/test_reader_text.py [paths...]
    import sys

    paths = [Path(a).resolve() for a in sys.argv[1:]] or READER_FILES
    paths = [p for p in paths if p != THIS_FILE]  # this file quotes what it forbids
    lines = [line for p in paths for line in offending_lines(p)]
    print("\n".join(lines) or "no offending line")
    sys.exit(1 if lines else 0)
