"""The offline site check can fail: a page that relies on a CDN for its math is rejected."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_site", ROOT / "tools" / "check_site.py")
check_site = importlib.util.module_from_spec(spec)
sys.modules["check_site"] = check_site  # dataclasses look their module up here
spec.loader.exec_module(check_site)

needs_browser = pytest.mark.skipif(
    not any(shutil.which(b) for b in check_site.BROWSERS), reason="needs Chromium (apt-get install chromium)"
)

CDN_PAGE = """<!DOCTYPE html><html><head>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
</head><body><p>The virtual value is <span class="math notranslate nohighlight">\\(2v-1\\)</span>.</p>
</body></html>"""


@needs_browser
def test_cdn_math_page_fails_offline(tmp_path, capsys):
    (tmp_path / "index.html").write_text(CDN_PAGE)
    assert check_site.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "external resource" in out and "FAIL" in out


def test_external_resources_are_detected():
    assert check_site.EXTERNAL.findall(CDN_PAGE)
    local = '<script src="../_static/vendor/mathjax/tex-mml-chtml.js"></script>'
    assert not check_site.EXTERNAL.findall(local)


def test_site_without_index_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no index.html"):
        check_site.main([str(tmp_path)])


def _article(body: str) -> str:
    return f"<html><body><nav><img src='logo.png'></nav><article class='bd-article'>{body}</article></body></html>"


def test_images_need_alt_text_and_a_captioned_figure():
    good = "<figure><img alt='Two revenue curves, each peaking once.' src='../_images/a.png'><figcaption>Revenue curves.</figcaption></figure>"
    assert check_site.audit_images(_article(good)) == (1, [])  # the logo outside the article is not a figure of the text
    for bad, problem in [
        ("<figure><img src='../_images/a.png'><figcaption>c</figcaption></figure>", "without alt text"),
        ("<figure><img alt='' src='a.png'><figcaption>c</figcaption></figure>", "without alt text"),
        ("<figure><img alt='../_images/a.png' src='../_images/a.png'><figcaption>c</figcaption></figure>", "without alt text"),
        ("<p><img alt='A curve.' src='a.png'></p>", "outside a figure"),
        ("<figure><img alt='A curve.' src='a.png'></figure>", "without a caption"),
    ]:
        count, problems = check_site.audit_images(_article(bad))
        assert count == 1 and len(problems) == 1 and problem in problems[0], (bad, problems)


def test_screenshot_names_follow_the_pages(tmp_path):
    site = tmp_path / "html"
    assert check_site.screenshot_name(site, site / "book" / "static_mechanisms.html") == "static_mechanisms.png"
    assert check_site.screenshot_name(site, site / "book" / "problem_sets" / "static_benchmark.html") == "problem_sets_static_benchmark.png"


@needs_browser
def test_a_page_without_alt_text_fails_and_every_book_page_is_screenshot(tmp_path, capsys):
    site = tmp_path / "html"
    (site / "book").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>index</body></html>")
    (site / "book" / "chapter.html").write_text(_article("<figure><img src='x.png'><figcaption>c</figcaption></figure>"))
    shots = tmp_path / "shots"
    assert check_site.main([str(site), "--screenshots", str(shots)]) == 1
    out = capsys.readouterr().out
    assert "image without alt text: x.png" in out and "FAILED" in out
    assert [p.name for p in shots.iterdir()] == ["chapter.png"]
    assert (shots / "chapter.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ accessibility (axe-core)
needs_axe = pytest.mark.skipif(not check_site.AXE_JS.exists(), reason="axe-core not vendored (make vendor)")

INACCESSIBLE_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Bad page</title></head><body><main>
<h1>A page with known violations</h1>
<p style="color: #b0b0b0; background: #ffffff">Grey on white: about 2.2:1, below the 4.5:1 of WCAG AA.</p>
<button></button>
</main></body></html>"""

ACCESSIBLE_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Good page</title></head><body><main>
<h1>A page without violations</h1><p>Black on white, <a href="#top">a link</a>, <button>a named button</button>.</p>
</main></body></html>"""


@needs_browser
@needs_axe
def test_a_page_with_accessibility_violations_fails(tmp_path, capsys):
    (tmp_path / "index.html").write_text(INACCESSIBLE_PAGE)
    assert check_site.main([str(tmp_path), "--no-screenshots"]) == 1
    out = capsys.readouterr().out
    assert "axe serious: color-contrast on index.html at p" in out
    assert "axe critical: button-name on index.html at button" in out
    assert "1 critical and 1 serious violations" in out and "FAILED" in out


@needs_browser
@needs_axe
def test_an_accessible_page_passes_axe(tmp_path, capsys):
    (tmp_path / "index.html").write_text(ACCESSIBLE_PAGE)
    check_site.main([str(tmp_path), "--no-screenshots"])   # fails only because no page has math
    out = capsys.readouterr().out
    assert "0 critical and 0 serious violations" in out and "    axe " not in out
    assert "offline site check FAILED: ['(no page has math: the check would be vacuous)']" in out


def test_axe_results_are_read_from_the_dom():
    assert "axe.min.js" in check_site.with_runner("<html><body><p>x</p></body></html>")
    assert check_site.with_runner("<p>x</p></body>").index("axe.run") < check_site.with_runner("<p>x</p></body>").index("</body>")
    assert "axe.min.js" not in check_site.with_runner("<html><body><p>x</p></body></html>", axe=False)
    dom = ('<pre id="axe-results">[{"id": "image-alt", "impact": "critical", "help": "h", "targets": ["img"]},'
           ' {"id": "region", "impact": "moderate", "help": "h", "targets": ["p"]}]</pre>').replace('"', "&quot;")
    dom = dom.replace("<pre id=&quot;axe-results&quot;>", '<pre id="axe-results">')
    violations, error = check_site.axe_violations(dom)
    assert [v["id"] for v in violations] == ["image-alt"] and not error   # moderate ones do not fail the check
    assert check_site.axe_violations("<html></html>")[1].startswith("axe-core did not report")
