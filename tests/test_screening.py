"""Tests of mdlib.options: option contracts for one buyer who learns his value after contracting.

Order: closed forms (uniform and Gaussian additive news, multiplicative news) derived
with sympy or quadrature, then the impulse response and the dynamic virtual value, then
incentive compatibility by deviation search (including a clamped strike and a
non-monotone instance), then hypothesis properties, then a seeded Monte Carlo check,
then input validation.
"""

from __future__ import annotations

import math

import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from mdlib import (
    NotMonotoneError,
    dynamic_virtual_value,
    impulse_response,
    informativeness,
    optimal_option_contract,
    posted_price_revenue,
    value_distribution,
)
from helpers import SIGMA, UNIFORM_TAU, gaussian_news, refuses, uniform_news

# UNIFORM_TAU, SIGMA, uniform_news and gaussian_news live in tests/helpers.py.


@pytest.fixture(scope="module")
def e1():
    return optimal_option_contract(UNIFORM_TAU, uniform_news)


@pytest.fixture(scope="module")
def gauss():
    return optimal_option_contract(UNIFORM_TAU, gaussian_news)


class _Mixture(stats.rv_continuous):
    """F(x | t) = t x^2 + (1 - t) x on [0, 1]: a mixture of U[0, 1] and the law with density 2x."""

    def _argcheck(self, t):
        return (t >= 0) & (t <= 1)

    def _cdf(self, x, t):
        return t * x**2 + (1 - t) * x

    def _pdf(self, x, t):
        return 1 - t + 2 * t * x

    def _ppf(self, u, t):
        safe = np.where(t > 0, t, 1.0)
        root = (-(1 - t) + np.sqrt((1 - t) ** 2 + 4 * t * u)) / (2 * safe)
        return np.where(t > 0, root, u)


MIXTURE = _Mixture(a=0.0, b=1.0, name="mixture", shapes="t")


def e1_exact():
    """Strike, utility, fee and revenue with uniform news, derived with sympy from psi = v - (1 - tau)."""
    t, s, v = sp.symbols("tau s v", real=True)
    k = sp.solve(sp.Eq(v - (1 - t), 0), v)[0]  # psi(tau, k) = 0
    # P(v >= k | tau) for v ~ U[tau - 1/2, tau + 1/2], clipped to [0, 1]
    prob = sp.Piecewise((0, t <= sp.Rational(1, 4)), (2 * t - sp.Rational(1, 2), t <= sp.Rational(3, 4)), (1, True))
    U = sp.piecewise_fold(sp.integrate(prob.subs(t, s), (s, 0, t)))
    call = sp.Piecewise(
        (0, t <= sp.Rational(1, 4)),
        ((t + sp.Rational(1, 2) - k) ** 2 / 2, t <= sp.Rational(3, 4)),
        (t - k, True),
    )
    fee = sp.piecewise_fold(call - U)
    revenue = sp.integrate(call + k * prob - U, (t, 0, 1))
    return t, k, U, fee, revenue


# --------------------------------------------------------------------------- closed forms
def test_e1_closed_form(e1):
    t, k, U, fee, revenue = e1_exact()
    assert revenue == sp.Rational(13, 48)
    assert e1.revenue == pytest.approx(13 / 48, abs=1e-10)
    assert e1.ex_ante_revenue == pytest.approx(25 / 48, abs=1e-10)
    for value in (e1.rent, e1.expected_fee, e1.expected_strike_payment):
        assert value == pytest.approx(13 / 96, abs=1e-10)
    assert e1.surplus == pytest.approx(13 / 32, abs=1e-10)
    assert e1.monotone and e1.diagnosis == ""
    taus = np.linspace(0, 1, 41)
    menu = e1.menu(taus)
    exact = [(float(k.subs(t, x)), float(U.subs(t, x)), float(fee.subs(t, x))) for x in taus]
    k_ex, U_ex, fee_ex = map(np.array, zip(*exact))
    assert np.allclose(menu.strike, k_ex, atol=1e-9)  # 1 - tau, also outside the support
    assert np.allclose(menu.utility, U_ex, atol=1e-9)
    assert np.allclose(menu.fee, fee_ex, atol=1e-9)
    assert np.allclose(menu.fee, menu.utility, atol=1e-9)  # with uniform news the fee equals the utility
    assert np.allclose(menu.exercise_probability, np.clip(2 * taus - 0.5, 0, 1), atol=1e-9)


