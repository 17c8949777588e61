"""Tests of mdlib.bandits: the dynamic second-price auction, the two-armed bandit and the virtual-index
auction (the AR(1) stopping rule and the auction with arrivals are tested with mdlib.optimal_auctions).

Order: closed forms and the licensing examples (a Beta arm against known values),
then hypothesis properties on random frozen-when-idle bidders (Theorem 2 from the
pivot transfers, winner = highest Gittins index, periodic ex post IC by the pivot
audit), then a seeded Monte Carlo check, then input validation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import (
    audit_pivot,
    bernoulli_gittins_index,
    beta_bernoulli_arm,
    beta_stopping_value,
    dynamic_second_price,
    random_arms,
    two_armed_bandit,
)

ALGEBRA = 1e-9


def two_arm_value(priors, d, depth):
    """Social value of two Beta-Bernoulli arms by backward induction over total pulls (posteriors frozen
    after ``depth`` pulls in all): an independent check of the joint dynamic program."""
    (a1, b1), (a2, b2) = priors
    V = None
    for n in range(depth, -1, -1):
        level = []
        for n1 in range(n + 1):
            n2 = n - n1
            m1 = ((a1 + np.arange(n1 + 1)) / (a1 + b1 + n1))[:, None]
            m2 = ((a2 + np.arange(n2 + 1)) / (a2 + b2 + n2))[None, :]
            if V is None:
                level.append(np.maximum(m1, m2) / (1 - d))
                continue
            one, two = V[n1 + 1], V[n1]  # after pulling arm 1 (n1 + 1 pulls of it) or arm 2
            pull1 = m1 * (1 + d * one[1:, :]) + (1 - m1) * d * one[:-1, :]
            pull2 = m2 * (1 + d * two[:, 1:]) + (1 - m2) * d * two[:, :-1]
            level.append(np.maximum(pull1, pull2))
        V = level
    return float(V[0][0, 0])


# --------------------------------------------------------------------------- closed forms
def test_beta_bernoulli_arm_is_the_posterior_tree():
    arm = beta_bernoulli_arm(2.0, 3.0, 4)
    assert arm.P.shape == (15, 15) and np.allclose(arm.P.sum(axis=1), 1.0)
    # node (n, s) = n(n+1)/2 + s; posterior mean (2 + s)/(5 + n); martingale: E[next mean] = mean
    assert np.allclose(arm.P @ arm.r, arm.r)
    assert abs(arm.r[3 + 2] - 4 / 7) < ALGEBRA


def test_licensing_uncertain_against_known():
    """Licensing to two firms: A's success rate is Beta(1, 1), B's value 0.55 is known, discount 0.9."""
    d, depth = 0.9, 30
    auction = dynamic_second_price([beta_bernoulli_arm(1, 1, depth), ([[1.0]], [0.55])], d)
    res = auction.pivot
    assert auction.winner[0] == 0, "A wins with a lower mean"
    # the tree frozen at depth 30 undervalues learning a little: index 0.702881 vs 0.702889
    assert 0 <= bernoulli_gittins_index(1, 1, d) - auction.index[0, 0] < 1e-5
    assert abs(auction.price[0] - 0.55) < ALGEBRA, "two bidders: the price is the rival's mean"
    assert abs(res.welfare[0] - beta_stopping_value(1, 1, 0.55, d, depth)) < ALGEBRA, "same truncated tree"
    W = beta_stopping_value(1, 1, 0.55, d, 400)  # d^400 < 1e-18
    assert abs(res.welfare[0] - W) < d**depth / (4 * np.sqrt(depth) * (1 - d))
    assert W > 0.55 / (1 - d), "the option to learn about A is worth something"
    assert np.allclose(res.marginal_contribution[:, 0], res.welfare[0] - np.array([5.5, 5.0]), atol=ALGEBRA)
    # when B wins he pays A's (frozen) posterior mean
    b_wins = auction.winner == 1
    mean_A = beta_bernoulli_arm(1, 1, depth).r[auction.model.states[:, 0]]
    assert np.allclose(auction.price[b_wins], mean_A[b_wins], atol=ALGEBRA)


def test_three_bidders_option_value():
    """Three Beta bidders A = (1, 1), B = (2, 2), C = (3, 2): C wins and pays more than every rival's
    mean (the option value of learning about the rivals), less than the largest rival index."""
    d = 0.9
    W_minus_C = two_armed_bandit([(1, 1), (2, 2)], d, depth=150).value
    price_C = (1 - d) * W_minus_C
    assert abs(price_C - (1 - d) * two_arm_value([(1, 1), (2, 2)], d, 150)) < 1e-6
    assert price_C > 0.5 and price_C < bernoulli_gittins_index(1, 1, d)
    idx = bernoulli_gittins_index([1, 2, 3], [1, 2, 2], d)
    assert np.argmax(idx) == 2, "C has the highest index"
    others = {"A": [(2, 2), (3, 2)], "B": [(1, 1), (3, 2)]}
    for pri in others.values():
        assert abs(two_armed_bandit(pri, d, depth=150).value - two_arm_value(pri, d, 150)) < 1e-5


def test_two_arm_decisions_are_index_comparisons():
    """The joint dynamic program pulls the arm of higher Gittins index in every state with n_i <= 15."""
    d = 0.9
    res = two_armed_bandit([(1, 1), (2, 2)], d, depth=150, record=15)
    n = np.arange(16)
    n_grid, s_grid = np.meshgrid(n, n, indexing="ij")
    ok = s_grid <= n_grid
    g1 = np.full((16, 16), np.nan)
    g2 = np.full((16, 16), np.nan)
    g1[ok] = bernoulli_gittins_index(1 + s_grid[ok], 1 + n_grid[ok] - s_grid[ok], d, tol=1e-9)
    g2[ok] = bernoulli_gittins_index(2 + s_grid[ok], 2 + n_grid[ok] - s_grid[ok], d, tol=1e-9)
    γ1 = g1[:, :, None, None]
    γ2 = g2[None, None, :, :]
    valid = ok[:, :, None, None] & ok[None, None, :, :]
    strict = valid & (np.abs(γ1 - γ2) > 1e-7) & (res.first >= 0)
    disagree = strict & ((res.first == 0) != (γ1 > γ2))
    assert strict.sum() > 0.9 * valid.sum() and disagree.sum() == 0, "the index rule is the optimal policy"


# --------------------------------------------------------------------------- properties
@given(st.integers(0, 10**6), st.integers(2, 3), st.integers(1, 3), st.floats(0.3, 0.95))
def test_theorem_2_from_the_pivot(seed, n_bidders, n_states, d):
    auction = dynamic_second_price(random_arms(seed, n_bidders, n_states), d)
    res = auction.pivot
    S = np.arange(auction.model.n_joint)
    W_minus = res.welfare_without[auction.winner, S]
    assert np.allclose(auction.price, (1 - d) * W_minus, atol=ALGEBRA), "winner pays (1-δ)W_{-j}"
    losers = np.ones_like(res.transfers, dtype=bool)
    losers[auction.winner, S] = False
    assert np.allclose(res.transfers[losers], 0.0, atol=ALGEBRA), "losers pay nothing"
    # the winner has the highest Gittins index (ties allowed)
    assert (auction.index[auction.winner, S] >= auction.index.max(axis=0) - 1e-9).all()
    # sandwich: the price lies between the best rival mean and the best rival index
    for j in range(n_bidders):
        won = auction.winner == j
        rivals = [i for i in range(n_bidders) if i != j]
        best_index = auction.index[rivals][:, won].max(axis=0)
        assert (auction.price[won] <= best_index + 1e-9).all()
    assert audit_pivot(auction.model, res).truthful


def test_two_bidders_price_is_rival_mean_for_martingale_values():
    d = 0.8
    auction = dynamic_second_price([beta_bernoulli_arm(1, 2, 6), beta_bernoulli_arm(3, 1, 6)], d)
    S = np.arange(auction.model.n_joint)
    loser = 1 - auction.winner
    means = np.stack([beta_bernoulli_arm(1, 2, 6).r[auction.model.states[:, 0]],
                      beta_bernoulli_arm(3, 1, 6).r[auction.model.states[:, 1]]])
    assert np.allclose(auction.price, means[loser, S], atol=ALGEBRA)


# --------------------------------------------------------------------------- Monte Carlo
def test_licensing_revenue_by_simulation():
    """L1: simulated discounted revenue of the auction = W - M_A - M_B within 4 standard errors."""
    d, depth, paths, horizon = 0.9, 30, 40_000, 200
    arm_A = beta_bernoulli_arm(1, 1, depth)
    auction = dynamic_second_price([arm_A, ([[1.0]], [0.55])], d)
    res = auction.pivot
    rng = np.random.default_rng(3)
    omega = rng.beta(1, 1, paths)
    node = np.zeros(paths, dtype=np.int64)
    n_of = np.repeat(np.arange(depth + 1), np.arange(1, depth + 2))
    revenue = np.zeros(paths)
    for t in range(horizon):
        win = auction.winner[node]  # B's state is the single state 0, so the joint state is A's node
        revenue += d**t * auction.price[node]
        y = rng.random(paths) < omega
        moving = (win == 0) & (n_of[node] < depth)
        nxt = (n_of[node] + 1) * (n_of[node] + 2) // 2 + (node - n_of[node] * (n_of[node] + 1) // 2) + y
        node = np.where(moving, nxt, node)
    exact = res.welfare[0] - res.marginal_contribution[:, 0].sum()
    se = revenue.std() / np.sqrt(paths)
    assert abs(revenue.mean() - exact) < 4 * se
    assert abs(exact - (10.5 - beta_stopping_value(1, 1, 0.55, d, depth))) < ALGEBRA


# --------------------------------------------------------------------------- validation
def test_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        dynamic_second_price([], 0.9)
    with pytest.raises(ValueError, match="arms\\[0\\]"):
        dynamic_second_price([([[1.0, 0.0]], [1.0])], 0.9)
    with pytest.raises(ValueError, match="stochastic"):
        dynamic_second_price([([[0.5]], [1.0])], 0.9)
    with pytest.raises(ValueError, match="discount"):
        dynamic_second_price([([[1.0]], [1.0])], 1.0)
    with pytest.raises(ValueError, match="a must be positive"):
        beta_bernoulli_arm(0, 1, 3)
    with pytest.raises(ValueError, match="depth"):
        beta_bernoulli_arm(1, 1, 0)
    with pytest.raises(ValueError, match="two"):
        two_armed_bandit([(1, 1)], 0.9)
    with pytest.raises(ValueError, match="positive"):
        two_armed_bandit([(1, 1), (1, -1)], 0.9)
    with pytest.raises(ValueError, match="record"):
        two_armed_bandit([(1, 1), (1, 1)], 0.9, depth=10, record=11)


# --------------------------------------------------------------------------- the virtual-index auction
from mdlib import virtual_index_auction  # noqa: E402
def test_virtual_index_auction_price_and_incentives():
    """Cor. 5.3 of Kakade, Lobel and Nazerzadeh on random arms: the winner has the highest virtual index and pays
    ((1 - δ) W_-j - β_j)/α_j, losers pay 0, and no state report pays (weighted pivot audit with true values)."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        arms = random_arms(rng, n_bidders=3, n_states=3)
        alpha, beta = rng.uniform(0.5, 2.0, 3), -rng.uniform(0.0, 0.3, 3)
        auction = virtual_index_auction(arms, 0.85, alpha=alpha, beta=beta)
        S = np.arange(auction.model.n_joint)
        j = auction.winner
        expected = ((1 - 0.85) * auction.pivot.welfare_without[j, S] - beta[j]) / alpha[j]
        assert np.allclose(auction.price, expected, atol=1e-9)
        losers = np.ones(auction.pivot.transfers.shape, dtype=bool)
        losers[j, S] = False
        assert np.abs(auction.pivot.transfers[losers]).max() < 1e-9
        top = auction.index.max(axis=0)
        assert (auction.index[j, S] >= top - 1e-9).all()
        assert audit_pivot(auction.model, auction.pivot).max_gain < 1e-9


