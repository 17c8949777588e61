"""Time ``mdlib.single_buyer_menu`` and check its accuracy; print a table.

For each instance the script reports the time to build the menu (median of a few
runs), the time to evaluate price, fee and rent at 1,000 types and the menu fee at
1,000 prices, the library's own quadrature error estimate, and the error of the profit
against an independent ``scipy.integrate.quad`` of the virtual surplus (the closed form
on the uniform instance).  No time target is set; the chapter builds about a
dozen menus, so a few tens of milliseconds each is what matters.

Usage::

    python benchmarks/bench_virtual.py
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
from scipy import integrate, stats

from mdlib import single_buyer_menu

REPEATS = 5
COST, DISCOUNT = 0.2, 0.9
D = DISCOUNT / (1 - DISCOUNT)


def excess(shock, k: float) -> float:
    """E[(X - k)^+] by quadrature of the survival function."""
    if not math.isfinite(k):
        return 0.0
    lo, hi = shock.support()
    if isinstance(shock.dist, stats.rv_discrete):  # finite support: an exact sum
        atoms = np.arange(lo, hi + 1)
        return float(np.sum(shock.pmf(atoms) * np.maximum(atoms - k, 0.0)))
    return integrate.quad(lambda x: shock.sf(x), max(k, lo), hi, epsabs=1e-14, limit=200)[0] + max(lo - k, 0.0)


def reference_profit(first, shock) -> float:
    """D * int phi(s) E[(X - c/phi(s))^+] f(s) ds over phi > 0, by nested quad."""
    lo, hi = first.support()
    phi = lambda s: s - first.sf(s) / first.pdf(s) if s < hi else s  # noqa: E731
    integrand = lambda s: phi(s) * excess(shock, COST / phi(s)) * first.pdf(s) if phi(s) > 0 else 0.0  # noqa: E731
    return D * integrate.quad(integrand, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=400)[0]


INSTANCES = {
    "uniform / uniform (closed form)": (stats.uniform(0, 1), stats.uniform(0, 1),
                                        D * (1 - 4 * COST + 3 * COST**2 - 2 * COST**2 * math.log(COST)) / 8),
    "Beta(2,2) / exponential": (stats.beta(2, 2), stats.expon(), None),
    "truncated exponential / lognormal": (stats.truncexpon(b=2.0, scale=0.5), stats.lognorm(0.5), None),
    "uniform[1,2] / gamma(2)": (stats.uniform(1, 1), stats.gamma(2), None),
    "power law k=2 / Bernoulli(0.3)": (stats.powerlaw(2), stats.bernoulli(0.3), None),
}


def main() -> None:
    print(f"single_buyer_menu, c = {COST}, delta = {DISCOUNT}; times in ms (median of {REPEATS})")
    header = f"{'instance':36s} {'build':>8s} {'eval 4x1000':>12s} {'error est.':>11s} {'profit':>10s} {'|profit - ref|':>15s}"
    print(header)
    print("-" * len(header))
    for name, (first, shock, exact) in INSTANCES.items():
        builds = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            menu = single_buyer_menu(first, shock, cost=COST, discount=DISCOUNT)
            builds.append(time.perf_counter() - t0)
        hi = float(first.support()[1])
        types = np.linspace(menu.cutoff, hi, 1000)
        p_lo, p_hi = menu.price_range()
        prices = np.linspace(p_lo, min(p_hi, 10 * p_lo), 1000)
        evals = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            menu.price(types), menu.fee(types), menu.rent(types), menu.menu_fee(prices)
            evals.append(time.perf_counter() - t0)
        ref = exact if exact is not None else reference_profit(first, shock)
        print(f"{name:36s} {1e3 * statistics.median(builds):8.1f} {1e3 * statistics.median(evals):12.1f} "
              f"{menu.error:11.1e} {menu.profit:10.6f} {abs(menu.profit - ref):15.1e}")


if __name__ == "__main__":
    main()
