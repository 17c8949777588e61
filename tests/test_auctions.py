"""Tests of mdlib.auctions: optimal auctions, second-price auctions, posted prices.

Order: closed forms derived with sympy, then irregular distributions against exact
derivations, then hypothesis properties, then a seeded Monte Carlo check, then
input validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from mdlib import (
    PostedPrice,
    ironed_virtual_value,
    ironing_intervals,
    myerson_revenue,
    optimal_reserve,
    posted_price_revenue,
    second_price_revenue,
)

from helpers import distributions

V = sp.symbols("v", positive=True)
N_RANGE = [1, 2, 3, 4, 5]


def sympy_revenue(phi, F, lo, hi, n):
    """Myerson's lemma, exactly: n int_lo^hi phi(v) F(v)^{n-1} f(v) dv."""
    f = sp.diff(F, V)
    return sp.integrate(sp.expand(phi * n * F ** (n - 1) * f), (V, lo, hi))


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("n", N_RANGE)
@pytest.mark.parametrize("r", [sp.Integer(0), sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(3, 4), sp.Integer(1)])
def test_second_price_uniform_closed_form(n, r):
    # U[0,1]: phi = 2v - 1, F = v; revenue = n int_r^1 (2v - 1) v^{n-1} dv (a zero reserve
    # with one bidder earns 0, which the same formula gives)
    exact = sympy_revenue(2 * V - 1, V, r, 1, n)
    for dist in (stats.uniform(0, 1), stats.Uniform(a=0, b=1)):
        assert second_price_revenue(dist, n, float(r)) == pytest.approx(float(exact), rel=1e-9, abs=1e-15)
    if r == 0 and n >= 2:
        assert float(exact) == pytest.approx((n - 1) / (n + 1), rel=1e-12)  # E[second-highest]


@pytest.mark.parametrize("lo,hi", [(1.0, 3.0), (2.0, 3.0), (-1.0, 1.0)])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_second_price_uniform_ab(lo, hi, n):
    a, b = sp.nsimplify(lo), sp.nsimplify(hi)
    F = (V - a) / (b - a)
    r = max(a, b / 2)
    exact = sympy_revenue(2 * V - b, F, r, b, n)
    assert second_price_revenue(stats.uniform(lo, hi - lo), n, float(r)) == pytest.approx(float(exact), rel=1e-9)
    assert optimal_reserve(stats.Uniform(a=lo, b=hi)) == pytest.approx(float(r), rel=1e-12, abs=1e-12)
    assert myerson_revenue(stats.Uniform(a=lo, b=hi), n) == pytest.approx(float(exact), rel=1e-9)


@pytest.mark.parametrize("n", N_RANGE)
@pytest.mark.parametrize("lam", [sp.Integer(1), sp.Integer(3), sp.Rational(1, 2)])
def test_exponential_closed_forms(n, lam):
    F = 1 - sp.exp(-V / lam)
    # no reserve: E[second-highest of n] = lam (1/2 + ... + 1/n) (derived, then checked)
    spa0 = sympy_revenue(V - lam, F, 0, sp.oo, n)
    harmonic = lam * sum(sp.Rational(1, k) for k in range(2, n + 1))
    assert sp.simplify(spa0 - harmonic) == 0
    # optimal reserve r* = lam
    spa_star = sympy_revenue(V - lam, F, lam, sp.oo, n)
    dist = stats.expon(scale=float(lam))
    assert second_price_revenue(dist, n) == pytest.approx(float(harmonic), rel=1e-9, abs=1e-15)
    assert optimal_reserve(dist) == pytest.approx(float(lam), rel=1e-12)
    assert second_price_revenue(dist, n, float(lam)) == pytest.approx(float(spa_star), rel=1e-9)
    assert myerson_revenue(dist, n) == pytest.approx(float(spa_star), rel=1e-9)


@pytest.mark.parametrize("n", N_RANGE)
def test_myerson_uniform_is_second_price_at_one_half(n):
    exact = sympy_revenue(2 * V - 1, V, sp.Rational(1, 2), 1, n)
    for dist in (stats.uniform(0, 1), stats.Uniform(a=0, b=1)):
        assert myerson_revenue(dist, n) == pytest.approx(float(exact), rel=1e-9)
        assert myerson_revenue(dist, n) == pytest.approx(second_price_revenue(dist, n, 0.5), rel=1e-12)
    if n == 2:
        assert float(exact) == pytest.approx(5 / 12, rel=1e-15)


