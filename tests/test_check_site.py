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
