"""Proposition 3 of Ashlagi, Daskalakis and Haghpanah on a 50 x 50 grid; print a table.

Target: the (q1, q2) region map for two goods with values 1 and 2,
one ``general`` and one ``static`` linear programme per cell (2,500 LP pairs), in at most 60 s.
The table reports the time, LPs per second, the mismatches against the closed-form region
``q1 < 1/2, q2 > (1 - q1)/(2 - q1)``, the largest gain of the optimum over the best static menu
(closed form 1/6 at (1/3, 1/2)), the fraction of cells in the region (area ln(4/3)), and the
throughput of the ``general`` programme (allocation after the last report) against the ``separable``
one on the correlated 9 x 9 grid of their Section 5.

Usage::

    python benchmarks/bench_sequential.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from mdlib import optimal_mechanism

TARGET_S = 60.0
VALUES = [[1.0, 2.0], [1.0, 2.0]]


def region_map(n: int = 50) -> dict:
    grid = (np.arange(n) + 0.5) / n  # cell centres, none on the boundary q1 = 1/2
    start = time.perf_counter()
    gains = np.zeros((n, n))
    for (i, q1), (j, q2) in itertools.product(enumerate(grid), enumerate(grid)):
        probs = np.outer([1 - q1, q1], [1 - q2, q2])
        gains[j, i] = optimal_mechanism(VALUES, probs).revenue - optimal_mechanism(VALUES, probs, kind="static").revenue
    seconds = time.perf_counter() - start
    Q1, Q2 = np.meshgrid(grid, grid)
    region = (Q1 < 0.5) & (Q2 > (1 - Q1) / (2 - Q1))
    k = np.unravel_index(np.argmax(gains), gains.shape)
    return {
        "cells": n * n,
        "LPs": 2 * n * n,
        "seconds": seconds,
        "LPs/s": 2 * n * n / seconds,
        "mismatches": int(np.sum((gains > 1e-6) != region)),
        "max gain": float(gains.max()),
        "at (q1, q2)": (round(float(Q1[k]), 3), round(float(Q2[k]), 3)),
        "region fraction": float(region.mean()),
        "ln(4/3)": float(np.log(4 / 3)),
    }


def correlated(q1: float, q2: float, lam: float) -> np.ndarray:
    p22 = (1 - lam) * q1 * q2 + lam * min(q1, q2) if lam >= 0 else (1 + lam) * q1 * q2 - lam * max(0.0, q1 + q2 - 1)
    return np.array([[1 - q1 - q2 + p22, q2 - p22], [q1 - p22, p22]])


def general_grid(lam: float = -0.25) -> dict:
    grid = np.arange(1, 10) / 10
    start = time.perf_counter()
    better = 0
    for q1, q2 in itertools.product(grid, grid):
        probs = correlated(q1, q2, lam)
        better += optimal_mechanism(VALUES, probs, kind="general").revenue > optimal_mechanism(VALUES, probs).revenue + 1e-7
    seconds = time.perf_counter() - start
    return {"λ": lam, "cells": 81, "LPs": 162, "seconds": seconds, "LPs/s": 162 / seconds, "general > separable": better}


def main() -> None:
    r = region_map()
    print("Proposition 3 region map, values {1, 2}, 50 x 50 grid")
    for key, val in r.items():
        print(f"  {key:<16} {val:.4f}" if isinstance(val, float) else f"  {key:<16} {val}")
    print(f"  target: <= {TARGET_S:.0f} s  ->  {'OK' if r['seconds'] <= TARGET_S else 'MISSED'}")
    d = general_grid()
    print("General vs separable mechanisms, correlated values (Section 5 of Ashlagi et al.)")
    for key, val in d.items():
        print(f"  {key:<18} {val:.4f}" if isinstance(val, float) else f"  {key:<18} {val}")


if __name__ == "__main__":
    main()