def test_e1_strike_lies_outside_the_support(e1):
    # types below 1/4 hold an option struck above tau + 1/2: never exercised, fee 0
    taus = np.array([0.0, 0.1, 0.2])
    assert np.all(e1.strike(taus) > taus + 0.5)
    assert np.allclose(e1.fee(taus), 0.0, atol=1e-12)
    assert np.allclose(e1.exercise_probability(taus), 0.0)


def test_gaussian_additive_instance(gauss):
    """tau ~ U[0, 1], v = tau + N(0, sigma^2) with sigma = 0.25: strike 1 - tau, fees and revenue by quadrature."""
    Phi, phi = stats.norm.cdf, stats.norm.pdf
    taus = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    U_exact = np.array([integrate.quad(lambda s: Phi((2 * s - 1) / SIGMA), 0, x)[0] for x in taus])
    m = 2 * taus - 1
    call_exact = m * Phi(m / SIGMA) + SIGMA * phi(m / SIGMA)
    menu = gauss.menu(taus)
    assert np.allclose(menu.strike, 1 - taus, atol=1e-8)
    assert np.allclose(menu.utility, U_exact, atol=1e-8)
    assert np.allclose(menu.fee, call_exact - U_exact, atol=1e-8)
    rev_exact = integrate.quad(lambda x: m_call(2 * x - 1), 0, 1, epsabs=1e-13)[0]
    assert gauss.revenue == pytest.approx(rev_exact, abs=1e-8)
    # E[(2 tau - 1 + eps)^+] with 2 tau - 1 ~ U[-1, 1] is (1 + sigma^2)/4 up to Gaussian tails beyond 4 sigma
    assert abs(gauss.revenue - (1 + SIGMA**2) / 4) < 1e-6
    assert menu.utility[-1] == pytest.approx(0.5, abs=1e-8)
    fb = integrate.quad(lambda x: m_call(x, s=SIGMA), 0, 1, epsabs=1e-13)[0]
    assert gauss.ex_ante_revenue == pytest.approx(fb, abs=1e-8)


def m_call(m, s=SIGMA):
    """E[(m + eps)^+] for eps ~ N(0, s^2)."""
    return m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s)


def test_static_posted_price_benchmark():
    marg = value_distribution(UNIFORM_TAU, gaussian_news)
    pp = posted_price_revenue(marg)
    exact_cdf = lambda v: integrate.quad(lambda t: stats.norm.cdf(v, t, SIGMA), 0, 1)[0]  # noqa: E731
    assert marg.cdf(0.7) == pytest.approx(exact_cdf(0.7), abs=1e-9)
    best = optimize.minimize_scalar(lambda p: -p * (1 - exact_cdf(p)), bounds=(0.3, 0.8), method="bounded",
                                    options={"xatol": 1e-10})
    assert pp.revenue == pytest.approx(-best.fun, abs=1e-9) and pp.price == pytest.approx(best.x, abs=1e-4)
    assert pp.revenue == pytest.approx(pp.price * (1 - exact_cdf(pp.price)), abs=1e-9)


@pytest.mark.parametrize("q", [1e-10, 1e-6, 1e-3, 0.3])
def test_value_distribution_quantiles_in_both_tails(q):
    """ppf and isf far in the tails: the mixture's cdf and sf there, by independent quadrature over tau."""
    marg = value_distribution(UNIFORM_TAU, gaussian_news)
    high, low = marg.isf(q), marg.ppf(q)
    sf = integrate.quad(lambda t: stats.norm.sf(high, t, SIGMA), 0, 1, epsabs=0, epsrel=1e-12)[0]
    cdf = integrate.quad(lambda t: stats.norm.cdf(low, t, SIGMA), 0, 1, epsabs=0, epsrel=1e-12)[0]
    assert sf == pytest.approx(q, rel=1e-8) and cdf == pytest.approx(q, rel=1e-8)


