"""Time ``mdlib.optimal_option_contract`` and check its accuracy; print a table.

Target: computing the contract on a 200-point grid of
ex-ante types takes at most 1 s.  For each instance the script reports the time to
build the contract with ``n_grid=200`` (median of a few runs), the time to evaluate the
whole menu (strike, fee, utility) at 200 further types, and the error of the revenue
against its closed form.

Usage::

    python benchmarks/bench_screening.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from scipy import integrate, stats

from mdlib import optimal_option_contract

TARGET_S = 1.0
REPEATS = 3


def gaussian_revenue(sigma: float) -> float:
    """E[(2 tau - 1 + eps)^+] for tau ~ U[0, 1], eps ~ N(0, sigma^2)."""
    call = lambda m: m * stats.norm.cdf(m / sigma) + sigma * stats.norm.pdf(m / sigma)  # noqa: E731
    return integrate.quad(lambda t: call(2 * t - 1), 0, 1, epsabs=1e-13)[0]


INSTANCES = {
    "uniform news": (stats.uniform(0, 1), lambda t: stats.uniform(t - 0.5, 1.0), 13 / 48),
    "Gaussian news, sigma = 0.25": (stats.uniform(0, 1), lambda t: stats.norm(t, 0.25), gaussian_revenue(0.25)),
    "Gaussian news, sigma = 0.1": (stats.uniform(0, 1), lambda t: stats.norm(t, 0.1), gaussian_revenue(0.1)),
    "exponential news, tau ~ U[1, 3]": (stats.uniform(1, 2), lambda t: stats.expon(scale=t), 9 / 8),
    "lognormal tau, Gaussian news": (stats.lognorm(0.5), lambda t: stats.norm(t, 0.3), float("nan")),
}


def main() -> None:
    header = f"{'instance':34} {'build (s)':>10} {'menu@200 (s)':>13} {'revenue':>10} {'|error|':>9}  ok"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, (first, second, exact) in INSTANCES.items():
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            contract = optimal_option_contract(first, second, n_grid=200)
            times.append(time.perf_counter() - start)
        build = statistics.median(times)
        lo, hi = contract.tau[0], contract.tau[-1]
        start = time.perf_counter()
        contract.menu(np.linspace(lo, hi, 200))
        menu_time = time.perf_counter() - start
        err = abs(contract.revenue - exact)
        worst = max(worst, build)
        err_text = "-" if np.isnan(err) else f"{err:.1e}"
        print(f"{name:34} {build:10.3f} {menu_time:13.3f} {contract.revenue:10.6f} {err_text:>9}  "
              f"{'yes' if build <= TARGET_S else 'NO'}")
    print(f"\nslowest build with n_grid=200: {worst:.3f} s (target <= {TARGET_S:.1f} s)")


if __name__ == "__main__":
    main()
