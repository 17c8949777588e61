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
    general = optimal_mechanism(VB, probs, kind="general")
    assert general.revenue == pytest.approx(r5, abs=TOL)
    assert optimal_mechanism(VB, probs).revenue == pytest.approx(r5, abs=TOL)
    assert optimal_mechanism(VB, probs, kind="static").revenue < r5 - 0.05


def test_one_period_general_mechanism_is_a_posted_price():
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
def test_general_optimum_passes_its_audit_and_contains_the_others(inst):
    values, probs = inst
    for ir in IR_KINDS:
        mech = optimal_mechanism(values, probs, ir=ir, kind="general")
        a = audit(mech)
        assert a.gain <= 1e-8, (ir, a)
        assert a.ir_slack >= -1e-8, (ir, a)
        others = [optimal_mechanism(values, probs, ir=ir, kind=k).revenue for k in ("separable", "static")]
        assert mech.revenue >= max(others) - 1e-8


@given(instances(independent=True))
def test_proposition_1_general_equals_separable_with_independent_types(inst):
    values, probs = inst
    general = optimal_mechanism(values, probs, kind="general").revenue
    assert general == pytest.approx(optimal_mechanism(values, probs).revenue, abs=1e-8)


@given(hand_built(full_path=True))
def test_general_audit_matches_brute_force(case):
    values, probs, alloc, pay = case
    a = audit(make_mechanism(values, probs, alloc, pay, kind="general"))
    assert a.gain == pytest.approx(brute_force_gain(values, probs, alloc, pay, full_path=True), abs=1e-9)
    assert a.one_shot_gain <= a.gain + 1e-12


# --------------------------------------------------------------------------- validation
def test_general_allocation_must_cover_whole_paths():
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


# --------------------------------------------------------------------------- Lemma 1, Propositions 1-5 (sweeps of the chapter)
from mdlib import (  # noqa: E402
    continuation_revenue_lp,
    optimal_face,
    two_by_two_lp,
    two_by_two_revenue,
    two_good_continuation_revenue,
)


def on_path_ic_separable(values, probs, weights):
    """A separable mechanism that is IC on the truthful path: a vertex of the polytope of such mechanisms.

    Variables: x_t at every report history of length t + 1 (in [0, 1]) and the payment on every report
    path (in [-6, 6]); constraints: ex-post IR and, at every truthful history, no single misreport
    followed by the truth pays. The objective ``weights`` picks a vertex. Returns the arrays.
    """
    m, T = probs.shape, probs.ndim
    hists = [h for t in range(1, T + 1) for h in itertools.product(*[range(k) for k in m[:t]])]
    col = {("x", h): i for i, h in enumerate(hists)}
    paths = list(itertools.product(*[range(k) for k in m]))
    col.update({("p", h): len(hists) + i for i, h in enumerate(paths)})
    N = len(col)

    def util(true, rep):
        row = np.zeros(N)
        for t in range(T):
            row[col[("x", rep[: t + 1])]] += values[t][true[t]]
        row[col[("p", rep)]] -= 1.0
        return row

    A = [-util(h, h) for h in paths]
    for t in range(T):
        for h in itertools.product(*[range(k) for k in m[:t]]):
            for k, r in itertools.permutations(range(m[t]), 2):
                row = np.zeros(N)
                for fut in itertools.product(*[range(j) for j in m[t + 1:]]):
                    true = h + (k,) + fut
                    w = probs[true] / probs[h + (k,)].sum()
                    row += w * (util(true, h + (r,) + fut) - util(true, true))
                A.append(row)
    res = optimize.linprog(np.resize(np.asarray(weights, float), N), A_ub=np.array(A), b_ub=np.zeros(len(A)),
                           bounds=[(0, 1)] * len(hists) + [(-6, 6)] * len(paths), method="highs")
    assert res.status == 0
    z = res.x
    alloc = [np.array([z[col[("x", h)]] for h in itertools.product(*[range(k) for k in m[: t + 1]])]).reshape(m[: t + 1]) for t in range(T)]
    pay = np.array([z[col[("p", h)]] for h in paths]).reshape(m)
    return alloc, pay