def test_multiplicative_news_is_a_posted_price():
    # v ~ Exp(mean tau), tau ~ U[1, 3]: psi = v (2 tau - 3) / tau, so types above 3/2 buy at strike 0
    c = optimal_option_contract(stats.uniform(1, 2), lambda t: stats.expon(scale=t))
    assert c.monotone
    # below 3/2, psi < 0 on the whole support: the strike is far beyond the value's
    # 1 - 1e-300 quantile (about 690 tau), where the extended psi crosses zero
    assert np.all(c.strike([1.0, 1.2, 1.45]) > 600)
    assert np.all(c.exercise_probability([1.0, 1.2, 1.45]) == 0.0)
    assert np.allclose(c.strike([1.6, 2.5, 3.0]), 0.0, atol=1e-9)
    assert c.revenue == pytest.approx(9 / 8, abs=1e-7)
    # the strike jumps from inf to 0 at 3/2, where U' jumps from 0 to 1: U = (tau - 3/2)^+
    assert np.allclose(c.fee([1.6, 2.5, 3.0]), 1.5, atol=1e-7)
    assert np.allclose(c.utility([1.2, 1.6, 2.5]), [0.0, 0.1, 1.0], atol=1e-7)
    assert c.ex_ante_revenue == pytest.approx(2.0, abs=1e-7)


# --------------------------------------------------------------------------- psi and I
def test_impulse_response_closed_forms():
    v = np.array([-3.0, -0.2, 0.3, 0.8, 4.0])  # inside and outside the support
    assert np.allclose(impulse_response(uniform_news, 0.3, v), 1.0, atol=1e-8)
    assert np.allclose(impulse_response(gaussian_news, 0.3, v), 1.0, atol=1e-8)
    w = np.array([0.1, 1.0, 3.0])
    assert np.allclose(impulse_response(lambda t: stats.expon(scale=t), 2.0, w), w / 2.0, atol=1e-8)
    assert np.allclose(impulse_response(lambda t: stats.lognorm(0.5, scale=t), 1.5, w), w / 1.5, atol=1e-7)
    # a family on a fixed support: I = -F_tau / f, sympy
    t, x = sp.symbols("t x", positive=True)
    F = t * x**2 + (1 - t) * x  # the mixture family on [0, 1]
    I_exact = sp.lambdify((t, x), -sp.diff(F, t) / sp.diff(F, x))
    x_test = np.array([0.05, 0.3, 0.7, 0.95])
    assert np.allclose(impulse_response(MIXTURE, 0.4, x_test), I_exact(0.4, x_test), atol=1e-8)


def test_dynamic_virtual_value_alpha_form():
    """psi = v - (1 - tau) I(tau, v) in the mixture family, at tau = 0.4 and the 0.3-quantile of v."""
    t, v = 0.4, float(MIXTURE(0.4).ppf(0.3))
    impulse = v * (1 - v) / (1 - t + 2 * t * v)  # -F_tau / f for F = t v^2 + (1 - t) v
    assert dynamic_virtual_value(UNIFORM_TAU, MIXTURE, t, v) == pytest.approx(v - (1 - t) * impulse, abs=1e-8)
    assert dynamic_virtual_value(UNIFORM_TAU, uniform_news, 0.25, 0.6) == pytest.approx(-0.15, abs=1e-9)


# --------------------------------------------------------------------------- incentive compatibility
def max_deviation_gain(contract, taus):
    payoff = contract.payoff(taus, taus)
    return float(np.max(payoff - np.diag(payoff)[:, None]))


@pytest.mark.parametrize("which", ["e1", "gauss"])
def test_deviation_search(which, request):
    c = request.getfixturevalue(which)
    taus = np.linspace(0, 1, 26)
    assert max_deviation_gain(c, taus) < 1e-8
    U = c.utility(taus)
    assert U[0] == 0.0 and np.all(U >= 0) and np.all(np.diff(U) >= -1e-12)  # IR, U nondecreasing
    assert np.all(np.diff(c.strike(taus)) <= 1e-9)  # strike nonincreasing


def test_clamping_the_strike_breaks_ic(e1):
    """Clarification: clamping the strike into the support of v | tau is not IC."""
    taus = np.linspace(0, 1, 41)
    k = np.minimum(e1.strike(taus), taus + 0.5)  # clamp the never-exercised strikes to the top of the support
    U = e1.utility(taus)

    def call(t, kk):  # E[(v - k)^+] for v ~ U[t - 1/2, t + 1/2]
        x = np.clip(t + 0.5 - kk, 0.0, 1.0)
        return x**2 / 2 + np.maximum(t - 0.5 - kk, 0.0)

    fee = call(taus, k) - U
    payoff = call(taus[:, None], k[None, :]) - fee[None, :]
    gain = payoff - np.diag(payoff)[:, None]
    assert gain.max() > 1e-3  # a type just above 1/4 takes a low type's free option
    i, j = np.unravel_index(np.argmax(gain), gain.shape)
    assert taus[i] > 0.25 and taus[j] < 0.25
    # the unclamped menu has no profitable deviation on the same grid
    k0 = e1.strike(taus)
    payoff0 = call(taus[:, None], k0[None, :]) - (call(taus, k0) - U)[None, :]
    assert (payoff0 - np.diag(payoff0)[:, None]).max() < 1e-9