def test_posted_price_closed_forms():
    pp = posted_price_revenue(stats.uniform(0, 1))
    assert isinstance(pp, PostedPrice)
    assert pp.price == pytest.approx(0.5, rel=1e-12) and pp.revenue == pytest.approx(0.25, rel=1e-12)
    price, revenue = posted_price_revenue(stats.expon(scale=3))
    assert price == pytest.approx(3.0, rel=1e-12) and revenue == pytest.approx(3 / math.e, rel=1e-12)
    # U[2, 3]: phi(2) = 1 > 0, so the price is the bottom of the support
    assert posted_price_revenue(stats.uniform(2, 1)) == (2.0, 2.0)
    # U[1, 2]: R(p) = p (2 - p) is flat at the bottom of the support (phi(1) = 0); the price is 1 exactly,
    # not a point the search of the interior stops at
    assert posted_price_revenue(stats.uniform(1, 1)) == (1.0, 1.0)
    # with one bidder the optimal auction is the posted price
    assert myerson_revenue(stats.expon(scale=3), 1) == pytest.approx(3 / math.e, rel=1e-12)


def test_zero_reserve_below_the_support():
    dist = stats.uniform(2, 1)  # U[2, 3]
    for n in (2, 3):
        assert second_price_revenue(dist, n, 0.0) == pytest.approx(second_price_revenue(dist, n, 2.0), rel=1e-13)
        assert second_price_revenue(dist, n) == pytest.approx(2 + (n - 1) / (n + 1), rel=1e-12)
    assert second_price_revenue(dist, 1) == 0.0  # a single bidder pays the zero reserve
    assert second_price_revenue(dist, 1, 2.0) == 2.0


@pytest.mark.parametrize(
    "legacy,new",
    [
        (stats.uniform(1, 2), stats.Uniform(a=1, b=3)),
        (stats.norm(1, 2), stats.Normal(mu=1, sigma=2)),
        (stats.truncnorm(-1, 2, loc=1, scale=1), stats.truncate(stats.Normal(mu=1, sigma=1), lb=0, ub=3)),
    ],
)
def test_legacy_and_new_style_agree(legacy, new):
    for n in (1, 3):
        assert myerson_revenue(new, n) == pytest.approx(myerson_revenue(legacy, n), rel=1e-10)
        assert second_price_revenue(new, n, 1.5) == pytest.approx(second_price_revenue(legacy, n, 1.5), rel=1e-10)
    assert optimal_reserve(new) == pytest.approx(optimal_reserve(legacy), rel=1e-10)
    assert posted_price_revenue(new).revenue == pytest.approx(posted_price_revenue(legacy).revenue, rel=1e-10)


def test_heavy_tail_pareto():
    # pareto(b): S(v) = v^-b on [1, inf); the second-highest of 2 is the minimum, with
    # survival function v^-2b, so its mean is 1 + 1/(2b - 1) = 2b / (2b - 1)
    for b in (1.1, 1.5, 3.0):
        exact = 2 * b / (2 * b - 1)
        assert second_price_revenue(stats.pareto(b), 2) == pytest.approx(exact, rel=1e-9)
        assert myerson_revenue(stats.pareto(b), 2) == pytest.approx(exact, rel=1e-9)  # r* = 1 = lo


# --------------------------------------------------------------------------- irregular
def mixture_gap():
    return stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3)], weights=[0.9, 0.1])


def mixture_overlap():
    return stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=0, b=3)], weights=[0.7, 0.3])


def exact_myerson_gap(n):
    """0.9 U[0,1] + 0.1 U[2,3]: r* = 5/9, ironed on [2/3, 2] at c = 2/9 (see test_distributions)."""
    w = sp.Rational(9, 10)
    F_low, F_high = w * V, w + (V - 2) / 10
    phi_low, phi_high = 2 * V - 1 / w, 2 * V - 3
    a, b, c = sp.Rational(2, 3), sp.Integer(2), sp.Rational(2, 9)
    return (
        sympy_revenue(phi_low, F_low, sp.Rational(5, 9), a, n)
        + c * (F_high.subs(V, b) ** n - F_low.subs(V, a) ** n)
        + sympy_revenue(phi_high, F_high, b, 3, n)
    )