@given(instances(max_periods=3, max_types=3, independent=True), st.lists(st.integers(-5, 5), min_size=6, max_size=6))
def test_lemma_1_on_path_ic_separable_mechanisms_pass_the_full_audit(inst, weights):
    # ADH Lemma 1: with independent values a separable mechanism that is IC on the truthful path is IC
    values, probs = inst
    alloc, pay = on_path_ic_separable(values, probs, weights)
    a = audit(make_mechanism(values, probs, alloc, pay))
    assert a.one_shot_gain <= 1e-8, "the generator's constraints are the audit's one-shot deviations"
    assert a.gain <= 1e-8, (a, alloc, pay)


def waiting_mechanism():
    """The chapter's general mechanism: after a low first report, good 1 free or good 2 at 1/2; after a high one both at 1.7."""
    x1 = np.array([[1.0, 0.0], [1.0, 1.0]])
    x2 = np.array([[0.0, 1.0], [1.0, 1.0]])
    pay = np.array([[0.0, 0.5], [1.7, 1.7]])
    return make_mechanism(VB, np.full((2, 2), 0.25), [x1, x2], pay, kind="general")


def test_lemma_1_fails_for_a_general_mechanism():
    a = audit(waiting_mechanism())
    assert a.one_shot_gain <= 1e-12, "IC on the truthful path"
    # v1 = 2: truth 2 + 1.5 - 1.7 = 1.8; report 1 then 1: good 1 free, worth 2
    assert a.gain == pytest.approx(0.2, abs=1e-12) and a.worst_history == (1,) and a.worst_report == (0,)
    assert a.ex_post_slack >= 0


def induced_separable(values, probs, mech):
    """ADH eqs. (1)-(2) for a static or general mechanism on two goods with independent values."""
    v1 = np.asarray(values[0], float)
    f2 = probs.sum(axis=0)
    x1, x2 = mech.allocation
    x1_isp = x1 @ f2
    p_isp = mech.payment - v1[:, None] * (x1 - x1_isp[:, None])
    return make_mechanism(values, probs, [x1_isp, x2], p_isp, kind="separable")


def test_the_induced_separable_mechanism_of_the_waiting_mechanism_is_ic():
    mech = waiting_mechanism()
    isp = induced_separable(VB, mech.probs, mech)
    a = audit(isp)
    assert a.gain <= 1e-12 and isp.revenue == pytest.approx(mech.revenue)
    assert np.allclose(isp.path_values() - isp.payment, mech.path_values() - mech.payment), "same ex-post utilities"


@given(instances(max_periods=2, max_types=3, independent=True))
def test_proposition_1_induced_separable_of_the_static_optimum(inst):
    values, probs = inst
    if probs.ndim != 2:
        values, probs = values + [np.array([1.0])] * (2 - probs.ndim), probs.reshape(probs.shape + (1,) * (2 - probs.ndim))
    static = optimal_mechanism(values, probs, kind="static")
    isp = induced_separable(values, probs, static)
    a = audit(isp)
    assert isp.revenue == pytest.approx(static.revenue, abs=1e-8)
    assert a.gain <= 1e-8 and a.ex_post_slack >= -1e-8
    assert optimal_mechanism(values, probs).revenue >= static.revenue - 1e-8, "separable >= static"


def two_good_law(w1, w2):
    f1, f2 = np.array(w1, float) / sum(w1), np.array(w2, float) / sum(w2)
    return f1, f2


laws3 = st.lists(st.integers(1, 9), min_size=3, max_size=3)
V3 = np.array([1.0, 2.0, 3.0])


@given(laws3, laws3)
def test_proposition_2_the_continuation_after_v1_is_optimal_given_the_promise(w1, w2):
    f1, f2 = two_good_law(w1, w2)
    m = optimal_mechanism([V3, V3], np.outer(f1, f2))
    x1, x2 = m.allocation
    w_2 = V3 * x1 + (V3[None] * x2 - m.payment) @ f2
    lhs = m.payment @ f2 - V3 * x1
    assert np.allclose(lhs, continuation_revenue(V3, f2, np.maximum(w_2, 0)), atol=1e-8)


