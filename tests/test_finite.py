"""Tests of mdlib.finite: optimal finite dynamic mechanisms by LP, and deviation audits.

Order: closed forms (one period, selling before the buyer learns anything, interim participation
with independent periods, a digest's perturbed example), then hand-built mechanisms (one-shot
versus double deviations, the revelation map, off-path reports), then hypothesis properties
(the optimum passes the audit, revenue orderings, payment perturbations, the audit against
brute-force enumeration of strategies), then input validation.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import audit, make_mechanism, optimal_mechanism, revelation, revenue_range
from mdlib.finite import IR_KINDS
from helpers import instances

TOL = 1e-9


def posted_price_revenue_discrete(v, q):
    """Best posted price for one good with values v (probabilities q): max_k v_k P(value >= v_k)."""
    v, q = np.asarray(v, float), np.asarray(q, float)
    return max(vk * q[v >= vk].sum() for vk in v)


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("v,q", [([1.0, 2.0], [0.5, 0.5]), ([1.0, 2.0, 4.0], [0.2, 0.5, 0.3]), ([0.3, 0.5, 0.6, 1.0], [0.1, 0.2, 0.3, 0.4])])
def test_one_period_is_a_posted_price(v, q):
    for ir in ("interim", "ex-post"):
        for kind in ("general", "static"):
            mech = optimal_mechanism([v], q, ir=ir, kind=kind)
            assert mech.revenue == pytest.approx(posted_price_revenue_discrete(v, q), abs=TOL)
    # participation before the buyer learns his value: the whole expected value
    assert optimal_mechanism([v], q, ir="ex-ante").revenue == pytest.approx(np.dot(v, q), abs=TOL)


def test_ex_ante_participation_extracts_the_surplus():
    rng = np.random.default_rng(3)
    probs = rng.random((3, 2, 3))
    probs /= probs.sum()
    values = [rng.random(3), np.zeros(2), rng.random(3)]
    mech = optimal_mechanism(values, probs, ir="ex-ante")
    surplus = sum(np.sum(probs.sum(axis=tuple(a for a in range(3) if a != t)) * values[t]) for t in range(3))
    assert mech.revenue == pytest.approx(surplus, abs=TOL)
    assert audit(mech).gain <= TOL


def test_interim_participation_with_independent_periods():
    # the first good is screened as in a one-period problem; later goods are sold at their mean
    q1, q2 = np.array([0.3, 0.7]), np.array([0.2, 0.3, 0.5])
    v1, v2 = np.array([1.0, 3.0]), np.array([0.5, 1.0, 2.0])
    mech = optimal_mechanism([v1, v2], np.outer(q1, q2), ir="interim")
    assert mech.revenue == pytest.approx(posted_price_revenue_discrete(v1, q1) + q2 @ v2, abs=TOL)


@pytest.mark.parametrize("eps,static,general", [(0.01, 2.97, 2.49), (0.05, 2.85, 2.45)])
def test_negatively_correlated_values_digest_000(eps, static, general):
    # digest 000, Example 2 perturbed: bundling (static) beats selling good by good (general)
    probs = np.array([[eps, 0.5 - eps], [0.5 - eps, eps]])
    values = [[1.0, 2.0], [1.0, 2.0]]
    assert optimal_mechanism(values, probs, kind="static").revenue == pytest.approx(static, abs=TOL)
    assert optimal_mechanism(values, probs, kind="general").revenue == pytest.approx(general, abs=TOL)
    assert optimal_mechanism(values, probs, kind="separable").revenue == pytest.approx(general, abs=TOL)


def test_pruned_zero_probability_reports():
    # perfect negative correlation: after the first report only one second report is possible, so
    # the general mechanism can copy the bundle (3), and its audit (every report allowed) is clean
    probs = np.array([[0.0, 0.5], [0.5, 0.0]])
    mech = optimal_mechanism([[1.0, 2.0], [1.0, 2.0]], probs)
    assert mech.revenue == pytest.approx(3.0, abs=TOL)
    a = audit(mech)
    assert a.gain <= TOL and a.ir_slack >= -TOL
    # the unreachable histories copy a reachable one (read as the lowest reachable report)
    assert mech.payment[0, 0] == mech.payment[0, 1] and mech.payment[1, 1] == mech.payment[1, 0]


# --------------------------------------------------------------------------- hand-built mechanisms
def double_deviation_example():
    """Three periods; the first two only bring information about the value of the third good."""
    pi = np.array([[0.1, 0.4], [0.6, 0.9]])  # P(high value | theta_1, theta_2)
    probs = 0.25 * np.stack([1 - pi, pi], axis=-1)
    values = [[0.0, 0.0], [0.0, 0.0], [1.0, 2.0]]
    strike = np.array([[2.0, 1.0], [1.0, 1.0]])
    fee = np.array([[0.0, 0.25], [0.4, 0.4]])
    x3 = (np.array([1.0, 2.0])[None, None, :] >= strike[..., None]).astype(float)
    pay = fee[..., None] + strike[..., None] * x3
    return values, probs, [np.zeros(2), np.zeros((2, 2)), x3], pay


def test_single_deviations_pass_but_a_double_deviation_pays():
    values, probs, alloc, pay = double_deviation_example()
    a = audit(make_mechanism(values, probs, alloc, pay))
    assert a.one_shot_gain <= TOL
    # true first type 1 (utility 0.35) lies, then lies again to get the cheap menu: 0.5
    assert a.gain == pytest.approx(0.15, abs=TOL)
    assert a.worst_history == (1,) and a.worst_report == (0,)
    strategy = revelation(values, probs, alloc, pay).strategy
    assert strategy[0][1] == 0 and strategy[1][1, 0] == 1


def test_payments_at_histories_add_up():
    values, probs, alloc, pay = double_deviation_example()
    fee = pay[..., 0] * 0 + np.array([[0.0, 0.25], [0.4, 0.4]])
    per_history = [np.zeros(2), fee, pay - fee[..., None]]
    m1, m2 = make_mechanism(values, probs, alloc, pay), make_mechanism(values, probs, alloc, per_history)
    assert np.allclose(m1.payment, m2.payment) and m1.revenue == pytest.approx(m2.revenue)


def test_revelation_of_an_option_menu():
    # two options offered after the first type: (fee 0, strike 1.9) or (fee 0.5, strike 1)
    probs = np.array([[0.4, 0.1], [0.1, 0.4]])
    values = [[0.0, 0.0], [1.0, 2.0]]
    alloc = [np.zeros(2), np.array([[0.0, 1.0], [0.0, 1.0]])]
    pay = np.array([[0.0, 1.9], [0.5, 1.5]])
    rv = revelation(values, probs, alloc, pay)
    assert rv.strategy[0].tolist() == [0, 1]
    assert rv.mechanism.revenue == pytest.approx(0.5 * 0.2 * 1.9 + 0.5 * (0.5 + 0.8 * 1.0))
    assert audit(rv.mechanism).gain <= TOL


def test_static_audit_finds_a_lie():
    probs = np.full((2, 2), 0.25)
    values = [[1.0, 2.0], [1.0, 2.0]]
    alloc = [np.ones((2, 2)), np.ones((2, 2))]
    pay = np.array([[2.0, 3.0], [3.0, 3.5]])  # the high-high path pays more for the same goods
    a = audit(make_mechanism(values, probs, alloc, pay, kind="static"))
    assert a.gain == pytest.approx(1.5) and a.worst_history == (1, 1) and a.worst_report == (0, 0)


# --------------------------------------------------------------------------- hypothesis properties
# `instances` (random small type trees) lives in tests/helpers.py.


@given(instances())
def test_optimum_passes_its_audit(inst):
    values, probs = inst
    for ir in IR_KINDS:
        for kind in ("general", "static"):
            mech = optimal_mechanism(values, probs, ir=ir, kind=kind)
            a = audit(mech)
            assert a.gain <= TOL, (ir, kind, a)
            assert a.ir_slack >= -TOL, (ir, kind, a)


@given(instances())
def test_revenue_orderings(inst):
    values, probs = inst
    rev = {(ir, k): optimal_mechanism(values, probs, ir=ir, kind=k).revenue for ir in IR_KINDS for k in ("general", "separable", "static")}
    for k in ("general", "separable", "static"):
        assert rev[("ex-ante", k)] >= rev[("interim", k)] - TOL >= rev[("ex-post", k)] - 2 * TOL
    for ir in IR_KINDS:
        assert rev[(ir, "general")] == pytest.approx(rev[(ir, "separable")], abs=TOL)
        if probs.ndim == 1:
            assert rev[(ir, "general")] == pytest.approx(rev[(ir, "static")], abs=TOL)


@given(instances(independent=True))
def test_general_beats_static_with_independent_types(inst):
    # the induced separable mechanism of a static one (digest 000, Prop. 1) is a general mechanism
    values, probs = inst
    for ir in IR_KINDS:
        general = optimal_mechanism(values, probs, ir=ir).revenue
        assert general >= optimal_mechanism(values, probs, ir=ir, kind="static").revenue - TOL


@given(instances(max_periods=2), st.sampled_from(IR_KINDS), st.sampled_from(["general", "static"]))
def test_raising_any_payment_of_an_optimum_breaks_a_constraint(inst, ir, kind):
    values, probs = inst
    mech = optimal_mechanism(values, probs, ir=ir, kind=kind)
    delta = 1e-3
    for path in zip(*np.nonzero(probs > 0)):
        for sign in (1.0, -1.0):
            pay = mech.payment.copy()
            pay[path] += sign * delta
            other = make_mechanism(values, probs, list(mech.allocation), pay, kind=kind, ir=ir)
            a = audit(other)
            broken = a.gain > 1e-7 or a.ir_slack < -1e-7
            assert broken or other.revenue < mech.revenue - 1e-7 * probs[path], (path, sign)
            if sign > 0:
                assert broken


def brute_force_gain(values, probs, alloc, pay):
    """Largest conditional gain of any pure strategy, by enumerating strategy tables (tiny trees only)."""
    m, T = probs.shape, probs.ndim
    hists = [h for t in range(1, T + 1) for h in itertools.product(*[range(k) for k in m[:t]])]
    col = {h: i for i, h in enumerate(hists)}
    paths = list(itertools.product(*[range(k) for k in m]))
    S = np.array(list(itertools.product(*[range(m[len(h) - 1]) for h in hists])))  # strategies x histories
    U = np.zeros((len(S), len(paths)))
    for j, path in enumerate(paths):
        reports = [S[:, col[path[: t + 1]]] for t in range(T)]
        for t in range(T):
            U[:, j] += values[t][path[t]] * alloc[t][tuple(reports[: t + 1])]
        U[:, j] -= pay[tuple(reports)]
    truth = np.array([[h[-1] for h in hists]])
    t_row = np.flatnonzero((S == truth).all(axis=1))[0]
    gain = U - U[t_row]
    best = 0.0
    for h in hists:  # information set h: truthful at the earlier periods of h
        ok = np.all([S[:, col[h[:s]]] == h[s - 1] for s in range(1, len(h))], axis=0) if len(h) > 1 else np.ones(len(S), bool)
        w = np.array([probs[p] if p[: len(h)] == h else 0.0 for p in paths])
        if w.sum() > 0:
            best = max(best, float((gain[ok] @ w).max() / w.sum()))
    return best


@st.composite
def hand_built(draw):
    T = draw(st.integers(1, 3))
    m = (2,) * T if T == 3 else tuple(draw(st.integers(1, 3)) for _ in range(T))
    n = int(np.prod(m))
    w = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), float)
    w[0] += 1
    probs = (w / w.sum()).reshape(m)
    values = [np.array(draw(st.lists(st.integers(0, 4), min_size=k, max_size=k)), float) for k in m]
    alloc = [np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=int(np.prod(m[: t + 1])), max_size=int(np.prod(m[: t + 1]))))).reshape(m[: t + 1]) for t in range(T)]
    pay = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), float).reshape(m) / 2
    return values, probs, alloc, pay


@given(hand_built())
def test_audit_matches_brute_force(case):
    values, probs, alloc, pay = case
    a = audit(make_mechanism(values, probs, alloc, pay))
    assert a.gain == pytest.approx(brute_force_gain(values, probs, alloc, pay), abs=1e-9)
    assert a.one_shot_gain <= a.gain + 1e-12


def test_sparse_tree_solves():
    # 2N first types, N second types, each first type fixes the second: 2N^2 paths, 2N possible
    N = 40
    probs = np.zeros((2 * N, N))
    probs[np.arange(2 * N), np.arange(2 * N) % N] = 1 / (2 * N)
    values = [np.linspace(0, 1, 2 * N), np.linspace(0, 1, N)]
    mech = optimal_mechanism(values, probs)
    assert audit(mech).gain <= TOL


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "values,probs,kwargs,match",
    [
        ([[1.0, 2.0]], [0.6, 0.6], {}, "probs must sum to 1"),
        ([[1.0, 2.0]], [1.2, -0.2], {}, "probs must be non-negative"),
        ([[1.0, 2.0, 3.0]], [0.5, 0.5], {}, r"values\[0\] must have length"),
        ([[1.0, 2.0], [1.0]], [0.5, 0.5], {}, "values must have one vector per period"),
        ([[1.0, np.nan]], [0.5, 0.5], {}, r"values\[0\] must be finite"),
        ([[1.0, 2.0]], [0.5, 0.5], {"ir": "ex post"}, "ir must be one of"),
        ([[1.0, 2.0]], [0.5, 0.5], {"kind": "dynamic"}, "kind must be one of"),
    ],
)
def test_bad_input(values, probs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimal_mechanism(values, probs, **kwargs)


def test_bad_mechanism_arrays():
    probs = np.full((2, 2), 0.25)
    values = [[0.0, 0.0], [1.0, 2.0]]
    with pytest.raises(ValueError, match=r"allocation\[1\] must have shape"):
        make_mechanism(values, probs, [np.zeros(2), np.zeros(2)], np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"allocation\[0\] must lie in \[0, 1\]"):
        make_mechanism(values, probs, [np.full(2, 2.0), np.zeros((2, 2))], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="payment must have shape"):
        make_mechanism(values, probs, [np.zeros(2), np.zeros((2, 2))], np.zeros(3))
    with pytest.raises(ValueError, match="mechanism must be a Mechanism"):
        audit("not a mechanism")


def test_revenue_range():
    # the optimum's allocation: its revenue is the top of the range under interim participation
    values, probs = [[0.0, 0.0], [1.0, 2.0, 3.0]], np.array([[0.3, 0.1, 0.1], [0.1, 0.1, 0.3]])
    mech = optimal_mechanism(values, probs, ir="interim")
    lo, hi = revenue_range(values, probs, list(mech.allocation))
    assert lo <= hi + TOL and hi == pytest.approx(mech.revenue, abs=1e-7)
    with pytest.raises(ValueError, match="cannot be implemented"):
        revenue_range([[1.0, 2.0]], [0.5, 0.5], [[1.0, 0.0]])  # decreasing in the value


@st.composite
def indirect(draw):
    values, probs = draw(instances(max_periods=3, max_types=2))
    T = probs.ndim
    n = tuple(draw(st.integers(1, 3)) for _ in range(T))
    alloc = [np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=int(np.prod(n[: t + 1])), max_size=int(np.prod(n[: t + 1]))))).reshape(n[: t + 1]) for t in range(T)]
    pay = np.array(draw(st.lists(st.integers(-2, 6), min_size=int(np.prod(n)), max_size=int(np.prod(n)))), float).reshape(n) / 2
    return values, probs, alloc, pay


@given(indirect())
def test_revelation_principle(case):
    # the direct mechanism of any indirect one is incentive compatible and earns the same revenue
    values, probs, alloc, pay = case
    rv = revelation(values, probs, alloc, pay)
    assert audit(rv.mechanism).gain <= TOL
    paths = np.argwhere(probs > 0)
    msgs = [tuple(int(rv.strategy[t][tuple(p[: t + 1])]) for t in range(probs.ndim)) for p in paths]
    revenue = sum(probs[tuple(p)] * pay[mm] for p, mm in zip(paths, msgs))
    assert rv.mechanism.revenue == pytest.approx(revenue, abs=1e-12)
