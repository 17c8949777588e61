"""Tests of mdlib.balanced_budget: Athey and Segal's team and dynamic AGV mechanisms.

Order: closed forms (scheduling, the two-agent toy model), then hypothesis properties
on random models (budget balance state by state, Bayesian incentive compatibility by
a best-response audit, the team mechanism's periodic ex post IC and deficit, the
utility identity), then the audit catching broken transfers, then input validation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import (
    DynamicModel,
    agv_mechanism,
    audit_mechanism,
    audit_pivot,
    dynamic_pivot,
    evaluate_policy,
    scheduling_model,
    team_mechanism,
)

from mdlib import random_model

from helpers import dynamic_models, report_mdp_by_value_iteration, toy_model

ALGEBRA = 1e-9



def incentive_terms_by_enumeration(model, policy):
    """eta_i(k_prev, k) by explicit sums over joint states: an independent implementation."""
    I, S, d = model.n_agents, model.n_joint, model.discount
    P = model.joint_transition()
    states = model.states
    u = np.array([[model.values[i][policy[k], states[k, i]] for k in range(S)] for i in range(I)])
    P_star = P[np.arange(S), policy]
    eta = np.zeros((I, S, S))
    for i in range(I):
        V = evaluate_policy((u.sum(0) - u[i])[:, None], P_star[:, None, :], d, np.zeros(S, dtype=int))
        for kp in range(S):
            baseline = sum(P_star[kp, k] * V[k] for k in range(S))
            for k in range(S):
                total = 0.0
                for l in range(S):                     # profiles with i's entry = k's, others drawn
                    if states[l, i] != states[k, i]:
                        continue
                    prob = np.prod([model.transitions[j][policy[kp], states[kp, j], states[l, j]]
                                    for j in range(I) if j != i])
                    total += prob * V[l]
                eta[i, kp, k] = total - baseline
    return eta


# --------------------------------------------------------------------------- closed forms
def test_team_mechanism_scheduling():
    model = scheduling_model([10.0, 6.0, 3.0], 0.9)
    res = dynamic_pivot(model)
    team = team_mechanism(model, res)
    # start: agent 0 is served, so agent 0 is paid 0 and the others are paid 10
    assert np.allclose(team.transfers[:, 0, 0], [0.0, -10.0, -10.0], atol=ALGEBRA)
    assert np.allclose(team.utility[:, 0, 0], 17.83, atol=ALGEBRA)
    # deficit (n - 1) W
    deficit = -team.budget[0, 0] + 0.9 * -team.budget[0, model.state_index([1, 0, 0])] \
        + 0.81 * -team.budget[0, model.state_index([1, 1, 0])]
    assert deficit == pytest.approx(2 * 17.83, abs=ALGEBRA)


def test_agv_two_agents_pay_each_others_incentive_term():
    model = toy_model()
    agv = agv_mechanism(model)
    eta = agv.incentive_term
    assert np.allclose(agv.transfers[0], eta[1] - eta[0], atol=ALGEBRA)
    assert np.allclose(agv.transfers[1], eta[0] - eta[1], atol=ALGEBRA)
    assert np.allclose(eta, incentive_terms_by_enumeration(model, agv.policy), atol=ALGEBRA)


def test_agv_toy_model_properties():
    model = toy_model()
    res = dynamic_pivot(model)
    agv = agv_mechanism(model, res)
    assert agv.policy.tolist() == [1, 2, 1, 1]
    assert np.abs(agv.budget).max() <= ALGEBRA
    assert audit_mechanism(model, agv.policy, agv.transfers, "interim").truthful
    ex_post = audit_mechanism(model, agv.policy, agv.transfers, "ex_post")
    assert not ex_post.truthful and ex_post.max_gain > 0.1      # only Bayesian IC
    # the pivot and the team mechanism pass both audits
    for p in (res.transfers, team_mechanism(model, res).transfers):
        for info in ("ex_post", "interim"):
            assert audit_mechanism(model, res.policy, p, info).max_gain <= ALGEBRA


def test_agv_participation_fails_for_some_discount_factors():
    """Toy model: participation holds in every reachable state at 0.9 but fails at 0.7 and at 0."""
    def worst(d):
        model = toy_model(d)
        agv = agv_mechanism(model)
        P = model.joint_transition()[np.arange(model.n_joint), agv.policy]
        gap = agv.utility - agv.outside_option[:, None, :]
        return np.where(P[None] > 0, gap, np.inf).min()
    assert worst(0.9) > 1.0
    assert worst(0.7) < -0.2
    assert worst(0.0) < -0.05


def test_discount_zero_is_the_static_agv():
    """At discount 0, eta_i is the expected externality of i's report on the others' current values."""
    model = random_model(3, 3, 2, 3, 0.0)
    agv = agv_mechanism(model)
    u = np.stack([model.values[i][agv.policy, model.states[:, i]] for i in range(3)])
    assert np.allclose(agv.others_value, u.sum(0) - u, atol=ALGEBRA)
    assert np.allclose(agv.utility, agv.own_value[:, None, :] - agv.transfers, atol=ALGEBRA)


# --------------------------------------------------------------------------- properties
models = dynamic_models(max_discount=0.95, min_agents=2)
small_models = dynamic_models(max_discount=0.95, min_agents=2, max_states=2, max_decisions=3)


@given(models)
def test_agv_budget_balanced_in_every_state_and_efficient(model):
    res = dynamic_pivot(model)
    agv = agv_mechanism(model, res)
    scale = 1 + np.abs(res.welfare).max()
    assert np.abs(agv.budget).max() <= ALGEBRA * scale
    assert np.array_equal(agv.policy, res.policy)
    # incentive terms have mean zero given last period's reports
    P = model.joint_transition()[np.arange(model.n_joint), agv.policy]
    assert np.abs((P[None] * agv.incentive_term).sum(axis=2)).max() <= ALGEBRA * scale


@given(models)
def test_agv_is_bayesian_incentive_compatible_after_every_history(model):
    agv = agv_mechanism(model)
    check = audit_mechanism(model, agv.policy, agv.transfers, "interim")
    assert check.max_gain <= ALGEBRA * (1 + np.abs(agv.utility).max())


@given(small_models)
def test_team_mechanism_periodic_ex_post_and_deficit(model):
    res = dynamic_pivot(model)
    team = team_mechanism(model, res)
    scale = 1 + np.abs(res.welfare).max()
    assert audit_mechanism(model, team.policy, team.transfers, "ex_post").max_gain <= ALGEBRA * scale
    assert np.allclose(team.utility, res.welfare[None, None, :], atol=ALGEBRA * scale)
    S = model.n_joint
    R = np.zeros((S, model.n_decisions))
    R[np.arange(S), res.policy] = -team.budget[0]
    deficit = evaluate_policy(R, model.joint_transition(), model.discount, res.policy)
    assert np.allclose(deficit, (model.n_agents - 1) * res.welfare, atol=ALGEBRA * scale)
    # what each agent is paid is the others' value: V_{-i} = sum of V_j over j != i, and V_i + V_{-i} = welfare
    assert np.allclose(team.others_value, team.own_value.sum(axis=0)[None, :] - team.own_value, atol=ALGEBRA * scale)
    assert np.allclose(team.own_value.sum(axis=0), res.welfare, atol=ALGEBRA * scale)
    assert np.array_equal(team.outside_option, res.outside_option)


@given(models)
def test_agv_utility_is_own_value_minus_current_payment(model):
    agv = agv_mechanism(model)
    scale = 1 + np.abs(agv.own_value).max()
    assert np.allclose(agv.utility, agv.own_value[:, None, :] - agv.transfers, atol=ALGEBRA * scale)


@given(small_models, st.integers(0, 2**32 - 1))
def test_ex_post_audit_of_current_only_transfers_matches_audit_pivot(model, seed):
    """Transfers of the current reports only (zero, then random: profitable lies): the ex-post audit agrees
    with audit_pivot and with the report MDP solved by value iteration, in every previous state."""
    import dataclasses

    res = dynamic_pivot(model)
    noise = np.random.default_rng(seed).normal(size=res.transfers.shape)
    for transfers in (np.zeros_like(res.transfers), noise):
        a = audit_mechanism(model, res.policy, transfers, "ex_post")
        b = audit_pivot(model, dataclasses.replace(res, transfers=transfers))
        scale = 1 + (np.abs(res.welfare).max() + np.abs(transfers).max()) / (1 - model.discount)
        for i in range(model.n_agents):
            V, gain = report_mdp_by_value_iteration(model, res.policy, transfers, i)     # reports as actions
            assert np.allclose(a.gain[i], gain[None, :], atol=ALGEBRA * scale)
            assert np.allclose(a.value[i], V[None, :], atol=ALGEBRA * scale)
            assert np.allclose(b.gain[i], gain, atol=ALGEBRA * scale)


# --------------------------------------------------------------------------- broken transfers
def test_audit_catches_uncentred_incentive_terms():
    """Forgetting to subtract the baseline makes the redistribution depend on one's own report."""
    model = toy_model()
    agv = agv_mechanism(model)
    S = model.n_joint
    P = model.joint_transition()[np.arange(S), agv.policy]
    baseline = np.stack([P @ agv.others_value[i] for i in range(2)])
    raw = agv.incentive_term + baseline[:, :, None]
    broken = -raw + raw[::-1]
    assert np.abs(broken.sum(axis=0)).max() <= ALGEBRA                       # still balanced
    check = audit_mechanism(model, agv.policy, broken, "interim")
    assert not check.truthful and check.max_gain > 1.0


