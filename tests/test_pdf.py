"""The PDF (``make pdf``) has every page of the table of contents and no unresolved reference.

The PDF is read back with ``pdftotext`` (poppler-utils).  The tests on the built PDF run under
``make test-pdf``, which builds it and sets ``REQUIRE_BUILT_PDF=1``; elsewhere they skip, so a stale
``_build/latex`` never decides the result.  ``make test-pdf`` itself skips, with a message, when TeX
is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PDF = Path(os.environ.get("BOOK_PDF", ROOT / "_build" / "latex" / "book.pdf"))

spec = importlib.util.spec_from_file_location("latex_ext", ROOT / "tools" / "latex_ext.py")
latex_ext = importlib.util.module_from_spec(spec)
sys.modules["latex_ext"] = latex_ext
spec.loader.exec_module(latex_ext)


def toc_pages() -> list[str]:
    """The pages of _toc.yml in reading order, root first (without the .md suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return [p.removesuffix(".md") for p in pages]


def title_of(page: str) -> str:
    """The page's first heading as plain text (markup and MyST roles removed)."""
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    heading = re.search(r"^# (.+)$", text, re.M).group(1)
    return normalise(re.sub(r"[`*]", "", heading))


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"}))
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def pdf_text() -> str:
    required = os.environ.get("REQUIRE_BUILT_PDF") == "1"  # fail instead of skipping
    if not shutil.which("pdftotext"):
        (pytest.fail if required else pytest.skip)("pdftotext is missing: apt-get install poppler-utils")
    if not PDF.exists():
        (pytest.fail if required else pytest.skip)(f"{PDF} is not built (make pdf)")
    result = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True, text=True, check=True)
    return result.stdout


def contents_of(text: str) -> str:
    """The table of contents: from its heading to the first chapter's opening page."""
    start = text.index("CONTENTS")
    return text[start:text.index("\f", text.index("Index", start))]


def test_the_bibliography_page_is_recognised():
    class Env:
        @staticmethod
        def doc2path(docname):
            return ROOT / f"{docname}.md"

    assert latex_ext.only_holds_bibliography(Env, "book/bibliography")
    assert not latex_ext.only_holds_bibliography(Env, "book/static_mechanisms")


@pytest.mark.pipeline
def test_every_page_title_is_in_the_contents(pdf_text):
    contents = normalise(contents_of(pdf_text))
    root, *pages = toc_pages()
    assert normalise(pdf_text[:2000]).startswith(title_of(root)), "the root page's title is the PDF's title"
    missing = [title_of(p) for p in pages if title_of(p) not in contents]
    assert not missing, f"chapters missing from the PDF's contents: {missing}"


@pytest.mark.pipeline
def test_no_unresolved_reference(pdf_text):
    lines = [line.strip() for line in pdf_text.splitlines() if "??" in line]
    assert not lines, f"unresolved references in the PDF: {lines[:10]}"


@pytest.mark.pipeline
def test_one_bibliography_and_one_introduction_chapter(pdf_text):
    contents = contents_of(pdf_text)
    assert len(re.findall(r"^\s*(?:\d+\s+)?Bibliography\s+\d+\s*$", contents, re.M)) == 1, "Bibliography is listed once"
    first = re.search(r"^\s*1\s+(\S.*?)\s+\d+\s*$", contents, re.M).group(1)
    assert first == latex_ext.INTRO_TITLE, f"chapter 1 is {first!r}, not the introduction"


def test_part_headings():
    assert latex_ext.part_heading("Part II. A buyer who learns over time") == "\\part{A buyer who learns over time}\n"
    assert latex_ext.part_heading("Teaching kit").startswith("\\part*{Teaching kit}\\addcontentsline{toc}{part}")
    assert latex_ext.latex_escape("R&D_1") == "R\\&D\\_1"
    first = latex_ext.part_captions(str(ROOT))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert list(first.values()) == [part["caption"] for part in toc["parts"]], "one heading per part, in order"


@pytest.mark.pipeline
def test_every_part_is_in_the_contents(pdf_text):
    contents = normalise(contents_of(pdf_text))
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    titles = [re.sub(r"^Part [IVXLC]+\.\s*", "", part["caption"]) for part in toc["parts"]]
    missing = [t for t in titles if normalise(t) not in contents]
    assert not missing, f"parts missing from the PDF's contents: {missing}"
