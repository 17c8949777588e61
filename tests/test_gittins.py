"""Tests of mdlib.gittins: Gittins indices of finite Markov arms and of Beta-Bernoulli arms.

Order: closed forms and literature values first, then hypothesis properties
(agreement with a brute-force calibration, bounds, monotonicity in the posterior),
then a seeded Monte Carlo check of the ratio definition, then input validation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import bernoulli_gittins_index, beta_stopping_value, gittins_index, solve_mdp

ALGEBRA = 1e-9


# --------------------------------------------------------------------------- brute force
def retirement_gap(P, r, discount, s, lam):
    """Value of playing once more in s (then optimal stopping) minus retiring on lam forever."""
    n = len(r)
    R = np.full((n + 1, 2), -np.inf)
    Q = np.zeros((n + 1, 2, n + 1))
    R[:n, 0] = r
    Q[:n, 0, :n] = P
    R[:n, 1] = lam / (1 - discount)  # retire: the whole annuity at once, then a dead state
    Q[:n, 1, n] = 1.0
    R[n, 0] = 0.0
    Q[n, 0, n] = 1.0
    v, _ = solve_mdp(R, Q, discount)
    return r[s] + discount * P[s] @ v[:n] - lam / (1 - discount)


def calibrated_index(P, r, discount, s, tol=1e-12):
    """Bisection on the retirement reward: the calibration definition of the index."""
    lo, hi = float(np.min(r)) - 1.0, float(np.max(r)) + 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if retirement_gap(P, r, discount, s, mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def beta_tree(a, b, depth):
    """The Beta-Bernoulli posterior tree as a finite arm, frozen at `depth` trials."""
    nodes = [(n, s) for n in range(depth + 1) for s in range(n + 1)]
    where = {node: k for k, node in enumerate(nodes)}
    mu = np.array([(a + s) / (a + b + n) for n, s in nodes])
    P = np.zeros((len(nodes), len(nodes)))
    for (n, s), k in where.items():
        if n == depth:
            P[k, k] = 1.0
        else:
            P[k, where[n + 1, s + 1]] = mu[k]
            P[k, where[n + 1, s]] = 1 - mu[k]
    return P, mu, where


def calibration(a, b, discount, depth=400, tol=1e-9):
    """The index by calibration: bisection on the retirement reward at which retiring at once is optimal."""
    lo, hi = a / (a + b), 1.0
    while hi - lo > tol:
        lam = 0.5 * (lo + hi)
        if beta_stopping_value(a, b, lam, discount, depth) > lam / (1 - discount):
            lo = lam
        else:
            hi = lam
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------- closed forms
def test_constant_reward_arm_has_its_reward_as_index():
    P = np.full((3, 3), 1 / 3)
    assert np.allclose(gittins_index(P, [0.4, 0.4, 0.4], 0.8), 0.4, atol=ALGEBRA)


def test_deterministic_improvement_is_discounted():
    # 0 -> 1 -> 2 (absorbing) with rewards 0, 0, 1: index of state 0 is the best ratio
    # (0 + 0 + d^2/(1-d)) / (1/(1-d)) = d^2.
    d = 0.7
    P = [[0, 1, 0], [0, 0, 1], [0, 0, 1]]
    assert np.allclose(gittins_index(P, [0.0, 0.0, 1.0], d), [d**2, d, 1.0], atol=ALGEBRA)


def test_two_state_closed_form():
    # state 0 pays x and stays with prob q, else moves for good to 1 paying y < x:
    # index(0) = x (stop at the move), index(1) = y.
    assert np.allclose(gittins_index([[0.3, 0.7], [0.0, 1.0]], [2.0, -1.0], 0.95), [2.0, -1.0], atol=ALGEBRA)


PRIORS = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1), (1, 3), (5, 5)]


@pytest.mark.parametrize("discount", [0.5, 0.9, 0.95])
def test_bernoulli_table_by_calibration(discount):
    ab = np.array(PRIORS, dtype=float)
    got = bernoulli_gittins_index(ab[:, 0], ab[:, 1], discount)
    want = np.array([calibration(a, b, discount, depth=300, tol=1e-7) for a, b in PRIORS])
    assert np.allclose(got, want, atol=2e-6)


def test_bernoulli_uniform_prior_at_099():
    # calibration on a tree of depth 1500: 0.99**1500 < 3e-7, well below the tolerance
    assert abs(bernoulli_gittins_index(1, 1, 0.99) - calibration(1, 1, 0.99, depth=1500, tol=1e-7)) < 5e-6


def test_bernoulli_equals_independent_calibration():
    for a, b, d in [(1, 1, 0.9), (3, 7, 0.8), (0.5, 2.5, 0.9), (10, 2, 0.95)]:
        assert abs(bernoulli_gittins_index(a, b, d, tol=1e-8) - calibration(a, b, d)) < 2e-8


def test_bernoulli_equals_finite_arm_index_on_the_tree():
    # the posterior tree is a finite arm; at discount 0.5 a depth-40 cut changes nothing at 1e-9
    P, mu, where = beta_tree(1.0, 1.0, 40)
    g_tree = gittins_index(P, mu, 0.5)
    roots = [(0, 0), (1, 1), (1, 0), (3, 1), (5, 2)]
    got = bernoulli_gittins_index([1 + s for _, s in roots], [1 + n - s for n, s in roots], 0.5, tol=1e-9)
    assert np.allclose(got, [g_tree[where[node]] for node in roots], atol=2e-9)


def test_array_shapes_and_scalars():
    assert isinstance(bernoulli_gittins_index(2, 3, 0.9), float)
    out = bernoulli_gittins_index(np.array([[1, 2], [3, 4]]), 2, 0.9)
    assert out.shape == (2, 2)
    assert out[0, 1] == bernoulli_gittins_index(2, 2, 0.9)


# --------------------------------------------------------------------------- properties
@st.composite
def random_arm(draw):
    n = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 10**6))
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(n, 0.7), size=n)
    P[rng.random((n, n)) < 0.3] = 0.0  # some structure: zeros and absorbing chains
    P[P.sum(axis=1) == 0, 0] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    r = rng.normal(size=n)
    d = draw(st.floats(0.05, 0.97))
    return P, r, d


@given(random_arm())
def test_gittins_index_equals_brute_force_calibration(arm):
    P, r, d = arm
    g = gittins_index(P, r, d)
    brute = np.array([calibrated_index(P, r, d, s) for s in range(len(r))])
    assert np.allclose(g, brute, atol=ALGEBRA)


@given(random_arm())
def test_index_between_reward_and_best_reward(arm):
    P, r, d = arm
    g = gittins_index(P, r, d)
    assert (g >= r - ALGEBRA).all() and (g <= r.max() + ALGEBRA).all()
    assert abs(g.max() - r.max()) < ALGEBRA  # the best state is worth its reward


@given(st.floats(0.2, 30), st.floats(0.2, 30), st.floats(0.3, 0.95))
def test_bernoulli_monotone_and_above_the_mean(a, b, d):
    tol = 1e-7
    g, g_a, g_b = bernoulli_gittins_index([a, a + 1, a], [b, b, b + 1], d, tol=tol)
    assert g > a / (a + b), "the index exceeds the posterior mean (value of learning)"
    assert g < 1.0
    assert g_a >= g - 2 * tol, "a success raises the index"
    assert g_b <= g + 2 * tol, "a failure lowers the index"


@given(st.floats(0.5, 10), st.floats(0.5, 10))
def test_bernoulli_index_increases_with_patience(a, b):
    g = [bernoulli_gittins_index(a, b, d, tol=1e-7) for d in (0.5, 0.7, 0.9)]
    assert g[0] <= g[1] + 2e-7 <= g[2] + 4e-7


# --------------------------------------------------------------------------- Monte Carlo
def test_ratio_definition_by_simulation():
    """Play Beta(1, 1) once, then while the index stays above the root's: reward/time = index."""
    d, rng = 0.9, np.random.default_rng(8)
    gamma0 = bernoulli_gittins_index(1, 1, d)
    horizon, paths = 150, 100_000  # d**150 < 2e-7
    k = np.arange(horizon + 1)
    table = bernoulli_gittins_index(1 + k[:, None], 1 + k[None, :], d)  # table[successes, failures]
    omega = rng.beta(1, 1, paths)
    succ = np.zeros(paths, dtype=int)
    fail = np.zeros(paths, dtype=int)
    playing = np.ones(paths, dtype=bool)
    reward = np.zeros(paths)
    time = np.zeros(paths)
    for t in range(horizon):
        y = rng.random(paths) < omega
        reward += playing * d**t * y
        time += playing * d**t
        succ += playing & y
        fail += playing & ~y
        playing &= table[succ, fail] >= gamma0
    ratio = reward.mean() / time.mean()
    # delta-method standard error of a ratio of means
    resid = reward - ratio * time
    se = resid.std() / np.sqrt(paths) / time.mean()
    assert abs(ratio - gamma0) < 4 * se + 1e-6, (ratio, gamma0, se)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(a=0, b=1, discount=0.9), "a must be positive"),
        (dict(a=1, b=-2, discount=0.9), "b must be positive"),
        (dict(a=[1, 2], b=[1, 2, 3], discount=0.9), "broadcast"),
        (dict(a=1, b=1, discount=1.0), "discount must lie in"),
        (dict(a=1, b=1, discount=0.0), "discount must lie in"),
        (dict(a=1, b=1, discount=0.9, tol=0.0), "tol must lie in"),
        (dict(a=np.nan, b=1, discount=0.9), "a must not contain NaN"),
    ],
)
def test_bernoulli_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bernoulli_gittins_index(**kwargs)


