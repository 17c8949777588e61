"""Time ``mdlib.handicap_auction`` on the Gaussian instance for 2 to 10 bidders; print a table.

Target: the revenue for 2-10 bidders on the Gaussian instance
(tau ~ U[0, 1], v = tau + N(0, 0.25^2)) takes at most 2 s each.  For each number of bidders
the script reports the time to build the auction with the default grid (median of a few
runs), its revenue, the stated quadrature error, and the error against an independent
quadrature of E[max(0, psi^1, ..., psi^n)] with the closed-form distribution of psi.

Usage::

    python benchmarks/bench_handicap.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from scipy import integrate, special, stats

from mdlib import handicap_auction

TARGET_S = 2.0
REPEATS = 3
SIGMA = 0.25


def psi_cdf(x: float) -> float:
    """Pr(psi <= x) for psi = 2 tau - 1 + N(0, sigma^2), tau ~ U[0, 1] (closed form)."""
    Psi = lambda z: z * special.ndtr(z) + np.exp(-z * z / 2) / np.sqrt(2 * np.pi)  # noqa: E731
    return SIGMA / 2 * (Psi((x + 1) / SIGMA) - Psi((x - 1) / SIGMA))


def exact_revenue(n: int) -> float:
    return integrate.quad(lambda x: 1 - psi_cdf(x) ** n, 0, 1 + 10 * SIGMA, epsabs=1e-13, limit=200)[0]


def main() -> None:
    first, news = stats.uniform(0, 1), lambda t: stats.norm(t, SIGMA)
    header = f"{'bidders':>7} {'build (s)':>10} {'revenue':>10} {'stated err':>11} {'|error|':>9}  ok"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for n in range(2, 11):
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            auction = handicap_auction(first, news, n)
            times.append(time.perf_counter() - t0)
        build = statistics.median(times)
        worst = max(worst, build)
        err = abs(auction.revenue - exact_revenue(n))
        ok = build <= TARGET_S and err < 1e-8
        print(f"{n:7d} {build:10.3f} {auction.revenue:10.6f} {auction.revenue_error:11.1e} {err:9.1e}  {'yes' if ok else 'NO'}")
    print(f"\nslowest build: {worst:.3f} s (target <= {TARGET_S} s)")


if __name__ == "__main__":
    main()