BIMODAL = stats.Mixture(
    [stats.Uniform(a=1, b=2), stats.Uniform(a=2, b=3), stats.Uniform(a=3, b=4)], weights=[0.6, 0.15, 0.25]
)


def test_not_monotone_is_flagged_and_not_ic():
    c = optimal_option_contract(BIMODAL, lambda t: stats.norm(t, 0.3), n_grid=121)
    assert not c.monotone and "ex-ante monotonicity fails" in c.diagnosis
    assert re.search(r"the strike k\(tau\) increases on \[[^],]+, [^],]+\](, \[[^],]+, [^],]+\])*, because", c.diagnosis)
    # the strike is (1 - G)/g, which jumps up where the density of tau drops (tau = 2)
    assert c.strike(1.9) < c.strike(2.1)
    assert max_deviation_gain(c, np.linspace(1, 4, 31)) > 0.1
    with pytest.raises(NotMonotoneError, match="ex-ante monotonicity"):
        optimal_option_contract(BIMODAL, lambda t: stats.norm(t, 0.3), n_grid=41, strict=True)


def test_diagnosis_lists_three_intervals_and_counts_the_rest():
    """A first type whose density drops at five places: the strike (1 - G)/g jumps up at each, and the
    diagnosis names the first three intervals and counts the others, as read off the strike grid."""
    weights = np.array([0.3, 0.05, 0.3, 0.05, 0.25, 0.05])
    steps = stats.Mixture([stats.Uniform(a=k, b=k + 1) for k in range(6)], weights=list(weights / weights.sum()))
    c = optimal_option_contract(steps, lambda t: stats.norm(t, 0.3), n_grid=61)
    k = c.strikes
    up = np.flatnonzero(np.diff(k) > 1e-7 * (np.abs(k).max() + 1))
    runs = 1 + np.count_nonzero(np.diff(up) > 1)
    assert not c.monotone and runs > 3
    listed = re.search(r"increases on (.*?)( and (\d+) more intervals)?, because", c.diagnosis)
    assert listed and listed.group(1).count("[") == 3 and int(listed.group(3)) == runs - 3, c.diagnosis


def test_ex_post_monotonicity_failure_is_located():
    """Pareto news, log v ~ Exp(mean tau): I(tau, v) = v log(v) / tau rises faster than v, so
    psi(tau, v) = v (1 - (1 - G)/g log(v) / tau) falls through zero at v = exp(tau g / (1 - G)).
    With tau ~ U[0.2, 0.6], (1 - G)/g = 0.6 - tau; the diagnosis names the first grid type and the
    crossing found by the scan of v (to its resolution, 2 %)."""
    c = optimal_option_contract(stats.uniform(0.2, 0.4), lambda t: stats.pareto(1 / t), n_grid=41)
    assert not c.monotone
    found = re.match(r"ex-post monotonicity fails: psi\(tau, \.\) falls through zero at v = (\S+) for tau = (\S+) \(",
                     c.diagnosis)
    assert found, c.diagnosis
    v0, t0 = float(found.group(1)), float(found.group(2))
    assert t0 == pytest.approx(0.2) and v0 == pytest.approx(np.exp(t0 / (0.6 - t0)), rel=0.02)


# --------------------------------------------------------------------------- properties
@given(
    slope=st.floats(0.2, 3.0),
    noise=st.sampled_from(["norm", "logistic", "uniform"]),
    scale=st.floats(0.05, 1.0),
    lo=st.floats(-1.0, 1.0),
)
def test_location_families_properties(slope, noise, scale, lo):
    law = getattr(stats, noise)

    def family(t):
        return law(slope * t - (scale / 2 if noise == "uniform" else 0.0), scale)

    c = optimal_option_contract(stats.uniform(lo, 1.0), family, n_grid=41)
    taus = np.linspace(lo, lo + 1.0, 9)
    assert c.monotone
    # psi = v - slope (lo + 1 - tau): the strike is slope times the inverse hazard rate
    assert np.allclose(c.strike(taus), slope * (lo + 1.0 - taus), atol=1e-7)
    assert max_deviation_gain(c, taus) < 1e-6
    assert c.revenue == pytest.approx(c.expected_fee + c.expected_strike_payment, abs=1e-7)
    assert c.revenue == pytest.approx(c.surplus - c.rent, abs=1e-9)
    assert -1e-9 <= c.revenue <= c.ex_ante_revenue + 1e-9


