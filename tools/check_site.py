"""Check the built site the way an offline reader sees it: headless Chromium, no network.

For every HTML page of the book we

1. refuse any script, stylesheet or font that would be fetched from another host
   (the site must be readable with no network at all);
2. load the page in headless Chromium inside a network namespace with no interfaces
   (``unshare --net``; where that is not permitted, Chromium's own proxy and resolver
   switches block every request) and read the DOM after the page's scripts ran: one browser
   for the whole site, driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``),
   each page in a window of its own (three at a time), read once a script added to a copy of the page
   reports that MathJax typeset it and 3 s passed for the widgets to render;
3. require typeset math (``<mjx-container``) on every page whose HTML has math, and
   rendered widgets (``jupyter-widgets``) on every page that embeds widget views;
4. require every image in a book page's text to have alt text (not empty, not its file name) and to
   sit in a figure with a caption;
5. run axe-core (vendored from npm by ``tools/vendor_js.py``, pinned and checked by sha256) on every page
   after its scripts ran, with the WCAG 2.0/2.1/2.2 A and AA rules, and fail on every critical or serious
   violation, listing each one (rule, page, target);
6. save a screenshot of each book page (the top 1280 × 1600 pixels, after its scripts ran) in
   ``_build/screenshots/<page>.png``, so a reader can look at every page without a browser.

Usage: ``python tools/check_site.py _build/html`` — exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import tempfile
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
AXE_JS = ROOT / "_build" / "axe-core" / "axe.min.js"   # make vendor (tools/vendor_js.py)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_EXTRA_RULES = ["label-content-name-mismatch"]       # a WCAG 2.1 A rule that axe marks experimental
AXE_FAILING = ("critical", "serious")
AXE_RESULTS = re.compile(r'<pre id="axe-results"[^>]*>(.*?)</pre>', re.S)  # the theme may add a tabindex
# Injected into a copy of each page: once the page's scripts ran (MathJax typeset, then 3 s for the widgets),
# run axe and write its violations into the DOM, where the browser reads them (without axe: null).
AXE_SCRIPT = """<script src="%(axe)s"></script>
"""
RUNNER = """<script>
window.addEventListener("load", function () {
  function report(value) {
    var pre = document.createElement("pre");
    pre.id = "axe-results";
    pre.textContent = JSON.stringify(value);
    document.body.appendChild(pre);
  }
  var typeset = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
  typeset.then(function () { return new Promise(function (done) { setTimeout(done, 3000); }); })
    .then(function () {
      if (!%(axe_on)s) { return null; }
      return axe.run(document, {runOnly: {type: "tag", values: %(tags)s}, rules: %(rules)s, resultTypes: ["violations"]})
        .then(function (result) {
          return result.violations.map(function (v) {
            return {id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(function (n) { return n.target.join(" "); })};
          });
        });
    })
    .then(report, function (error) { report({error: String(error)}); });
});
</script>
"""
# Markers in the page *source* that say what must be rendered.
MATH_SOURCE = re.compile(r'class="math[ "]|\\\(|\\\[')
WIDGET_SOURCE = "application/vnd.jupyter.widget-view+json"
# Markers in the *rendered* DOM.
MATH_RENDERED = "<mjx-container"
WIDGET_RENDERED = re.compile(r'class="[^"]*\bjupyter-widgets\b')
# Anything loaded from elsewhere: <script src=...>, <link href=...> to another host, or CSS url(http...).
EXTERNAL = re.compile(
    r'<script[^>]+src="(?:https?:)?//[^"]+"|<link[^>]+href="(?:https?:)?//[^"]+"[^>]*rel="(?:stylesheet|preload)"'
    r'|<link[^>]+rel="(?:stylesheet|preload)"[^>]*href="(?:https?:)?//[^"]+"'
)


@dataclass
class PageReport:
    page: str
    has_math: bool
    math_ok: bool
    has_widgets: bool
    widgets_ok: bool
    external: list[str]
    images: int = 0
    image_problems: list[str] = field(default_factory=list)
    screenshot: str = ""
    axe: list[dict] = field(default_factory=list)   # critical and serious axe-core violations
    axe_error: str = ""

    @property
    def ok(self) -> bool:
        return ((self.math_ok or not self.has_math) and (self.widgets_ok or not self.has_widgets)
                and not self.external and not self.image_problems and not self.axe and not self.axe_error)


IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.I)


class ImageAudit(HTMLParser):
    """Find images in the page's text (``<article>``) without alt text or outside a captioned figure."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.article_depth = 0
        self.figures: list[dict] = []       # open <figure> elements: {"caption": bool, "images": [...]}
        self.images = 0
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.article_depth += 1
        if not self.article_depth:
            return
        if tag == "figure":
            self.figures.append({"caption": False, "images": []})
        elif tag == "figcaption" and self.figures:
            self.figures[-1]["caption"] = True
        elif tag == "img":
            self.images += 1
            a = dict(attrs)
            src, alt = a.get("src") or "?", (a.get("alt") or "").strip()
            name = Path(src).name
            if not alt or alt == src or Path(alt).name == name or IMAGE_FILE.search(alt):
                self.problems.append(f"image without alt text: {name}")
            if self.figures:
                self.figures[-1]["images"].append(name)
            else:
                self.problems.append(f"image outside a figure (no caption): {name}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self.article_depth:
            self.article_depth -= 1
        elif tag == "figure" and self.article_depth and self.figures:
            figure = self.figures.pop()
            if not figure["caption"]:
                self.problems += [f"figure without a caption: {name}" for name in figure["images"]]


def audit_images(source: str) -> tuple[int, list[str]]:
    """Number of images in the page's text, and what is wrong with them."""
    audit = ImageAudit()
    audit.feed(source)
    audit.close()
    return audit.images, audit.problems


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium found: install it with `apt-get install chromium` (.ci/run does this)")


def isolate_network() -> list[str]:
    """Return a command prefix that runs a program with no network, if the OS allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True).returncode == 0:
        return [unshare, "--net"]
    return []


class Browser:
    """One headless Chromium with no network, driven over the DevTools protocol on a pipe.

    Chromium reads the protocol's messages (JSON, each ended by a NUL byte) from its file descriptor 3 and
    writes its own to descriptor 4 (``--remote-debugging-pipe``); no port is opened, so the browser can sit in a
    network namespace of its own. A thread reads the browser's messages: answers go to the call that waits
    for them, events are dropped (we poll the page instead). Pages are loaded by :meth:`load`, each in a tab
    of its own, several at a time from several threads.
    """

    def __init__(self, browser: str, prefix: list[str], timeout: float = 300.0) -> None:
        import fcntl
        import itertools
        import threading

        self.timeout = timeout  # seconds for one page: a busy machine is slow, a hung page still fails
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def descriptors_3_and_4() -> None:  # in the child, before exec: our pipe ends become its fds 3 and 4
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        cmd = [
            *prefix,
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--proxy-server=http://127.0.0.1:9",  # belt and braces: nothing leaves the machine
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--allow-file-access-from-files",
            "--hide-scrollbars",
            "--window-size=1280,1600",  # a desktop window: the theme hides its header buttons in Chromium's default 800 px
            "--remote-debugging-pipe",
            # every tab runs as if it were in front: no throttled timers in the tabs loaded side by side
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "about:blank",
        ]
        self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=descriptors_3_and_4)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[threading.Event, list]] = {}
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                waiter = self._waiting.pop(message.get("id"), None) if "id" in message else None
                if waiter is not None:
                    waiter[1].append(message)
                    waiter[0].set()
        self._closed = True
        for event, _ in list(self._waiting.values()):  # the browser is gone: wake every caller
            event.set()

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command (to the tab of ``session``, if given) and return its result."""
        import threading

        if self._closed:
            raise RuntimeError("Chromium exited")
        event, answer = threading.Event(), []
        with self._lock:
            key = next(self._ids)
            self._waiting[key] = (event, answer)
            message = {"id": key, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        if not event.wait(self.timeout) or not answer:
            self._waiting.pop(key, None)
            raise RuntimeError(f"Chromium did not answer {method} within {self.timeout:g} s" if not self._closed
                               else f"Chromium exited during {method}")
        if "error" in answer[0]:
            raise RuntimeError(f"{method} failed: {answer[0]['error']}")
        return answer[0].get("result", {})

    def evaluate(self, session: str, expression: str, await_promise: bool = False):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": await_promise}, session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def load(self, page: Path, shot: Path | None = None) -> str:
        """Open ``page`` in a new tab, wait until the runner injected into it reported (its scripts ran,
        see ``RUNNER``), save the top 1280 x 1600 pixels as the PNG ``shot`` if given, and return the DOM."""
        import base64
        import time

        target = self.call("Target.createTarget", {"url": "about:blank", "newWindow": True})["targetId"]  # in front: frames run
        try:
            session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False}, session)
            navigated = self.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
            if navigated.get("errorText"):
                raise RuntimeError(f"Chromium could not open {page}: {navigated['errorText']}")
            deadline = time.monotonic() + self.timeout
            while not self.evaluate(session, "document.readyState == 'complete' && "
                                             "document.getElementById('axe-results') !== null"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{page}: the page's scripts did not finish within {self.timeout:g} s")
                time.sleep(0.1)
            if shot is not None:
                shot.parent.mkdir(parents=True, exist_ok=True)
                self.evaluate(session, "window.scrollTo(0, 0)")
                data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
                shot.write_bytes(base64.b64decode(data))
            return self.evaluate(session, "document.documentElement.outerHTML")
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        try:
            if not self._closed:
                self.call("Browser.close")
        except RuntimeError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def screenshot_name(site: Path, page: Path) -> str:
    """``book/static_mechanisms.html`` -> ``static_mechanisms.png``; nested pages keep their folder in the name."""
    rel = page.relative_to(site).with_suffix("")
    parts = rel.parts[1:] if rel.parts[0] == "book" and len(rel.parts) > 1 else rel.parts
    return "_".join(parts) + ".png"


def mirror_site(site: Path, mirror: Path) -> None:
    """A tree of symbolic links to every file of ``site``: pages with axe injected are written beside them."""
    for folder, _, files in os.walk(site):
        target = mirror / Path(folder).relative_to(site)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            (target / name).symlink_to(Path(folder, name).resolve())


def with_runner(source: str, axe: bool = True) -> str:
    """The page's HTML with the runner (``RUNNER``) added at the end of the body, and axe-core if ``axe``."""
    runner = (AXE_SCRIPT % {"axe": AXE_JS.resolve().as_uri()} if axe else "") + RUNNER % {
        "axe_on": "true" if axe else "false", "tags": json.dumps(AXE_TAGS),
        "rules": json.dumps({r: {"enabled": True} for r in AXE_EXTRA_RULES})}
    head, sep, tail = source.rpartition("</body>")
    return f"{head}{runner}{sep}{tail}" if sep else source + runner


def axe_violations(dom: str) -> tuple[list[dict], str]:
    """The critical and serious violations axe wrote into ``dom`` (one entry per rule), or an error."""
    found = AXE_RESULTS.search(dom)
    if not found:
        return [], "axe-core did not report (did the page's scripts finish?)"
    result = json.loads(html.unescape(found.group(1)))
    if result is None:  # the runner of a check without axe
        return [], ""
    if isinstance(result, dict):
        return [], f"axe-core failed: {result.get('error')}"
    return [v for v in result if v.get("impact") in AXE_FAILING], ""


def check_page(browser: Browser, site: Path, page: Path, mirror: Path, shots: Path | None = None,
               axe: bool = True) -> PageReport:
    source = page.read_text(encoding="utf-8")
    has_math = bool(MATH_SOURCE.search(source))
    has_widgets = WIDGET_SOURCE in source
    external = EXTERNAL.findall(source)
    chapter = page.relative_to(site).parts[0] == "book"   # a page of the book, not an index Sphinx generates
    images, image_problems = audit_images(source) if chapter else (0, [])
    shot = shots / screenshot_name(site, page) if shots and chapter else None
    # the page with the runner added renders math and widgets as the page itself does, and its screenshot
    # is the page's (the runner writes its report below the end of the body, out of the picture)
    copy = mirror / page.relative_to(site)
    copy.unlink()
    copy.write_text(with_runner(source, axe), encoding="utf-8")
    if shot is not None:
        shot.unlink(missing_ok=True)
    dom = browser.load(copy, shot)
    if shot is not None and (not shot.exists() or shot.stat().st_size == 0):
        raise RuntimeError(f"Chromium gave no screenshot of {page}")
    axe_found, axe_error = axe_violations(dom)
    return PageReport(
        page=str(page.relative_to(site)),
        has_math=has_math,
        math_ok=MATH_RENDERED in dom,
        has_widgets=has_widgets,
        widgets_ok=bool(WIDGET_RENDERED.search(dom)),
        external=external,
        images=images,
        image_problems=image_problems,
        screenshot=str(shot) if shot else "",
        axe=axe_found,
        axe_error=axe_error,
    )


def pages_of(site: Path) -> list[Path]:
    skip = {"genindex.html", "search.html", "proof.html", "prf-prf.html"}
    return sorted(
        p
        for p in site.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(site).parts) and p.name not in skip
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path, help="the built HTML folder, e.g. _build/html")
    parser.add_argument("--jobs", type=int, default=3,
                        help="pages loaded at a time, each in a window of its own in one browser (3: one waits while two compute)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="folder for one PNG per page (default: screenshots/ beside the site folder)")
    parser.add_argument("--no-screenshots", action="store_true", help="skip the screenshots")
    parser.add_argument("--no-axe", action="store_true", help="skip the accessibility check (axe-core)")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        raise SystemExit(f"{args.site} has no index.html: build the book first (make book)")
    shots = None if args.no_screenshots else (args.screenshots or args.site.resolve().parent / "screenshots")
    pages = pages_of(args.site)
    if not args.no_axe and not AXE_JS.exists():
        raise SystemExit(f"{AXE_JS} is missing: run `make vendor` (tools/vendor_js.py)")
    prefix = isolate_network()
    with tempfile.TemporaryDirectory(prefix="check-site-") as tmp, Browser(find_browser(), prefix) as browser, \
            ThreadPoolExecutor(args.jobs) as pool:
        mirror = Path(tmp)
        mirror_site(args.site.resolve(), mirror)
        reports = list(pool.map(lambda p: check_page(browser, args.site, p, mirror, shots, not args.no_axe), pages))
    isolation = "network namespace (unshare --net)" if prefix else "Chromium proxy/resolver block"
    print(f"offline site check: {len(reports)} pages, Chromium with no network via {isolation}")
    print(f"{'page':45s} {'math':>8s} {'widgets':>8s} {'external':>8s} {'images':>8s} {'axe':>8s}")
    mark = lambda has, ok: "-" if not has else ("ok" if ok else "FAIL")  # noqa: E731
    for r in reports:
        print(f"{r.page:45s} {mark(r.has_math, r.math_ok):>8s} {mark(r.has_widgets, r.widgets_ok):>8s} "
              f"{('ok' if not r.external else 'FAIL'):>8s} {mark(bool(r.images or r.image_problems), not r.image_problems):>8s} "
              f"{('-' if args.no_axe else 'ok' if not (r.axe or r.axe_error) else 'FAIL'):>8s}")
        for ref in r.external:
            print(f"    external resource: {ref}")
        for problem in r.image_problems:
            print(f"    {problem}")
        if r.axe_error:
            print(f"    {r.axe_error}")
        for v in r.axe:
            for target in v["targets"]:
                print(f"    axe {v['impact']}: {v['id']} on {r.page} at {target} ({v['help']})")
    if shots:
        taken = sum(bool(r.screenshot) for r in reports)
        print(f"screenshots of every book page ({taken} PNG files, top 1280 x 1600 pixels): {os.path.abspath(shots)}")
    if not args.no_axe:
        count = lambda impact: sum(len(v["targets"]) for r in reports for v in r.axe if v["impact"] == impact)  # noqa: E731
        print(f"accessibility (axe-core, WCAG A/AA): {count('critical')} critical and {count('serious')} serious violations")
    failed = [r.page for r in reports if not r.ok]
    if not any(r.has_math for r in reports):
        failed.append("(no page has math: the check would be vacuous)")
    if failed:
        print(f"offline site check FAILED: {failed}")
        return 1
    print("offline site check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
