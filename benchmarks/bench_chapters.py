"""Time each chapter's execution and the whole ``make test``; print a table.

Targets on 2 cores: each chapter executes in at most 10 s, and ``make test`` after ``make book``
(a warm ``.venv`` and a built book, as a contributor runs it) finishes in at most 4 minutes.

Usage::

    python benchmarks/bench_chapters.py            # chapters only (a minute or so)
    python benchmarks/bench_chapters.py --full     # also time `make test` after `make book`, and each of its
                                                   # steps (the wall time of every recipe line, slowest first)
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
MAKE_TEST_TARGET_S = 240.0


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


def time_make_test() -> tuple[float, int, list[tuple[float, str]]]:
    """Wall time (s) and exit code of ``make test`` after ``make book`` (untimed), and the wall time of each
    recipe line it ran (make's SHELL wrapped in a timer), slowest first."""
    subprocess.run(["make", "book"], cwd=ROOT, check=True, capture_output=True)
    log = ROOT / "_build" / "make_test_steps.log"
    log.unlink(missing_ok=True)
    timer = ROOT / "_build" / "timed_shell.sh"
    timer.write_text('#!/usr/bin/env bash\nstart=$EPOCHREALTIME; bash "$@"; rc=$?\n'
                     'printf "%s\\t%s\\t%s\\n" "$start" "$EPOCHREALTIME" "$(echo "${@: -1}" | tr "\\n" " ")" >> "$TIMED_LOG"\n'
                     'exit $rc\n')
    timer.chmod(0o755)
    start = time.perf_counter()
    result = subprocess.run(["make", "test", f"SHELL={timer}"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "TIMED_LOG": str(log)})
    seconds = time.perf_counter() - start
    steps = []
    for line in log.read_text().splitlines() if log.exists() else []:
        begin, end, command = line.split("\t", 2)
        steps.append((float(end) - float(begin), " ".join(command.split())[:100]))
    return seconds, result.returncode, sorted(steps, reverse=True)


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
        seconds, code, steps = time_make_test()
        passed = code == 0 and seconds <= MAKE_TEST_TARGET_S
        ok &= passed
        rows.append((f"make test after make book (exit {code})", seconds, MAKE_TEST_TARGET_S, passed))
        print("make test, each recipe line's wall time (the one-core builds overlap, see the Makefile):")
        for took, command in steps[:15]:
            print(f"  {took:7.1f}  {command}")
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