def exact_myerson_overlap(n):
    """0.7 U[0,1] + 0.3 U[0,3]: r* = 5/8; the chord tangent to both pieces irons [a, a + 7/8]."""
    F_low, F_high = sp.Rational(4, 5) * V, 1 - (3 - V) / 10
    phi_low, phi_high = 2 * V - sp.Rational(5, 4), 2 * V - 3
    a = sp.symbols("a", positive=True)
    b = a + sp.Rational(7, 8)
    c = 2 * a - sp.Rational(5, 4)
    eq = sp.Eq(c * ((3 - b) / 10 - (1 - sp.Rational(4, 5) * a)), b * (3 - b) / 10 - a * (1 - sp.Rational(4, 5) * a))
    (ra,) = [r for r in sp.solve(eq, a) if 0 < r < 1]
    rb, rc = ra + sp.Rational(7, 8), 2 * ra - sp.Rational(5, 4)
    return (
        sympy_revenue(phi_low, F_low, sp.Rational(5, 8), ra, n)
        + rc * (F_high.subs(V, rb) ** n - F_low.subs(V, ra) ** n)
        + sympy_revenue(phi_high, F_high, rb, 3, n)
    )


@pytest.mark.parametrize("n", N_RANGE)
@pytest.mark.parametrize("make,exact", [(mixture_gap, exact_myerson_gap), (mixture_overlap, exact_myerson_overlap)])
def test_myerson_irregular_exact(make, exact, n):
    dist = make()
    value = float(sp.N(exact(n), 30))
    assert myerson_revenue(dist, n) == pytest.approx(value, rel=1e-9)
    # optimality: at least the second-price revenue with any reserve (a grid, then the best one)
    lo, hi = (float(x) for x in dist.support())
    spa = [second_price_revenue(dist, n, r) for r in np.linspace(lo, hi, 31)]
    assert myerson_revenue(dist, n) >= max(spa) - 1e-12
    best = optimize.minimize_scalar(lambda r: -second_price_revenue(dist, n, r), bounds=(lo, hi), method="bounded")
    assert myerson_revenue(dist, n) >= -best.fun - 1e-12
    if n >= 2:  # ironing pays: strictly more than any anonymous-reserve second-price auction
        assert myerson_revenue(dist, n) > -best.fun + 1e-4


@pytest.mark.parametrize("make", [mixture_gap, mixture_overlap])
def test_posted_price_is_optimal_reserve_irregular(make):
    dist = make()
    price, revenue = posted_price_revenue(dist)
    assert price == optimal_reserve(dist)
    assert ironed_virtual_value(dist, price) == pytest.approx(0.0, abs=1e-12)
    # a brute-force check of the global maximiser of p (1 - F(p))
    p = np.linspace(0, 3, 300_001)
    assert revenue >= np.max(p * dist.ccdf(p)) - 1e-12
    assert revenue == pytest.approx(float(myerson_revenue(dist, 1)), rel=1e-12)


def test_reserve_inside_an_ironed_region_of_negative_phibar():
    # 0.5 U[0,1] + 0.5 U[2,3]: phibar = -2 on [0, 2], then 2v - 3 > 0: r* = 2 (a jump of phibar)
    dist = stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3)], weights=[0.5, 0.5])
    assert optimal_reserve(dist) == pytest.approx(2.0, abs=1e-12)
    assert ironing_intervals(dist) == [pytest.approx((0.0, 2.0))]
    for n in (1, 2, 3):
        assert myerson_revenue(dist, n) == pytest.approx(second_price_revenue(dist, n, 2.0), rel=1e-12)


# --------------------------------------------------------------------------- properties
# `distributions` (random beta, uniform, gamma, lognormal) lives in tests/helpers.py.


def expected_max(dist, n):
    lo, hi = (float(x) for x in dist.support())
    sf = dist.sf if hasattr(dist, "sf") else dist.ccdf
    val, _ = integrate.quad(lambda t: 1.0 - (1.0 - float(sf(t))) ** n, lo, hi, limit=200)
    return lo + val


