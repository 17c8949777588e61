"""Time ``mdlib.second_price_revenue`` against a scalar quadrature of the same formula; print a table.

``second_price_revenue`` integrates :math:`B_2(t) = \\Pr[\\text{at least two of } n \\text{ values exceed } t]`
over pieces of the support, cut at upper quantiles (tail probabilities 0.9 down to 1e-12) and at the
ends of a mixture's components, all pieces at once by tanh-sinh quadrature, which evaluates the survival
function on arrays of points. The reference is the method it replaced, written here independently:
``scipy.integrate.quad`` on each of the same pieces, one scalar survival-function call per node,
tolerance 1e-12. For each distribution and number of bidders the script reports both times (best of
``--repeat`` runs), their ratio, and the relative difference of the two revenues.

Usage::

    python benchmarks/bench_auctions.py [--repeat 3]
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special, stats

from _timing import parse_args, timed
from mdlib import second_price_revenue

DISTRIBUTIONS = {
    "uniform(0, 1)": stats.uniform(0, 1),
    "expon(scale=3)": stats.expon(scale=3),
    "lognorm(0.8)": stats.lognorm(0.8),
    "pareto(2.5)": stats.pareto(2.5),
    "gamma(0.5)": stats.gamma(0.5),
    "beta(0.5, 0.5)": stats.beta(0.5, 0.5),
    "truncnorm on [0, 3]": stats.truncnorm(-1, 2, loc=1, scale=1),
    "Normal(1, 0.5), reserve 0": stats.Normal(mu=1, sigma=0.5),
    "Mixture U[0, 1], U[1, 3]": stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=1, b=3)], weights=[0.5, 0.5]),
}


TAIL_LEVELS = (0.9, 0.75, 0.5, 0.25, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10, 1e-12)


def scalar_quad_revenue(dist, n: int) -> float:
    """Revenue with reserve 0 (the values here are nonnegative, or the reserve 0 binds): lo B1(lo) plus
    the integral of B2 from max(0, lo), by scalar quad on each piece."""
    new_style = hasattr(dist, "ccdf")
    sf, isf = (dist.ccdf, dist.iccdf) if new_style else (dist.sf, dist.isf)
    lo, hi = (float(x) for x in dist.support())
    start = max(0.0, lo)
    cuts = {float(isf(q)) for q in TAIL_LEVELS}
    for component in getattr(dist, "components", ()):
        cuts.update(float(x) for x in component.support())
    edges = [start, *sorted(x for x in cuts if math.isfinite(x) and start < x < hi), hi]
    b2 = lambda t: float(special.betainc(2.0, n - 1.0, float(sf(t))))  # noqa: E731
    total = sum(integrate.quad(b2, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0] for a, b in zip(edges, edges[1:]))
    return total + start * float(special.betainc(1.0, float(n), float(sf(start))))


def main() -> None:
    args = parse_args(__doc__, "--bidders", 5, help="the largest number of bidders (and 2)")
    print(f"{'distribution':30s} {'n':>3s} {'mdlib (ms)':>11s} {'scalar quad (ms)':>17s} {'ratio':>6s} {'rel. diff':>10s}")
    worst, ratios = 0.0, []
    for name, dist in DISTRIBUTIONS.items():
        for n in sorted({2, args.bidders}):
            t_new, rev = timed(lambda: second_price_revenue(dist, n), args.repeat)
            t_ref, ref = timed(lambda: scalar_quad_revenue(dist, n), args.repeat)
            diff = abs(rev - ref) / abs(ref)
            worst, ratio = max(worst, diff), t_ref / t_new
            ratios.append(ratio)
            print(f"{name:30s} {n:3d} {t_new * 1e3:11.2f} {t_ref * 1e3:17.2f} {ratio:6.1f} {diff:10.1e}")
    print(f"largest relative difference {worst:.1e}; speed-up median {np.median(ratios):.1f}x, "
          f"geometric mean {math.exp(np.mean(np.log(ratios))):.1f}x")


if __name__ == "__main__":
    main()