@given(laws3, laws3)
def test_two_good_continuation_revenue_is_the_tree_lp_and_concave(w1, w2):
    f1, f2 = two_good_law(w1, w2)
    best = two_good_continuation_revenue([V3, V3], [f1, f2])
    assert best == pytest.approx(optimal_mechanism([V3, V3], np.outer(f1, f2)).revenue, abs=1e-8)
    curve = np.array([two_good_continuation_revenue([V3, V3], [f1, f2], w) for w in np.linspace(0, 4, 21)])
    assert curve.max() <= best + 1e-8 and np.diff(curve, 2).max() <= 1e-8


@given(st.lists(st.integers(1, 9), min_size=1, max_size=4), st.floats(0, 3))
def test_continuation_revenue_lp_is_the_envelope(weights, u):
    q = np.array(weights, float) / sum(weights)
    v = np.arange(1, len(q) + 1, dtype=float) ** 1.3
    assert continuation_revenue_lp(v, q, u) == pytest.approx(continuation_revenue(v, q, u), abs=1e-8)
    # the best promise is a price point's utility, and the best revenue the one-good optimum
    best = max(continuation_revenue_lp(v, q, w) for w in price_points(v, q)[0])
    assert best == pytest.approx(optimal_mechanism([v], q).revenue, abs=1e-8)


full_support_2x2 = st.lists(st.integers(1, 9), min_size=4, max_size=4).map(lambda w: (np.array(w, float) / sum(w)).reshape(2, 2))
values_2x2 = st.lists(st.integers(0, 8), min_size=4, max_size=4).map(lambda w: np.array(w, float).reshape(2, 2) / 2)


@given(values_2x2, full_support_2x2)
def test_two_by_two_lp_matches_the_tree_engine(values, probs):
    for kind in ("separable", "general", "static"):
        mine = two_by_two_revenue(values, probs, kind)
        assert mine == pytest.approx(optimal_mechanism(list(values), probs, kind=kind).revenue, abs=1e-8), kind


@given(values_2x2, st.lists(full_support_2x2, min_size=1, max_size=6))
def test_a_stack_of_laws_is_solved_as_each_law_alone(values, laws):
    """The block-diagonal solve of a stack gives every law the optimum of its own programme."""
    for kind in ("separable", "general", "static"):
        together = two_by_two_revenue(values, np.array(laws), kind)
        assert together.shape == (len(laws),)
        alone = [optimal_mechanism(list(values), P, kind=kind).revenue for P in laws]
        assert together == pytest.approx(alone, abs=1e-8), kind


def test_a_stack_keeps_its_leading_shape_and_refuses_other_shapes():
    laws = np.array([np.outer([1 - a, a], [1 - b, b]) for a in (0.2, 0.4, 0.6) for b in (0.3, 0.7)]).reshape(3, 2, 2, 2)
    assert two_by_two_revenue(VB, laws).shape == (3, 2)
    with pytest.raises(ValueError, match=r"probs must be a 2 x 2 array or a stack"):
        two_by_two_revenue(VB, np.full((3, 2, 3), 1 / 6))
    bad = laws.reshape(-1, 2, 2).copy()
    bad[4] = [[0.5, 0.0], [0.25, 0.25]]
    with pytest.raises(ValueError, match="probs must be a 2 x 2 array of positive"):
        two_by_two_revenue(VB, bad)


@given(st.floats(0.05, 0.95), st.floats(0.05, 0.95), st.sampled_from([(1.0, 2.0), (2.0, 3.0), (1.0, 3.0)]))
def test_propositions_3_and_4_on_random_cells(q1, q2, lohi):
    lo, hi = lohi
    probs = np.outer([1 - q1, q1], [1 - q2, q2])
    vals = [[lo, hi]] * 2
    r = two_value_revenues(q1, q2, lo, hi)
    opt = optimal_mechanism(vals, probs).revenue
    static = optimal_mechanism(vals, probs, kind="static").revenue
    assert opt == pytest.approx(r.best, abs=1e-8), "Prop 4: max(R1..R5)"
    assert static == pytest.approx(max(*r[:4], lo + hi * q2), abs=1e-8), "static: max(R1..R4, R6)"
    g = lo * (1 - q1) / (hi - q1 * lo)
    margin = min(lo / hi - q1, q2 - g)
    if abs(margin) > 1e-6:  # away from the boundary, where the gain vanishes
        assert (opt > static + 1e-9) == (margin > 0), "Prop 3: static loses exactly inside the region"


