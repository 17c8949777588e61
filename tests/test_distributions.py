"""Tests of mdlib.distributions: virtual values, revenue curves and ironing.

Order: closed forms first, then the irregular (ironed) cases against exact
derivations, then hypothesis properties, then input validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from scipy import integrate, stats

from mdlib import (
    ironed_revenue_curve,
    ironed_virtual_value,
    ironing_intervals,
    is_regular,
    revenue_curve,
    virtual_value,
)

from helpers import distributions, refuses


# --------------------------------------------------------------------------- helpers
def piecewise_uniform(breaks, masses):
    """A legacy frozen distribution (an rv_continuous subclass) with a piecewise-constant density.

    ``breaks`` are x_0 < ... < x_m and ``masses`` the probability of each piece;
    a piece with zero mass is a gap in the support.
    """
    breaks, masses = np.asarray(breaks, float), np.asarray(masses, float)
    attrs = {
        "breaks": breaks,
        "masses": masses,
        "cum": np.concatenate([[0.0], np.cumsum(masses)]),
        "dens": masses / np.diff(breaks),
    }
    cls = type("PiecewiseUniformGen", (_PiecewiseUniform,), attrs)
    return cls(a=breaks[0], b=breaks[-1], name="piecewise_uniform")()


class _PiecewiseUniform(stats.rv_continuous):
    breaks: np.ndarray
    masses: np.ndarray
    cum: np.ndarray
    dens: np.ndarray

    def _piece(self, x):
        return np.clip(np.searchsorted(self.breaks, x, side="right") - 1, 0, self.masses.size - 1)

    def _pdf(self, x):
        return self.dens[self._piece(x)]

    def _cdf(self, x):
        k = self._piece(x)
        return self.cum[k] + self.dens[k] * (x - self.breaks[k])

    def _sf(self, x):
        k = self._piece(x)
        return (1.0 - self.cum[k + 1]) + self.dens[k] * (self.breaks[k + 1] - x)

    def _ppf(self, u):
        k = np.clip(np.searchsorted(self.cum, u, side="left") - 1, 0, self.masses.size - 1)
        # skip empty pieces (gaps): move to the first piece with mass reaching u
        while True:
            empty = self.masses[k] == 0
            if not empty.any():
                break
            k = np.where(empty, k + 1, k)
        return self.breaks[k] + (u - self.cum[k]) / self.dens[k]

    def _isf(self, q):
        return self._ppf(1.0 - q)


def mixture_gap():
    """0.9 U[0,1] + 0.1 U[2,3]: a gap (1, 2), ironed on [2/3, 2] at 2/9."""
    return stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3)], weights=[0.9, 0.1])


def mixture_gap_legacy():
    return piecewise_uniform([0.0, 1.0, 2.0, 3.0], [0.9, 0.0, 0.1])


def mixture_overlap():
    """0.7 U[0,1] + 0.3 U[0,3]: the density drops at 1, ironed around 1 (no gap)."""
    return stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=0, b=3)], weights=[0.7, 0.3])


def mixture_overlap_legacy():
    return piecewise_uniform([0.0, 1.0, 3.0], [0.8, 0.2])


def mixture_normals():
    return stats.Mixture([stats.Normal(mu=1, sigma=0.25), stats.Normal(mu=3, sigma=0.5)], weights=[0.8, 0.2])


def exact_gap():
    """Exact ironing of mixture_gap: tangent from the kink (S(2), 2 S(2)) to the lower piece."""
    v = sp.symbols("v", positive=True)
    s_low = 1 - sp.Rational(9, 10) * v  # S on [0, 1]
    phi_low = v - s_low / sp.Rational(9, 10)
    s2 = sp.Rational(1, 10)  # S(2)
    # chord slope from (S(a), a S(a)) to (S(2), 2 S(2)) equals phi(a)
    (a,) = [r for r in sp.solve(sp.Eq((2 * s2 - v * s_low) / (s2 - s_low), phi_low), v) if 0 < r < 1]
    return a, sp.Integer(2), sp.nsimplify(phi_low.subs(v, a))


def exact_overlap():
    """Exact ironing of mixture_overlap: the chord tangent to both pieces."""
    a = sp.symbols("a", positive=True)
    b = a + sp.Rational(7, 8)  # phi_low(a) = 2a - 5/4 = phi_high(b) = 2b - 3
    s_a, s_b = 1 - sp.Rational(4, 5) * a, (3 - b) / 10
    c = 2 * a - sp.Rational(5, 4)
    roots = [r for r in sp.solve(sp.Eq(c * (s_b - s_a), b * s_b - a * s_a), a) if 0 < r < 1 and 1 < r + sp.Rational(7, 8) < 3]
    (ra,) = roots
    return ra, ra + sp.Rational(7, 8), 2 * ra - sp.Rational(5, 4)


def value_grid(dist, n=400):
    lo, hi = (float(x) for x in dist.support())
    u = np.linspace(0.0, 1.0, n + 1)[1:-1]
    inner = np.asarray(dist.ppf(u) if hasattr(dist, "ppf") else dist.icdf(u), float)
    pts = [inner]
    if math.isfinite(lo):
        pts.append([lo])
    if math.isfinite(hi):
        pts.append([hi])
    return np.unique(np.concatenate(pts))


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("a,b", [(0.0, 1.0), (0.0, 3.0), (1.0, 3.0), (2.0, 3.0), (-1.0, 2.0)])
@pytest.mark.parametrize("style", ["legacy", "new"])
def test_virtual_value_uniform(a, b, style):
    dist = stats.uniform(a, b - a) if style == "legacy" else stats.Uniform(a=a, b=b)
    v = np.linspace(a, b, 11)
    np.testing.assert_allclose(virtual_value(dist, v), 2 * v - b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ironed_virtual_value(dist, v), 2 * v - b, rtol=1e-12, atol=1e-12)
    assert is_regular(dist)
    assert ironing_intervals(dist) == []


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0])
def test_virtual_value_exponential(lam):
    v = np.array([0.0, 0.1, 1.0, 5.0, 50.0, 500.0])
    np.testing.assert_allclose(virtual_value(stats.expon(scale=lam), v), v - lam, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ironed_virtual_value(stats.expon(scale=lam), v), v - lam, rtol=1e-12, atol=1e-12)


def test_virtual_value_beta_closed_form():
    # beta(2, 1): F = v^2, phi = v - (1 - v^2) / (2 v) = (3 v^2 - 1) / (2 v)
    v = np.linspace(0.05, 1.0, 20)
    np.testing.assert_allclose(virtual_value(stats.beta(2, 1), v), (3 * v**2 - 1) / (2 * v), rtol=1e-12)


def test_virtual_value_edge_conventions():
    assert virtual_value(stats.beta(2, 3), 0.0) == -math.inf  # f(lo) = 0 < 1 - F(lo)
    assert virtual_value(stats.beta(2, 3), 1.0) == 1.0  # the upper end: phi = v
    assert virtual_value(stats.gamma(0.5), 0.0) == 0.0  # f(lo) = inf
    assert virtual_value(mixture_gap(), 1.5) == -math.inf  # inside the gap, f = 0
    # far upper tail of the normal: no 0/0 (log-space ratio)
    assert virtual_value(stats.norm(), 40.0) == pytest.approx(40.0 - 1.0 / 40.0, rel=1e-3)


def test_scalar_and_array_shapes():
    dist = stats.uniform(0, 1)
    out = virtual_value(dist, 0.25)
    assert type(out) is float and out == -0.5
    assert type(virtual_value(dist, np.float64(0.25))) is float
    arr = virtual_value(dist, np.full((2, 3), 0.5))
    assert isinstance(arr, np.ndarray) and arr.shape == (2, 3)
    assert type(ironed_virtual_value(dist, 0.5)) is float
    assert ironed_virtual_value(dist, [[0.5, 1.0]]).shape == (1, 2)
    assert type(revenue_curve(dist, 0.5)) is float
    assert revenue_curve(dist, [0.1, 0.2]).shape == (2,)
    assert type(ironed_revenue_curve(dist, 0.5)) is float


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (1.0, 3.0)])
def test_revenue_curve_uniform(lo, hi):
    q = np.linspace(0.0, 1.0, 21)
    expected = q * (hi - q * (hi - lo))
    np.testing.assert_allclose(revenue_curve(stats.uniform(lo, hi - lo), q), expected, atol=1e-14)
    np.testing.assert_allclose(ironed_revenue_curve(stats.Uniform(a=lo, b=hi), q), expected, atol=1e-14)


def test_revenue_curve_exponential_and_limits():
    lam = 2.0
    q = np.array([0.0, 1e-300, 1e-8, 0.3, 1 / math.e, 1.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(q > 0, -lam * q * np.log(q), 0.0)
    np.testing.assert_allclose(revenue_curve(stats.expon(scale=lam), q), expected, rtol=1e-12, atol=1e-300)
    assert revenue_curve(stats.norm(), 0.0) == 0.0
    assert revenue_curve(stats.norm(), 1.0) == -math.inf  # the lower end of the support


# --------------------------------------------------------------------------- legacy vs new
@pytest.mark.parametrize(
    "legacy,new",
    [
        (stats.uniform(1, 2), stats.Uniform(a=1, b=3)),
        (stats.norm(1, 2), stats.Normal(mu=1, sigma=2)),
        (mixture_gap_legacy(), mixture_gap()),
        (mixture_overlap_legacy(), mixture_overlap()),
    ],
)
def test_legacy_and_new_style_agree(legacy, new):
    v = value_grid(legacy, 50)
    v = v[~np.isin(v, [1.0, 2.0])]  # where the density jumps, pdf conventions differ
    q = np.concatenate([[0.0], np.linspace(0.005, 0.995, 100), [1.0]])  # not 0.1: F^{-1} is ambiguous at a gap
    np.testing.assert_allclose(virtual_value(new, v), virtual_value(legacy, v), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ironed_virtual_value(new, v), ironed_virtual_value(legacy, v), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(revenue_curve(new, q), revenue_curve(legacy, q), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ironed_revenue_curve(new, q), ironed_revenue_curve(legacy, q), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ironing_intervals(new), ironing_intervals(legacy), rtol=1e-10, atol=1e-10)
    assert is_regular(new) == is_regular(legacy)


def test_make_distribution_is_accepted():
    class Triangle:  # density 2v on [0, 1]
        __make_distribution_version__ = "1.16.0"
        parameters = {"s": {"endpoints": (0, np.inf)}}
        support = {"endpoints": (0, 1), "inclusive": (True, True)}

        def pdf(self, x, *, s):
            return 2 * x

        def cdf(self, x, *, s):
            return x**2

    dist = stats.make_distribution(Triangle())(s=1.0)
    v = np.array([0.2, 0.5, 1.0])
    np.testing.assert_allclose(virtual_value(dist, v), v - (1 - v**2) / (2 * v), rtol=1e-10)
    assert is_regular(dist)


# --------------------------------------------------------------------------- ironing
@pytest.mark.parametrize("make", [mixture_gap, mixture_gap_legacy])
def test_ironing_gap_mixture_exact(make):
    a, b, c = exact_gap()
    assert (a, b, c) == (sp.Rational(2, 3), 2, sp.Rational(2, 9))
    dist = make()
    (iv,) = ironing_intervals(dist)
    np.testing.assert_allclose(iv, (float(a), float(b)), rtol=1e-9)
    np.testing.assert_allclose(ironed_virtual_value(dist, [0.7, 1.0, 1.5, 2.0]), float(c), rtol=1e-9)
    assert not is_regular(dist)


@pytest.mark.parametrize("make", [mixture_overlap, mixture_overlap_legacy])
def test_ironing_overlap_mixture_exact(make):
    a, b, c = exact_overlap()
    dist = make()
    (iv,) = ironing_intervals(dist)
    np.testing.assert_allclose(iv, (float(a), float(b)), rtol=1e-9)
    np.testing.assert_allclose(ironed_virtual_value(dist, np.linspace(float(a), float(b), 7)), float(c), rtol=1e-9)
    assert float(c) == pytest.approx(1 - 1 / math.sqrt(2), rel=1e-12)
    assert not is_regular(dist)


IRREGULAR = [mixture_gap, mixture_overlap, mixture_normals, lambda: stats.gamma(0.5), lambda: stats.beta(0.5, 2)]


@pytest.mark.parametrize("make", IRREGULAR)
def test_ironing_properties(make):
    dist = make()
    v = value_grid(dist, 600)
    phi, phibar = virtual_value(dist, v), ironed_virtual_value(dist, v)
    intervals = ironing_intervals(dist)
    assert intervals, "these distributions are irregular"
    assert not is_regular(dist)
    # (i) phibar is nondecreasing
    assert np.all(np.diff(phibar) >= -1e-9)
    # (ii) phibar = phi off the ironing intervals
    off = np.ones(v.size, bool)
    for a, b in intervals:
        off &= (v < a) | (v > b)
    np.testing.assert_allclose(phibar[off], phi[off], rtol=1e-12, atol=1e-12)
    # (iii) the defining property: int_a^b phi f dv = phibar (F(b) - F(a)), with phi f = v f - (1 - F)
    for a, b in intervals:
        c = ironed_virtual_value(dist, 0.5 * (a + b))
        kinks = [x for x in (1.0, 2.0) if a < x < b]
        lhs, _ = integrate.quad(
            lambda t: t * float(dist.pdf(t)) - float(dist.sf(t) if hasattr(dist, "sf") else dist.ccdf(t)),
            a, b, points=kinks or None, epsabs=1e-13, epsrel=1e-12, limit=200,
        )
        assert lhs == pytest.approx(c * float(dist.cdf(b) - dist.cdf(a)), rel=1e-8, abs=1e-11)
    # (iv) Rbar is concave, >= R, and = R off the quantile images of the intervals
    q = np.linspace(0.0, 1.0, 2001)[:-1]
    R, Rbar = revenue_curve(dist, q), ironed_revenue_curve(dist, q)
    assert np.all(Rbar >= R - 1e-12)
    assert np.all(np.diff(Rbar, 2) <= 1e-10)
    sf = dist.sf if hasattr(dist, "sf") else dist.ccdf
    off_q = np.ones(q.size, bool)
    for a, b in intervals:
        off_q &= (q < sf(b)) | (q > sf(a))
    np.testing.assert_allclose(Rbar[off_q], R[off_q], rtol=1e-12, atol=1e-12)


def test_ironed_revenue_curve_against_fine_grid_hull():
    """Independent check: the hull of R on a fine quantile grid (scipy.spatial, Qhull)."""
    from scipy.spatial import ConvexHull

    dist = mixture_normals()
    q = np.concatenate([np.geomspace(1e-12, 1e-3, 2000), np.linspace(1e-3, 1 - 1e-9, 200_000)])
    R = q * dist.iccdf(q)
    hull = ConvexHull(np.column_stack([q, R]))
    vert = hull.vertices  # counterclockwise; the upper chain runs from the rightmost to the leftmost point
    start, stop = np.argmax(q[vert]), np.argmin(q[vert])
    chain = np.roll(vert, -start)[: (stop - start) % vert.size + 1]
    qv, Rv = q[chain][::-1], R[chain][::-1]
    probe = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(ironed_revenue_curve(dist, probe), np.interp(probe, qv, Rv), rtol=1e-7, atol=1e-8)


# --------------------------------------------------------------------------- properties
# `distributions` (random beta, uniform, gamma, lognormal) lives in tests/helpers.py.


@given(distributions())
def test_property_phibar_monotone_and_hull(dist):
    v = value_grid(dist, 300)
    phibar = ironed_virtual_value(dist, v)
    assert np.all(np.diff(phibar) >= -1e-9 * (1 + np.abs(phibar[1:])))
    intervals = ironing_intervals(dist)
    phi = virtual_value(dist, v)
    off = np.ones(v.size, bool)
    for a, b in intervals:
        off &= (v < a) | (v > b)
    np.testing.assert_array_equal(phibar[off], phi[off])
    q = np.linspace(0.0, 1.0, 501)
    R, Rbar = revenue_curve(dist, q), ironed_revenue_curve(dist, q)
    scale = max(1.0, float(np.max(np.abs(R))))
    assert np.all(Rbar >= R - 1e-10 * scale)
    assert is_regular(dist) == (intervals == [])


# --------------------------------------------------------------------------- bad input
def test_bad_dist():
    with pytest.raises(ValueError, match=r"dist must be a scipy.stats continuous distribution with cdf and pdf methods, got <class 'str'>"):
        virtual_value("uniform", 0.5)
    for bad in (stats.poisson(3), stats.Binomial(n=3, p=0.5), None, 3.0):
        for fn, args in [(virtual_value, (0.5,)), (ironed_virtual_value, (0.5,)), (revenue_curve, (0.5,)),
                         (ironed_revenue_curve, (0.5,)), (ironing_intervals, ()), (is_regular, ())]:
            with pytest.raises(ValueError, match="dist must be"):
                fn(bad, *args)
    with pytest.raises(ValueError, match="dist must have valid parameters"):
        virtual_value(stats.beta(-1, 2), 0.5)


@pytest.mark.parametrize("fn", [virtual_value, ironed_virtual_value])
def test_bad_values(fn):
    dist = stats.uniform(0, 1)
    with pytest.raises(ValueError, match=r"v must lie in the support \[0, 1\] of dist, got -0.2"):
        fn(dist, -0.2)
    with pytest.raises(ValueError, match=r"v must lie in the support \[0, 1\] of dist, got 1.5"):
        fn(dist, [0.5, 1.5])
    with pytest.raises(ValueError, match=r"v must lie in the support \[0, inf\) of dist, got inf"):
        fn(stats.expon(), np.inf)
    with pytest.raises(ValueError, match="v must not contain NaN"):
        fn(dist, [0.5, np.nan])
    with pytest.raises(ValueError, match="v must be a real number"):
        fn(dist, "0.5")
    with pytest.raises(ValueError, match="v must be a real number"):
        fn(dist, True)
    # the ends of the support are allowed
    assert fn(dist, [0.0, 1.0]).tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("fn", [revenue_curve, ironed_revenue_curve])
def test_bad_quantiles(fn):
    with pytest.raises(ValueError, match=r"q must lie in \[0, 1\], got 1.5"):
        fn(stats.uniform(0, 1), 1.5)
    with pytest.raises(ValueError, match="q must not contain NaN"):
        fn(stats.uniform(0, 1), np.nan)


@pytest.mark.parametrize("fn,args", [(ironed_virtual_value, (2.0,)), (revenue_curve, (0.5,)),
                                     (ironed_revenue_curve, (0.5,)), (ironing_intervals, ())])
def test_infinite_mean_is_rejected(fn, args):
    for dist in (stats.pareto(1.0), stats.cauchy()):
        with pytest.raises(ValueError, match="dist must have a finite mean"):
            fn(dist, *args)


# ---------------------------------------------------------------- gaps found by mutation testing (make mutation)
def three_uniforms():
    """Two gaps, two ironing intervals: (1/2, 2) with slope -1/4 and (3 - 1/sqrt 3, 4) with slope 8/3 - 2/sqrt 3."""
    parts = [stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3), stats.Uniform(a=4, b=5)]
    return stats.Mixture(parts, weights=[0.8, 0.15, 0.05])


def test_two_ironing_intervals_exact():
    dist = three_uniforms()
    a2, c2 = 3 - 1 / math.sqrt(3), 8 / 3 - 2 / math.sqrt(3)
    intervals = ironing_intervals(dist)
    assert len(intervals) == 2  # neither merged into one nor dropped as a duplicate
    np.testing.assert_allclose(intervals, [(0.5, 2.0), (a2, 4.0)], rtol=1e-9)
    np.testing.assert_allclose(ironed_virtual_value(dist, [0.6, 1.5, 2.0]), -0.25, rtol=1e-9)
    np.testing.assert_allclose(ironed_virtual_value(dist, [2.5, 3.0, 4.0]), c2, rtol=1e-9)
    # between the intervals phibar = phi = 2x - 10/3 on (2, 3 - 1/sqrt 3)
    assert ironed_virtual_value(dist, 2.2) == pytest.approx(2 * 2.2 - 10 / 3, rel=1e-12)
    # Rbar: linear on each interval's quantile image, R elsewhere
    q = np.array([0.05, 0.1, 0.15, 0.2, 0.4, 0.6, 1.0])
    sf = lambda x: float(dist.ccdf(x))  # noqa: E731
    expected = []
    for qq in q:
        if sf(4.0) <= qq <= sf(a2):
            expected.append(4 * sf(4.0) + c2 * (qq - sf(4.0)))
        elif sf(2.0) <= qq <= sf(0.5):
            expected.append(2 * sf(2.0) - 0.25 * (qq - sf(2.0)))
        else:
            expected.append(float(revenue_curve(dist, qq)))
    np.testing.assert_allclose(ironed_revenue_curve(dist, q), expected, rtol=1e-9, atol=1e-12)


class _LookAlike:
    """A duck-typed legacy distribution (cdf, sf, pdf, ... support) around stats.uniform, with one fault."""

    def __init__(self, fault):
        base = stats.uniform(0, 1)
        for m in ("cdf", "sf", "pdf", "logsf", "logpdf", "ppf", "isf", "support", "mean"):
            setattr(self, m, getattr(base, m))
        if fault == "support":
            self.support = lambda: 1 / 0
        elif fault == "ppf":
            self.ppf = lambda u: np.full(np.shape(u), np.nan)


def test_look_alike_with_failing_support_or_quantiles_is_refused():
    assert virtual_value(_LookAlike(None), 0.25) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match=r"dist must be .*support\(\) failed: division by zero"):
        virtual_value(_LookAlike("support"), 0.5)
    with pytest.raises(ValueError, match=r"dist must have finite quantiles"):
        virtual_value(_LookAlike("ppf"), 0.5)


def test_a_constant_virtual_value_is_regular():
    """The equal-revenue distribution (Pareto with shape 1) has phi = v - v = 0 everywhere: regular, although
    the rounding of that difference grows with v (about 1e-4 at v = 1e12, the far end of the grid)."""
    assert is_regular(stats.pareto(1))
    assert is_regular(stats.pareto(1, scale=1000.0))
    # a density that drops at v = 1 (0.875, then 0.125) makes phi fall from 6/7 to 0: irregular
    drop = stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=0, b=2)], weights=[0.75, 0.25])
    assert not is_regular(drop)


def test_virtual_value_names_the_first_point_where_it_is_undefined():
    """A distribution whose density is NaN at one point: virtual_value refuses and names that point."""
    class Holey(stats.rv_continuous):
        def _pdf(self, x):
            return np.where(np.abs(x - 0.5) < 1e-12, np.nan, 1.0)

        def _cdf(self, x):
            return x

    holey = Holey(a=0.0, b=1.0, name="holey")()
    assert virtual_value(holey, 0.2) == pytest.approx(2 * 0.2 - 1)
    refuses(lambda: virtual_value(holey, [0.2, 0.5, 0.7]),
            "the virtual value of dist is not defined at v = 0.5 (sf or pdf returned NaN)")
