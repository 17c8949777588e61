"""Time ``mdlib.optimal_mechanism`` + ``mdlib.audit`` on finite type trees; print a table.

Targets (issue: finite dynamic-mechanism engine): T = 3 periods with 4 types each (64 type
paths) and T = 2 with 10 types each (100 paths) each solve and audit in at most 1 s; the
table shows how the time grows with the number of paths, up to a few thousand.

Three type processes are timed, because the size of the linear programme depends on how
much a buyer's past types say about his future ones (his "belief classes"):

* ``independent``: types independent across periods (one belief class per period);
* ``markov``: a random Markov chain (the class is the current type);
* ``correlated``: a random joint distribution (every history is its own class).

Usage::

    python benchmarks/bench_finite.py           # the two targets and the scaling table
    python benchmarks/bench_finite.py --quick   # the two targets only
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mdlib import audit, optimal_mechanism

TARGET_S = 1.0


def instance(T: int, m: int, process: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    if process == "independent":
        probs = np.ones(())
        for _ in range(T):
            probs = np.multiply.outer(probs, rng.dirichlet(np.ones(m)))
    elif process == "markov":
        probs = rng.dirichlet(np.ones(m))
        for _ in range(T - 1):
            P = rng.dirichlet(np.ones(m), size=m)
            probs = probs[..., None] * P  # P(next | current) multiplies the last axis
    else:
        probs = rng.random((m,) * T)
        probs /= probs.sum()
    values = [np.sort(rng.random(m)) for _ in range(T)]
    return values, probs


def timed(T: int, m: int, process: str, kind: str = "general", ir: str = "ex-post", repeat: int = 3):
    values, probs = instance(T, m, process)
    solve, check = np.inf, np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        mech = optimal_mechanism(values, probs, ir=ir, kind=kind)
        t1 = time.perf_counter()
        a = audit(mech)
        t2 = time.perf_counter()
        solve, check = min(solve, t1 - t0), min(check, t2 - t1)
    return solve, check, a.gain, mech.revenue


def row(T, m, process, kind="general", repeat=3):
    solve, check, gain, rev = timed(T, m, process, kind, repeat=repeat)
    print(f"{T:>2} {m:>4} {m**T:>6}  {process:<12}{kind:<9}{solve:>9.3f}{check:>9.3f}{solve + check:>9.3f}  {gain:>9.1e}  {rev:.6f}")
    return solve + check


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    head = f"{'T':>2} {'m':>4} {'paths':>6}  {'process':<12}{'kind':<9}{'solve s':>9}{'audit s':>9}{'total s':>9}  {'gain':>9}  revenue"
    print("Targets (<= 1 s each, general kind, ex-post IR)")
    print(head)
    ok = True
    for T, m in [(3, 4), (2, 10)]:
        for process in ("independent", "markov", "correlated"):
            ok &= row(T, m, process) <= TARGET_S
    print("targets met" if ok else "TARGET MISSED")
    if args.quick:
        return
    print("\nScaling with the number of type paths")
    print(head)
    for T, ms in [(2, [8, 16, 23, 32, 45]), (3, [4, 6, 8, 10, 13])]:
        for process in ("independent", "markov", "correlated"):
            for m in ms:
                if process == "correlated" and m**T > 1100:
                    continue  # every history its own belief class: the programme grows like paths^2
                row(T, m, process, repeat=1)
    print("\nSparse trees: 2N first types, each fixing the second type (2N^2 paths, 2N possible)")
    print(f"{'N':>4} {'paths':>7} {'possible':>9}{'solve s':>9}{'audit s':>9}  {'gain':>9}")
    for N in (40, 80, 160):
        probs = np.zeros((2 * N, N))
        probs[np.arange(2 * N), np.arange(2 * N) % N] = 1 / (2 * N)
        values = [np.linspace(0, 1, 2 * N), np.linspace(0, 1, N)]
        t0 = time.perf_counter()
        mech = optimal_mechanism(values, probs)
        t1 = time.perf_counter()
        a = audit(mech)
        t2 = time.perf_counter()
        print(f"{N:>4} {probs.size:>7} {2 * N:>9}{t1 - t0:>9.3f}{t2 - t1:>9.3f}  {a.gain:>9.1e}")
    print("\nThe static kind (one report of the whole path: paths^2 incentive constraints)")
    print(head)
    for T, m in [(2, 8), (2, 10), (2, 16), (3, 6)]:  # (2, 23), 529 paths: about 45 s
        row(T, m, "correlated", kind="static", repeat=1)


if __name__ == "__main__":
    main()