@pytest.mark.parametrize(
    "P, r, d, match",
    [
        ([[0.5, 0.4], [0, 1]], [0, 1], 0.9, "P must be stochastic"),
        ([[1, 0, 0], [0, 1, 0]], [0, 1], 0.9, "P must be a square"),
        ([[1.5, -0.5], [0, 1]], [0, 1], 0.9, "nonnegative"),
        ([[1, 0], [0, 1]], [0, 1, 2], 0.9, "r must have shape"),
        ([[1, 0], [0, 1]], [0, np.inf], 0.9, "r must be finite"),
        ([[1, 0], [0, 1]], [0, 1], 1.2, "discount must lie in"),
    ],
)
def test_gittins_bad_input(P, r, d, match):
    with pytest.raises(ValueError, match=match):
        gittins_index(P, r, d)


# ---------------------------------------------------------------- gaps found by mutation testing (make mutation)
def test_tol_limit_is_inclusive():
    """The documented range of tol is (0, 0.01]: its upper end is accepted, anything above refused."""
    at_limit = bernoulli_gittins_index(2, 3, 0.9, tol=0.01)
    assert abs(at_limit - bernoulli_gittins_index(2, 3, 0.9)) <= 0.01
    for bad in (0.010001, 0.5, -1e-9):
        with pytest.raises(ValueError, match="tol must lie in"):
            bernoulli_gittins_index(2, 3, 0.9, tol=bad)


