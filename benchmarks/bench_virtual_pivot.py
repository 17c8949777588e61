"""Time the two-advertiser virtual-pivot auction's expected profit on grids of margins, and print a table.

Target: the profit on a 200 x 200 midpoint grid of (s_1,0, s_2,0) in at most 10 s.

The instance is the chapter's (the ad auction of Kakade et al.'s Section 5): margins uniform on [0, 1], A(s) = s,
one free trial each at t = 1, two auction periods, discount 0.9. Profit is computed two ways:

* payments: the mean over the grid of the relaxed payments p*_1 + p*_2
  (``mdlib.ad_auction_relaxed``: value minus the envelope rent, summed exactly over the
  steps of the allocation);
* virtual surplus: the mean of the weighted welfare with scales (2 s - 1)^+
  (``mdlib.ad_auction``, backward induction vectorised over the grid).

Both are vectorised: the allocation depends on the margins only through the weights, so the
whole grid is one array computation. For scale, the general route (``mdlib.dynamic_pivot``
with weights, one finite model per grid point) is timed on a sample of points and
extrapolated, and its weighted welfare is compared with the fast path on those points.
The exact value (piecewise integration, see the chapter) is printed for reference.

Usage::

    python benchmarks/bench_virtual_pivot.py [--repeat 3] [--sample 100]
"""

from __future__ import annotations

import time

import numpy as np
from _timing import parse_args, timed

TARGET_S = 10.0
DISCOUNT = 0.9


def grid(n: int) -> np.ndarray:
    g = (np.arange(n) + 0.5) / n
    return np.stack(np.meshgrid(g, g, indexing="ij"), -1)


def exact_profit() -> float:
    """Expected virtual surplus over U[0,1]^2, integrated exactly (homogeneity + breakpoints)."""
    import mdlib

    r = mdlib.ad_auction_breakpoints(DISCOUNT)
    total = 0.0
    for cuts, first in ((r, True), (1 / r, False)):
        e = np.unique(np.concatenate([[0.0, 1.0], cuts[(cuts > 0) & (cuts < 1)]]))
        m = (e[:-1] + e[1:]) / 2
        u = np.stack([m, np.ones_like(m)] if first else [np.ones_like(m), m], -1)
        total += np.sum(np.diff(e) * mdlib.ad_auction(u, DISCOUNT).welfare.mean(axis=(-2, -1)))
    both = total / 3                                   # degree-1 homogeneous integrand
    alone = DISCOUNT * (1 + DISCOUNT) / 2
    return both / 4 + 2 * (1 / 4) * alone / 2


def main() -> None:
    args = parse_args(__doc__, "--sample", 100, "grid points run through dynamic_pivot")

    t0 = time.perf_counter()
    import mdlib

    mdlib.ad_auction_relaxed([0.7, 0.8], DISCOUNT)
    cold = time.perf_counter() - t0
    print(f"cold start (import mdlib, breakpoint tables): {cold:.2f} s")
    exact = exact_profit()
    print(f"exact expected profit (piecewise integration): {exact:.7f}\n")

    header = f"{'grid':>9} {'payments [s]':>13} {'profit':>10} {'error':>9} {'surplus [s]':>12} {'profit':>10} {'error':>9}"
    print(header)
    print("-" * len(header))
    t_200 = np.inf
    for n in (50, 100, 200, 400):
        S = grid(n)
        t_pay, pay = timed(lambda: mdlib.ad_auction_relaxed(S, DISCOUNT).payment.sum(-1).mean(), args.repeat)
        t_vs, vs = timed(lambda: mdlib.ad_auction(np.clip(2 * S - 1, 0, None), DISCOUNT).welfare.mean(), args.repeat)
        if n == 200:
            t_200 = t_pay + t_vs
        print(f"{n:>4} x{n:>4} {t_pay:>13.3f} {pay:>10.6f} {pay - exact:>9.1e} {t_vs:>12.3f} {vs:>10.6f} {vs - exact:>9.1e}")

    # the general route on a sample of grid points, and agreement with the fast path there
    rng = np.random.default_rng(0)
    S = grid(200).reshape(-1, 2)
    pick = S[rng.choice(len(S), args.sample, replace=False)]
    pick = pick[(pick > 0.5).all(axis=1)]              # both included: the model has two agents
    t0 = time.perf_counter()
    worst = 0.0
    for s in pick:
        alpha = 2 - 1 / s
        model = mdlib.ad_auction_model(s, DISCOUNT)
        res = mdlib.dynamic_pivot(model, weights=alpha)
        fast = mdlib.ad_auction(alpha * s, DISCOUNT).welfare
        starts = [model.state_index(k) for k in ((0, 0), (0, 1), (1, 0), (1, 1))]
        worst = max(worst, float(np.abs(DISCOUNT * res.welfare[starts] - fast.reshape(-1)).max()))
    per_point = (time.perf_counter() - t0) / max(len(pick), 1)
    print(f"\ndynamic_pivot(weights=...) per grid point: {per_point * 1e3:.1f} ms "
          f"(x 40,000 points = {per_point * 40_000:.0f} s); max |W - fast W| on {len(pick)} points: {worst:.1e}")
    verdict = "meets" if t_200 <= TARGET_S else "MISSES"
    print(f"200 x 200 grid, both routes: {t_200:.3f} s, {verdict} the {TARGET_S:.0f} s target")


if __name__ == "__main__":
    main()