# --------------------------------------------------------------------------- Monte Carlo
def test_monte_carlo_revenue(gauss):
    rng = np.random.default_rng(20261201)
    n = 200_000
    tau = rng.uniform(0, 1, n)
    v = tau + SIGMA * rng.standard_normal(n)
    strike = np.interp(tau, gauss.tau, gauss.strikes)
    fee = np.interp(tau, gauss.tau, gauss.fees)
    paid = fee + np.where(v >= strike, strike, 0.0)
    se = paid.std(ddof=1) / math.sqrt(n)
    assert abs(paid.mean() - gauss.revenue) < 4 * se


# --------------------------------------------------------------------------- validation
def test_impulse_response_and_virtual_value_messages_and_shapes():
    """Exact messages for the points, a family probed at three quantiles of ``first`` when it is given,
    and the output's shape when one argument is a scalar and the other an array."""
    def partial_family(t):
        if t > 0.9:
            raise RuntimeError("no law here")
        return stats.norm(t, SIGMA)

    refuses(lambda: impulse_response(partial_family, 0.5, 0.5, first=UNIFORM_TAU),
            "second_given_first(0.99) failed: no law here")
    assert impulse_response(partial_family, 0.5, 0.5) == pytest.approx(1.0)   # without first: no probe
    refuses(lambda: impulse_response(gaussian_news, np.nan, 0.5), "tau must not contain NaN, got nan")
    refuses(lambda: impulse_response(gaussian_news, 0.5, np.inf), "v must lie in (-inf, inf), got inf")
    refuses(lambda: dynamic_virtual_value(UNIFORM_TAU, gaussian_news, 0.5, np.inf), "v must lie in (-inf, inf), got inf")
    psi = dynamic_virtual_value(UNIFORM_TAU, gaussian_news, 0.5, np.array([0.1, 0.9]))
    # Gaussian news: I = 1, so psi = v - (1 - G(tau))/g(tau) = v - 0.5
    assert psi.shape == (2,) and np.allclose(psi, [-0.4, 0.4], atol=1e-9)
    assert isinstance(dynamic_virtual_value(UNIFORM_TAU, gaussian_news, 0.5, 0.9), float)


def test_bad_input():
    with pytest.raises(ValueError, match="first must be"):
        optimal_option_contract(stats.poisson(3), gaussian_news)
    with pytest.raises(ValueError, match="second_given_first must be a callable"):
        optimal_option_contract(UNIFORM_TAU, stats.norm(0, 1))
    with pytest.raises(ValueError, match="second_given_first"):
        optimal_option_contract(UNIFORM_TAU, lambda t: stats.poisson(1 + t))
    with pytest.raises(ValueError, match="second_given_first"):
        optimal_option_contract(UNIFORM_TAU, lambda t: "not a distribution")
    with pytest.raises(ValueError, match=r"^second_given_first must increase in tau in the sense of first-order "
                                         r"stochastic dominance \(I >= 0\): at tau = 0, v = -\d+\.?\d* the impulse "
                                         r"response is I = -1 < 0$"):
        optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(-t, 1))
    with pytest.raises(ValueError, match="smoothly"):
        optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(0.0 if t < 0.5 else 1.0, 0.3))
    # a jump of 0.1, a few per cent of the quantiles' scale, is caught too
    with pytest.raises(ValueError, match=r"^second_given_first must depend smoothly on tau: its quantiles jump by "
                                         r"0\.125 between tau = 0\.5 and tau = 0\.525, which its derivative"):
        optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(t + 0.1 * (t > 0.51), SIGMA), n_grid=41)
    with pytest.raises(ValueError, match="n_grid"):
        optimal_option_contract(UNIFORM_TAU, gaussian_news, n_grid=3)
    with pytest.raises(ValueError, match="n_grid"):
        optimal_option_contract(UNIFORM_TAU, gaussian_news, n_grid=2.5)
    with pytest.raises(ValueError, match="n_nodes"):
        value_distribution(UNIFORM_TAU, gaussian_news, n_nodes=4)
    with pytest.raises(ValueError, match="tau must lie"):
        dynamic_virtual_value(UNIFORM_TAU, gaussian_news, 1.5, 0.2)