@pytest.mark.parametrize("P", [[[1.0, 0.0], [1.0]], [["a", "b"], ["c", "d"]]])
def test_ragged_or_non_numeric_P_is_refused(P):
    with pytest.raises(ValueError, match="P must be a square array of probabilities"):
        gittins_index(P, [0.0, 1.0], 0.9)


# ------------------------------------------------------------------ the stopping value, by memoised recursion
@pytest.mark.parametrize("a, b, lam, d, depth", [(1.0, 1.0, 0.3, 0.8, 6), (2.0, 5.0, 0.1, 0.9, 8), (3.0, 1.0, 0.9, 0.7, 5),
                                                 (1.5, 2.5, 0.45, 0.6, 1)])
def test_beta_stopping_value_against_a_memoised_recursion(a, b, lam, d, depth):
    from functools import lru_cache

    retire = lam / (1 - d)

    @lru_cache(maxsize=None)
    def value(n, s):
        mu = (a + s) / (a + b + n)
        if n == depth:  # the posterior freezes: keep playing at mean mu, or retire
            return max(retire, mu / (1 - d))
        return max(retire, mu + d * (mu * value(n + 1, s + 1) + (1 - mu) * value(n + 1, s)))

    assert beta_stopping_value(a, b, lam, d, depth) == pytest.approx(value(0, 0), rel=1e-13)


