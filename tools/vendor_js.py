"""Fetch the JavaScript the offline book needs from npm and verify it by sha256.

The built site must typeset math (MathJax 3) and render ipywidgets with no network
at read time, so we ship local copies of MathJax, the ipywidgets HTML manager and
RequireJS inside the site.  The accessibility check of ``tools/check_site.py`` runs
axe-core, which goes to ``_build/axe-core`` (outside ``offline_static``, so it is not
copied into the site).  Nothing is committed: this script runs before every book
build, downloads the exact npm tarballs pinned below (``npm pack``), refuses any
whose sha256 differs from the pinned value, and unpacks the files the site needs to
``_build/offline_static/vendor``.  ``_config.yml`` points Sphinx at that folder.

Run ``python tools/vendor_js.py`` (the Makefile does this for you).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / "npm-cache"
STATIC = ROOT / "_build" / "offline_static"
VENDOR = STATIC / "vendor"
AXE = ROOT / "_build" / "axe-core" / "axe.min.js"   # an absolute destination: outside the site

# package spec -> (tarball name, sha256 of the tarball, files to copy: src -> dest)
PACKAGES: dict[str, tuple[str, str, dict[str, str]]] = {
    "mathjax@3.2.2": (
        "mathjax-3.2.2.tgz",
        "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09",
        {"package/es5": "mathjax"},
    ),
    "@jupyter-widgets/html-manager@1.0.6": (
        "jupyter-widgets-html-manager-1.0.6.tgz",
        "6c198ceb99ba7e7526990a1de16e8147ad7d3a714e3fb06741183623c04b5f6e",
        {"package/dist": "html-manager"},
    ),
    # axe-core: the accessibility rules tools/check_site.py runs on every page (never shipped in the site).
    "axe-core@4.14.1": (
        "axe-core-4.14.1.tgz",
        "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
        {"package/axe.min.js": str(AXE)},
    ),
    "requirejs@2.3.8": (
        "requirejs-2.3.8.tgz",
        "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
        {"package/require.js": "require.js"},
    ),
}

# Files the site must contain after vendoring (checked at the end).
REQUIRED = [
    "mathjax/tex-mml-chtml.js",
    "mathjax/output/chtml/fonts/woff-v2",
    "html-manager/embed-amd.js",
    "require.js",
    str(AXE),
]


def sha256(path: Path) -> str:
    """Return the sha256 checksum (hex) of a file."""
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def fetch(spec: str, tarball: str, expected: str) -> Path:
    """Return the verified tarball for ``spec``, downloading it with ``npm pack`` if needed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / tarball
    if path.exists() and sha256(path) == expected:
        return path
    path.unlink(missing_ok=True)
    subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(CACHE)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    got = sha256(path)
    if got != expected:
        path.unlink()
        raise SystemExit(f"sha256 mismatch for {spec}: expected {expected}, got {got}")
    return path


def unpack(path: Path, files: dict[str, str]) -> None:
    """Extract the listed members of an npm tarball into the vendor folder."""
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path) as tar:
        tar.extractall(tmp, filter="data")
        for src, dest in files.items():
            source, target = Path(tmp) / src, VENDOR / dest
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.map"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    stamp = VENDOR / ".sha256"
    want = "\n".join(f"{spec} {sha}" for spec, (_, sha, _) in sorted(PACKAGES.items()))
    if stamp.exists() and stamp.read_text() == want and all((VENDOR / r).exists() for r in REQUIRED):
        print(f"vendored JavaScript up to date in {VENDOR.relative_to(ROOT)}")
        return 0
    for spec, (tarball, expected, files) in PACKAGES.items():
        unpack(fetch(spec, tarball, expected), files)
    missing = [r for r in REQUIRED if not (VENDOR / r).exists()]
    if missing:
        raise SystemExit(f"vendored JavaScript is missing {missing}")
    stamp.write_text(want)
    print(f"vendored and verified {len(PACKAGES)} npm packages into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
