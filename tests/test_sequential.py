"""Tests of the ``general`` kind of mdlib.finite (Ashlagi-Daskalakis-Haghpanah's general class).

Order: closed forms (Example 2 of Ashlagi et al. with and without mass on the diagonal, Proposition 4's
mechanism 5, one period), then the correlated case of their Section 5, then hypothesis properties
(the optimum passes its audit, class inclusions, Proposition 1, the audit against brute-force
enumeration of strategies), then validation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import audit, make_mechanism, optimal_mechanism
from mdlib.finite import IR_KINDS
from helpers import brute_force_gain, hand_built, instances

TOL = 1e-9
VB = [[1.0, 2.0], [1.0, 2.0]]


def anti_diagonal(eps):
    return np.array([[eps, 0.5 - eps], [0.5 - eps, eps]])


def correlated(q1, q2, lam):
    """Section 5 of Ashlagi et al.: P(v1 = 2) = q1, P(v2 = 2) = q2, correlation parameter lam in [-1, 1]."""
    if lam >= 0:
        p22 = (1 - lam) * q1 * q2 + lam * min(q1, q2)
    else:
        p22 = (1 + lam) * q1 * q2 - lam * max(0.0, q1 + q2 - 1)
    return np.array([[1 - q1 - q2 + p22, q2 - p22], [q1 - p22, p22]])


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("eps", [0.001, 0.01, 0.05])
def test_example_2_separates_the_kinds(eps):
    # bundle at 3 sold to all but the diagonal (1, 1); separable: 2.5 - eps
    probs = anti_diagonal(eps)
    rev = {k: optimal_mechanism(VB, probs, kind=k).revenue for k in ("separable", "static", "general")}
    assert rev["static"] == pytest.approx(3 * (1 - eps), abs=TOL)
    assert rev["general"] == pytest.approx(3 * (1 - eps), abs=TOL)
    assert rev["separable"] == pytest.approx(2.5 - eps, abs=TOL)


def test_example_2_without_diagonal_all_kinds_earn_3():
    # impossible reports are pruned (read as the lowest possible one), so the lie of Table 2 is unavailable
    for kind in ("separable", "static", "general"):
        mech = optimal_mechanism(VB, anti_diagonal(0.0), kind=kind)
        assert mech.revenue == pytest.approx(3.0, abs=TOL)
        assert audit(mech).gain <= TOL


def test_table_2_is_not_incentive_compatible():
    # Table 2 of Ashlagi et al. as a general mechanism: revenue 3, the period-1 type 2 gains 1 by reporting 1
    # (the hand-built arrays give the impossible path (1, 1) an outcome, so the audit may use it)
    alloc = [np.ones((2, 2)), np.array([[0.0, 1.0], [1.0, 1.0]])]
    pay = np.array([[1.0, 3.0], [3.0, 3.0]])
    mech = make_mechanism(VB, anti_diagonal(0.0), alloc, pay, kind="general")
    a = audit(mech)
    assert mech.revenue == pytest.approx(3.0)
    assert a.gain == pytest.approx(1.0) and a.worst_history == (1,) and a.worst_report == (0,)


def test_mechanism_5_inside_the_region():
    # Prop. 4: R5 = lo (1 + q1) + q2 (hi - q1 lo); static optimum max(R1, ..., R4, R6) is smaller
    q1, q2, lo, hi = 0.3, 0.7, 1.0, 2.0
    probs = np.outer([1 - q1, q1], [1 - q2, q2])
    r5 = lo * (1 + q1) + q2 * (hi - q1 * lo)
    deferred = optimal_mechanism(VB, probs, kind="general")
    assert deferred.revenue == pytest.approx(r5, abs=TOL)
    assert optimal_mechanism(VB, probs).revenue == pytest.approx(r5, abs=TOL)
    assert optimal_mechanism(VB, probs, kind="static").revenue < r5 - 0.05


def test_one_period_deferred_is_a_posted_price():
    mech = optimal_mechanism([[1.0, 2.0, 4.0]], [0.2, 0.5, 0.3], kind="general")
    assert mech.revenue == pytest.approx(max(1.0, 2 * 0.8, 4 * 0.3), abs=TOL)


# --------------------------------------------------------------------------- correlated values
@pytest.mark.parametrize("lam", [0.5, -0.25])
def test_correlation_decides_whether_separable_is_optimal(lam):
    # Section 5 of Ashlagi et al. on the 9 x 9 grid: with positive correlation separable mechanisms stay
    # optimal (5.2); with negative correlation general ones, and static ones where q1 < 1/2 < q2, beat them (5.3)
    grid = np.arange(1, 10) / 10
    n_def, n_static = 0, 0
    for q1, q2 in itertools.product(grid, grid):
        probs = correlated(q1, q2, lam)
        rev = {k: optimal_mechanism(VB, probs, kind=k).revenue for k in ("separable", "static", "general")}
        assert rev["general"] >= max(rev["separable"], rev["static"]) - 1e-8
        n_def += rev["general"] > rev["separable"] + 1e-7
        n_static += (q1 < 0.5 < q2) and rev["static"] > rev["separable"] + 1e-7
    if lam >= 0:
        assert (n_def, n_static) == (0, 0), "positive correlation: separable mechanisms are optimal"
    else:
        assert n_def > 0 and n_static > 0, "negative correlation: separable mechanisms are not optimal"


# --------------------------------------------------------------------------- hypothesis properties
# `instances` (random small type trees) lives in tests/helpers.py.


@given(instances())
def test_deferred_optimum_passes_its_audit_and_contains_the_others(inst):
    values, probs = inst
    for ir in IR_KINDS:
        mech = optimal_mechanism(values, probs, ir=ir, kind="general")
        a = audit(mech)
        assert a.gain <= 1e-8, (ir, a)
        assert a.ir_slack >= -1e-8, (ir, a)
        others = [optimal_mechanism(values, probs, ir=ir, kind=k).revenue for k in ("separable", "static")]
        assert mech.revenue >= max(others) - 1e-8


@given(instances(independent=True))
def test_proposition_1_deferred_equals_general_with_independent_types(inst):
    values, probs = inst
    deferred = optimal_mechanism(values, probs, kind="general").revenue
    assert deferred == pytest.approx(optimal_mechanism(values, probs).revenue, abs=1e-8)


@given(hand_built(full_path=True))
def test_deferred_audit_matches_brute_force(case):
    values, probs, alloc, pay = case
    a = audit(make_mechanism(values, probs, alloc, pay, kind="general"))
    assert a.gain == pytest.approx(brute_force_gain(values, probs, alloc, pay, full_path=True), abs=1e-9)
    assert a.one_shot_gain <= a.gain + 1e-12


# --------------------------------------------------------------------------- validation
def test_deferred_allocation_must_cover_whole_paths():
    with pytest.raises(ValueError, match=r"allocation\[0\] must have shape \(2, 2\)"):
        make_mechanism(VB, anti_diagonal(0.1), [np.ones(2), np.ones((2, 2))], np.zeros((2, 2)), kind="general")


# --------------------------------------------------------------------------- mdlib.sequential
from scipy import optimize  # noqa: E402

from mdlib.sequential import continuation_revenue, price_points, two_value_revenues  # noqa: E402


def cr_lp(v, q, u):
    """CR_k(u) by an LP: variables a(v) in [0, 1] and utilities w(v) >= 0, payment = v a - w."""
    v, q = np.asarray(v, float), np.asarray(q, float)
    n = len(v)
    A, b = [], []
    for i in range(n):
        for j in range(n):
            if i != j:  # w_i >= w_j + (v_i - v_j) a_j
                row = np.zeros(2 * n)
                row[n + j], row[n + i], row[j] = 1.0, -1.0, v[i] - v[j]
                A.append(row)
                b.append(0.0)
    res = optimize.linprog(-np.concatenate([q * v, -q]), A_ub=np.array(A) if A else None, b_ub=np.array(b) if b else None,
                           A_eq=np.concatenate([np.zeros(n), q])[None, :], b_eq=[u],
                           bounds=[(0, 1)] * n + [(0, None)] * n, method="highs")
    return -res.fun


@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.floats(0, 3))
def test_continuation_revenue_is_the_lp(weights, u):
    q = np.array(weights, float) / sum(weights)
    v = np.arange(1, len(q) + 1, dtype=float) ** 1.3
    assert continuation_revenue(v, q, u) == pytest.approx(cr_lp(v, q, u), abs=1e-8)


def test_continuation_revenue_examples_and_shape():
    assert continuation_revenue([1, 2, 3], [0.5, 0.1, 0.4], 0.4) == pytest.approx(10 / 9)
    u, r = price_points([1.0, 2.0], [0.7, 0.3])
    assert np.allclose(continuation_revenue([1.0, 2.0], [0.7, 0.3], u), r)
    grid = np.linspace(0, 3, 31)
    cr = continuation_revenue([1, 2, 3], [0.3, 0.3, 0.4], grid)
    assert cr.shape == grid.shape and np.all(np.diff(cr, 2) <= 1e-12)  # concave


def test_two_value_revenues_match_the_lp():
    for q1, q2 in [(0.3, 0.7), (1 / 3, 0.5), (0.6, 0.7), (0.8, 0.2), (0.3, 0.4)]:
        probs = np.outer([1 - q1, q1], [1 - q2, q2])
        assert two_value_revenues(q1, q2).best == pytest.approx(optimal_mechanism(VB, probs).revenue, abs=1e-8)


@pytest.mark.parametrize("call,match", [
    (lambda: continuation_revenue([1, 2], [0.5, 0.5], -0.1), "promised_utility"),
    (lambda: continuation_revenue([2, 1], [0.5, 0.5], 0.1), "values must be"),
    (lambda: continuation_revenue([1, 2], [0.5, 0.6], 0.1), "probs must"),
    (lambda: two_value_revenues(1.2, 0.5), "q1 must lie in"),
    (lambda: two_value_revenues(0.2, 0.5, lo=2.0, hi=1.0), "lo and hi"),
])
def test_sequential_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
