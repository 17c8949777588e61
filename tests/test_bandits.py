"""Tests of mdlib.bandits: the dynamic second-price auction and the two-armed bandit.

Order: closed forms and the digest's licensing examples (claims 13-15 of digest 002),
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
    dynamic_second_price,
    two_armed_bandit,
)

ALGEBRA = 1e-9


def random_arms(seed: int, n_bidders: int, n_states: int):
    rng = np.random.default_rng(seed)
    return [(rng.dirichlet(np.ones(n_states), size=n_states), rng.uniform(0, 1, n_states)) for _ in range(n_bidders)]


def one_arm_stopping(a, b, known, d, depth):
    """Social value of Beta(a, b) vs a known value: optimal stopping on A's tree (digest G3)."""
    retire = known / (1 - d)
    s = np.arange(depth + 1)
    W = np.maximum(retire, (a + s) / (a + b + depth) / (1 - d))
    for n in range(depth - 1, -1, -1):
        s = np.arange(n + 1)
        mu = (a + s) / (a + b + n)
        W = np.maximum(retire, mu + d * (mu * W[1:n + 2] + (1 - mu) * W[:n + 1]))
    return W[0]


# --------------------------------------------------------------------------- closed forms
def test_beta_bernoulli_arm_is_the_posterior_tree():
    arm = beta_bernoulli_arm(2.0, 3.0, 4)
    assert arm.P.shape == (15, 15) and np.allclose(arm.P.sum(axis=1), 1.0)
    # node (n, s) = n(n+1)/2 + s; posterior mean (2 + s)/(5 + n); martingale: E[next mean] = mean
    assert np.allclose(arm.P @ arm.r, arm.r)
    assert abs(arm.r[3 + 2] - 4 / 7) < ALGEBRA


def test_licensing_L1():
    """Digest 002 example L1 (claim 14): A ~ Beta(1,1) vs B known 0.55, discount 0.9."""
    d, depth = 0.9, 30
    auction = dynamic_second_price([beta_bernoulli_arm(1, 1, depth), ([[1.0]], [0.55])], d)
    res = auction.pivot
    assert auction.winner[0] == 0, "A wins with a lower mean"
    # the tree frozen at depth 30 undervalues learning a little: index 0.702881 vs 0.702889
    assert 0 <= bernoulli_gittins_index(1, 1, d) - auction.index[0, 0] < 1e-5
    assert abs(auction.price[0] - 0.55) < ALGEBRA, "two bidders: the price is the rival's mean"
    assert abs(res.welfare[0] - one_arm_stopping(1, 1, 0.55, d, depth)) < ALGEBRA, "same truncated tree"
    W = one_arm_stopping(1, 1, 0.55, d, 400)  # d^400 < 1e-18
    assert abs(W - 6.108521) < 1e-6 and abs(res.welfare[0] - W) < d**depth / (4 * np.sqrt(depth) * (1 - d))
    assert np.allclose(res.marginal_contribution[:, 0], res.welfare[0] - np.array([5.5, 5.0]), atol=ALGEBRA)
    assert abs(W - 5.5 - 0.608521) < 1e-6 and abs(W - 5.0 - 1.108521) < 1e-6
    # when B wins he pays A's (frozen) posterior mean
    b_wins = auction.winner == 1
    mean_A = beta_bernoulli_arm(1, 1, depth).r[auction.model.states[:, 0]]
    assert np.allclose(auction.price[b_wins], mean_A[b_wins], atol=ALGEBRA)


def test_three_bidders_L2_option_value():
    """Digest 002 example L2 (claim 15): C pays 0.597338 > every rival mean, < max rival index."""
    d = 0.9
    W_minus_C = two_armed_bandit([(1, 1), (2, 2)], d, depth=150).value
    price_C = (1 - d) * W_minus_C
    assert abs(price_C - 0.597338) < 1e-6
    assert price_C > 0.5 and price_C < bernoulli_gittins_index(1, 1, d)
    idx = bernoulli_gittins_index([1, 2, 3], [1, 2, 2], d)
    assert np.argmax(idx) == 2, "C has the highest index"
    others = {"A": [(2, 2), (3, 2)], "B": [(1, 1), (3, 2)]}
    want = {"A": 0.631241, "B": 0.646584}
    for k, pri in others.items():
        assert abs((1 - d) * two_armed_bandit(pri, d, depth=150).value - want[k]) < 1e-6


def test_two_arm_decisions_are_index_comparisons():
    """Claim 12: 0 disagreements between the joint DP and the index rule (n_i <= 15)."""
    d = 0.9
    res = two_armed_bandit([(1, 1), (2, 2)], d, depth=150, record=15)
    n = np.arange(16)
    N1, S1 = np.meshgrid(n, n, indexing="ij")
    ok = S1 <= N1
    g1 = np.full((16, 16), np.nan)
    g2 = np.full((16, 16), np.nan)
    g1[ok] = bernoulli_gittins_index(1 + S1[ok], 1 + N1[ok] - S1[ok], d, tol=1e-9)
    g2[ok] = bernoulli_gittins_index(2 + S1[ok], 2 + N1[ok] - S1[ok], d, tol=1e-9)
    G1 = g1[:, :, None, None]
    G2 = g2[None, None, :, :]
    valid = ok[:, :, None, None] & ok[None, None, :, :]
    strict = valid & (np.abs(G1 - G2) > 1e-7) & (res.first >= 0)
    disagree = strict & ((res.first == 0) != (G1 > G2))
    assert strict.sum() == 18391 and disagree.sum() == 0


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
    assert abs(exact - (10.5 - one_arm_stopping(1, 1, 0.55, d, depth))) < ALGEBRA
    assert abs(10.5 - one_arm_stopping(1, 1, 0.55, d, 400) - 4.391479) < 1e-6


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
