"""Tests of mdlib.mdp: finite discounted Markov decision problems.

Order: closed forms, then hypothesis properties (brute force over all policies,
the Bellman equation), then input validation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import action_values, evaluate_policy, solve_mdp


# --------------------------------------------------------------------------- closed forms
def test_single_state_is_a_perpetuity():
    R = np.array([[1.0, 3.0, 2.0]])
    Q = np.ones((1, 3, 1))
    v, policy = solve_mdp(R, Q, 0.75)
    assert v[0] == pytest.approx(3.0 / 0.25, abs=1e-12)
    assert policy.tolist() == [1]


def test_move_once_to_a_better_state():
    # stay for 1 a period, or give up one period to earn 2 forever: 0.9 * 20 = 18 > 10
    R = np.array([[1.0, 0.0], [2.0, -np.inf]])
    Q = np.zeros((2, 2, 2))
    Q[0, 0, 0] = Q[0, 1, 1] = Q[1, 0, 1] = 1.0
    v, policy = solve_mdp(R, Q, 0.9)
    assert np.allclose(v, [18.0, 20.0], atol=1e-12)
    assert policy.tolist() == [1, 0]
    # impatient: staying (1 / (1 - 0.4) = 5/3) beats moving (0.4 * 2 / 0.6 = 4/3)
    v, policy = solve_mdp(R, Q, 0.4)
    assert np.allclose(v, [1 / 0.6, 2 / 0.6], atol=1e-12)
    assert policy.tolist() == [0, 0]


def test_discount_zero_is_myopic():
    rng = np.random.default_rng(0)
    R = rng.normal(size=(5, 3))
    Q = rng.dirichlet(np.ones(5), size=(5, 3))
    v, policy = solve_mdp(R, Q, 0.0)
    assert np.array_equal(v, R.max(axis=1))
    assert np.array_equal(policy, R.argmax(axis=1))


def test_ties_go_to_the_smallest_action():
    R = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 2.0]])
    Q = np.full((2, 3, 2), 0.5)
    _, policy = solve_mdp(R, Q, 0.95)
    assert policy.tolist() == [0, 1]


def test_infeasible_actions_are_never_chosen():
    R = np.array([[-np.inf, -5.0], [10.0, -np.inf]])
    Q = np.full((2, 2, 2), 0.5)
    v, policy = solve_mdp(R, Q, 0.5)
    assert policy.tolist() == [1, 0]
    # v0 = -5 + 0.5 (v0 + v1)/2 and v1 = 10 + 0.5 (v0 + v1)/2, so v0 + v1 = 10
    assert np.allclose(v, [-2.5, 12.5], atol=1e-12)


# --------------------------------------------------------------------------- properties
@st.composite
def small_mdps(draw):
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    discount = draw(st.floats(0.0, 0.97))
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, m))
    Q = rng.dirichlet(np.ones(n) * 0.5, size=(n, m))
    return R, Q, discount


@given(small_mdps())
def test_optimal_value_dominates_every_policy(mdp):
    R, Q, d = mdp
    v, policy = solve_mdp(R, Q, d)
    values = [evaluate_policy(R, Q, d, np.array(pol)) for pol in itertools.product(range(R.shape[1]), repeat=R.shape[0])]
    best = np.max(values, axis=0)
    assert np.allclose(v, best, atol=1e-9 * (1 + np.abs(best).max()))
    assert np.allclose(evaluate_policy(R, Q, d, policy), v, atol=1e-12 * (1 + np.abs(v).max()))


@given(small_mdps())
def test_bellman_equation_and_greedy_policy(mdp):
    R, Q, d = mdp
    v, policy = solve_mdp(R, Q, d)
    q = action_values(R, Q, d, v)
    assert np.allclose(q.max(axis=1), v, atol=1e-9 * (1 + np.abs(v).max()))
    assert np.allclose(q[np.arange(len(v)), policy], v, atol=1e-9 * (1 + np.abs(v).max()))


@given(small_mdps(), st.floats(-5, 5), st.floats(0.1, 3))
def test_affine_rewards_give_affine_values(mdp, shift, scale):
    R, Q, d = mdp
    v, policy = solve_mdp(R, Q, d)
    v2, policy2 = solve_mdp(scale * R + shift, Q, d)
    assert np.allclose(v2, scale * v + shift / (1 - d), atol=1e-8 * (1 + np.abs(v2).max()))


def test_monte_carlo_value_of_the_optimal_policy():
    rng = np.random.default_rng(20261201)
    n, m, d = 4, 3, 0.8
    R = rng.uniform(size=(n, m))
    Q = rng.dirichlet(np.ones(n), size=(n, m))
    v, policy = solve_mdp(R, Q, d)
    paths, horizon = 20_000, 120
    s = np.zeros(paths, dtype=int)
    total = np.zeros(paths)
    cum = np.cumsum(Q[np.arange(n), policy], axis=1)
    for t in range(horizon):
        total += d**t * R[s, policy[s]]
        s = (rng.uniform(size=paths)[:, None] > cum[s]).sum(axis=1)
    se = total.std(ddof=1) / np.sqrt(paths)
    assert abs(total.mean() - v[0]) < 4 * se + d**horizon / (1 - d)


# --------------------------------------------------------------------------- validation
def _good():
    return np.zeros((2, 2)), np.full((2, 2, 2), 0.5)


@pytest.mark.parametrize("discount", [-0.1, 1.0, 1.5, float("nan"), float("inf"), True, "0.5"])
def test_bad_discount(discount):
    R, Q = _good()
    with pytest.raises(ValueError, match="discount"):
        solve_mdp(R, Q, discount)


def test_bad_shapes_and_rows():
    R, Q = _good()
    with pytest.raises(ValueError, match="R must have shape"):
        solve_mdp(np.zeros(3), Q, 0.5)
    with pytest.raises(ValueError, match="Q must have shape"):
        solve_mdp(R, np.full((2, 3, 2), 0.5), 0.5)
    bad = Q.copy()
    bad[1, 0] = [0.5, 0.6]
    with pytest.raises(ValueError, match=r"Q rows must sum to 1: Q\[1, 0, :\]"):
        solve_mdp(R, bad, 0.5)
    with pytest.raises(ValueError, match="nonnegative"):
        solve_mdp(R, np.array([[[1.5, -0.5]] * 2] * 2), 0.5)
    with pytest.raises(ValueError, match="R must be finite or -inf"):
        solve_mdp(np.array([[np.nan, 0.0], [0.0, 0.0]]), Q, 0.5)
    with pytest.raises(ValueError, match="feasible"):
        solve_mdp(np.array([[-np.inf, -np.inf], [0.0, 0.0]]), Q, 0.5)


def test_rows_of_infeasible_actions_are_ignored():
    R = np.array([[0.0, -np.inf]])
    Q = np.array([[[1.0], [0.0]]])
    v, policy = solve_mdp(R, Q, 0.5)
    assert v.tolist() == [0.0] and policy.tolist() == [0]


def test_bad_policy_and_value():
    R, Q = _good()
    with pytest.raises(ValueError, match="policy"):
        evaluate_policy(R, Q, 0.5, [0, 2])
    with pytest.raises(ValueError, match="policy"):
        evaluate_policy(R, Q, 0.5, [0.0, 1.0])
    with pytest.raises(ValueError, match="feasible"):
        evaluate_policy(np.array([[0.0, -np.inf], [0.0, 0.0]]), Q, 0.5, [1, 0])
    with pytest.raises(ValueError, match="v must be"):
        action_values(R, Q, 0.5, [0.0])
