"""Accessibility fixes for the theme and the rendered cells (``make check-site`` runs axe-core on every page).

- **Hidden-input toggles.** MyST-NB writes ``<summary aria-label="Toggle hidden content">`` around a
  collapsed cell, whose visible text is "Show code cell source": a name that does not contain the visible
  text (WCAG 2.5.3). The page body is written without that label, so the visible text is the name.
- **Bibliography.** docutils wraps citations in ``role="list"`` with items of the deprecated DPUB role
  ``doc-biblioentry``, which assistive technology and axe do not count as list items; they become
  ``role="listitem"``.
- **Colour-mode button.** The theme's icons carry titles that are not part of the button's name
  (``templates/theme-switcher.html`` hides the icons from assistive technology).
- **Search button.** The theme labels it "Search" while it shows "Search Ctrl + K" (WCAG 2.5.3;
  ``templates/search-button-field.html`` drops the label, so the visible text is the name). Chromium's
  default 800 px window hides the button; the site check renders at 1280 px, where axe sees it.
- **Link colour.** The theme's link blue is below 4.5:1 on the tinted boxes of theorems and exercises
  (``a11y/a11y.css``).
- **Widgets.** The ipywidgets HTML manager renders slider handles without a name and widget plots without
  alt text (``a11y/a11y.js`` names them once they render).

Loaded by the instructor book and the student edition (``_config.yml``, ``sphinx.local_extensions``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

HERE = Path(__file__).resolve().parent / "a11y"
BODY_FIXES = (
    ('<summary aria-label="Toggle hidden content">', "<summary>"),
    ('role="doc-biblioentry"', 'role="listitem"'),
)


def add_paths(app: Sphinx, config: Config) -> None:
    """Our templates before the theme's, our static files with the others."""
    config.templates_path = [str(HERE / "templates"), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(HERE)]


def fix_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if isinstance(body, str):
        for old, new in BODY_FIXES:
            body = body.replace(old, new)
        context["body"] = body


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_paths)
    app.connect("html-page-context", fix_body)
    app.add_css_file("a11y.css")
    app.add_js_file("a11y.js")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
