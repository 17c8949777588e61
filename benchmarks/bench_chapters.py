"""Time each chapter's execution and the whole ``make test``; print a table.

Targets on 2 cores (issue: foundation): each chapter executes in at most 20 s, and
``make test`` finishes in at most 10 minutes with a warm ``.venv``.

Usage::

    python benchmarks/bench_chapters.py            # chapters only (a minute or so)
    python benchmarks/bench_chapters.py --full     # also time `make test` end to end

Chapter times are the wall time of executing the chapter's notebook in a fresh
kernel (jupytext conversion, then nbclient), the way nbval and the book build run it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_TARGET_S = 20.0
MAKE_TEST_TARGET_S = 600.0


def chapters() -> list[Path]:
    """Every MyST-markdown notebook in book/ (a page with at least one code cell)."""
    return sorted(p for p in (ROOT / "book").rglob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8"))


def time_chapter(path: Path) -> float:
    """Wall time (s) to execute one chapter in a fresh python3 kernel."""
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def time_make_test() -> tuple[float, int]:
    """Wall time (s) and exit code of `make test` with the current (warm) .venv and a cold book cache."""
    subprocess.run(["make", "clean"], cwd=ROOT, check=True, capture_output=True)
    start = time.perf_counter()
    result = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - start, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="also time `make test` (several minutes)")
    args = parser.parse_args()
    rows, ok = [], True
    for path in chapters():
        seconds = time_chapter(path)
        passed = seconds <= CHAPTER_TARGET_S
        ok &= passed
        rows.append((str(path.relative_to(ROOT)), seconds, CHAPTER_TARGET_S, passed))
    if args.full:
        seconds, code = time_make_test()
        passed = code == 0 and seconds <= MAKE_TEST_TARGET_S
        ok &= passed
        rows.append((f"make test (exit {code}, warm .venv)", seconds, MAKE_TEST_TARGET_S, passed))
    width = max(len(r[0]) for r in rows)
    print(f"{'what':{width}s}  {'seconds':>8s}  {'target':>7s}  met")
    for name, seconds, target, passed in rows:
        print(f"{name:{width}s}  {seconds:8.1f}  {target:7.0f}  {'yes' if passed else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