def test_bad_tau_for_a_contract(e1):
    with pytest.raises(ValueError, match="tau must lie in the support"):
        e1.strike(-0.1)
    with pytest.raises(ValueError, match="report must lie"):
        e1.payoff([0.5], [2.0])
    with pytest.raises(ValueError, match="tau must not contain NaN"):
        e1.fee([0.2, float("nan")])
    assert isinstance(e1.strike(0.5), float) and e1.strike([0.5]).shape == (1,)


def test_informativeness_is_the_deprecated_name_of_impulse_response():
    normal_news = lambda t: stats.norm(t, 0.25)  # noqa: E731
    with pytest.warns(DeprecationWarning, match="impulse_response"):
        assert informativeness(normal_news, 0.3, 1.7) == pytest.approx(impulse_response(normal_news, 0.3, 1.7))


# --------------------------------------------------------------------------- the option-contracts page, as properties
from hypothesis import settings  # noqa: E402


@settings(max_examples=5)
@given(noise=st.sampled_from(["norm", "logistic", "laplace"]), scale=st.floats(0.05, 0.8))
def test_full_extraction_minus_menu_is_a_quarter_for_symmetric_news(noise, scale):
    """tau ~ U[0, 1], v = tau + eps with eps symmetric about 0: E[v^+] - E[psi^+] = 1/4 exactly
    (c(eps) + c(-eps) = 1 on the option-contracts page), and the menu's revenue is E[(2 tau - 1 + eps)^+]."""
    law = getattr(stats, noise)
    contract = optimal_option_contract(UNIFORM_TAU, lambda t: law(t, scale), n_grid=41)
    assert contract.ex_ante_revenue - contract.revenue == pytest.approx(0.25, abs=1e-6)
    assert contract.rent + (contract.ex_ante_revenue - contract.surplus) == pytest.approx(0.25, abs=1e-6)
    # Fubini: E[(2 tau - 1 + eps)^+] = E[g(eps)] with g(e) = int_0^1 (2t - 1 + e)^+ dt = ((e + 1)^+^2 - (e - 1)^+^2) / 4
    eps = law(0, scale)
    lo, hi = eps.ppf(1e-14), eps.isf(1e-14)

    def g(e):
        return (max(e + 1, 0.0) ** 2 - max(e - 1, 0.0) ** 2) / 4

    kinks = [k for k in (-1.0, 0.0, 1.0) if lo < k < hi]   # the kinks of g, and of the Laplace density
    exact = integrate.quad(lambda e: g(e) * eps.pdf(e), lo, hi, points=kinks or None, epsabs=1e-12, limit=200)[0]
    assert contract.revenue == pytest.approx(exact, abs=1e-6)


# ------------------------------------------------------------------ the internal grid and quadrature
def test_cumulative_integral_across_cuts_is_exact_for_lines():
    """Simpson within pieces and the trapezoid across each cut are both exact for a line: pieces of one,
    two, three and four points (cuts after indices 0, 2, 5) give the exact running integral."""
    from mdlib._screening import _cumulative

    x = np.array([0.0, 0.5, 0.7, 1.0, 1.1, 1.6, 2.0, 2.2, 2.9, 3.0])
    y = 2.0 * x + 1.0
    exact = x**2 + x
    np.testing.assert_allclose(_cumulative(x, y, [0, 2, 5]), exact, atol=1e-12)
    np.testing.assert_allclose(_cumulative(x, y, []), exact, atol=1e-12)
    np.testing.assert_allclose(_cumulative(x[:2], y[:2], []), exact[:2], atol=1e-12)


