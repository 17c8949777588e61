"""Tests of mdlib.handicap: selling to several buyers who learn their values later.

Order: closed forms (two buyers with uniform news, with sympy; two buyers with Gaussian news, by
nested quadrature), one bidder = the option contract, the revenue identity
(premiums plus stage-two payments), incentive compatibility of the premium choice by deviation
search, hypothesis properties, a seeded Monte Carlo of the whole auction, input validation.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from mdlib import handicap_auction, optimal_option_contract
from helpers import SIGMA, UNIFORM_TAU, gaussian_news, refuses, uniform_news

# UNIFORM_TAU, SIGMA, uniform_news and gaussian_news live in tests/helpers.py.


@pytest.fixture(scope="module")
def e2():
    return handicap_auction(UNIFORM_TAU, uniform_news, 2)


@pytest.fixture(scope="module")
def gauss2():
    return handicap_auction(UNIFORM_TAU, gaussian_news, 2)


def e2_exact():
    """Two buyers with uniform news, with sympy: psi = 2 tau - 1 + eps has a trapezoidal law on [-3/2, 3/2]."""
    y, t, e = sp.symbols("y tau eps", real=True)
    half = sp.Rational(1, 2)
    # cdf of psi on [0, 3/2] (it is 1/2 + y/2 on [0, 1/2], then a quadratic up to 1)
    H = sp.Piecewise((half + y / 2, y <= half), (1 - (sp.Rational(3, 2) - y) ** 2 / 4, True))
    revenue = sp.integrate(1 - H**2, (y, 0, sp.Rational(3, 2)))

    def win(tau):
        # Pr(psi > rival's psi and psi > 0 | tau) = E[H(psi) 1{psi > 0}], psi = 2 tau - 1 + eps
        psi = 2 * tau - 1 + e
        lo = sp.Max(-half, 1 - 2 * tau)
        return sp.integrate(H.subs(y, psi), (e, lo, half)) if lo < half else sp.Integer(0)

    return revenue, win


# --------------------------------------------------------------------------- closed forms
def test_e2_closed_form(e2):
    revenue, win = e2_exact()
    assert revenue == sp.Rational(73, 160)
    assert e2.revenue == pytest.approx(73 / 160, abs=1e-8)
    assert e2.revenue_error < 1e-6
    assert e2.sale_probability == pytest.approx(3 / 4, abs=1e-9)
    taus = [sp.Rational(1, 2), sp.Rational(3, 4), sp.Integer(1)]
    exact = [float(win(t)) for t in taus]
    assert exact[0] == pytest.approx(5 / 16) and exact[2] == pytest.approx(11 / 12)
    assert np.allclose(e2.win_probability(np.array(taus, dtype=float)), exact, atol=1e-6)
    # U(1) = int_0^1 Pr(win | t) dt = 3/8, and U' = Pr(win | tau) (envelope)
    assert e2.utility(1.0) == pytest.approx(3 / 8, abs=1e-6)
    h = 1e-4
    slope = (e2.utility(0.6 + h) - e2.utility(0.6 - h)) / (2 * h)  # away from the kinks at 1/4 and 3/4
    assert slope == pytest.approx(float(win(sp.Rational(3, 5))), abs=1e-5)
    assert np.allclose(e2.handicap([0.0, 0.3, 1.0]), [1.0, 0.7, 0.0], atol=1e-9)


def test_e2_premium_equals_utility(e2):
    # with uniform news, as for one buyer, the premium equals the ex-ante utility
    taus = np.linspace(0, 1, 21)
    assert np.allclose(e2.premium(taus), e2.utility(taus), atol=2e-6)


def test_gaussian_two_bidders_by_nested_quadrature(gauss2):
    # H(x) = Pr(psi <= x) = int_0^1 Phi((x + 1 - 2t) / sigma) dt; revenue = int_0^inf (1 - H^2)
    def H(x):
        return integrate.quad(lambda t: stats.norm.cdf((x + 1 - 2 * t) / SIGMA), 0, 1, epsabs=1e-13)[0]

    exact = integrate.quad(lambda x: 1 - H(x) ** 2, 0, 3.5, epsabs=1e-12, limit=200)[0]
    assert gauss2.revenue == pytest.approx(exact, abs=1e-9)
    assert gauss2.revenue_error < 1e-9
    assert np.allclose(gauss2.handicap(np.linspace(0, 1, 11)), 1 - np.linspace(0, 1, 11), atol=1e-8)


# --------------------------------------------------------------------------- one bidder
@pytest.mark.parametrize("news", [uniform_news, gaussian_news])
def test_one_bidder_is_the_option_contract(news):
    auction = handicap_auction(UNIFORM_TAU, news, 1)
    contract = optimal_option_contract(UNIFORM_TAU, news)
    assert auction.revenue == pytest.approx(contract.revenue, abs=5e-7)
    taus = np.linspace(0, 1, 11)
    assert np.allclose(auction.handicap(taus), contract.strike(taus), atol=1e-8)  # strike = handicap
    assert np.allclose(auction.premium(taus), contract.fee(taus), atol=5e-6)  # premium = fee
    assert np.allclose(auction.utility(taus), contract.utility(taus), atol=5e-6)


# --------------------------------------------------------------------------- revenue identity
@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_premiums_plus_stage_two_payments_equal_expected_max_psi(n):
    a = handicap_auction(UNIFORM_TAU, gaussian_news, n)
    assert a.expected_premiums + a.expected_stage_two_payments == pytest.approx(a.revenue, abs=1e-7)
    assert a.surplus - a.rent == pytest.approx(a.revenue, abs=1e-7)  # revenue = surplus - rents
    assert a.sale_probability == pytest.approx(1 - 0.5**n, abs=1e-9)  # psi < 0 iff v < 1 - tau: prob 1/2


# --------------------------------------------------------------------------- incentive compatibility
def test_premium_choice_is_incentive_compatible(gauss2):
    taus = np.linspace(0, 1, 21)
    reports = np.linspace(0, 1, 41)
    gain = gauss2.payoff(taus, reports) - gauss2.utility(taus)[:, None]
    assert gain.max() < 1e-7, "no type gains by buying another type's handicap"
    # truth is attained on the grid of reports (report = tau at every other point)
    assert np.abs(np.diag(gauss2.payoff(taus, taus)) - gauss2.utility(taus)).max() < 1e-6


def test_premium_increases_and_is_zero_for_the_lowest_type(gauss2, e2):
    for a in (gauss2, e2):
        p = a.premium(np.linspace(0, 1, 41))
        assert abs(p[0]) < 1e-5
        assert np.all(np.diff(p) > -1e-9)
        assert np.all(np.diff(a.handicap(np.linspace(0, 1, 41))) < 1e-9)


# --------------------------------------------------------------------------- properties
@settings(max_examples=6)
@given(sigma=st.floats(0.1, 0.6), n=st.integers(1, 5))
def test_properties_gaussian_news(sigma, n):
    news = lambda t: stats.norm(t, sigma)  # noqa: E731
    a = handicap_auction(UNIFORM_TAU, news, n, n_grid=41)
    more = handicap_auction(UNIFORM_TAU, news, n + 1, n_grid=41)
    assert more.revenue > a.revenue  # another bidder adds competition
    assert a.expected_premiums + a.expected_stage_two_payments == pytest.approx(a.revenue, abs=1e-6)
    assert 0 <= a.rent and a.revenue <= a.surplus + 1e-9
    taus = np.linspace(0, 1, 9)
    gain = a.payoff(taus, taus) - a.utility(taus)[:, None]
    assert gain.max() < 1e-6


# --------------------------------------------------------------------------- Monte Carlo
def test_simulation_reproduces_the_revenue(gauss2):
    sim = gauss2.simulate(200_000, np.random.default_rng(2024))
    se = sim.revenue.std(ddof=1) / np.sqrt(sim.revenue.size)
    assert abs(sim.revenue.mean() - gauss2.revenue) < 4 * se, "revenue within 4 standard errors"
    sold = sim.winner >= 0
    assert abs(sold.mean() - gauss2.sale_probability) < 4 * np.sqrt(0.75 * 0.25 / sold.size)
    rows = np.arange(sim.winner.size)
    assert np.all(sim.bid[rows[sold], sim.winner[sold]] >= 0)  # reserve 0 on handicapped bids
    assert np.all(sim.bid[rows[sold], sim.winner[sold]] == sim.bid[sold].max(1))  # highest psi wins
    losers = np.ones_like(sim.stage_two_payment, bool)
    losers[rows[sold], sim.winner[sold]] = False
    assert np.all(sim.stage_two_payment[losers] == 0)
    # same seed, same auctions
    again = gauss2.simulate(1000, np.random.default_rng(7))
    assert np.array_equal(again.winner, gauss2.simulate(1000, np.random.default_rng(7)).winner)


def test_simulated_premiums_handicaps_and_payments(gauss2):
    """The simulation's premiums and handicaps are the auction's own (interpolated to 1e-6), the winner pays
    his handicap plus the best rival handicapped bid (floored at 0), and revenue adds both stages."""
    sim = gauss2.simulate(2000, np.random.default_rng(11))
    assert np.allclose(sim.premium, gauss2.premium(sim.tau), atol=1e-6)
    assert np.allclose(sim.value - sim.bid, gauss2.handicap(sim.tau), atol=1e-6)
    rows = np.flatnonzero(sim.winner >= 0)
    w = sim.winner[rows]
    rival = np.maximum(sim.bid[rows, 1 - w], 0.0)
    assert np.allclose(sim.stage_two_payment[rows, w], gauss2.handicap(sim.tau[rows, w]) + rival, atol=1e-6)
    assert np.allclose(sim.revenue, sim.premium.sum(1) + sim.stage_two_payment.sum(1))


def test_unbounded_first_type_is_simulated_within_its_quantiles():
    """With tau ~ N(0, 1) the simulation draws types between the 1e-9 and 1 - 1e-9 quantiles."""
    a = handicap_auction(stats.norm(0, 1), lambda t: stats.norm(t, SIGMA), 2, n_grid=41)
    sim = a.simulate(5000, np.random.default_rng(3))
    # 10,000 draws reach beyond the 0.1 % quantiles (the seed fixes them), not beyond the 1e-9 ones
    assert stats.norm.ppf(1e-9) <= sim.tau.min() < stats.norm.ppf(1e-3)
    assert stats.norm.ppf(1 - 1e-3) < sim.tau.max() <= stats.norm.ppf(1 - 1e-9)
    assert np.allclose(sim.premium, a.premium(sim.tau), atol=1e-5)


def test_scalar_and_array_shapes_and_messages(gauss2):
    for method in (gauss2.handicap, gauss2.win_probability, gauss2.premium):
        assert isinstance(method(0.5), float)
        assert method(np.array([[0.2, 0.4], [0.6, 0.8]])).shape == (2, 2)
    refuses(lambda: gauss2.payoff(np.nan, 0.5), "tau must not contain NaN, got nan")
    refuses(lambda: gauss2.payoff(0.5, 2.0), "report must lie in the support [0, 1] of first, got 2")


def test_family_that_does_not_broadcast(gauss2):
    # a family built from float(tau) cannot take arrays: mdlib falls back to one distribution per type
    scalar_only = handicap_auction(UNIFORM_TAU, lambda t: stats.norm(float(t), SIGMA), 2, n_grid=41)
    assert scalar_only.revenue == pytest.approx(gauss2.revenue, abs=1e-9)
    assert np.allclose(scalar_only.premium([0.2, 0.9]), gauss2.premium([0.2, 0.9]), atol=1e-5)  # coarser grid


def test_simulation_with_a_family_that_does_not_broadcast(gauss2):
    """Its simulation draws values one type at a time: the same values as the broadcasting family's."""
    scalar_only = handicap_auction(UNIFORM_TAU, lambda t: stats.norm(float(t), SIGMA), 2, n_grid=41)
    one, other = scalar_only.simulate(300, np.random.default_rng(5)), gauss2.simulate(300, np.random.default_rng(5))
    assert np.allclose(one.value, other.value, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bidders": 0}, "n_bidders"),
        ({"n_bidders": 2.5}, "n_bidders"),
        ({"n_bidders": True}, "n_bidders"),
        ({"n_grid": 3}, "n_grid"),
        ({"first": stats.poisson(3)}, "first"),
        ({"second_given_first": lambda t: stats.poisson(t + 1)}, "second_given_first"),
        ({"second_given_first": 3.0}, "second_given_first"),
        ({"second_given_first": lambda t: stats.expon(scale=t + 0.5)}, "does not depend on v"),
        ({"second_given_first": lambda t: stats.norm(-t, 0.25)}, "first-order stochastic dominance"),
        ({"first": stats.pareto(3), "second_given_first": lambda t: stats.norm(t, 0.25)}, "does not increase"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"first": UNIFORM_TAU, "second_given_first": gaussian_news, "n_bidders": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        handicap_auction(**args)


def test_bad_simulation_input(gauss2):
    with pytest.raises(ValueError, match="n_auctions"):
        gauss2.simulate(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        gauss2.simulate(10, 42)
    with pytest.raises(ValueError, match="tau"):
        gauss2.premium(1.5)


@pytest.mark.parametrize("n_grid", [5, 6, 11])
def test_small_grids_with_an_unbounded_type_distribution(n_grid):
    """A coarse type grid for an unbounded first type still has its middle points (no crash)."""
    res = handicap_auction(stats.expon(), lambda t: stats.norm(t, 0.25), 2, n_grid=n_grid)
    fine = handicap_auction(stats.expon(), lambda t: stats.norm(t, 0.25), 2)
    assert res.tau.size >= 4 and np.all(np.diff(res.tau) > 0)
    assert res.revenue == pytest.approx(fine.revenue, abs=1e-9)  # revenue does not use the type grid


# --------------------------------------------------------------------------- the handicap-auctions page, as properties
def _stage_two(handicapped_bids, handicaps):
    """The stage-two rules written independently of mdlib: the highest handicapped bid wins if it is
    at least 0 and pays his handicap plus the highest other handicapped bid, floored at 0."""
    rows = np.arange(len(handicapped_bids))
    order = np.argsort(-handicapped_bids, axis=1)
    top = order[:, 0]
    second = np.maximum(handicapped_bids[rows, order[:, 1]], 0.0) if handicapped_bids.shape[1] > 1 else 0.0 * rows
    winner = np.where(handicapped_bids[rows, top] >= 0, top, -1)
    pay = np.zeros_like(handicapped_bids)
    won = winner >= 0
    pay[rows[won], winner[won]] = handicaps[rows[won], winner[won]] + second[won]
    return winner, pay


@settings(max_examples=6)
@given(sigma=st.floats(0.1, 1.0), n=st.integers(1, 5), shift=st.floats(-0.5, 0.5), seed=st.integers(0, 2**16))
def test_truthful_bids_are_dominant_in_the_simulated_auction(sigma, n, shift, seed):
    """Deviation search in simulated auctions: mdlib's simulation follows the stated rules, and a
    bidder who bids v + shift never does better than with his value, auction by auction."""
    a = handicap_auction(UNIFORM_TAU, lambda t: stats.norm(t, sigma), n, n_grid=21)
    sim = a.simulate(2000, np.random.default_rng(seed))
    h = sim.value - sim.bid
    winner, pay = _stage_two(sim.bid, h)
    assert np.array_equal(winner, sim.winner) and np.allclose(pay, sim.stage_two_payment, atol=1e-12)
    bids = sim.bid.copy()
    bids[:, 0] += shift
    dev_winner, dev_pay = _stage_two(bids, h)
    truthful = np.where(winner == 0, sim.value[:, 0], 0.0) - pay[:, 0]
    deviating = np.where(dev_winner == 0, sim.value[:, 0], 0.0) - dev_pay[:, 0]
    assert np.all(deviating <= truthful + 1e-12)


@settings(max_examples=5)
@given(sigma=st.floats(0.1, 1.0), n=st.integers(1, 6), reserve=st.floats(0.0, 1.0))
def test_handicap_auction_beats_the_static_benchmarks(sigma, n, reserve):
    """The handicap auction is optimal among the mechanisms of the model, which include a second-price
    auction with any reserve run after values are known and the optimal auction run on tau alone."""
    from mdlib import myerson_revenue, second_price_revenue, value_distribution

    news = lambda t: stats.norm(t, sigma)  # noqa: E731
    hc = handicap_auction(UNIFORM_TAU, news, n, n_grid=5).revenue       # the revenue does not use the type grid
    assert hc >= second_price_revenue(value_distribution(UNIFORM_TAU, news), n, reserve) - 1e-7
    assert hc >= myerson_revenue(UNIFORM_TAU, n) - 1e-7


def test_scalar_outputs_messages_and_simulation_fields(e2):
    """A scalar type gives floats; a type outside the support is refused by name; the simulation's fields add up
    (revenue = premiums + stage-two payments), also when the first type is unbounded (normal)."""
    from scipy import stats

    assert isinstance(e2.handicap(0.5), float) and isinstance(e2.win_probability(0.5), float)
    assert e2.handicap(np.array([0.5])).shape == (1,) and e2.win_probability(np.array([[0.5]])).shape == (1, 1)
    with pytest.raises(ValueError, match=r"^tau must lie in the support \[0, 1\] of first, got 2$"):
        e2.payoff(2.0, 0.5)
    sim = e2.simulate(200, np.random.default_rng(0))
    assert sim.premium.shape == (200, 2)
    np.testing.assert_allclose(sim.revenue, sim.premium.sum(1) + sim.stage_two_payment.sum(1))
    normal = handicap_auction(stats.norm(0, 1), lambda t: stats.norm(t + 3, 1), 2, n_grid=41)
    sim = normal.simulate(100, np.random.default_rng(1))
    assert np.isfinite(sim.tau).all() and sim.tau.shape == (100, 2)
