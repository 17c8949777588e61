"""Tests of mdlib.finite: optimal finite dynamic mechanisms by LP, and deviation audits.

Order: closed forms (one period, selling before the buyer learns anything, interim participation
with independent periods, a perturbed Example 2 of Ashlagi et al.), then hand-built mechanisms (one-shot
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
from helpers import brute_force_gain, hand_built, instances

TOL = 1e-9


def posted_price_revenue_discrete(v, q):
    """Best posted price for one good with values v (probabilities q): max_k v_k P(value >= v_k)."""
    v, q = np.asarray(v, float), np.asarray(q, float)
    return max(vk * q[v >= vk].sum() for vk in v)


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("v,q", [([1.0, 2.0], [0.5, 0.5]), ([1.0, 2.0, 4.0], [0.2, 0.5, 0.3]), ([0.3, 0.5, 0.6, 1.0], [0.1, 0.2, 0.3, 0.4])])
def test_one_period_is_a_posted_price(v, q):
    for ir in ("interim", "ex-post"):
        for kind in ("separable", "static"):
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


@pytest.mark.parametrize("eps", [0.01, 0.05])
def test_negatively_correlated_values_bundling_wins(eps):
    # Example 2 of Ashlagi et al., perturbed: bundling (static, 3(1 - eps)) beats selling good by good
    # (separable, 2.5 - eps)
    static, general = 3 * (1 - eps), 2.5 - eps
    probs = np.array([[eps, 0.5 - eps], [0.5 - eps, eps]])
    values = [[1.0, 2.0], [1.0, 2.0]]
    assert optimal_mechanism(values, probs, kind="static").revenue == pytest.approx(static, abs=TOL)
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
    assert rv.mechanism.kind == "separable", "the direct mechanism is audited with separable reports"
    # histories of probability zero get no message: -1 there
    rv0 = revelation(values, np.array([[0.5, 0.0], [0.0, 0.5]]), alloc, pay)
    assert rv0.strategy[1][0, 1] == -1 and rv0.strategy[1][1, 0] == -1
    assert rv0.strategy[1][0, 0] >= 0 and rv0.strategy[1][1, 1] >= 0
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
        for kind in ("separable", "static"):
            mech = optimal_mechanism(values, probs, ir=ir, kind=kind)
            a = audit(mech)
            assert a.gain <= TOL, (ir, kind, a)
            assert a.ir_slack >= -TOL, (ir, kind, a)


@given(instances())
def test_revenue_orderings(inst):
    values, probs = inst
    rev = {(ir, k): optimal_mechanism(values, probs, ir=ir, kind=k).revenue for ir in IR_KINDS for k in ("separable", "static")}
    for k in ("separable", "static"):
        assert rev[("ex-ante", k)] >= rev[("interim", k)] - TOL >= rev[("ex-post", k)] - 2 * TOL
    for ir in IR_KINDS:
        if probs.ndim == 1:
            assert rev[(ir, "separable")] == pytest.approx(rev[(ir, "static")], abs=TOL)


@given(instances(independent=True))
def test_general_beats_static_with_independent_types(inst):
    # the induced separable mechanism of a static one (Proposition 1 of Ashlagi et al.) is a general mechanism
    values, probs = inst
    for ir in IR_KINDS:
        general = optimal_mechanism(values, probs, ir=ir).revenue
        assert general >= optimal_mechanism(values, probs, ir=ir, kind="static").revenue - TOL


@given(instances(max_periods=2), st.sampled_from(IR_KINDS), st.sampled_from(["separable", "static"]))
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


# --------------------------------------------------------------------------- observed periods, history values
def nonseparable(N, c_plus=2.0, c_minus=6.0):
    """The nonseparable example of Kakade et al.'s Section 6: s0 on a midpoint grid of N points, then s1 in {+, -}; one good in period 2
    worth s0 + c_plus after + and c_minus s0 after -, a value that depends on the type history."""
    s0 = (np.arange(N) + 0.5) / N
    return [np.zeros(N), np.stack([s0 + c_plus, c_minus * s0], axis=1)], np.full((N, 2), 0.5 / N)


def relaxed_grid_revenue(N, c_plus, c_minus):
    """Discrete Myerson on the grid (N even, c_plus > 1): always sell after +, after - iff s0 >= 1/2."""
    return c_plus / 2 + c_minus / 8 + (2 + c_minus) / (8 * N)


@pytest.mark.parametrize("N", [10, 20])
def test_nonseparable_relaxed_and_dynamic(N):
    values, probs = nonseparable(N)
    relaxed = optimal_mechanism(values, probs, ir="interim", observed=(1,))
    dynamic = optimal_mechanism(values, probs, ir="interim")
    assert relaxed.observed == (1,) and dynamic.observed == ()
    assert relaxed.revenue == pytest.approx(relaxed_grid_revenue(N, 2.0, 6.0), abs=TOL)
    assert dynamic.revenue < relaxed.revenue - 0.05  # c_minus = 6 > 2 c_plus: the relaxation fails
    assert audit(relaxed).gain <= TOL and audit(dynamic).gain <= TOL
    # the relaxed optimum is not incentive compatible once s1 is private too
    assert audit(relaxed, observed=()).gain > 0.05
    # ex-post participation costs nothing here
    assert optimal_mechanism(values, probs, observed=(1,)).revenue == pytest.approx(relaxed.revenue, abs=TOL)


def test_nonseparable_needs_history_values():
    # the value of good 2 as a function of the current type alone would lose s0: classes of s0 must differ
    values, probs = nonseparable(6)
    mech = optimal_mechanism(values, probs, ir="interim")
    assert mech.values[1].shape == (6, 2)
    assert np.allclose(mech.path_values(), values[1] * mech.allocation[1])


@pytest.mark.parametrize("p_high,p_low", [(0.8, 0.4), (0.9, 0.1)])
def test_correlated_signals(p_high, p_low):
    # v = s1 in {1, 2}; s0 in {L, H} equally likely and informative about s1: P(s1 = 2 | s0) = p_low, p_high.
    # Relaxed (s1 observed): the whole surplus E[v]. Dynamic: the better of two menus, both types buying at
    # strike 1 with L's fee p_low (H keeps the rent p_high - p_low), or L buying at 2 and H paying his surplus.
    relaxed = 1 + 0.5 * (p_low + p_high)
    dynamic = max(1 + p_low, p_low + (1 + p_high) / 2)
    probs = 0.5 * np.array([[1 - p_low, p_low], [1 - p_high, p_high]])
    values = [[0.0, 0.0], [1.0, 2.0]]
    assert optimal_mechanism(values, probs, ir="interim", observed=(1,)).revenue == pytest.approx(relaxed, abs=TOL)
    assert optimal_mechanism(values, probs, ir="interim").revenue == pytest.approx(dynamic, abs=TOL)
    # with s1 in {0, 1}, selling at price 1 after the report earns E[s1] in both environments
    values01 = [[0.0, 0.0], [0.0, 1.0]]
    mean = probs[:, 1].sum()
    for obs in [(1,), ()]:
        assert optimal_mechanism(values01, probs, ir="interim", observed=obs).revenue == pytest.approx(mean, abs=TOL)


def test_everything_observed_extracts_the_surplus():
    rng = np.random.default_rng(7)
    probs = rng.random((2, 3, 2))
    probs /= probs.sum()
    values = [rng.random(2), rng.random((2, 3)), rng.random(2)]
    mech = optimal_mechanism(values, probs, observed=(0, 1, 2))
    assert mech.revenue == pytest.approx(mech.welfare, abs=TOL)
    assert mech.welfare == pytest.approx(np.sum(probs * make_mechanism(values, probs, [np.ones((2,)), np.ones((2, 3)), np.ones((2, 3, 2))], np.zeros((2, 3, 2))).path_values()), abs=TOL)


def history_form(values, probs):
    """The same values written as arrays over type histories."""
    m = probs.shape
    return [np.broadcast_to(np.asarray(v, float).reshape((1,) * t + (-1,)), m[: t + 1]).copy() for t, v in enumerate(values)]


@given(instances())
def test_history_values_that_depend_on_the_current_type_only(inst):
    values, probs = inst
    hist = history_form(values, probs)
    for kind in ("separable", "static"):
        a = optimal_mechanism(values, probs, kind=kind)
        b = optimal_mechanism(hist, probs, kind=kind)
        assert b.revenue == pytest.approx(a.revenue, abs=TOL)
        assert audit(b).gain <= TOL


@st.composite
def history_instances(draw, max_periods=3, max_types=3):
    values, probs = draw(instances(max_periods=max_periods, max_types=max_types))
    m = probs.shape
    hist = [np.array(draw(st.lists(st.integers(0, 6), min_size=int(np.prod(m[: t + 1])), max_size=int(np.prod(m[: t + 1])))), float).reshape(m[: t + 1]) / 2
            for t in range(len(m))]
    observed = tuple(t for t in range(len(m)) if draw(st.booleans()))
    return hist, probs, observed


@given(history_instances())
def test_observed_optimum_passes_its_audit_and_bounds_the_dynamic_revenue(case):
    values, probs, observed = case
    for ir in IR_KINDS:
        mech = optimal_mechanism(values, probs, ir=ir, observed=observed)
        a = audit(mech)
        assert a.gain <= TOL and a.ir_slack >= -TOL, (ir, a)
        dynamic = optimal_mechanism(values, probs, ir=ir)
        assert mech.revenue >= dynamic.revenue - TOL
        if observed:  # observing fewer periods never helps the seller
            fewer = optimal_mechanism(values, probs, ir=ir, observed=observed[1:])
            assert mech.revenue >= fewer.revenue - TOL


def relaxed_lp_revenue(values, probs, ir):
    """Independent LP: only the first type is reported; the mechanism sees every later type.

    Variables x_t(r, theta_2..theta_{t+1}) and p(r, theta_2..theta_T), one per full-support path
    index with its first coordinate read as the report r.
    """
    from scipy.optimize import linprog

    m, T = probs.shape, probs.ndim
    paths = list(itertools.product(*[range(k) for k in m]))
    nx = [int(np.prod(m[: t + 1])) for t in range(T)]
    off = np.cumsum([0] + nx)
    npay = int(np.prod(m))
    nvar = off[-1] + npay

    def xcol(t, r, path):
        return off[t] + np.ravel_multi_index((r,) + tuple(path[1 : t + 1]), m[: t + 1])

    def pcol(r, path):
        return off[-1] + np.ravel_multi_index((r,) + tuple(path[1:]), m)

    def row(path, r):  # utility of true path after reporting r, as a coefficient row
        a = np.zeros(nvar)
        for t in range(T):
            a[xcol(t, r, path)] += values[t][tuple(path[: t + 1])]
        a[pcol(r, path)] -= 1.0
        return a

    rows = []
    for k in range(m[0]):
        mine = [p for p in paths if p[0] == k]
        w = np.array([probs[p] for p in mine])
        for r in range(m[0]):
            if r != k:  # E[u(report r) | k] <= E[u(truth) | k]
                rows.append(sum(wi * (row(p, r) - row(p, k)) for wi, p in zip(w, mine)))
    if ir == "ex-post":
        rows += [-row(p, p[0]) for p in paths]
    elif ir == "interim":
        rows += [-sum(probs[p] * row(p, k) for p in paths if p[0] == k) for k in range(m[0])]
    else:
        rows.append(-sum(probs[p] * row(p, p[0]) for p in paths))
    c = np.zeros(nvar)
    for p in paths:
        c[pcol(p[0], p)] -= probs[p]
    bounds = [(0.0, 1.0)] * off[-1] + [(None, None)] * npay
    res = linprog(c, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), bounds=bounds, method="highs")
    assert res.status == 0
    return -res.fun


@given(history_instances(max_periods=3, max_types=2), st.sampled_from(IR_KINDS))
def test_relaxed_environment_matches_a_direct_lp(case, ir):
    values, probs, _ = case
    probs = 0.5 * probs + 0.5 / probs.size  # full support: no observation contradicts a report
    T = probs.ndim
    mech = optimal_mechanism(values, probs, ir=ir, observed=tuple(range(1, T)))
    assert mech.revenue == pytest.approx(relaxed_lp_revenue(values, probs, ir), abs=1e-8)


def brute_force_gain_observed(values, probs, alloc, pay, observed):
    """Largest conditional gain of any pure strategy that reports the observed periods truthfully
    (values over type histories; tiny trees only)."""
    m, T = probs.shape, probs.ndim
    hists = [h for t in range(1, T + 1) for h in itertools.product(*[range(k) for k in m[:t]])]
    col = {h: i for i, h in enumerate(hists)}
    paths = list(itertools.product(*[range(k) for k in m]))
    choices = [[h[-1]] if len(h) - 1 in observed else range(m[len(h) - 1]) for h in hists]
    S = np.array(list(itertools.product(*choices)))
    U = np.zeros((len(S), len(paths)))
    for j, path in enumerate(paths):
        reports = [S[:, col[path[: t + 1]]] for t in range(T)]
        for t in range(T):
            U[:, j] += values[t][path[: t + 1]] * alloc[t][tuple(reports[: t + 1])]
        U[:, j] -= pay[tuple(reports)]
    truth = np.array([[h[-1] for h in hists]])
    t_row = np.flatnonzero((S == truth).all(axis=1))[0]
    gain = U - U[t_row]
    best = 0.0
    for h in hists:
        ok = np.all([S[:, col[h[:s]]] == h[s - 1] for s in range(1, len(h))], axis=0) if len(h) > 1 else np.ones(len(S), bool)
        w = np.array([probs[p] if p[: len(h)] == h else 0.0 for p in paths])
        if w.sum() > 0:
            best = max(best, float((gain[ok] @ w).max() / w.sum()))
    return best


@given(hand_built(), st.data())
def test_audit_with_history_values_and_observed_matches_brute_force(case, data):
    values, probs, alloc, pay = case
    m = probs.shape
    hist = [np.array(data.draw(st.lists(st.integers(0, 4), min_size=int(np.prod(m[: t + 1])), max_size=int(np.prod(m[: t + 1]))))).reshape(m[: t + 1]) / 2
            for t in range(len(m))]
    observed = tuple(t for t in range(len(m)) if data.draw(st.booleans()))
    mech = make_mechanism(hist, probs, alloc, pay, observed=observed)
    assert audit(mech).gain == pytest.approx(brute_force_gain_observed(hist, probs, alloc, pay, observed), abs=1e-9)
    assert audit(mech, observed=()).gain == pytest.approx(brute_force_gain_observed(hist, probs, alloc, pay, ()), abs=1e-9)


@pytest.mark.parametrize(
    "observed,kwargs,match",
    [
        ((2,), {}, r"observed indices must lie in \[0, 1\]"),
        ((-1,), {}, r"observed indices must lie in \[0, 1\]"),
        ((1, 1), {}, "observed must not repeat a period"),
        ((1.0,), {}, "observed must hold integer period indices"),
        ((True,), {}, "observed must hold integer period indices"),
        (1, {}, "observed must be a sequence"),
        ("1", {}, "observed must be a sequence"),
        ((1,), {"kind": "static"}, "observed is supported for kind 'separable' only"),
        ((1,), {"kind": "general"}, "observed is supported for kind 'separable' only"),
        ((), {"kind": "deferred"}, "now spelled kind='general'"),
    ],
)
def test_bad_observed(observed, kwargs, match):
    values, probs = [[0.0, 0.0], [1.0, 2.0]], np.full((2, 2), 0.25)
    with pytest.raises(ValueError, match=match):
        optimal_mechanism(values, probs, observed=observed, **kwargs)
    mech = optimal_mechanism(values, probs)
    if not kwargs:
        with pytest.raises(ValueError, match=match):
            audit(mech, observed=observed)


def test_bad_history_values():
    probs = np.full((2, 3), 1 / 6)
    with pytest.raises(ValueError, match=r"values\[1\] must have length probs.shape\[1\] = 3, or shape"):
        optimal_mechanism([[0.0, 0.0], np.zeros((3, 2))], probs)
    with pytest.raises(ValueError, match=r"values\[1\] must have length"):
        optimal_mechanism([[0.0, 0.0], np.zeros((2, 3, 1))], probs)
    # the separable kind accepts observed periods like general
    assert optimal_mechanism([[0.0, 0.0], [1.0, 2.0, 3.0]], probs, kind="separable", observed=[1]).revenue == pytest.approx(2.0)


@given(history_instances(max_periods=3, max_types=3))
def test_written_out_strategies_match_auxiliary_variables(case):
    # with history values the engine writes out the deviators' last-period strategies; with the
    # limit at 0 it uses the auxiliary variables instead: both give the same optimum
    from mdlib.finite import _design as design

    values, probs, observed = case
    fast = optimal_mechanism(values, probs, observed=observed).revenue
    limit = design._MAX_STRATEGIES
    design._MAX_STRATEGIES = 0
    try:
        slow = optimal_mechanism(values, probs, observed=observed).revenue
    finally:
        design._MAX_STRATEGIES = limit
    assert fast == pytest.approx(slow, abs=TOL)


# --------------------------------------------------------------------------- the uniform-noise lattice
@given(st.integers(min_value=1, max_value=30))
def test_uniform_noise_tree_is_the_lattice_model(n):
    # the model of the revelation-principle chapter: tau uniform on 0, 1/n, ..., 1, value = tau + eps,
    # eps uniform on the lattice points of [-1/2, 1/2], independent of tau
    from mdlib import uniform_noise_tree

    tau, value, values, probs = uniform_noise_tree(n)
    assert np.allclose(tau, np.linspace(0, 1, n + 1)) and np.allclose(np.diff(value), 1 / n)
    assert probs.shape == (n + 1, value.size) and probs.min() >= 0 and probs.sum() == pytest.approx(1.0)
    assert np.allclose(probs.sum(axis=1), 1 / (n + 1)), "tau uniform"
    eps_grid = np.array([k / n for k in range(-n, n + 1) if abs(k / n) <= 0.5 + 1e-12])
    for i, t in enumerate(tau):
        support = value[probs[i] > 0]
        assert np.allclose(support - t, eps_grid), "the noise takes the lattice points of [-1/2, 1/2]"
        assert np.allclose(probs[i][probs[i] > 0], 1 / ((n + 1) * eps_grid.size)), "uniform noise, independent of tau"
    assert np.allclose(values[0], 0) and np.array_equal(values[1], value)
    half = n // 2
    assert np.sum(eps_grid**2) / eps_grid.size == pytest.approx(half * (half + 1) / (3 * n**2)), "Var eps on the lattice"


def test_uniform_noise_tree_approaches_the_continuous_optimum():
    # the continuous model's optimal revenue is E[(v - (1 - tau))^+] = 13/48 (the option-contracts chapter);
    # on the lattice the engine earns more, and less as the lattice is refined
    from mdlib import uniform_noise_tree

    revenues = [optimal_mechanism(*uniform_noise_tree(n)[2:], ir="interim").revenue for n in (4, 8, 16)]
    assert revenues[0] > revenues[1] > revenues[2] > 13 / 48
    assert revenues[2] - 13 / 48 < 0.02
    # the continuous optimum's allocation 1{v >= 1 - tau} is implementable on the lattice, and earns at most the optimum
    tau, value, values, probs = uniform_noise_tree(8)
    lo, hi = revenue_range(values, probs, [np.zeros(9), (value[None, :] >= 1 - tau[:, None]).astype(float)])
    assert lo <= hi <= revenues[1] + 1e-9


# ---------------------------------------------------------------- gaps found by mutation testing (make mutation)
def _general_deviation_search(values, probs, alloc, pay):
    """Backward induction over (true history, report history) for a general mechanism, written out by hand.

    Returns (gain, one_shot_gain, worst_history, worst_report) with audit's conventions.
    """
    m, T = probs.shape, probs.ndim

    def P(h):
        return float(probs[h].sum()) if len(h) < T else float(probs[h])

    def u(path, rep):
        return sum(values[t][path[t]] * alloc[t][rep] for t in range(T)) - pay[rep]

    def best(h, r):  # true history h, reports r, equal lengths; optimal reporting from here on
        if len(h) == T:
            return u(h, r)
        return sum(P(h + (k,)) / P(h) * max(best(h + (k,), r + (x,)) for x in range(m[len(h)]))
                   for k in range(m[len(h)]) if P(h + (k,)) > 0)

    def truth(h, r):  # the truth from here on
        if len(h) == T:
            return u(h, r)
        return sum(P(h + (k,)) / P(h) * truth(h + (k,), r + (k,)) for k in range(m[len(h)]) if P(h + (k,)) > 0)

    gain, one_shot, where = 0.0, 0.0, ((), ())
    for t in range(T - 1, -1, -1):  # audit's order: the last period first, a later find must be strictly larger
        for h in itertools.product(*[range(k) for k in m[: t + 1]]):
            if P(h) <= 0:
                continue
            honest = truth(h, h)
            with_best = [best(h, h[:t] + (x,)) for x in range(m[t])]
            if m[t] > 1:
                one_shot = max(one_shot, max(truth(h, h[:t] + (x,)) for x in range(m[t]) if x != h[t]) - honest)
            if max(with_best) - honest > gain:
                gain = max(with_best) - honest
                where = (h, (int(np.argmax(with_best)),))
    return gain, one_shot, where[0], where[1]


@pytest.mark.parametrize("m, seed", [((2, 3), 0), ((3, 2), 1), ((2, 3, 2), 2), ((3, 1, 2), 3)])
def test_general_audit_against_a_hand_written_search(m, seed):
    """Random general mechanisms on trees with a different number of types in each period."""
    rng = np.random.default_rng(seed)
    T = len(m)
    probs = rng.uniform(0.2, 1.0, m)
    probs /= probs.sum()
    values = [np.sort(rng.uniform(0.0, 2.0, k)) for k in m]
    alloc = [rng.uniform(0.0, 1.0, m) for _ in range(T)]
    pay = rng.uniform(0.0, 1.5, m)
    a = audit(make_mechanism(values, probs, alloc, pay, kind="general"))
    gain, one_shot, hist, rep = _general_deviation_search(values, probs, alloc, pay)
    assert gain > 0.01  # random mechanisms invite lies
    assert a.gain == pytest.approx(gain, abs=1e-12)
    assert a.one_shot_gain == pytest.approx(one_shot, abs=1e-12)
    assert (a.worst_history, a.worst_report) == (hist, rep)
    if T == 2:  # strategy tables are enumerable on two periods only
        assert a.gain == pytest.approx(brute_force_gain(values, probs, alloc, pay, full_path=True), abs=1e-12)


@pytest.mark.parametrize("m", [(2, 3, 2), (3, 2, 2), (2, 2, 3)])
def test_general_optimum_with_different_type_counts_per_period(m):
    """The general LP's deviation constraints index the previous period's type count: a tree whose counts
    differ from period to period checks that the optimum is incentive compatible and beats the static one."""
    rng = np.random.default_rng(sum(m))
    probs = rng.uniform(0.2, 1.0, m)
    probs /= probs.sum()
    values = [np.sort(rng.uniform(0.0, 2.0, k)) for k in m]
    general = optimal_mechanism(values, probs, kind="general")
    a = audit(general)
    assert a.gain <= 1e-7 and a.ex_post_slack >= -1e-7
    assert _general_deviation_search(values, probs, list(general.allocation), general.payment)[0] <= 1e-7
    static = optimal_mechanism(values, probs, kind="static").revenue
    separable = optimal_mechanism(values, probs, kind="separable").revenue
    assert general.revenue >= max(static, separable) - 1e-7


def test_the_old_kind_name_is_refused_word_for_word():
    from helpers import refuses

    probs = np.full((2, 2), 0.25)
    values = [[1.0, 2.0], [1.0, 2.0]]
    alloc = [np.ones((2, 2)), np.ones((2, 2))]
    refuses(lambda: make_mechanism(values, probs, alloc, np.zeros((2, 2)), kind="deferred"),
            "kind='deferred' is now spelled kind='general' (Ashlagi, Daskalakis and Haghpanah's name for mechanisms "
            "that allocate after the last report); got kind='deferred'")
