"""Tests of mdlib.virtual: virtual weights and the single-buyer virtual-pivot menu.

Order: closed forms (sympy), then hypothesis properties, then a seeded Monte Carlo
check, then input validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from helpers import refuses
from mdlib import SingleBuyerMenu, VirtualWeights, single_buyer_menu, virtual_weights

S = sp.symbols("s", positive=True)
Z, C, DD, P, X = sp.symbols("z c D p x", positive=True)

# MHR distributions of the initial type on [0, 1] (uniform, truncated exponential, Beta(2, 2))
MHR_FIRSTS = {
    "uniform": stats.uniform(0, 1),
    "truncexpon": stats.truncexpon(b=2.0, scale=0.5),
    "beta22": stats.beta(2, 2),
}
# increasing concave A > 0 on (0, 1] with their derivatives
CONCAVE_A = {
    "identity": (lambda s: s, lambda s: np.ones_like(s)),
    "sqrt": (np.sqrt, lambda s: 0.5 / np.sqrt(s)),
    "log1p": (np.log1p, lambda s: 1.0 / (1.0 + s)),
    "shifted": (lambda s: 1.0 + s, lambda s: np.ones_like(s)),
}


# --------------------------------------------------------------------------- closed forms
def test_uniform_identity_closed_form():
    # h = 1 - s for U[0, 1], so alpha = 1 - (1 - s)/s = 2 - 1/s
    h = 1 - S
    alpha = sp.simplify(1 - h / S)
    assert sp.simplify(alpha - (2 - 1 / S)) == 0
    s = np.linspace(0.05, 1.0, 40)
    a, b = virtual_weights(stats.uniform(0, 1), s)
    np.testing.assert_allclose(a, 2 - 1 / s, rtol=1e-13)
    assert np.all(b == 0.0)


@pytest.mark.parametrize("name", list(CONCAVE_A))
def test_closed_forms_general_A(name):
    A, dA = CONCAVE_A[name]
    s = np.linspace(0.1, 1.0, 19)
    h = 1 - s  # uniform
    w = virtual_weights(stats.uniform(0, 1), s, A=A, dA=dA)
    np.testing.assert_allclose(w.alpha, 1 - h * dA(s) / A(s), rtol=1e-12, atol=1e-14)
    add = virtual_weights(stats.uniform(0, 1), s, A=A, dA=dA, form="additive")
    np.testing.assert_allclose(add.alpha, 1.0)
    np.testing.assert_allclose(add.beta_coef, -h * dA(s), rtol=1e-12, atol=1e-14)


def test_truncated_exponential_closed_form():
    # truncexpon on [0, b] with scale 1: F = (1 - e^{-s})/(1 - e^{-b}), h = (e^{-s} - e^{-b})/e^{-s}
    b = 2.0
    s = np.linspace(0.1, b, 20)
    h = 1 - np.exp(s - b)
    a, _ = virtual_weights(stats.truncexpon(b=b), s)
    np.testing.assert_allclose(a, 1 - h / s, rtol=1e-12, atol=1e-13)


def test_returns_named_pair_and_scalars():
    w = virtual_weights(stats.uniform(0, 1), 0.8)
    assert isinstance(w, VirtualWeights) and isinstance(w.alpha, float)
    alpha, beta_coef = w
    assert alpha == pytest.approx(0.75, abs=1e-15) and beta_coef == 0.0
    arr = virtual_weights(stats.uniform(0, 1), np.full((2, 3), 0.5))
    assert arr.alpha.shape == (2, 3)


def test_new_style_distribution():
    a_new, _ = virtual_weights(stats.Uniform(a=0, b=1), [0.6, 0.9])
    np.testing.assert_allclose(a_new, [2 - 1 / 0.6, 2 - 1 / 0.9], rtol=1e-13)


# --------------------------------------------------------------------------- properties
@given(st.floats(0.01, 1.0))
def test_uniform_alpha_is_two_minus_inverse(s):
    assert virtual_weights(stats.uniform(0, 1), s).alpha == pytest.approx(2 - 1 / s, rel=1e-12, abs=1e-12)


@given(
    st.sampled_from(list(MHR_FIRSTS)),
    st.sampled_from(list(CONCAVE_A)),
    st.sampled_from(["multiplicative", "additive"]),
)
def test_top_type_is_undistorted(first, a_name, form):
    A, dA = CONCAVE_A[a_name]
    dist = MHR_FIRSTS[first]
    top = float(dist.support()[1])
    w = virtual_weights(dist, top, A=A, dA=dA, form=form)
    assert w.alpha == 1.0 and w.beta_coef == 0.0


@given(st.sampled_from(list(MHR_FIRSTS)), st.sampled_from(list(CONCAVE_A)), st.floats(0.02, 0.98), st.floats(0.001, 0.5))
def test_weights_increase_under_mhr_and_concave_A(first, a_name, s, ds):
    A, dA = CONCAVE_A[a_name]
    dist = MHR_FIRSTS[first]
    pts = np.array([s, min(s + ds, 1.0)])
    alpha = virtual_weights(dist, pts, A=A, dA=dA).alpha
    beta = virtual_weights(dist, pts, A=A, dA=dA, form="additive").beta_coef
    assert alpha[1] >= alpha[0] - 1e-12
    assert beta[1] >= beta[0] - 1e-12
    assert np.all(beta <= 0.0)


@given(st.sampled_from(list(MHR_FIRSTS)), st.floats(0.05, 0.95), st.floats(-2.0, 2.0), st.floats(0.1, 3.0))
def test_weighted_value_is_virtual_value(first, s, B, C):
    # alpha v + beta = v - h dv/ds0 for v = A(s0) C + B (additive) and v = A(s0) B (multiplicative)
    dist = MHR_FIRSTS[first]
    A, dA = CONCAVE_A["log1p"]
    h = dist.sf(s) / dist.pdf(s)
    am, _ = virtual_weights(dist, s, A=A, dA=dA)
    assert am * A(s) * B == pytest.approx(A(s) * B - h * dA(s) * B, rel=1e-10, abs=1e-12)
    aa, ba = virtual_weights(dist, s, A=A, dA=dA, form="additive")
    v = A(s) * C + B
    assert aa * v + ba * C == pytest.approx(v - h * dA(s) * C, rel=1e-10, abs=1e-12)


# --------------------------------------------------------------------------- the menu: closed forms
def uniform_uniform_closed_forms():
    """The uniform-uniform instance, derived with sympy: s0 ~ U[0, 1], X ~ U[0, 1], A(s) = s."""
    kappa = C / (2 * S - 1)  # buy iff X >= kappa, i.e. s X >= c / alpha(s)
    price = sp.simplify(C / (2 - 1 / S))
    T = lambda k: sp.integrate(X, (X, k, 1))  # E[X; X >= k]  # noqa: E731
    I = lambda k: sp.integrate(X - k, (X, k, 1))  # E[(X - k)^+]  # noqa: E731
    cutoff = sp.solve(sp.Eq(kappa, 1), S)[0]
    rent = DD * sp.integrate(T(kappa.subs(S, Z)), (Z, cutoff, S))
    fee = DD * S * I(kappa) - rent
    value = DD * S * T(kappa)
    units = DD * price * (1 - kappa)
    menu = sp.simplify(fee.subs(S, sp.solve(sp.Eq(price, P), S)[0]))
    profit = DD * sp.integrate(sp.expand((2 * S - 1) * I(kappa)), (S, cutoff, 1))
    first_best = DD * sp.integrate(sp.expand(S * I(C / S)), (S, C, 1))
    return dict(price=price, cutoff=cutoff, rent=rent, fee=fee, value=value, units=units,
                menu=menu, profit=profit, first_best=first_best)


@pytest.fixture(scope="module")
def uu():
    return uniform_uniform_closed_forms()


def test_uniform_uniform_closed_forms(uu):
    assert sp.simplify(uu["price"] - C * S / (2 * S - 1)) == 0
    assert sp.simplify(uu["cutoff"] - (1 + C) / 2) == 0
    assert sp.simplify(uu["rent"] - DD * (2 * S - 1 - C) ** 2 / (4 * (2 * S - 1))) == 0
    assert sp.simplify(uu["fee"] - DD * (2 * S - 1 - C) ** 2 / (4 * (2 * S - 1) ** 2)) == 0
    assert sp.simplify(uu["menu"] - DD * ((1 + C) / 2 - P) ** 2) == 0
    assert sp.simplify(uu["value"] - uu["rent"] - uu["fee"] - uu["units"]) == 0  # p* = fee + units
    c = sp.Rational(1, 5)
    target = DD * (1 - 4 * c + 3 * c**2 - 2 * c**2 * sp.log(c)) / 8
    assert sp.simplify(uu["profit"].subs(C, c) - target) == 0
    assert sp.simplify(uu["first_best"].subs(C, c) - 2 * target) == 0


@pytest.mark.parametrize("c,delta", [(0.2, 0.9), (0.05, 0.5), (0.6, 0.95)])
def test_uniform_uniform_numbers(uu, c, delta):
    m = single_buyer_menu(stats.uniform(0, 1), stats.uniform(0, 1), cost=c, discount=delta)
    assert isinstance(m, SingleBuyerMenu)
    subs = {C: c, DD: delta / (1 - delta)}
    f = {k: sp.lambdify(S, v.subs(subs)) for k, v in uu.items() if k not in ("menu", "cutoff", "profit", "first_best")}
    s = np.linspace(float(uu["cutoff"].subs(subs)), 1.0, 31)[1:]
    np.testing.assert_allclose(m.price(s), f["price"](s), rtol=1e-12)
    np.testing.assert_allclose(m.rent(s), f["rent"](s), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m.fee(s), f["fee"](s), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m.unit_payments(s), f["units"](s), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m.relaxed_payment(s), f["value"](s) - f["rent"](s), rtol=1e-10, atol=1e-13)
    p = np.linspace(c, (1 + c) / 2, 25)
    menu = sp.lambdify(P, uu["menu"].subs(subs))
    np.testing.assert_allclose(m.menu_fee(p), menu(p), rtol=1e-9, atol=1e-12)
    assert m.cutoff == pytest.approx((1 + c) / 2, abs=1e-12)
    assert m.profit == pytest.approx(float(uu["profit"].subs(subs)), rel=1e-11)
    assert m.first_best == pytest.approx(2 * m.profit, rel=1e-11)
    assert m.error < 1e-10
    # excluded types: no contract
    assert m.price(0.3) == math.inf and m.fee(0.3) == 0.0 and m.rent(0.3) == 0.0


def test_uniform_uniform_at_cost_one_fifth():
    # the closed forms at c = 1/5, discount 0.9 (D = 9), evaluated by hand at a few types and prices
    c, D = 0.2, 9.0
    m = single_buyer_menu(stats.uniform(0, 1), stats.uniform(0, 1), cost=c, discount=0.9)
    s = np.array([0.65, 0.8, 1.0])
    np.testing.assert_allclose(m.price(s), c * s / (2 * s - 1), rtol=1e-12)
    np.testing.assert_allclose(m.rent(s), D * (2 * s - 1 - c) ** 2 / (4 * (2 * s - 1)), rtol=1e-12)
    np.testing.assert_allclose(m.fee(s), D * (2 * s - 1 - c) ** 2 / (4 * (2 * s - 1) ** 2), rtol=1e-12)
    p = np.array([0.2, 0.25, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(m.menu_fee(p), D * ((1 + c) / 2 - p) ** 2, rtol=1e-10)
    np.testing.assert_allclose(m.relaxed_payment(s), m.fee(s) + m.unit_payments(s), rtol=1e-12)
    assert m.profit == pytest.approx(D * (1 - 4 * c + 3 * c**2 - 2 * c**2 * math.log(c)) / 8, rel=1e-12)


def test_zero_cost_is_one_contract():
    # c = 0: no per-unit distortion; the whole stream is sold up front to types with phi >= 0
    m = single_buyer_menu(stats.uniform(0, 1), stats.expon(), cost=0.0, discount=0.9)
    assert m.cutoff == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(m.price([0.6, 1.0]), 0.0)
    np.testing.assert_allclose(m.fee([0.6, 1.0]), 9 * 0.5, rtol=1e-10)  # D * cutoff * E[X]
    assert m.menu_fee(0.0) == pytest.approx(4.5, rel=1e-10)
    assert m.profit == pytest.approx(9 * 0.25, rel=1e-10)  # D E[(2 s - 1)^+] E[X]


# --------------------------------------------------------------------------- non-uniform instances
def expected_surplus(kind, s, p):
    """E[(s X - p)^+] by an independent closed form for each test shock."""
    s, p = np.broadcast_arrays(np.maximum(np.asarray(s, float), 1e-9), np.asarray(p, float))
    if kind == "uniform":
        return np.where(p < s, s * (1 - p / s) ** 2 / 2, 0.0)
    if kind == "expon":
        return s * np.exp(-p / s)
    if kind == "bernoulli":
        return 0.3 * np.maximum(s - p, 0.0)
    raise AssertionError(kind)


SHOCKS = {"uniform": stats.uniform(0, 1), "expon": stats.expon(), "bernoulli": stats.bernoulli(0.3)}
FIRSTS = {"uniform": stats.uniform(0, 1), "beta22": stats.beta(2, 2), "truncexpon": stats.truncexpon(b=2.0, scale=0.5)}


@pytest.mark.parametrize("first", list(FIRSTS))
@pytest.mark.parametrize("shock", list(SHOCKS))
def test_menu_is_incentive_compatible(first, shock):
    # every type on a grid prefers its own contract to every contract on a finer grid of types
    m = single_buyer_menu(FIRSTS[first], SHOCKS[shock], cost=0.15, discount=0.85)
    D = 0.85 / 0.15
    hi = float(FIRSTS[first].support()[1])
    types = np.linspace(m.cutoff, hi, 41)[1:]
    offers = np.linspace(m.cutoff, hi, 801)[1:]
    price, fee = m.price(offers), m.fee(offers)
    util = D * expected_surplus(shock, types[:, None], price[None, :]) - fee[None, :]
    own = D * expected_surplus(shock, types, m.price(types)) - m.fee(types)
    assert np.all(own >= util.max(axis=1) - 1e-10), "a type gains by choosing another contract"
    assert np.all(own >= -1e-12), "participation (IR)"
    np.testing.assert_allclose(own, m.rent(types), rtol=1e-9, atol=1e-10)  # rent = utility of own contract
    # excluded types gain nothing from any contract
    low = np.linspace(float(FIRSTS[first].support()[0]), m.cutoff, 20)
    assert np.all(D * expected_surplus(shock, low[:, None], price[None, :]) - fee[None, :] <= 1e-10)


@pytest.mark.parametrize("first", list(FIRSTS))
@pytest.mark.parametrize("shock", list(SHOCKS))
def test_profit_two_routes_and_bounds(first, shock):
    # profit = E[relaxed payment] - c E[discounted units], by scipy quad, against the virtual surplus
    F, c, delta = FIRSTS[first], 0.15, 0.85
    m = single_buyer_menu(F, SHOCKS[shock], cost=c, discount=delta)
    hi = float(F.support()[1])

    def net(s):
        p = m.price(s)
        units = m.unit_payments(s) / p if p > 0 and math.isfinite(p) else 0.0
        return (m.relaxed_payment(s) - c * units) * F.pdf(s)

    route2 = integrate.quad(net, m.cutoff, hi, epsabs=1e-12, limit=200, points=[(m.cutoff + hi) / 2])[0]
    assert m.profit == pytest.approx(route2, rel=1e-7, abs=1e-10)
    assert 0.0 < m.profit <= m.first_best


@given(st.sampled_from(list(FIRSTS)), st.sampled_from(list(SHOCKS)), st.floats(0.0, 0.8), st.floats(0.05, 0.97))
def test_menu_properties(first, shock, c, delta):
    F = FIRSTS[first]
    if c >= float(F.support()[1]) * float(SHOCKS[shock].support()[1]):
        return
    m = single_buyer_menu(F, SHOCKS[shock], cost=c, discount=delta)
    hi = float(F.support()[1])
    s = np.linspace(m.cutoff, hi, 60)
    rent, fee, price = m.rent(s), m.fee(s), m.price(s)
    assert np.all(rent >= 0.0) and np.all(fee >= 0.0), "IR and non-negative fees above the cutoff"
    assert np.all(np.diff(fee) >= -1e-10), "the fee increases with the type"
    assert np.all(np.diff(rent) >= -1e-12), "the rent increases with the type"
    finite = np.isfinite(price)
    assert np.all(np.diff(price[finite]) <= 1e-12), "the price decreases with the type"
    assert m.price(hi) == pytest.approx(c, abs=1e-12), "no distortion at the top"
    assert price[finite].min() >= c - 1e-12, "price >= cost"
    assert 0.0 <= m.profit <= m.first_best + 1e-12
    np.testing.assert_allclose(m.relaxed_payment(s), fee + m.unit_payments(s), rtol=1e-10, atol=1e-12)
    if c > 0 and finite[1:].all():
        p = price[1:]
        np.testing.assert_allclose(m.menu_fee(p), fee[1:], rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------- Monte Carlo
def test_profit_monte_carlo():
    # seeded simulation of the menu: buyers pick their own contracts and buy iff s X >= p
    F, c, delta = stats.beta(2, 2), 0.15, 0.8
    m = single_buyer_menu(F, stats.expon(), cost=c, discount=delta)
    rng = np.random.default_rng(20260101)
    n, horizon = 20_000, 80  # delta^80 < 1e-7
    s = F.rvs(size=n, random_state=rng)
    x = rng.exponential(size=(n, horizon))
    price = m.price(s)
    inc = np.isfinite(price)
    buys = (s[:, None] * x >= price[:, None]) & inc[:, None]
    disc = delta ** np.arange(1, horizon + 1)
    per_buyer = m.fee(s) + (np.where(inc, price - c, 0.0)[:, None] * buys) @ disc
    mean, se = per_buyer.mean(), per_buyer.std(ddof=1) / math.sqrt(n)
    assert abs(mean - m.profit) < 4 * se, (mean, m.profit, se)


# --------------------------------------------------------------------------- validation
def test_virtual_weights_bad_input():
    U = stats.uniform(0, 1)
    with pytest.raises(ValueError, match="s0 must lie in the support"):
        virtual_weights(U, 1.5)
    with pytest.raises(ValueError, match="s0 must lie in the support"):
        virtual_weights(U, [0.5, -0.1])
    with pytest.raises(ValueError, match="s0 must not contain NaN"):
        virtual_weights(U, math.nan)
    with pytest.raises(ValueError, match="form must be"):
        virtual_weights(U, 0.5, form="mult")
    with pytest.raises(ValueError, match="dA must be given"):
        virtual_weights(U, 0.5, A=np.sqrt)
    with pytest.raises(ValueError, match="A must be given"):
        virtual_weights(U, 0.5, dA=np.sqrt)
    with pytest.raises(ValueError, match="not finite at s0 = 0"):
        virtual_weights(U, [0.0, 0.5])  # alpha(0) = -inf for A(s) = s
    with pytest.raises(ValueError, match="first must be"):
        virtual_weights(stats.poisson(2), 1.0)
    with pytest.raises(ValueError, match="first must be"):
        virtual_weights("uniform", 0.5)


def test_menu_bad_input():
    U = stats.uniform(0, 1)
    with pytest.raises(ValueError, match="cost must be >= 0"):
        single_buyer_menu(U, U, cost=-0.1, discount=0.9)
    with pytest.raises(ValueError, match="cost must be below"):
        single_buyer_menu(U, U, cost=1.0, discount=0.9)
    with pytest.raises(ValueError, match="cost must be a finite"):
        single_buyer_menu(U, U, cost=math.nan, discount=0.9)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"discount must lie in \(0, 1\)"):
            single_buyer_menu(U, U, cost=0.2, discount=bad)
    with pytest.raises(ValueError, match="shock must be non-negative"):
        single_buyer_menu(U, stats.norm(), cost=0.2, discount=0.9)
    with pytest.raises(ValueError, match="shock must be"):
        single_buyer_menu(U, "uniform", cost=0.2, discount=0.9)
    with pytest.raises(ValueError, match="shock must have a finite support"):
        single_buyer_menu(U, stats.poisson(2), cost=0.2, discount=0.9)
    with pytest.raises(ValueError, match="first must have a bounded support"):
        single_buyer_menu(stats.uniform(-1, 2), U, cost=0.2, discount=0.9)
    with pytest.raises(ValueError, match="first must have a bounded support"):
        single_buyer_menu(stats.expon(), U, cost=0.2, discount=0.9)
    bumpy = stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=0.7, b=0.75)], weights=[0.5, 0.5])
    with pytest.raises(ValueError, match="first must have an increasing weight alpha"):
        single_buyer_menu(bumpy, U, cost=0.1, discount=0.9)
    m = single_buyer_menu(U, U, cost=0.2, discount=0.9)
    with pytest.raises(ValueError, match="s0 must lie in the support"):
        m.fee(1.2)
    with pytest.raises(ValueError, match=r"p must lie in the range of menu prices \[0.2, 0.6\]"):
        m.menu_fee(0.1)


# --------------------------------------------------------------------------- moved from the chapter (book/virtual_pivot.md)
def test_beta_types_exponential_shocks_against_inline_quadrature():
    # the chapter's formulas written inline: price κ s, rent D ∫ T(κ(z)) dz, fee D s I(κ) - U; cutoff φ = 0 (unbounded X)
    first, cost, delta = stats.beta(2, 2), 0.2, 0.9
    D = delta / (1 - delta)
    phi = lambda s: s - (1 - s) * (1 + 2 * s) / (6 * s)                 # h = (1 - F)/f for F = 3s^2 - 2s^3
    cut = optimize_brentq(phi, 0.3, 0.9)
    kap = lambda s: cost / phi(s)
    menu = single_buyer_menu(first, stats.expon(), cost=cost, discount=delta)
    assert menu.cutoff == pytest.approx(cut, abs=1e-9)
    for s in (0.55, 0.7, 0.85, 1.0):
        rent = D * integrate.quad(lambda z: (1 + kap(z)) * np.exp(-kap(z)), cut, s, epsabs=1e-13)[0]
        assert menu.price(s) == pytest.approx(kap(s) * s, rel=1e-9)
        assert menu.rent(s) == pytest.approx(rent, rel=1e-9, abs=1e-11)
        assert menu.fee(s) == pytest.approx(D * s * np.exp(-kap(s)) - rent, rel=1e-9, abs=1e-11)


def optimize_brentq(f, a, b):
    from scipy import optimize

    return optimize.brentq(f, a, b, xtol=1e-15)


@settings(max_examples=10)
@given(st.sampled_from(["uniform", "gamma", "beta"]), st.floats(0.1, 2.0), st.floats(0.0, 0.8), st.floats(0.3, 0.95))
def test_uniform_types_earn_half_the_first_best_for_any_shock(kind, scale, cost_share, delta):
    # u = 2s - 1 maps the virtual surplus onto half the first best, whatever the shock (the chapter's proof exercise)
    shock = {"uniform": stats.uniform(0.5 * scale, scale), "gamma": stats.gamma(2.0, scale=scale),
             "beta": stats.beta(2, 3, scale=scale)}[kind]
    top = shock.support()[1]
    cost = cost_share * (top if np.isfinite(top) else shock.mean())  # below the largest value s0 X
    menu = single_buyer_menu(stats.uniform(0, 1), shock, cost=cost, discount=delta)
    if menu.profit > 1e-9:
        assert menu.first_best / menu.profit == pytest.approx(2.0, rel=1e-7)


def test_distortion_never_fades():
    # the menu sells to type s0 in any period iff X_t >= c/(2 s0 - 1): the same cutoff every period, above c/s0 below the top
    menu = single_buyer_menu(stats.uniform(0, 1), stats.uniform(0, 1), 0.2, 0.9)
    s = np.linspace(0.65, 1.0, 8)
    trade = 1 - menu.price(s) / s
    assert np.allclose(trade, 1 - 0.2 / (2 * s - 1), atol=1e-12)
    assert (trade[:-1] < 1 - 0.2 / s[:-1]).all() and trade[-1] == pytest.approx(1 - 0.2, abs=1e-12)


@pytest.mark.parametrize("first, cost", [(stats.uniform(0, 1), 0.5), (stats.uniform(0, 2), 1.0), (stats.uniform(0, 1), 0.0)])
def test_price_range_no_distortion_at_the_top(first, cost):
    """The top type pays the cost per unit (no distortion at the top); the cut-off type, whose virtual value is 0,
    would pay an infinite price; with cost 0 every contract has price 0."""
    menu = single_buyer_menu(first, stats.expon(), cost, 0.9)
    p_lo, p_hi = menu.price_range()
    assert p_lo == pytest.approx(cost, abs=1e-12)
    assert p_hi == (0.0 if cost == 0.0 else math.inf)


def test_discrete_shock_with_a_negative_atom_is_refused_by_name():
    refuses(lambda: single_buyer_menu(stats.uniform(0, 1), stats.randint(-1, 3), 0.5, 0.9),
            "shock must be non-negative, got an atom at -1")


@pytest.mark.parametrize("tol", [1e-6, 1e-12])
def test_adaptive_quadrature_against_closed_forms(tol):
    """The menu's quadrature (a private helper, tested directly): the integral of sqrt(x), whose derivative is
    unbounded at 0, over the panels [0, 0.3] and [0.3, 1], the cumulative integral at every refined edge, and
    an error estimate within the tolerance asked for that does not understate the true error."""
    from mdlib.virtual import _adaptive

    primitive = lambda x: 2 / 3 * x**1.5  # noqa: E731
    out, fine, cumulative, error = _adaptive(np.sqrt, np.array([0.0, 0.3, 1.0]), tol)
    assert np.allclose(out, [primitive(0.3), primitive(1.0) - primitive(0.3)], rtol=0, atol=10 * tol)
    assert fine[0] == 0.0 and fine[-1] == 1.0 and np.all(np.diff(fine) > 0) and 0.3 in fine
    assert fine.size > 3, "the singular end is refined"
    assert np.allclose(cumulative, primitive(fine), rtol=0, atol=10 * tol)
    assert error <= 2 * tol
    assert abs(out.sum() - 2 / 3) <= error + 1e-15
