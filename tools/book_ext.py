"""A small Sphinx extension for the book: offer every chapter as an ``.ipynb`` download.

sphinx-book-theme adds an ``.ipynb`` entry to a page's download menu only when a
launch button (Binder, JupyterHub, ...) is configured, which an offline book does not
have.  We do the same job directly: for each page that MyST-NB executed, copy the
executed notebook (outputs included) next to the page's source in ``_sources`` and
tell the theme about it, before the theme builds its header buttons.
"""

from __future__ import annotations

from pathlib import Path
from shutil import copy2
from typing import Any

from sphinx.application import Sphinx


def add_ipynb_download(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Copy the executed notebook of ``pagename`` to ``_sources`` and register the download."""
    if doctree is None or app.builder.format != "html":
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict[str, Any]:
    # The theme adds its header buttons at priority 501; run just before it.
    app.connect("html-page-context", add_ipynb_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
