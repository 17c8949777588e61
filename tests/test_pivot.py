"""Tests of mdlib.pivot: the dynamic pivot mechanism on finite models.

Order: closed forms (scheduling, the multi-task example, an exact toy model, the
static Clarke pivot at discount 0), then hypothesis properties on random models
(Theorem 1 by a best-response audit, nonnegative transfers, flow identities,
periodic IR, the revenue identity), then a seeded Monte Carlo check, then input
validation.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import (
    random_model,
    DynamicModel,
    audit_pivot,
    dynamic_pivot,
    evaluate_policy,
    scheduling_model,
    scheduling_pivot,
    scheduling_pivot_prices,
)

from helpers import dynamic_models, report_mdp_by_value_iteration, toy_model

ALGEBRA = 1e-9


# --------------------------------------------------------------------------- helpers


def brute_force_welfare(values, discount):
    """V(S) = max(0, max_j v_j + δ V(S \\ j)) by recursion over subsets."""

    @lru_cache(maxsize=None)
    def V(S):
        return max([0.0] + [values[j] + discount * V(S - {j}) for j in S])

    return V



# --------------------------------------------------------------------------- scheduling
def test_scheduling_closed_forms_three_agents():
    s = scheduling_pivot([10.0, 6.0, 3.0], 0.9)
    assert s.welfare == pytest.approx(10 + 0.9 * 6 + 0.81 * 3, abs=ALGEBRA)
    assert np.allclose(s.welfare - s.marginal_contribution, [8.7, 12.7, 15.4], atol=ALGEBRA)
    assert np.allclose(s.marginal_contribution, [9.13, 5.13, 2.43], atol=ALGEBRA)
    assert np.allclose(s.price, [0.87, 0.30, 0.0], atol=ALGEBRA)
    assert s.period.tolist() == [0, 1, 2]


def test_scheduling_prices_four_agents_input_order():
    prices = scheduling_pivot_prices([3.0, 10.0, 1.0, 6.0], 0.9)
    assert np.allclose(prices, [0.1, 0.951, 0.0, 0.39], atol=ALGEBRA)


def test_scheduling_never_served_and_ties():
    s = scheduling_pivot([-1.0, 5.0, 0.0, 5.0], 0.5)
    assert s.order.tolist() == [1, 3]
    assert s.period.tolist() == [-1, 0, -1, 1]
    assert s.price[[0, 2]].tolist() == [0.0, 0.0]
    assert s.price[1] == pytest.approx(0.5 * 5.0, abs=ALGEBRA)


def test_scheduling_limits():
    v = np.array([9.0, 7.0, 4.0, 2.0])
    assert np.allclose(scheduling_pivot_prices(v, 0.0), [7.0, 4.0, 2.0, 0.0])
    assert np.all(scheduling_pivot_prices(v, 1 - 1e-9) < 1e-7)


@given(
    st.lists(st.floats(0.01, 10.0), min_size=1, max_size=5),
    st.floats(0.0, 0.99),
)
def test_scheduling_closed_forms_equal_brute_force_and_general_pivot(values, discount):
    v = np.array(values)
    s = scheduling_pivot(v, discount)
    I = len(v)
    V = brute_force_welfare(tuple(v), discount)
    everyone = frozenset(range(I))
    assert s.welfare == pytest.approx(V(everyone), abs=ALGEBRA * (1 + s.welfare))
    for i in range(I):
        assert s.marginal_contribution[i] == pytest.approx(V(everyone) - V(everyone - {i}), abs=ALGEBRA * (1 + s.welfare))
    assert np.all(s.price <= np.append(np.sort(v)[::-1][1:], 0.0)[np.argsort(np.argsort(-v, kind="stable"))] + ALGEBRA)
    # the general mechanism on the finite model: along the efficient path the served agent pays
    # the closed-form price and nobody else pays anything ("online" payments)
    model = scheduling_model(v, discount)
    res = dynamic_pivot(model)
    assert np.allclose(res.marginal_contribution[:, 0], s.marginal_contribution, atol=ALGEBRA * (1 + s.welfare))
    state = [0] * I
    paid = np.zeros(I)
    for t in range(I):
        k = model.state_index(state)
        x = int(res.policy[k])
        if x == 0:
            assert np.all(np.abs(res.transfers[:, k]) < ALGEBRA)
            break
        served = x - 1
        assert s.period[served] == t
        others = [j for j in range(I) if j != served]
        assert np.all(np.abs(res.transfers[others, k]) < ALGEBRA * (1 + s.welfare))
        paid[served] = res.transfers[served, k]
        state[served] = 1
    assert np.allclose(paid, s.price, atol=ALGEBRA * (1 + s.welfare))


# --------------------------------------------------------------------------- multi-task and toy
def test_multi_task_example_sign():
    v1, v2, d = 2.0, 1.0, 0.9
    # agent 0: one state, value v1 whenever served (decision 0); agent 1: active/done, value v2 once (decision 1)
    values = [np.array([[v1], [0.0]]), np.array([[0.0, 0.0], [v2, 0.0]])]
    transitions = [np.ones((2, 1, 1)), np.array([np.eye(2), [[0.0, 1.0], [0.0, 1.0]]])]
    res = dynamic_pivot(DynamicModel(values, transitions, d))
    assert res.policy[0] == 0
    assert res.marginal_contribution[:, 0] == pytest.approx([19.0, 0.0], abs=ALGEBRA)
    assert res.transfers[0, 0] == pytest.approx(+(1 - d) * v2, abs=ALGEBRA)
    assert res.transfers[1, 0] == pytest.approx(0.0, abs=ALGEBRA)


def exact_optimum(R, Q, d):
    """Optimal values of a small MDP in exact rational arithmetic, by policy iteration from policy 0."""
    R = [[Fraction(x).limit_denominator(1000) for x in row] for row in R]
    Q = [[[Fraction(x).limit_denominator(1000) for x in col] for col in row] for row in Q]
    d = Fraction(d).limit_denominator(1000)
    n, m = len(R), len(R[0])
    policy = [0] * n
    while True:
        A = sp.Matrix(n, n, lambda s, t: (s == t) - d * Q[s][policy[s]][t])
        v = list(A.LUsolve(sp.Matrix([R[s][policy[s]] for s in range(n)])))
        q = [[R[s][a] + d * sum(Q[s][a][t] * v[t] for t in range(n)) for a in range(m)] for s in range(n)]
        better = [max(range(m), key=lambda a: (q[s][a], -a)) for s in range(n)]
        if all(q[s][better[s]] == q[s][policy[s]] for s in range(n)):
            return [sp.Rational(x) for x in v]
        policy = better


def test_toy_model_exact_rationals():
    model = toy_model()
    res = dynamic_pivot(model)
    assert res.policy.tolist() == [1, 2, 1, 1]
    W = exact_optimum(model.joint_values(), model.joint_transition(), model.discount)
    assert np.allclose(res.welfare, [float(w) for w in W], atol=ALGEBRA)
    for i, others in [(0, [1]), (1, [0])]:
        W_minus = exact_optimum(model.joint_values(others), model.joint_transition(others), model.discount)
        assert np.allclose(res.welfare_without[i], [float(W_minus[k]) for k in model.project(others)], atol=ALGEBRA)
    assert res.flow_marginal_contribution[0, 0] == pytest.approx(-0.2, abs=ALGEBRA)
    assert audit_pivot(toy_model(), res).truthful


def test_discount_zero_is_the_clarke_pivot():
    for seed in range(5):
        model = random_model(seed, 3, 2, 3, 0.0)
        res = dynamic_pivot(model)
        R = model.joint_values()
        for i in range(3):
            others = [j for j in range(3) if j != i]
            R_o = model.joint_values(others)[model.project(others)]
            clarke = R_o.max(axis=1) - R_o[np.arange(model.n_joint), res.policy]
            assert np.allclose(res.transfers[i], clarke, atol=ALGEBRA)
        assert np.array_equal(res.policy, R.argmax(axis=1))


# --------------------------------------------------------------------------- properties
models = dynamic_models(max_discount=0.97)


@given(models)
def test_theorem_1_truth_telling_is_a_best_response_in_every_state(model):
    res = dynamic_pivot(model)
    check = audit_pivot(model, res)
    scale = 1 + np.abs(res.welfare).max()
    assert check.truthful
    assert check.max_gain <= ALGEBRA * scale
    assert check.max_value_error <= ALGEBRA * scale


@given(models)
def test_transfers_nonnegative_and_flow_identities(model):
    res = dynamic_pivot(model)
    d, S = model.discount, model.n_joint
    scale = 1 + np.abs(res.welfare).max()
    assert res.transfers.min() >= -ALGEBRA * scale
    assert np.allclose(res.flow_value - res.transfers, res.flow_marginal_contribution, atol=ALGEBRA * scale)
    P = model.joint_transition()[np.arange(S), res.policy]      # (S, S) under x*
    for i in range(model.n_agents):
        M = res.marginal_contribution[i]
        assert np.allclose(M, res.flow_marginal_contribution[i] + d * P @ M, atol=ALGEBRA * scale)
    # periodic IR: truthful continuation M_i is at least the value under x*_{-i}
    assert (res.marginal_contribution - res.outside_option).min() >= -ALGEBRA * scale


@given(models)
def test_revenue_identity(model):
    res = dynamic_pivot(model)
    P = model.joint_transition()
    S = model.n_joint
    R_rev = np.zeros((S, model.n_decisions))
    R_rev[np.arange(S), res.policy] = res.transfers.sum(axis=0)
    revenue = evaluate_policy(R_rev, P, model.discount, res.policy)
    expected = res.welfare - res.marginal_contribution.sum(axis=0)
    assert np.allclose(revenue, expected, atol=ALGEBRA * (1 + np.abs(res.welfare).max()))


@given(models, st.integers(0, 2**32 - 1))
def test_audit_matches_value_iteration_over_reports_for_any_transfers(model, seed):
    """Against pivot transfers and against random ones (profitable lies), the audit's values and gains are
    those of the report MDP solved by value iteration."""
    res = dynamic_pivot(model)
    noise = np.random.default_rng(seed).normal(size=res.transfers.shape)
    for transfers in (res.transfers, res.transfers + noise):
        mech = dataclasses.replace(res, transfers=transfers)
        check = audit_pivot(model, mech)
        scale = 1 + (np.abs(model.joint_values()).max() + np.abs(transfers).max()) / (1 - model.discount)
        for i in range(model.n_agents):
            V, gain = report_mdp_by_value_iteration(model, res.policy, transfers, i)
            assert np.allclose(check.value[i], V, atol=1e-9 * scale)
            assert np.allclose(check.gain[i], gain, atol=1e-9 * scale)


def test_audit_detects_a_profitable_lie():
    # agent 0 is worth 0.2 or 1 when served (decision 1); agent 1 is worth 0.5 (decision 2)
    values = [np.array([[0.0, 0.0], [0.2, 1.0], [0.0, 0.0]]), np.array([[0.0], [0.0], [0.5]])]
    transitions = [np.tile(np.eye(2), (3, 1, 1)), np.ones((3, 1, 1))]
    model = DynamicModel(values, transitions, 0.5)
    res = dynamic_pivot(model)
    assert audit_pivot(model, res).truthful
    free = dataclasses.replace(res, transfers=np.zeros_like(res.transfers))
    check = audit_pivot(model, free)
    assert not check.truthful
    # the low type claims to be high: 0.2 a period instead of 0, forever
    assert check.gain[0, model.state_index([0, 0])] == pytest.approx(0.2, abs=ALGEBRA)


def test_benchmark_size_is_exact():
    model = random_model(7, 3, 4, 4, 0.95)
    res = dynamic_pivot(model)
    check = audit_pivot(model, res)
    assert model.n_joint == 64
    assert check.max_gain <= ALGEBRA and check.max_value_error <= ALGEBRA


# --------------------------------------------------------------------------- Monte Carlo
def test_monte_carlo_utilities_and_revenue():
    rng = np.random.default_rng(20261201)
    model = random_model(3, 2, 3, 3, 0.8)
    res = dynamic_pivot(model)
    P = model.joint_transition()[np.arange(model.n_joint), res.policy]
    cum = np.cumsum(P, axis=1)
    paths, horizon = 20_000, 100
    k = np.zeros(paths, dtype=int)
    utility = np.zeros((2, paths))
    revenue = np.zeros(paths)
    for t in range(horizon):
        utility += model.discount**t * (res.flow_value[:, k] - res.transfers[:, k])
        revenue += model.discount**t * res.transfers[:, k].sum(axis=0)
        k = (rng.uniform(size=paths)[:, None] > cum[k]).sum(axis=1)
    tail = model.discount**horizon * 10 / (1 - model.discount)
    for i in range(2):
        se = utility[i].std(ddof=1) / np.sqrt(paths)
        assert abs(utility[i].mean() - res.marginal_contribution[i, 0]) < 4 * se + tail
    se = revenue.std(ddof=1) / np.sqrt(paths)
    assert abs(revenue.mean() - (res.welfare[0] - res.marginal_contribution[:, 0].sum())) < 4 * se + tail


# --------------------------------------------------------------------------- validation
def test_model_validation():
    good_v = [np.zeros((2, 2))]
    good_t = [np.tile(np.eye(2), (2, 1, 1))]
    with pytest.raises(ValueError, match="discount"):
        DynamicModel(good_v, good_t, 1.0)
    with pytest.raises(ValueError, match="discount"):
        DynamicModel(good_v, good_t, -0.5)
    with pytest.raises(ValueError, match="values must list"):
        DynamicModel([], [], 0.5)
    with pytest.raises(ValueError, match="one array per agent"):
        DynamicModel(good_v * 2, good_t, 0.5)
    with pytest.raises(ValueError, match=r"values\[1\] must have shape"):
        DynamicModel([np.zeros((2, 2)), np.zeros((3, 2))], good_t * 2, 0.5)
    with pytest.raises(ValueError, match=r"transitions\[0\] must have shape"):
        DynamicModel(good_v, [np.tile(np.eye(3), (2, 1, 1))], 0.5)
    bad = np.tile(np.eye(2), (2, 1, 1))
    bad[1, 0] = [0.3, 0.3]
    with pytest.raises(ValueError, match=r"^transitions\[0\] rows must sum to 1: row \[1, 0, :\] sums to 0\.6$"):
        DynamicModel(good_v, [bad], 0.5)
    with pytest.raises(ValueError, match=r"values\[0\] must be finite"):
        DynamicModel([np.full((2, 2), np.nan)], good_t, 0.5)
    with pytest.raises(ValueError, match="nonnegative"):
        DynamicModel(good_v, [np.array([[[1.5, -0.5], [0, 1]]] * 2)], 0.5)


def test_model_helpers():
    model = random_model(0, 3, 2, 2, 0.5)
    assert model.states.shape == (8, 3)
    assert model.state_index([1, 0, 1]) == 5
    assert model.states[5].tolist() == [1, 0, 1]
    assert model.project([0, 2])[5] == 3
    assert model.joint_transition().shape == (8, 2, 8)
    assert np.allclose(model.joint_transition().sum(axis=2), 1.0)
    with pytest.raises(ValueError, match="private_states"):
        model.state_index([0, 2, 0])
    with pytest.raises(ValueError, match="agents"):
        model.joint_values([0, 0])


def test_function_validation():
    model = random_model(0, 2, 2, 2, 0.5)
    with pytest.raises(ValueError, match="model must be a DynamicModel"):
        dynamic_pivot("model")
    with pytest.raises(ValueError, match="model must be a DynamicModel"):
        audit_pivot(None)
    with pytest.raises(ValueError, match="tol"):
        audit_pivot(model, tol=-1.0)
    with pytest.raises(ValueError, match="result must be"):
        audit_pivot(model, dynamic_pivot(random_model(1, 2, 3, 2, 0.5)))
    for bad in ([], [[1.0, 2.0]], [1.0, np.inf], "abc"):
        with pytest.raises(ValueError, match="values"):
            scheduling_pivot_prices(bad, 0.5)
    with pytest.raises(ValueError, match="discount"):
        scheduling_pivot_prices([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="discount"):
        scheduling_model([1.0, 2.0], -0.1)


# --------------------------------------------------------------------------- sweeps moved from the chapter
def _ascending_auction(values, discount):
    """Subgame-perfect prices and utilities of the sequence of ascending auctions (the chapter's algorithm)."""
    values = tuple(values)

    @lru_cache(maxsize=None)
    def play(S):
        if not S:
            return {}, ()
        ranked = sorted(S, key=lambda j: (-values[j], j))
        w = ranked[0]
        after_w, prices_after = play(S - {w})
        bids = {j: values[j] - discount * after_w[j] for j in ranked[1:]}
        price = max(bids.values(), default=0.0)
        if len(ranked) > 1:
            after_r, _ = play(S - {ranked[1]})
            assert values[w] - discount * after_r[w] >= price - 1e-12
        utility = {w: values[w] - price} | {j: discount * after_w[j] for j in ranked[1:]}
        return utility, (price,) + prices_after

    utility, prices = play(frozenset(range(len(values))))
    return np.array(prices), np.array([utility[j] for j in range(len(values))])


@given(st.lists(st.floats(0.0, 10.0), min_size=1, max_size=6), st.floats(0.0, 0.99))
def test_ascending_auction_has_the_pivot_prices(values, discount):
    prices, utility = _ascending_auction(values, discount)
    s = scheduling_pivot(values, discount)
    scale = 1 + max(values)
    assert np.allclose(prices, s.price[s.order], atol=ALGEBRA * scale)
    assert np.allclose(utility, s.marginal_contribution, atol=ALGEBRA * scale)


def _frozen_when_idle_model(seed, n_agents, n_states, discount):
    """Decision j serves agent j, and only his state moves."""
    rng = np.random.default_rng(seed)
    values, kernels = [], []
    for j in range(n_agents):
        val = np.zeros((n_agents, n_states))
        val[j] = rng.uniform(0, 1, n_states)
        F = np.tile(np.eye(n_states), (n_agents, 1, 1))
        F[j] = rng.dirichlet(np.ones(n_states), size=n_states)
        values.append(val)
        kernels.append(F)
    return DynamicModel(values, kernels, discount)


@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.floats(0.5, 0.97))
def test_dynamic_second_price_auction_when_idle_states_are_frozen(seed, n_states, discount):
    model = _frozen_when_idle_model(seed, 3, n_states, discount)
    res = dynamic_pivot(model)
    scale = 1 + np.abs(res.welfare).max()
    for i in range(3):
        served = res.policy == i
        assert np.allclose(res.transfers[i, served], (1 - discount) * res.welfare_without[i, served], atol=ALGEBRA * scale)
        assert np.allclose(res.transfers[i, ~served], 0.0, atol=ALGEBRA * scale)
        k_others = model.project([j for j in range(3) if j != i])
        for key in np.unique(k_others[served]):
            assert np.ptp(res.transfers[i, served & (k_others == key)]) < ALGEBRA * scale


def test_flow_utility_negative_in_some_but_not_all_random_models():
    negative = [dynamic_pivot(random_model(seed, 2, 2, 3, 0.9)).flow_marginal_contribution.min() < -ALGEBRA
                for seed in range(30)]
    assert any(negative) and not all(negative)


# ---------------------------------------------------------------- gaps found by mutation testing (make mutation)
def test_scheduling_pivot_with_no_positive_value():
    s = scheduling_pivot([0.0, -1.0, 0.0], 0.9)
    assert s.order.tolist() == [] and s.period.tolist() == [-1, -1, -1]
    assert s.price.tolist() == [0.0, 0.0, 0.0] and s.marginal_contribution.tolist() == [0.0, 0.0, 0.0]
    assert s.welfare == 0.0
    assert scheduling_pivot_prices([0.0, -2.0], 0.5).tolist() == [0.0, 0.0]
