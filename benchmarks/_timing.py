"""The shared helpers of the benchmarks: the best of a few runs, and the common command line."""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Run ``fn`` ``repeat`` times; return the shortest wall time in seconds and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def parse_args(doc: str, option: str, default: int, help: str | None = None) -> argparse.Namespace:
    """The command line of a timing benchmark: ``--repeat`` (best of how many runs, default 3) and
    one integer ``option`` with its ``default``; ``doc`` is the script's docstring (its first line
    describes the script)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(option, type=int, default=default, help=help)
    return parser.parse_args()
