"""Time ``mdlib.bernoulli_gittins_index`` and ``mdlib.gittins_index`` and print two tables.

Targets:

* the full Beta-Bernoulli table, all (a, b) with a, b >= 1 and a + b <= 100, at discount
  0.9 to 1e-6 in <= 1 s and >= 10x faster than a per-state calibration loop (bisection on
  the retirement reward, a numpy backward induction per step, ``mdlib.beta_stopping_value``,
  on the same tree depth); discount 0.99 with a + b <= 50 in <= 5 s;
* ``gittins_index`` on random dense arms of 100, 400 and 1,000 states within 2x of the
  time of the PyPI package ``markovianbandit-pkg`` (if installed), agreeing to 1e-9.

The per-state loop is too slow to run on the whole table; it is timed on a seeded sample
of states and scaled up (the cost per state barely depends on the state). Times are the
best of ``--repeat`` runs after a warm-up call (numba compiles on first use; both
libraries are warmed up).

Usage::

    python benchmarks/bench_gittins.py [--repeat 3] [--sample 40]
"""

from __future__ import annotations

import math
import time

import numpy as np
from _timing import parse_args, timed


def table_states(total: int):
    a, b = np.meshgrid(np.arange(1, total), np.arange(1, total), indexing="ij")
    keep = a + b <= total
    return a[keep].astype(float), b[keep].astype(float)


def depth_for(a: float, b: float, d: float, tol: float) -> int:
    """The tree depth mdlib uses for (a, b) (same truncation bound), for a fair loop."""
    n = 1
    while d**n / (4 * math.sqrt(a + b + n + 1) * (1 - d)) > 0.25 * tol:
        n += 1
    return n


def calibration_loop_one(a: float, b: float, d: float, tol: float) -> float:
    """Calibration for one state: bisection on the retirement reward, a backward induction per step."""
    import mdlib

    depth = depth_for(a, b, d, tol)
    lo, hi = a / (a + b), 1.0
    while hi - lo > tol:
        lam = 0.5 * (lo + hi)
        if mdlib.beta_stopping_value(a, b, lam, d, depth) > lam / (1 - d):
            lo = lam
        else:
            hi = lam
    return 0.5 * (lo + hi)


def bernoulli_rows(repeat: int, sample: int):
    import mdlib

    mdlib.bernoulli_gittins_index(1, 1, 0.9)  # compile
    rows = []
    for d, total, target in [(0.9, 100, 1.0), (0.99, 50, 5.0)]:
        a, b = table_states(total)
        t_mdlib, table = timed(lambda: mdlib.bernoulli_gittins_index(a, b, d, tol=1e-6), repeat)
        rng = np.random.default_rng(0)
        pick = rng.choice(a.size, size=min(sample, a.size), replace=False)
        t0 = time.perf_counter()
        loop = np.array([calibration_loop_one(a[k], b[k], d, 1e-6) for k in pick])
        t_loop = (time.perf_counter() - t0) * a.size / pick.size
        err = float(np.abs(loop - table[pick]).max())
        rows.append((d, total, a.size, t_mdlib, target, t_loop, t_loop / t_mdlib, err))
    return rows


def random_arm(n: int, seed: int):
    import mdlib

    return mdlib.random_arms(seed, 1, n)[0]


def finite_rows(repeat: int, discount: float = 0.9):
    import mdlib

    try:
        import markovianbandit as mb
    except ImportError:  # the peer is optional
        mb = None
    P, r = random_arm(5, 0)
    mdlib.gittins_index(P, r, discount)  # compile
    if mb is not None:
        mb.rested_bandit_from_P1_R1(P, r).gittins_indices(discount)
    rows = []
    for n in (100, 400, 1000):
        P, r = random_arm(n, n)
        t_mdlib, g = timed(lambda: mdlib.gittins_index(P, r, discount), repeat)
        if mb is None:
            rows.append((n, t_mdlib, float("nan"), float("nan")))
            continue
        t_peer, g_peer = timed(lambda: mb.rested_bandit_from_P1_R1(P, r).gittins_indices(discount), repeat)
        rows.append((n, t_mdlib, t_peer, float(np.abs(g - np.asarray(g_peer)).max())))
    return rows


def main() -> None:
    args = parse_args(__doc__, "--sample", 40)

    print("Beta-Bernoulli table, tol 1e-6 (loop = per-state calibration, scaled from a sample)")
    print(f"{'discount':>8} {'a+b<=':>6} {'states':>7} {'mdlib s':>9} {'target s':>9} {'loop s':>9} {'speed-up':>9} {'max |diff|':>11}  ok")
    for d, total, n, t, target, t_loop, speed, err in bernoulli_rows(args.repeat, args.sample):
        ok = t <= target and speed >= 10 and err <= 2e-6
        print(f"{d:>8} {total:>6} {n:>7} {t:>9.3f} {target:>9.1f} {t_loop:>9.1f} {speed:>9.0f} {err:>11.1e}  {'yes' if ok else 'NO'}")

    print()
    print("Random dense arms, discount 0.9: mdlib.gittins_index vs markovianbandit-pkg")
    print(f"{'states':>7} {'mdlib s':>9} {'peer s':>9} {'ratio':>7} {'max |diff|':>11}  ok")
    for n, t, t_peer, err in finite_rows(args.repeat):
        ratio = t / t_peer if t_peer == t_peer else float("nan")
        ok = (ratio != ratio) or (ratio <= 2 and err <= 1e-9)
        print(f"{n:>7} {t:>9.4f} {t_peer:>9.4f} {ratio:>7.2f} {err:>11.1e}  {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