@given(distributions(), st.integers(1, 6))
def test_property_revenue_ordering(dist, n):
    lo = float(dist.support()[0])
    r_star = optimal_reserve(dist)
    my = myerson_revenue(dist, n)
    spa_star = second_price_revenue(dist, n, r_star)
    spa_lo = second_price_revenue(dist, n, lo)
    tol = 1e-9 * max(1.0, abs(my))
    assert my >= spa_star - tol
    assert my >= spa_lo - tol
    assert my <= expected_max(dist, n) * (1 + 1e-9)
    assert spa_lo <= expected_max(dist, n) * (1 + 1e-9)
    assert myerson_revenue(dist, n + 1) >= my - tol
    price, revenue = posted_price_revenue(dist)
    assert price == r_star
    if not ironing_intervals(dist):  # regular: the optimal auction is the second price at r*
        assert my == pytest.approx(spa_star, rel=1e-9)


# --------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize(
    "dist,n,reserve,seed",
    [(stats.uniform(0, 1), 3, 0.4, 20240601), (stats.expon(scale=2.0), 4, 1.5, 20240602)],
)
def test_second_price_monte_carlo(dist, n, reserve, seed):
    rng = np.random.default_rng(seed)
    values = np.sort(dist.rvs(size=(200_000, n), random_state=rng), axis=1)
    top, second = values[:, -1], values[:, -2]
    pay = np.where(top >= reserve, np.maximum(reserve, second), 0.0)
    se = pay.std(ddof=1) / math.sqrt(pay.size)
    assert abs(pay.mean() - second_price_revenue(dist, n, reserve)) < 4 * se


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [myerson_revenue, second_price_revenue])
@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2", None, np.nan])
def test_bad_n_bidders(fn, bad):
    with pytest.raises(ValueError, match=r"n_bidders must be a positive integer, got"):
        fn(stats.uniform(0, 1), bad)


def test_n_bidders_message_and_numpy_ints():
    with pytest.raises(ValueError, match=r"^n_bidders must be a positive integer, got 0$"):
        myerson_revenue(stats.uniform(0, 1), 0)
    assert myerson_revenue(stats.uniform(0, 1), np.int64(2)) == pytest.approx(5 / 12)


def test_bad_reserve():
    u = stats.uniform(0, 1)
    with pytest.raises(ValueError, match=r"^reserve must lie in the support \[0, 1\] of dist, got 1.5$"):
        second_price_revenue(u, 2, 1.5)
    with pytest.raises(ValueError, match=r"reserve must lie in the support \[0, 1\] of dist, got -0.2"):
        second_price_revenue(u, 2, -0.2)
    with pytest.raises(ValueError, match=r"reserve must lie in the support \[2, 3\] of dist, got 1"):
        second_price_revenue(stats.uniform(2, 1), 2, 1.0)  # only exactly 0 may lie below the support
    with pytest.raises(ValueError, match=r"reserve must lie in the support \[0, inf\) of dist, got -1"):
        second_price_revenue(stats.expon(), 2, -1.0)
    for bad in (np.nan, np.inf, "0.5", None, True):
        with pytest.raises(ValueError, match="reserve must be a finite real number"):
            second_price_revenue(u, 2, bad)
    # a reserve at either end of the support is allowed
    assert second_price_revenue(u, 2, 1.0) == 0.0
    # values may be negative: a negative reserve inside the support is fine
    assert second_price_revenue(stats.norm(), 2, -1.0) == pytest.approx(
        second_price_revenue(stats.Normal(), 2, -1.0), rel=1e-10
    )


@pytest.mark.parametrize(
    "fn,args",
    [(optimal_reserve, ()), (myerson_revenue, (2,)), (second_price_revenue, (2,)), (posted_price_revenue, ())],
)
def test_bad_dist(fn, args):
    with pytest.raises(ValueError, match=r"dist must be a scipy.stats continuous distribution with cdf and pdf methods, got <class 'str'>"):
        fn("uniform", *args)
    with pytest.raises(ValueError, match=r"dist must be a scipy.stats continuous distribution .* discrete"):
        fn(stats.poisson(3), *args)
    with pytest.raises(ValueError, match="dist must have a finite mean"):
        fn(stats.pareto(1.0), *args)
    with pytest.raises(ValueError, match="dist must have a finite mean"):
        fn(stats.cauchy(), *args)


