"""Sphinx extension for the PDF (``make pdf``): three fixes to the assembled LaTeX document.

1. **One bibliography.**  Sphinx's LaTeX builder gathers every citation into one bibliography at
   the end of the PDF (titled "Bibliography").  The page ``book/bibliography.md``, which holds the
   ``{bibliography}`` directive, would stay behind as an almost empty chapter of the same name, so
   pages whose only job is to hold that directive are dropped from the PDF (the HTML keeps them).
2. **An "Introduction" chapter.**  The root page's title becomes the PDF's title, so its sections
   would become chapters 1, 2, … of their own, ahead of the real chapters.  They are wrapped
   in one chapter, "Introduction"; the pages of the table of contents follow as chapters.
3. **Parts.**  The captions of ``_toc.yml`` become LaTeX parts ahead of their first chapter, as in
   the HTML sidebar: "Part I. The static benchmark" is the numbered part "The static benchmark",
   and "Front matter", "Teaching kit" and "Back matter" are unnumbered parts.

Only the LaTeX builder is affected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex.transforms import BibliographyTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

INTRO_TITLE = "Introduction"
BIBLIOGRAPHY_PAGE = re.compile(r"^(`{3,}|:{3,})\{bibliography\}", re.M)


def only_holds_bibliography(env: Any, docname: str) -> bool:
    """True if the page's source has a ``{bibliography}`` directive and no code, figure or exercise."""
    source = env.doc2path(docname)
    try:
        text = open(source, encoding="utf-8").read()
    except OSError:
        return False
    return bool(BIBLIOGRAPHY_PAGE.search(text)) and len(re.findall(r"^(`{3,}|:{3,})\{", text, re.M)) == 1


def part_captions(srcdir: str) -> dict[str, str]:
    """Map the first page of each part of ``_toc.yml`` to the part's caption."""
    toc_path = Path(srcdir) / "_toc.yml"
    if not toc_path.exists():
        return {}
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8")) or {}
    first = {}
    for part in toc.get("parts", []):
        chapters = part.get("chapters") or []
        if part.get("caption") and chapters and "file" in chapters[0]:
            first[str(Path(chapters[0]["file"]).with_suffix(""))] = part["caption"]
    return first


def latex_escape(text: str) -> str:
    """Escape the characters that LaTeX treats specially in a heading."""
    return re.sub(r"([&%$#_{}])", r"\\\1", text).replace("~", r"\textasciitilde{}")


def part_heading(caption: str) -> str:
    """LaTeX for a part: "Part II. Title" becomes the numbered part "Title" (LaTeX counts them, in
    the same order); any other caption ("Front matter", "Teaching kit") an unnumbered part listed
    in the table of contents."""
    numbered = re.match(r"^Part [IVXLC]+\.\s*(.+)$", caption)
    if numbered:
        return f"\\part{{{latex_escape(numbered.group(1))}}}\n"
    title = latex_escape(caption)
    return f"\\part*{{{title}}}\\addcontentsline{{toc}}{{part}}{{{title}}}\n"


class BookLatexLayout(SphinxPostTransform):
    default_priority = BibliographyTransform.default_priority + 10  # after citations moved to the end
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        for start in list(self.document.findall(addnodes.start_of_file)):
            if only_holds_bibliography(self.env, start["docname"]):
                start.parent.remove(start)
        self.wrap_root_sections()
        self.insert_parts()

    def insert_parts(self) -> None:
        captions = part_captions(self.env.srcdir)
        for start in list(self.document.findall(addnodes.start_of_file)):
            caption = captions.get(start["docname"])
            if caption:
                heading = nodes.raw("", part_heading(caption), format="latex")
                start.parent.insert(start.parent.index(start), heading)

    def wrap_root_sections(self) -> None:
        root = next((n for n in self.document.children if isinstance(n, nodes.section)), None)
        if root is None or not root.children or not isinstance(root.children[0], nodes.title):
            return
        own = []
        for child in root.children[1:]:
            if next(iter(child.findall(addnodes.start_of_file)), None) is not None:
                break  # the pages of the table of contents start here
            own.append(child)
        if not any(isinstance(child, nodes.section) for child in own):
            return
        chapter = nodes.section(ids=["latex-introduction"], names=[])
        chapter += nodes.title(INTRO_TITLE, INTRO_TITLE)
        for child in own:
            root.remove(child)
            chapter += child
        root.insert(1, chapter)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(BookLatexLayout)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
