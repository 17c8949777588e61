"""Tests of mdlib.commitment: Theorem 1 of Lobel and Paes Leme in closed form.

Order: closed forms (uniform, exponential, uniform on [a, b], finite laws), then the identity
p_hat = E[min(v, p*)] as a hypothesis property, then one seeded Monte Carlo of the day-before
equilibrium against a deviation, then validation (ties in the monopoly price).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from mdlib.commitment import positive_commitment

TOL = 1e-8


def test_uniform_closed_forms():
    pc = positive_commitment(stats.uniform(0, 1))
    assert pc == pytest.approx((0.5, 0.25, 0.5, 0.125, 0.375), abs=TOL)


@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0])
def test_exponential_closed_forms(lam):
    pc = positive_commitment(stats.expon(scale=1 / lam))
    e = np.e
    assert pc == pytest.approx((1 / lam, 1 / (e * lam), 1 / lam, 1 / (e * lam), (1 - 1 / e) / lam), abs=TOL)


@pytest.mark.parametrize("a,b", [(0.0, 1.0), (0.2, 1.0), (0.6, 1.0), (1.0, 2.0)])
def test_uniform_interval(a, b):
    pc = positive_commitment(stats.uniform(a, b - a))
    if a < b / 2:
        assert pc.advance_price == pytest.approx((3 * b**2 - 4 * a**2) / (8 * (b - a)), abs=TOL)
    else:  # the monopoly price is a: everyone buys, so p_hat = R* = a
        assert pc.advance_price == pytest.approx(a, abs=TOL)
        assert pc.rent == pytest.approx((b - a) / 2, abs=TOL)


def test_finite_law_by_hand():
    # values 1, 2, 3 with probabilities .3, .4, .3: price p earns p P(v >= p) = 1, 1.4, 0.9, so R* = 2 and
    # the monopoly revenue is 1.4; the mean is 2; the advance price is E[min(v, R*)] = 1.7, the rent 2 - 1.7
    pc = positive_commitment(([1.0, 2.0, 3.0], [0.3, 0.4, 0.3]))
    assert pc == pytest.approx((2.0, 1.4, 2.0, 0.3, 1.7), abs=TOL)


@pytest.mark.parametrize("dist", [stats.uniform(0, 1), stats.expon(scale=2.0), stats.lognorm(0.5), stats.lognorm(1.0), stats.uniform(1, 1)])
def test_advance_price_is_expected_min_of_value_and_monopoly_price(dist):
    pc = positive_commitment(dist)
    lo, hi = dist.support()
    emin = integrate.quad(lambda x: min(x, pc.monopoly_price) * dist.pdf(x), lo, pc.monopoly_price)[0] + pc.monopoly_revenue
    assert pc.advance_price == pytest.approx(emin, abs=1e-7)
    assert pc.monopoly_revenue - 1e-9 <= pc.advance_price <= pc.monopoly_price + 1e-9


def test_day_before_equilibrium_against_a_deviation_monte_carlo():
    # uniform values, T = 5: the buyer pays p_hat for each item the day before; refusing the advance
    # sale of item k + 1 and buying it at p* in its own period leaves him exactly as well off on average
    pc = positive_commitment(stats.uniform(0, 1))
    rng = np.random.default_rng(20261201)
    T, n = 5, 200_000
    v = rng.random((n, T))
    eq = (v - pc.advance_price).sum(axis=1)
    se = eq.std() / np.sqrt(n)
    assert abs(eq.mean() - pc.rent * T) < 4 * se
    for k in range(T):
        dev = eq - (v[:, k] - pc.advance_price) + np.maximum(v[:, k] - pc.monopoly_price, 0.0)
        assert abs(dev.mean() - pc.rent * T) < 4 * dev.std() / np.sqrt(n)


def test_ties_raise():
    with pytest.raises(ValueError, match="several monopoly prices"):
        positive_commitment(([1.0, 2.0, 4.0], [0.5, 0.3, 0.2]))


@pytest.mark.parametrize("dist,match", [
    (([1.0, 2.0], [0.5, 0.6]), "probs"),
    (([1.0, -2.0], [0.5, 0.5]), "values"),
    ("uniform", "dist"),
])
def test_validation(dist, match):
    with pytest.raises(ValueError, match=match):
        positive_commitment(dist)


# --------------------------------------------------------------------------- the discrete game
from mdlib.commitment import commitment_game  # noqa: E402


@pytest.mark.parametrize("values,probs", [([1.0, 2.0, 3.0], [0.3, 0.4, 0.3]), ([0.0, 1.0, 2.0, 3.0, 4.0], [0.1, 0.2, 0.3, 0.25, 0.15]),
                                          ([4.0, 5.0, 7.0, 9.0], [0.4, 0.2, 0.3, 0.1])])
def test_theorem_1_in_every_state(values, probs):
    # V^b = Z |X| and V^s = R* 1{t in X} + (mu - Z) |X - {t}| in every state, T = 3 (Theorem 1 of Lobel and Paes Leme)
    pc = positive_commitment((values, probs))
    game = commitment_game(values, probs, 3)
    for (t, X), s in game.seller.items():
        rest = len([i for i in X if i != t])
        assert game.buyer[(t, X)] == pytest.approx(pc.rent * len(X), abs=1e-9)
        if t <= 3:
            assert s == pytest.approx(pc.monopoly_revenue * (t in X) + pc.advance_price * rest, abs=1e-9)
            assert s + game.buyer[(t, X)] == pytest.approx((pc.monopoly_revenue + pc.rent) * (t in X) + pc.mean * rest, abs=1e-9)


def test_commitment_game_validation():
    with pytest.raises(ValueError, match="horizon"):
        commitment_game([1.0, 2.0], [0.5, 0.5], 0)
    with pytest.raises(ValueError, match="probs"):
        commitment_game([1.0, 2.0], [0.5, 0.6], 2)