def test_virtual_index_auction_bad_weights_name_the_parameter():
    arms = [([[1.0]], [0.5]), ([[1.0]], [0.4])]
    with pytest.raises(ValueError, match="alpha"):
        virtual_index_auction(arms, 0.9, alpha=[1.0, 0.0])
    with pytest.raises(ValueError, match="beta"):
        virtual_index_auction(arms, 0.9, beta=[0.0])


def test_virtual_index_auction_default_weights_and_exact_messages():
    arms = [([[1.0]], [0.5]), ([[1.0]], [0.4])]
    plain = virtual_index_auction(arms, 0.9)
    given_alpha = virtual_index_auction(arms, 0.9, alpha=[[1.0], [1.0]])   # any shape with one entry per bidder
    given_beta = virtual_index_auction(arms, 0.9, beta=np.zeros(2))
    for other in (given_alpha, given_beta):
        assert np.array_equal(other.price, plain.price) and np.array_equal(other.winner, plain.winner)
    with pytest.raises(ValueError, match=r"^alpha must be positive, got alpha\[1\] <= 0; exclude that bidder instead$"):
        virtual_index_auction(arms, 0.9, alpha=[1.0, 0.0])
    with pytest.raises(ValueError, match=r"^beta must have one finite entry per bidder \(2\), got \(1,\)$"):
        virtual_index_auction(arms, 0.9, beta=[0.0])


def test_two_armed_bandit_records_and_messages():
    res = two_armed_bandit([(1, 1), (2, 1)], 0.8, depth=4, record=0)
    assert res.first.shape == (1, 1, 1, 1) and res.first.dtype == np.int8 and res.first[0, 0, 0, 0] in (0, 1, -1)
    assert two_armed_bandit([(1, 1), (2, 1)], 0.8, depth=4, record=4).first.shape == (5, 5, 5, 5)
    with pytest.raises(ValueError, match=r"^priors must have positive parameters, got a = 0$"):
        two_armed_bandit([(1, 1), (0, 1)], 0.8, depth=4)
    with pytest.raises(ValueError, match=r"^priors must have positive parameters, got b = -1$"):
        two_armed_bandit([(1, -1), (1, 1)], 0.8, depth=4)


def test_random_arms_values_lie_in_the_unit_interval():
    arms = random_arms(0, n_bidders=50, n_states=4)
    values = np.concatenate([arm.r for arm in arms])
    assert values.min() >= 0 and values.max() <= 1 and values.max() > 0.9  # uniform on [0, 1]
    assert all(np.allclose(arm.P.sum(axis=1), 1) for arm in arms)
