"""Time each chapter's execution and the whole ``make test``; print a table.

Targets on 2 cores: each chapter executes in at most 10 s, and
``make test`` finishes in at most 10 minutes with a warm ``.venv``.

Usage::

    python benchmarks/bench_chapters.py            # chapters only (a minute or so)
    python benchmarks/bench_chapters.py --full     # also time `make test` end to end
    python benchmarks/bench_chapters.py --json benchmarks/chapter_times.json
                                                   # the pages of _toc.yml only; write their times
                                                   # (the instructor guide shows this file)

Chapter times are the wall time of executing the chapter's notebook in a fresh
kernel (jupytext conversion, then nbclient), the way nbval and the book build run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_TARGET_S = 10.0
MAKE_TEST_TARGET_S = 600.0


def chapters() -> list[Path]:
    """Every MyST-markdown notebook in book/ (a page with at least one code cell)."""
    return sorted(p for p in (ROOT / "book").rglob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8"))


def toc_chapters() -> list[Path]:
    """The notebooks of _toc.yml, in reading order, except the page that shows their times."""
    files = re.findall(r"^\s*(?:root|- file):\s*(\S+)", (ROOT / "_toc.yml").read_text(encoding="utf-8"), re.M)
    pages = [ROOT / f"{f.removesuffix('.md')}.md" for f in files]
    return [p for p in pages if "```{code-cell}" in (text := p.read_text(encoding="utf-8")) and "chapter_times.json" not in text]


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
    parser.add_argument("--json", type=Path, help="time the pages of _toc.yml and write their times to this file")
    args = parser.parse_args()
    rows, ok = [], True
    for path in (toc_chapters() if args.json else chapters()):
        seconds = time_chapter(path)
        passed = seconds <= CHAPTER_TARGET_S
        ok &= passed
        rows.append((str(path.relative_to(ROOT)), seconds, CHAPTER_TARGET_S, passed))
    if args.full:
        seconds, code = time_make_test()
        passed = code == 0 and seconds <= MAKE_TEST_TARGET_S
        ok &= passed
        rows.append((f"make test (exit {code}, warm .venv)", seconds, MAKE_TEST_TARGET_S, passed))
    if args.json:
        times = {name.removesuffix(".md"): round(seconds, 1) for name, seconds, _, _ in rows if name.startswith("book/")}
        record = {"cores": os.cpu_count(), "python": platform.python_version(), "seconds": times}
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    width = max(len(r[0]) for r in rows)
    print(f"{'what':{width}s}  {'seconds':>8s}  {'target':>7s}  met")
    for name, seconds, target, passed in rows:
        print(f"{name:{width}s}  {seconds:8.1f}  {target:7.0f}  {'yes' if passed else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
