"""The numba kernels of ``mdlib._bandit_kernels``, each against an independent computation, on instances
small enough to run uncompiled (``make mutation`` runs this file with ``NUMBA_DISABLE_JIT=1``).

* ``_eliminate`` (the Gittins index of a finite arm, by state elimination) against the restart-in-state
  characterisation: the index of state ``i`` is ``(1 - d) V_i(i)``, where ``V_i`` is the value of the
  problem in which the owner may at any time restart the arm from ``i`` (value iteration, here);
* ``_retirement_gap`` (value of one more play minus retiring, and its derivative in the retirement
  reward) against :func:`mdlib.beta_stopping_value` and a central difference;
* ``_newton_index`` and ``_bernoulli_table`` against bisection on the same gap;
* ``_two_arm_dp`` against a memoised recursion over the posteriors of both arms.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

import mdlib
from mdlib import _bandit_kernels as K


# ------------------------------------------------------------------ _eliminate
def restart_index(P: np.ndarray, r: np.ndarray, d: float, i: int, sweeps: int = 3000) -> float:
    """(1 - d) times the value at ``i`` of the arm that may be restarted from ``i`` (value iteration)."""
    V = np.zeros(len(r))
    for _ in range(sweeps):
        cont = r + d * P @ V
        V_new = np.maximum(cont, cont[i])
        if np.max(np.abs(V_new - V)) < 1e-13:
            break
        V = V_new
    return (1 - d) * V[i]


@pytest.mark.parametrize("seed", range(6))
def test_eliminate_is_the_restart_index(seed):
    rng = np.random.default_rng(seed)
    n = 2 + seed % 4
    P = rng.dirichlet(np.ones(n), size=n)
    if seed % 2:
        P[0] = np.eye(n)[0]  # an absorbing state
    r = rng.uniform(0, 1, n)
    d = (0.5, 0.8, 0.9)[seed % 3]
    index = K._eliminate(np.ascontiguousarray(P), r.copy(), d)
    expected = [restart_index(P, r, d, i) for i in range(n)]
    np.testing.assert_allclose(index, expected, rtol=0, atol=1e-9)
    assert index[np.argmax(r)] == pytest.approx(r.max(), abs=1e-12), "the best state's index is its own reward"


def test_eliminate_leaves_its_inputs_alone():
    P = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    r = np.array([0.3, 0.6, 0.1])
    P0, r0 = P.copy(), r.copy()
    K._eliminate(P, r, 0.9)
    np.testing.assert_array_equal(P, P0)
    np.testing.assert_array_equal(r, r0)


# ------------------------------------------------------------------ Bernoulli arms
CASES = [(1.0, 1.0, 0.7, 6), (2.0, 1.0, 0.8, 8), (1.0, 3.0, 0.6, 5), (2.5, 1.5, 0.75, 7)]


@pytest.mark.parametrize("a, b, d, depth", CASES)
def test_retirement_gap_against_the_stopping_value(a, b, d, depth):
    V, D = np.empty(depth + 2), np.empty(depth + 2)
    for lam in (0.05, 0.2, 0.4, 0.55, 0.7, 0.9):
        g, dg = K._retirement_gap(a, b, d, depth, lam, V, D)
        retire = lam / (1 - d)
        value = mdlib.beta_stopping_value(a, b, lam, d, depth)
        if g > 1e-12:  # playing once more is better: the stopping value is play-once value
            assert g == pytest.approx(value - retire, abs=1e-10)
        else:
            assert value == pytest.approx(retire, abs=1e-10)
        # g is piecewise linear in lam: dg is its slope on one side of lam (both sides away from a kink)
        h = 1e-7
        up = (K._retirement_gap(a, b, d, depth, lam + h, V, D)[0] - g) / h
        down = (g - K._retirement_gap(a, b, d, depth, lam - h, V, D)[0]) / h
        assert min(abs(dg - up), abs(dg - down)) < 1e-5, (lam, dg, up, down)


def bisect_index(a: float, b: float, d: float, depth: int) -> float:
    """The retirement reward at which the gap changes sign, by bisection on [0, 1]."""
    V, D = np.empty(depth + 2), np.empty(depth + 2)
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if K._retirement_gap(a, b, d, depth, mid, V, D)[0] > 0:
            lo = mid
        else:
            hi = mid
    return lo


@pytest.mark.parametrize("a, b, d, depth", CASES)
def test_newton_index_is_the_root_of_the_gap(a, b, d, depth):
    V, D = np.empty(depth + 2), np.empty(depth + 2)
    start = a / (a + b)
    found = K._newton_index(a, b, d, depth, 1e-10, start, V, D)
    root = bisect_index(a, b, d, depth)
    assert found == pytest.approx(root, abs=1e-8)
    assert found >= start - 1e-12, "the index is at least the posterior mean"
    # from any lower bound of the index, the same root
    for poor in (0.0, 0.5 * start):
        assert K._newton_index(a, b, d, depth, 1e-10, poor, V, D) == pytest.approx(root, abs=1e-8)


def test_bernoulli_table_against_bisection_at_the_table_depth():
    a, b = np.array([1.0, 2.0, 1.0, 3.0]), np.array([1.0, 1.0, 2.0, 3.0])
    d, tol = 0.6, 1e-4
    table = K._bernoulli_table(a, b, d, tol)
    for q in range(len(a)):
        depth = 1
        while d**depth / (4.0 * math.sqrt(a[q] + b[q] + depth + 1.0) * (1.0 - d)) > 0.25 * tol:
            depth += 1
        assert table[q] == pytest.approx(bisect_index(a[q], b[q], d, depth), abs=tol)
        # the frozen-posterior cut is a lower bound, and the index lies above the mean
        assert a[q] / (a[q] + b[q]) <= table[q] + 1e-12


def test_bernoulli_table_rows_are_independent():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    both = K._bernoulli_table(a, b, 0.6, 1e-4)
    assert both[0] == K._bernoulli_table(a[:1], b[:1], 0.6, 1e-4)[0]
    assert both[1] == K._bernoulli_table(a[1:], b[1:], 0.6, 1e-4)[0]


# ------------------------------------------------------------------ two Bernoulli arms
def two_arm_value(a1, b1, a2, b2, d, N):
    """The frozen-posterior value of two Bernoulli arms (each frozen after N plays), by memoised recursion,
    and the better first arm at each node (0, 1, or -1 for a tie)."""

    @lru_cache(maxsize=None)
    def node(n1, s1, n2, s2):
        v = lambda *key: node(*key)[0]  # noqa: E731
        mu1, mu2 = (a1 + s1) / (a1 + b1 + n1), (a2 + s2) / (a2 + b2 + n2)
        play1 = mu1 / (1 - d) if n1 == N else mu1 + d * (mu1 * v(n1 + 1, s1 + 1, n2, s2) + (1 - mu1) * v(n1 + 1, s1, n2, s2))
        play2 = mu2 / (1 - d) if n2 == N else mu2 + d * (mu2 * v(n1, s1, n2 + 1, s2 + 1) + (1 - mu2) * v(n1, s1, n2 + 1, s2))
        return max(play1, play2), play1, play2

    return node


@pytest.mark.parametrize("a1, b1, a2, b2, d, N, record", [(1, 1, 1, 1, 0.8, 4, 3), (2, 1, 1, 2, 0.7, 3, 3),
                                                          (1, 2, 3, 1, 0.9, 5, 4), (3, 1, 1, 1, 0.6, 3, 2)])
def test_two_arm_dp_against_a_memoised_recursion(a1, b1, a2, b2, d, N, record):
    first = np.full((record + 1, record + 1, record + 1, record + 1), -2, dtype=np.int8)
    root = K._two_arm_dp(float(a1), float(b1), float(a2), float(b2), d, N, record, first)
    value = two_arm_value(a1, b1, a2, b2, d, N)
    assert root == pytest.approx(value(0, 0, 0, 0)[0], abs=1e-12)
    for n1 in range(record + 1):
        for n2 in range(record + 1):
            for s1 in range(n1 + 1):
                for s2 in range(n2 + 1):
                    v, p1, p2 = value(n1, s1, n2, s2)
                    scale = 1e-12 * (1 + abs(v))
                    expected = 0 if p1 - p2 > scale else (1 if p2 - p1 > scale else -1)
                    assert first[n1, s1, n2, s2] == expected, (n1, s1, n2, s2)
    assert (first[0, 1:, :, :] == -2).all(), "nodes that cannot be reached are left alone"


def test_retirement_gap_when_every_node_retires():
    """Far above the index every node retires: one more play is worth mean + d ret, so g = mean - lam."""
    V, D = np.empty(8), np.empty(8)
    for a, b in ((1.0, 1.0), (2.0, 3.0)):
        g, dg = K._retirement_gap(a, b, 0.7, 6, 0.95, V, D)
        assert (g, dg) == (pytest.approx(a / (a + b) - 0.95, abs=1e-12), -1.0)