@pytest.mark.parametrize("name, dist, first, last", [
    ("uniform", stats.uniform(1, 2), 1.0, 3.0),                          # positive density at both ends
    ("exponential", stats.expon(), 0.0, stats.expon().ppf(1 - 1e-10)),  # open upper end
    ("beta(2, 1)", stats.beta(2, 1), stats.beta(2, 1).ppf(1e-10), 1.0),  # density 0 at the lower end
    ("lognormal", stats.lognorm(0.5), stats.lognorm(0.5).ppf(1e-10), stats.lognorm(0.5).ppf(1 - 1e-10)),
])
def test_type_grid_ends_and_tails(name, dist, first, last):
    """The menu's grid of types: the support's ends where the density is positive there, else the 1e-10 and
    1 - 1e-10 quantiles; n points (n + 1 with one open end); each open end has max(4, n // 10) points in its outer 2 % of probability."""
    from mdlib._scipy import _as_dist
    from mdlib._screening import _tau_grid

    G = _as_dist(dist)
    for n in (12, 41, 200):
        grid = _tau_grid(G, n)
        # n points, plus the closed end when exactly one end is open
        assert len(grid) == n + (name in ("exponential", "beta(2, 1)")) and np.all(np.diff(grid) > 0), name
        assert grid[0] == pytest.approx(first, rel=1e-9) and grid[-1] == pytest.approx(last, rel=1e-9), name
        u = dist.cdf(grid)
        if name != "uniform":
            tail = max(4, n // 10)
            if first != dist.support()[0]:
                assert np.sum(u < 0.02 - 1e-12) == tail, name
            if last != dist.support()[1]:
                assert np.sum(u > 0.98 + 1e-12) == tail, name


def test_model_messages_name_the_failing_type():
    """The primitives' checks say which type failed, and how."""
    from mdlib._screening import _Model

    def broken(tau):
        if tau > 0.9:
            raise RuntimeError("no law here")
        return stats.norm(tau, 1)

    with pytest.raises(ValueError, match=r"^second_given_first\(0\.99\) failed: no law here$"):
        _Model(stats.uniform(), broken)
    with pytest.raises(ValueError, match=r"^second_given_first must be a callable tau -> scipy\.stats distribution "
                                         r"of v given tau, got <class 'int'>$"):
        _Model(stats.uniform(), 3)
    with pytest.raises(ValueError, match=r"^second_given_first\(0\.01\) must return a continuous scipy\.stats "
                                         r"distribution with a density: "):
        _Model(stats.uniform(), lambda tau: "garbage")
    with pytest.raises(ValueError, match=r"^first must have a finite mean for the revenue, got mean nan$"):
        _Model(stats.cauchy(), lambda tau: stats.norm(tau, 1), need_mean="for the revenue")
    model = _Model(stats.uniform(), lambda tau: stats.norm(tau, 1))
    np.testing.assert_allclose(model.inverse_hazard(np.array([0.0, 0.25, 1.0])), [1.0, 0.75, 0.0], atol=1e-12)
    z, dz = model.quantiles(0.5, [0.5, 0.1], np.array([False, True]))  # a list of quantile levels is accepted
    np.testing.assert_allclose(z, [0.5, stats.norm(0.5, 1).isf(0.1)], atol=1e-9)
    np.testing.assert_allclose(dz, [1.0, 1.0], atol=1e-6)  # a location family: Z moves one for one with tau
    gap = stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3)], weights=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"^first must have a positive density on its support, got g = 0 at tau = 1\.5$"):
        _Model(gap, lambda tau: stats.norm(tau, 1), probe=False).inverse_hazard(np.array([0.5, 1.5, 2.5]))


def test_a_family_evaluated_at_many_types_at_once_agrees_with_one_type_at_a_time():
    """The menu asks the family for an array of types at once where the family accepts one. A family that
    accepts an array but reads it differently (here the mean of the types), or that does not accept one,
    gives the same menu as the family it stands for, and a family invalid at some type is refused by that
    type's name."""
    reference = optimal_option_contract(UNIFORM_TAU, gaussian_news, n_grid=21)
    misreads = optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(np.mean(t), SIGMA), n_grid=21)
    refuses_arrays = optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(float(t), SIGMA), n_grid=21)
    for other in (misreads, refuses_arrays):
        assert other.revenue == reference.revenue
        np.testing.assert_array_equal(other.strikes, reference.strikes)
        np.testing.assert_array_equal(other.fees, reference.fees)
    with pytest.raises(ValueError, match=r"^second_given_first\(0\) must return a continuous scipy\.stats distribution"):
        optimal_option_contract(UNIFORM_TAU, lambda t: stats.norm(t, t - 0.005), n_grid=21)


def test_marginal_law_at_once_agrees_with_its_components():
    """The marginal law of the value evaluates all its components in one call; it equals the weighted sum of
    the component laws evaluated one by one."""
    marginal = value_distribution(UNIFORM_TAU, gaussian_news, n_nodes=16)
    one_by_one = value_distribution(UNIFORM_TAU, lambda t: stats.norm(float(t), SIGMA), n_nodes=16)
    v = np.linspace(-0.5, 1.5, 11)
    np.testing.assert_array_equal(marginal.cdf(v), one_by_one.cdf(v))
    np.testing.assert_array_equal(marginal.pdf(v), one_by_one.pdf(v))