# --------------------------------------------------------------------------- sweeps from the static chapter
# (book/static_mechanisms.md keeps one instance of each; these sweep random instances.)
def payment_rule_revenue(dist, n, reserve):
    """Second-price revenue from the payment rule: the reserve if one value clears it, else the second value.

    Independent of virtual values: the second-highest value has density n (n-1) F^(n-2) (1 - F) f.
    """
    lo, hi = (float(x) for x in dist.support())
    F, f = dist.cdf, dist.pdf
    at_reserve = reserve * n * F(reserve) ** (n - 1) * (1 - F(reserve))
    if n == 1:
        return float(at_reserve)
    breaks = [x for x in getattr(dist, "_breaks", []) if max(reserve, lo) < x < hi]
    at_second, _ = integrate.quad(
        lambda y: y * n * (n - 1) * F(y) ** (n - 2) * (1 - F(y)) * f(y), max(reserve, lo), hi, points=breaks or None, limit=200
    )
    return float(at_reserve + at_second)


@st.composite
def band_markets(draw):
    """Values uniform on each of three adjacent bands [1, 2], [2, 3], [3, 4], with random weights (often irregular)."""
    w = np.array(draw(st.lists(st.integers(1, 20), min_size=3, max_size=3)), float)
    dist = stats.Mixture([stats.Uniform(a=k, b=k + 1) for k in (1, 2, 3)], weights=list(w / w.sum()))
    dist._breaks = [2.0, 3.0]
    return dist


@given(band_markets(), st.integers(1, 6), st.floats(0.0, 1.0))
def test_property_second_price_matches_payment_rule_band_markets(dist, n, u):
    # a zero reserve (below the support: a lone bidder pays nothing) or one anywhere in the support [1, 4]
    reserve = 0.0 if u < 0.1 else 1.0 + 3.0 * (u - 0.1) / 0.9
    assert second_price_revenue(dist, n, reserve) == pytest.approx(payment_rule_revenue(dist, n, reserve), rel=1e-7, abs=1e-9)


@given(distributions(), st.integers(1, 5), st.floats(0.05, 0.95))
def test_property_second_price_matches_payment_rule(dist, n, u):
    ppf = dist.ppf if hasattr(dist, "ppf") else dist.icdf
    reserve = float(ppf(u))  # a reserve inside the support, at the u-quantile
    assert second_price_revenue(dist, n, reserve) == pytest.approx(payment_rule_revenue(dist, n, reserve), rel=1e-7, abs=1e-9)


@given(st.one_of(st.floats(0.2, 0.8), st.floats(1.0, 5.0)), st.integers(1, 4))
def test_property_power_law_reserve_and_optimality(k, n):
    # F(v) = v^k on [0, 1]: phi(v) = ((1 + k) v^k - 1) / (k v^(k-1)) vanishes at r* = (1 + k)^(-1/k);
    # irregular for k < 1 (phi falls near 0), but phi increases above r*, so the second-price auction
    # with reserve r* is optimal for every k
    dist = stats.powerlaw(a=k)
    r_star = (1 + k) ** (-1 / k)
    assert optimal_reserve(dist) == pytest.approx(r_star, abs=1e-6)
    assert myerson_revenue(dist, n) == pytest.approx(second_price_revenue(dist, n, r_star), rel=1e-6)
    assert (ironing_intervals(dist) == []) == (k >= 1)


# --------------------------------------------------------------------------- quadrature
@pytest.mark.parametrize("status,message", [(-2, "did not converge"), (-3, "not finite on .* too heavy an upper tail")])
def test_a_quadrature_that_fails_is_refused(monkeypatch, status, message):
    """A piece where tanh-sinh stops short of its tolerance (status -2), or meets a non-finite value of
    the integrand (-3), makes the revenue an error, never a number."""
    import mdlib.auctions

    tanhsinh = integrate.tanhsinh

    def failing_on_the_first_piece(*args, **kwargs):
        res = tanhsinh(*args, **kwargs)
        res.status[0] = status
        return res

    monkeypatch.setattr(mdlib.auctions.integrate, "tanhsinh", failing_on_the_first_piece)
    with pytest.raises(ValueError, match=message):
        second_price_revenue(stats.norm(1, 2), 3)


def test_pieces_a_few_ulps_wide():
    """A reserve one ulp below a quantile cut (0.5 is the upper quartile of U[-1, 1]) leaves a piece too
    narrow for tanh-sinh's nodes: its integral is its width times B2, and the revenue is the closed form."""
    r = math.nextafter(0.5, 0.0)
    for n in (2, 3):
        exact = sympy_revenue(2 * V - 1, (V + 1) / 2, sp.Rational(1, 2), 1, n)  # phi(v) = 2v - 1
        assert second_price_revenue(stats.uniform(-1, 2), n, r) == pytest.approx(float(exact), rel=1e-12)
