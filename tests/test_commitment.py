"""Tests of mdlib.commitment: Theorem 1 of Lobel and Paes Leme in closed form.

Order: closed forms (uniform, exponential, uniform on [a, b], finite laws), then the identity
p_hat = E[min(v, p*)], then validation (ties in the monopoly price), then the discrete game, then
(at the end) best responses to the equilibrium strategies on random finite laws, as hypothesis
properties: no profitable deviation for either player, wrong prices detected, unused messages prunable.
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


# --------------------------------------------------------------------------- best responses (hypothesis)
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mdlib.commitment import best_responses, equilibrium_offers  # noqa: E402
from helpers import distributions  # noqa: E402


@st.composite
def finite_laws(draw, max_points=4):
    """A finite law with 2..max_points distinct values in {0, 0.5, ..., 8} and a unique monopoly price."""
    k = draw(st.integers(2, max_points))
    vals = sorted(draw(st.sets(st.integers(0, 16), min_size=k, max_size=k)))
    w = np.array(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), float)
    law = (np.array(vals, float) / 2, w / w.sum())
    try:
        positive_commitment(law)
    except ValueError:
        assume(False)
    return law


def _theorem(pc, t, X):
    rest = len([i for i in X if i != t])
    return pc.monopoly_revenue * (t in X) + pc.advance_price * rest, pc.rent * len(X)


@given(finite_laws(), st.integers(1, 3), st.sampled_from(["day-before", "upfront"]))
def test_equilibrium_strategies_are_mutual_best_responses(law, T, kind):
    # buyer's best reply to the menus (backward induction) and seller's best mechanism against the buyer's
    # rule (one LP per state) both gain nothing, in every state; values are those of Theorem 1 and of the
    # independently solved game
    pc = positive_commitment(law)
    br = best_responses(*law, T, equilibrium_offers(*law, T, kind=kind))
    game = commitment_game(*law, T)
    assert abs(br.buyer_gain) < 1e-8 and abs(br.seller_gain) < 1e-8
    for (t, X), s in br.seller.items():
        if t <= T:
            seller, buyer = _theorem(pc, t, X)
            assert s == pytest.approx(seller, abs=1e-8) and br.buyer[(t, X)] == pytest.approx(buyer, abs=1e-8)
            assert s == pytest.approx(game.seller[(t, X)], abs=1e-8)


@given(finite_laws(), st.integers(1, 3), st.floats(0.05, 1.0))
def test_wrong_contract_prices_are_detected(law, T, delta):
    pc = positive_commitment(law)
    start = (0, tuple(range(1, T + 1)))
    high = best_responses(*law, T, equilibrium_offers(*law, T, contract_price=pc.advance_price + delta, spot_price=pc.monopoly_price))
    # nobody signs: the seller is left with the spot channel and loses the deadweight loss on every item
    assert high.seller[start] == pytest.approx(T * pc.monopoly_revenue, abs=1e-8)
    assert high.seller_gain >= T * (pc.advance_price - pc.monopoly_revenue) - 1e-8
    low_price = pc.advance_price - delta
    assume(low_price >= 0)
    low = best_responses(*law, T, equilibrium_offers(*law, T, contract_price=low_price, spot_price=pc.monopoly_price))
    assert abs(low.buyer_gain) < 1e-8  # a cheap contract is still the buyer's best reply
    assert low.seller_gain >= T * delta - 1e-8  # ... but the seller should charge more


@given(finite_laws(max_points=3), st.integers(1, 3), st.randoms(use_true_random=False))
def test_unused_messages_can_be_pruned(law, T, rnd):
    # the revelation argument: dropping the options no value chooses (keeping no-trade) changes no value
    vals = law[0]
    menus = {}
    for (t, X), menu in equilibrium_offers(*law, T).items():
        extra = []
        for _ in range(2):
            bundle = tuple(i for i in X if rnd.random() < 0.5)
            if bundle:
                extra.append((bundle, round(rnd.uniform(0, 2 * vals[-1] * len(bundle)), 2)))
        menus[(t, X)] = menu + tuple(extra)
    full = best_responses(*law, T, menus)
    pruned = best_responses(*law, T, {s: tuple(o for o in full.used[s] if o[0]) for s in menus})
    for k in full.buyer:
        assert pruned.buyer[k] == pytest.approx(full.buyer[k], abs=1e-9)
        assert pruned.seller[k] == pytest.approx(full.seller[k], abs=1e-9)


@given(distributions())
def test_advance_price_is_expected_min_hypothesis(dist):
    # p_pc = mu - Z = E[min(v, p*)], computed with a different integrand, and R* <= p_pc <= min(p*, mu)
    assume(hasattr(dist, "ppf"))  # positive_commitment takes legacy scipy distributions only (new-style: AttributeError)
    try:
        pc = positive_commitment(dist)
    except ValueError:
        assume(False)
    lo, hi = dist.support()
    p = pc.monopoly_price
    below = integrate.quad(lambda x: x * dist.pdf(x), lo, p, limit=200)[0] if p > lo else 0.0
    emin = below + p * dist.sf(p)
    assert pc.advance_price == pytest.approx(emin, abs=1e-6 * max(1.0, pc.mean))
    assert pc.monopoly_revenue - 1e-7 <= pc.advance_price <= min(pc.monopoly_price, pc.mean) + 1e-7


def test_best_responses_validation():
    law = ([1.0, 2.0, 3.0], [0.3, 0.4, 0.3])
    with pytest.raises(ValueError, match="kind"):
        equilibrium_offers(*law, 2, kind="weekly")
    with pytest.raises(ValueError, match="horizon"):
        equilibrium_offers(*law, 7)
    with pytest.raises(ValueError, match="contract_price"):
        equilibrium_offers(*law, 2, contract_price=-1.0, spot_price=2.0)
    offers = equilibrium_offers(*law, 2)
    with pytest.raises(ValueError, match="no menu"):
        best_responses(*law, 2, {k: m for k, m in offers.items() if k != (1, (1, 2))})
    bad = dict(offers)
    bad[(2, (2,))] = (((1, 2), 1.0),)
    with pytest.raises(ValueError, match="not a subset"):
        best_responses(*law, 2, bad)


def test_one_value_and_tie_messages():
    """A buyer with one known value: everything is extracted at once; a distribution with two monopoly prices
    is refused with the theorem's reason, word for word."""
    from helpers import refuses

    one = positive_commitment(([2.0], [1.0]))
    assert (one.monopoly_price, one.monopoly_revenue, one.mean, one.rent, one.advance_price) == (2.0, 2.0, 2.0, 0.0, 2.0)
    assert commitment_game([2.0], [1.0], 1).seller[(0, (1,))] == pytest.approx(2.0, abs=1e-9)
    refuses(lambda: positive_commitment(([1.0, 2.0, 4.0], [0.5, 0.3, 0.2])),
            "dist has several monopoly prices [1.0, 2.0]: the theorem needs a unique one")