def test_audit_catches_halved_incentive_terms():
    model = toy_model()
    agv = agv_mechanism(model)
    half = 0.5 * (agv.transfers)
    assert not audit_mechanism(model, agv.policy, half, "interim").truthful


def test_audit_catches_a_bonus_for_one_report():
    model = random_model(5, 2, 2, 3, 0.8)
    agv = agv_mechanism(model)
    bonus = agv.transfers.copy()
    bonus[0][:, model.states[:, 0] == 1] -= 0.05          # agent 0 is paid 0.05 for reporting state 1
    check = audit_mechanism(model, agv.policy, bonus, "interim")
    assert not check.truthful and check.max_gain >= 0.05 - ALGEBRA


# --------------------------------------------------------------------------- validation
def test_validation():
    model = toy_model()
    res = dynamic_pivot(model)
    with pytest.raises(ValueError, match="model must be a DynamicModel"):
        agv_mechanism("model")
    with pytest.raises(ValueError, match="model must be a DynamicModel"):
        team_mechanism(None)
    with pytest.raises(ValueError, match="at least two agents"):
        agv_mechanism(random_model(0, 1, 2, 2, 0.5))
    with pytest.raises(ValueError, match="result must be"):
        agv_mechanism(model, dynamic_pivot(random_model(1, 2, 3, 3, 0.5)))
    with pytest.raises(ValueError, match="unweighted"):
        team_mechanism(model, dynamic_pivot(model, weights=[1.0, 2.0]))
    with pytest.raises(ValueError, match="policy"):
        audit_mechanism(model, res.policy[:2], res.transfers)
    with pytest.raises(ValueError, match="policy"):
        audit_mechanism(model, res.policy + 5, res.transfers)
    with pytest.raises(ValueError, match="transfers must have shape"):
        audit_mechanism(model, res.policy, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="transfers must be finite"):
        audit_mechanism(model, res.policy, np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="information"):
        audit_mechanism(model, res.policy, res.transfers, information="ex_ante")
    with pytest.raises(ValueError, match="tol"):
        audit_mechanism(model, res.policy, res.transfers, tol=-1.0)