@pytest.mark.parametrize("q1,q2", [(0.3, 0.7), (0.1, 0.5), (0.45, 0.6), (0.2, 0.9)])
def test_mechanism_5_is_the_unique_optimum_inside_the_region(q1, q2):
    face = optimal_face(VB, np.outer([1 - q1, q1], [1 - q2, q2]))
    p5 = 1 - (1 - q2)
    m5 = np.r_[1, 1, 0, 1, 1, 1, 1, 1 + 2, 2 + p5, 2 + p5]  # x1(v1), x2(path), p(path)
    assert face.width < 1e-6 and np.allclose(face.low, m5, atol=1e-6)


@given(laws3, laws3)
def test_proposition_5_lower_monopoly_price_first(w1, w2):
    f1, f2 = two_good_law(w1, w2)
    rev1, rev2 = price_points(V3, f1)[1], price_points(V3, f2)[1]
    top1, top2 = V3[np.isclose(rev1, rev1.max())], V3[np.isclose(rev2, rev2.max())]
    if top1.max() < top2.min():
        probs = np.outer(f1, f2)
        assert optimal_mechanism([V3, V3], probs).revenue > optimal_mechanism([V3, V3], probs, kind="static").revenue + 1e-7


@given(st.floats(0, 1), st.floats(0, 1), st.floats(-1, 1))
def test_correlation_parametrisation(q1, q2, lam):
    P = correlated(q1, q2, lam)
    assert P.min() >= -1e-12 and P.sum() == pytest.approx(1.0)
    assert P[1].sum() == pytest.approx(q1) and P[:, 1].sum() == pytest.approx(q2)
    cov = P[1, 1] - q1 * q2
    assert cov * lam >= -1e-12, "the covariance has the sign of lambda"


@pytest.mark.parametrize("call,match", [
    (lambda: continuation_revenue_lp([1, 2], [0.5, 0.5], -1.0), "promised_utility"),
    (lambda: two_good_continuation_revenue([[1, 2]], [[0.5, 0.5]]), "values must be a pair"),
    (lambda: two_good_continuation_revenue([[1, 2], [1, 2]], [[0.5, 0.5], [0.5, 0.5]], -0.5), "promised_utility"),
    (lambda: two_by_two_lp([[1, 2, 3], [1, 2, 3]], np.full((2, 2), 0.25)), "values must be a 2 x 2"),
    (lambda: two_by_two_lp(VB, [[0.5, 0.5], [0.0, 0.0]]), "probs must be a 2 x 2 array of positive"),
    (lambda: two_by_two_revenue(VB, np.full((2, 2), 0.25), kind="deferred"), "kind must be one of"),
    (lambda: optimal_face(VB, np.full((2, 2), 0.25), slack=0.0), "slack must lie in"),
])
def test_chapter_lp_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@given(instances(max_periods=2, max_types=3, independent=False), st.lists(st.integers(-5, 5), min_size=6, max_size=6))
def test_lemma_1_with_two_periods_needs_no_independence(inst, weights):
    # in the last period a liar's problem is the truthful buyer's (no future beliefs), so two periods always pass
    values, probs = inst
    if np.any(probs.reshape(-1) == 0):  # keep the conditional laws defined on every history
        probs = (probs + 0.05) / (probs + 0.05).sum()
    alloc, pay = on_path_ic_separable(values, probs, weights)
    assert audit(make_mechanism(values, probs, alloc, pay)).gain <= 1e-8


def test_lemma_1_needs_independence_from_three_periods_on():
    rng = np.random.default_rng(0)
    failures = 0
    for _ in range(30):
        probs = rng.dirichlet(np.ones(8)).reshape(2, 2, 2)
        values = [np.sort(rng.integers(0, 5, 2)) / 2 for _ in range(3)]
        alloc, pay = on_path_ic_separable(values, probs, rng.integers(-5, 6, 6))
        a = audit(make_mechanism(values, probs, alloc, pay))
        assert a.one_shot_gain <= 1e-8
        failures += a.gain > 1e-6
    assert failures > 0, "correlated values: some separable mechanism is IC on path but not IC"
