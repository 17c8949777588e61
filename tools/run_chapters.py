"""Execute chapters in fresh kernels and keep the executed notebooks (the test step of ``make test``).

Each chapter (a MyST-markdown notebook) is converted by jupytext and executed by nbclient in
its own process, in the chapter's folder as the book build does, and saved to
``<out>/<path under book/>.ipynb``. A cell that raises fails the chapter (the check cells are
asserts); a cell that runs longer than ``--cell-timeout`` seconds, or a chapter that does not
finish within ``--timeout`` seconds (a stalled kernel), fails it with a message naming it.

Each check cell runs in a namespace of its own (:func:`class_notebooks.checks_isolated`), so the
visible cells run as in the class notebook: one that reads a name only a check cell defines fails here.
``tools/check_determinism.py`` then compares these outputs with the book build's (where the check cells
share the notebook's namespace): a visible output that depends on a check cell's side effects differs.
So each chapter runs exactly twice in ``make test``, here and in the book build, and the class notebook
of a chapter need not run a third time.

Usage: ``python tools/run_chapters.py --out _build/nbval [--jobs 2] book/a.md book/b.md ...``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from class_notebooks import checks_isolated  # noqa: E402  (tools/ is not a package)
from kernels import execute as execute_in_kernel  # noqa: E402
CELL_TIMEOUT = 270.0  # seconds, as execute.timeout in _config.yml
CHAPTER_TIMEOUT = 290.0  # seconds: a stalled kernel fails its chapter within 5 minutes


def longest_first(chapters: list[Path]) -> list[Path]:
    """``chapters`` with the slowest first, by their times in benchmarks/chapter_times.json (a chapter not
    listed counts as slowest), so that no long chapter starts last and runs alone at the end."""
    try:
        seconds = json.loads((ROOT / "benchmarks" / "chapter_times.json").read_text())["seconds"]
    except (OSError, ValueError, KeyError):
        seconds = {}

    def key(page: Path) -> float:
        where = page.resolve()
        relative = where.relative_to(ROOT) if where.is_relative_to(ROOT) else page   # a page elsewhere: not listed
        return -seconds.get(relative.with_suffix("").as_posix(), math.inf)

    return sorted(chapters, key=key)


def executed_path(source: Path, out: Path) -> Path:
    """Where the executed notebook of ``source`` is kept: its path under the nearest ``book/`` folder, in ``out``."""
    src = source.resolve()
    book = next((p for p in src.parents if p.name == "book"), src.parent)
    return out / src.relative_to(book).with_suffix(".ipynb")


def execute(source: Path, cell_timeout: float = CELL_TIMEOUT) -> nbformat.NotebookNode:
    """Execute a chapter in a fresh kernel, in its own folder; raise on the first failing cell.

    The check cells run isolated (:func:`class_notebooks.checks_isolated`), so the visible cells run as in
    the class notebook: this one execution also stands for the class notebook's."""
    nb = checks_isolated(source)
    return execute_in_kernel(nb, source.parent, int(cell_timeout))  # IPC: no TCP port to race for


def execute_isolated(source: Path, target: Path, timeout: float = CHAPTER_TIMEOUT,
                     cell_timeout: float = CELL_TIMEOUT) -> str | None:
    """:func:`execute` in its own process (and session), killed after ``timeout`` seconds.

    Writes the executed notebook to ``target``; returns ``None``, or a message naming the chapter.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "--execute-one", str(source), str(target), str(cell_timeout)],
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its kernel
        proc.communicate()
        return f"{source}: stalled, no result within {timeout:g} s (the kernel stopped answering or a cell hangs)"
    if proc.returncode != 0:
        return f"{source}: failed\n{log.strip()}"
    return None


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 5 and sys.argv[1] == "--execute-one":  # worker: run one chapter
        source, target = Path(sys.argv[2]), Path(sys.argv[3])
        try:
            nbformat.write(execute(source, float(sys.argv[4])), target)
        except CellTimeoutError as exc:
            print(f"a cell ran longer than {sys.argv[4]} s: {str(exc).splitlines()[0]}")
            return 1
        except CellExecutionError as exc:
            print(str(exc)[-3000:])
            return 1
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the executed notebooks")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=CHAPTER_TIMEOUT, help="seconds per chapter")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)

    def run(source: Path) -> str | None:
        problem = execute_isolated(source, executed_path(source, args.out), args.timeout, args.cell_timeout)
        print(f"{'FAILED' if problem else 'ok':>6}  {source}", flush=True)
        return problem

    with ThreadPoolExecutor(args.jobs) as pool:
        problems = [p for p in pool.map(run, longest_first(args.chapters)) if p]
    for p in problems:
        print(f"\n{p}")
    print(f"\n{len(args.chapters) - len(problems)} of {len(args.chapters)} chapters ran without error")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