def test_model_stencil_is_central_inside_and_one_sided_at_the_ends():
    """The derivative in tau uses tau +- h inside the support and a second-order one-sided stencil within
    h of an end (never a point outside the support)."""
    from mdlib._screening import _Model

    model = _Model(stats.uniform(0, 1), gaussian_news, probe=False)
    h = model.h
    pts, wts = model.stencil(np.array([0.0, h, 0.5, 1.0]))
    np.testing.assert_array_equal(pts[:, 0], [0.0, h, 2 * h])
    np.testing.assert_array_equal(wts[:, 0], [-1.5 / h, 2.0 / h, -0.5 / h])
    np.testing.assert_array_equal(pts[:, 1], [2 * h, 0.0, h])  # tau - h is the lower end itself: central
    np.testing.assert_array_equal(wts[:, 1], [0.5 / h, -0.5 / h, 0.0])
    np.testing.assert_array_equal(pts[:, 2], [0.5 + h, 0.5 - h, 0.5])
    np.testing.assert_array_equal(pts[:, 3], [1.0, 1.0 - h, 1.0 - 2 * h])
    np.testing.assert_array_equal(wts[:, 3], [1.5 / h, -2.0 / h, 0.5 / h])
    # every stencil differentiates a quadratic exactly (up to rounding)
    tau = np.array([0.0, 0.3, 1.0])
    pts, wts = model.stencil(tau)
    np.testing.assert_allclose((wts * pts**2).sum(0), 2 * tau, atol=1e-6)


class _Counting:
    """A family of laws that counts the calls it gets with an array of types."""

    def __init__(self, law):
        self.law, self.arrays = law, 0

    def __call__(self, tau):
        self.arrays += np.ndim(tau) > 0
        return self.law(tau)


@pytest.mark.parametrize(
    "law, at_once",
    [
        (lambda t: stats.norm(t, 0.25), True),                          # takes an array
        (lambda t: stats.norm(np.mean(t), 0.25), False),                # reads an array as one type
        (lambda t: stats.norm(float(t), 0.25), False),                  # refuses an array
        (lambda t: stats.norm(t if np.ndim(t) == 0 else np.asarray(t)[..., None], 0.25), False),  # wrong shape
    ],
    ids=["broadcasts", "misreads", "refuses", "wrong-shape"],
)
def test_model_values_asks_for_an_array_of_types_once(law, at_once):
    """Several types take one call of the family with an array, checked once against the per-type laws;
    a family that fails that check (or refuses the array) is never asked for an array again, and every
    family gives the per-type values."""
    from mdlib._screening import _Model

    family = _Counting(law)
    model = _Model(stats.uniform(0, 30), family, probe=False)
    tau = np.array([0.0, 10.0, 20.0])
    truth = stats.norm.sf(1.0, 0.0, 0.25)  # the value one above each type's mean
    for shift in (1.0, 1.0):
        np.testing.assert_allclose(model.values(tau, tau + shift, "sf"), [truth] * 3, rtol=1e-12)
    assert family.arrays == (2 if at_once else 1)
    rows = model.values(tau, np.stack([tau + 1.0, tau + 1.0], axis=1), "sf")  # one type per row of points
    np.testing.assert_allclose(rows, np.full((3, 2), truth), rtol=1e-12)
    assert model.values(np.array([]), np.array([]), "cdf").shape == (0,)


def test_model_values_names_the_type_whose_law_is_invalid():
    """An array of types with an invalid law at one of them gives NaN there; the per-type law then names it."""
    from mdlib._screening import _Model

    model = _Model(stats.uniform(0, 30), lambda t: stats.norm(t, t - 5.0), probe=False)
    with pytest.raises(ValueError, match=r"^second_given_first\(0\) must return a continuous scipy\.stats distribution"):
        model.values(np.array([10.0, 0.0, 20.0]), np.array([10.0, 0.0, 20.0]), "cdf")


def test_model_quantiles_accept_lists():
    """Quantile levels and the upper-tail flags may be given as lists (of numbers)."""
    from mdlib._screening import _Model

    model = _Model(stats.uniform(), gaussian_news, probe=False)
    z_list, dz_list = model.quantiles(0.5, [0.5, 0.1], [0, 1])
    z, dz = model.quantiles(0.5, np.array([0.5, 0.1]), np.array([False, True]))
    np.testing.assert_array_equal(z_list, z)
    np.testing.assert_array_equal(dz_list, dz)