def test_gittins_messages_word_for_word():
    from helpers import refuses

    refuses(lambda: beta_stopping_value(0, 1, 0.5, 0.9, 3), "a and b must be positive, got a = 0, b = 1")
    refuses(lambda: beta_stopping_value(1, -2, 0.5, 0.9, 3), "a and b must be positive, got a = 1, b = -2")
    refuses(lambda: beta_stopping_value(1, 1, np.inf, 0.9, 3), "retirement must be a finite real number, got inf")
    refuses(lambda: beta_stopping_value(1, 1, 0.5, 0.9, 0), "depth must be a positive integer, got 0")
    refuses(lambda: beta_stopping_value("1", 1, 0.5, 0.9, 3), "a must be a finite real number, got '1'")
    refuses(lambda: beta_stopping_value(1, None, 0.5, 0.9, 3), "b must be a finite real number, got None")
    refuses(lambda: bernoulli_gittins_index(0, 1, 0.9), "a must be positive and finite, got 0")
    refuses(lambda: bernoulli_gittins_index([1, 2], [1, -1], 0.9), "b must be positive and finite, got -1")
    refuses(lambda: bernoulli_gittins_index(1, np.inf, 0.9), "b must be positive and finite, got inf")
    refuses(lambda: bernoulli_gittins_index([1, 2], [1, 2, 3], 0.9), "a and b must broadcast together, got shapes (2,) and (3,)")
    refuses(lambda: bernoulli_gittins_index(1, 1, 0.9, tol=0), "tol must lie in (0, 0.01], got 0")
    refuses(lambda: bernoulli_gittins_index(1, 1, 0.9, tol=0.02), "tol must lie in (0, 0.01], got 0.02")
    refuses(lambda: bernoulli_gittins_index(1, 1, 0.9, tol="x"), "tol must be a finite real number, got 'x'")
    assert bernoulli_gittins_index(1, 1, 0.9, tol=0.01) == pytest.approx(bernoulli_gittins_index(1, 1, 0.9), abs=0.01)
    refuses(lambda: gittins_index([[1.0, 0.0]], [1.0], 0.9), "P must be a square (n, n) matrix with n >= 1, got shape (1, 2)")
    refuses(lambda: gittins_index(np.ones((2, 2, 1)), [1.0, 1.0], 0.9), "P must be a square (n, n) matrix with n >= 1, got shape (2, 2, 1)")
    refuses(lambda: gittins_index([[0.5, 0.5], [1.0]], [1.0, 1.0], 0.9), "P must be a square array of probabilities")
    refuses(lambda: gittins_index([[0.5, 0.6], [0.5, 0.5]], [1.0, 1.0], 0.9), "P must be stochastic: row 0 sums to 1.1, not 1")
    refuses(lambda: gittins_index([[0.5, 0.5], [0.0, 0.9]], [1.0, 1.0], 0.9), "P must be stochastic: row 1 sums to 0.9, not 1")
    refuses(lambda: gittins_index([[0.5, 0.5], [np.nan, 1.0]], [1.0, 1.0], 0.9), "P must contain finite nonnegative probabilities")
    refuses(lambda: gittins_index([[1.0, 0.0], [0.0, 1.0]], [1.0], 0.9), "r must have shape (2,) to match P, got (1,)")
    refuses(lambda: gittins_index([[1.0, 0.0], [0.0, 1.0]], [1.0, np.inf], 0.9), "r must be finite")
    # integer and list inputs are floats inside: an identity kernel keeps each state's reward as its index
    assert gittins_index([[1, 0], [0, 1]], [3, 1], 0.9).tolist() == [3.0, 1.0]
    assert isinstance(bernoulli_gittins_index(2, 3, 0.8), float)
    assert bernoulli_gittins_index(np.array([2.0]), 3, 0.8).shape == (1,)
