"""A small Sphinx extension for the book: offer every chapter as a class notebook (``.ipynb``) download.

sphinx-book-theme adds an ``.ipynb`` entry to a page's download menu only when a
launch button (Binder, JupyterHub, ...) is configured, which an offline book does not
have.  We do the same job directly: for each page that MyST-NB executed, write its class
notebook (``tools/class_notebooks.py``: no check cells, collapsed ``hide-input`` cells, no
solutions of a problem set, the same notebook ``make notebooks`` writes) next to the page's
source in ``_sources`` and tell the theme about it, before the theme builds its header buttons.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
from sphinx.application import Sphinx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from class_notebooks import class_notebook  # noqa: E402


def add_ipynb_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Write the class notebook of ``pagename`` to ``_sources`` and register the download."""
    if doctree is None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    source = Path(app.env.doc2path(pagename))
    if not executed.exists() or source.suffix != ".md":
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(class_notebook(source), target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict[str, Any]:
    # The theme adds its header buttons at priority 501; run just before it.
    app.connect("html-page-context", add_ipynb_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
