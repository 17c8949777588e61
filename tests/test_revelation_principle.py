"""Tests behind the chapter on the dynamic revelation principle (book/revelation_principle.md).

The chapter states its results and checks them on its own instances; the sweeps over random
instances live here. Order: the seat mechanism as a closed-form family (payoff independence
fails), then hypothesis properties: the audit against an independent brute-force search of
two-period plans, one-shot deviations sufficing in two stages (the lecture slides' Lemma 12.3)
and for Markov types with full support (thm-rp-one-shot), and the comparison of mechanism
kinds with independent types (Ashlagi, Daskalakis and Haghpanah, Proposition 1).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import audit, make_mechanism, optimal_mechanism
from mdlib.finite import IR_KINDS
from helpers import instances

TOL = 1e-9


# --------------------------------------------------------------------------- the seat mechanism
def seat_mechanism(c: float):
    """Tourist (tau = 0) or business (tau = 1), plans loose (v = 0) or firm (v = 1), all fair coins;
    a seat worth v + 2 tau. Tourist menu: seat at 1 after the report v = 1; business menu: seat at c."""
    values = [np.zeros(2), np.array([[0.0, 1.0], [2.0, 3.0]])]
    alloc = [np.zeros(2), np.array([[0.0, 1.0], [1.0, 1.0]])]
    pay = np.array([[0.0, 1.0], [c, c]])
    return make_mechanism(values, np.full((2, 2), 0.25), alloc, pay, ir="interim")


@given(st.floats(0.55, 2.0))
def test_seat_mechanism_gains_in_closed_form(c):
    # business traveller: truth 2.5 - c, lie once 1, lie twice 1.5 (the chapter's derivation);
    # the tourist never gains (the business seat costs more than his expected value 1/2)
    a = audit(seat_mechanism(c))
    assert a.gain == pytest.approx(max(0.0, c - 1.0), abs=TOL)
    assert a.one_shot_gain == pytest.approx(max(0.0, c - 1.5), abs=TOL)


def test_seat_mechanism_with_a_payoff_independent_value_obeys_the_lemma():
    # the same menus, with a seat worth v + 2 to everybody: a profitable plan shows up as a single lie
    values = [np.zeros(2), np.array([2.0, 3.0])]
    for c in (1.25, 1.75, 2.5):
        a = audit(make_mechanism(values, np.full((2, 2), 0.25), [np.zeros(2), np.array([[0.0, 1.0], [1.0, 1.0]])],
                                 np.array([[0.0, 1.0], [c, c]])))
        assert (a.gain > TOL) == (a.one_shot_gain > TOL)


# --------------------------------------------------------------------------- the audit against brute force
def two_period_brute_force(v1, v2, probs, x1, x2, pay):
    """Largest gain of any plan, and of any one-shot deviation, by enumerating every plan.

    Independent of mdlib.audit and of the chapter's inline backward induction: at each first type
    of positive probability we try every first report and every map from the possible second
    types to second reports; at each type pair of positive probability, every second report."""
    m1, m2 = probs.shape
    u = lambda t1, t2, r1, r2: v1[t1] * x1[r1] + v2[t2] * x2[r1, r2] - pay[r1, r2]
    best, one_shot = 0.0, 0.0
    for t1 in range(m1):
        if probs[t1].sum() <= 0:
            continue
        cond = probs[t1] / probs[t1].sum()
        support = [t2 for t2 in range(m2) if cond[t2] > 0]
        truth = sum(cond[t2] * u(t1, t2, t1, t2) for t2 in support)
        for t2 in support:  # second stage, after a truthful first report
            for r2 in range(m2):
                gain = u(t1, t2, t1, r2) - u(t1, t2, t1, t2)
                best, one_shot = max(best, gain), max(one_shot, gain)
        for r1 in range(m1):
            lie_then_truth = sum(cond[t2] * u(t1, t2, r1, t2) for t2 in support)
            one_shot = max(one_shot, lie_then_truth - truth)
            for plan in itertools.product(range(m2), repeat=len(support)):
                value = sum(cond[t2] * u(t1, t2, r1, r2) for t2, r2 in zip(support, plan))
                best = max(best, value - truth)
    return best, one_shot


@st.composite
def two_period_mechanisms(draw):
    m1, m2 = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    w = np.array(draw(st.lists(st.integers(0, 4), min_size=m1 * m2, max_size=m1 * m2)), float).reshape(m1, m2)
    w[:, 0] += 0.5  # every first type possible; some type pairs impossible
    probs = w / w.sum()
    grid = lambda shape, top: np.array(draw(st.lists(st.integers(0, top), min_size=int(np.prod(shape)),
                                                     max_size=int(np.prod(shape)))), float).reshape(shape) / top
    v1, v2 = 2 * grid((m1,), 4), 2 * grid((m2,), 4)
    x1, x2, pay = grid((m1,), 2), grid((m1, m2), 2), 2 * grid((m1, m2), 4)
    return v1, v2, probs, x1, x2, pay


@given(two_period_mechanisms())
def test_two_period_audit_matches_brute_force(case):
    v1, v2, probs, x1, x2, pay = case
    a = audit(make_mechanism([v1, v2], probs, [x1, x2], pay))
    best, one_shot = two_period_brute_force(*case)
    assert a.gain == pytest.approx(best, abs=TOL)
    assert a.one_shot_gain == pytest.approx(one_shot, abs=TOL)


# --------------------------------------------------------------------------- when one-shot deviations suffice
@st.composite
def markov_full_support(draw, max_periods=3, max_types=3):
    """A type process with full support that is Markov: any joint law for two periods, a chain for three."""
    T = draw(st.integers(2, max_periods))
    m = [draw(st.integers(2, max_types)) for _ in range(T)]
    weights = lambda k: np.array(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), float)
    first = weights(m[0])
    probs = first / first.sum()
    for t in range(1, T):
        kernel = np.stack([weights(m[t]) for _ in range(m[t - 1])])
        kernel /= kernel.sum(axis=1, keepdims=True)  # P(theta_{t+1} | theta_t), rows theta_t
        probs = probs[..., None] * kernel.reshape((1,) * (t - 1) + kernel.shape)
    values = [np.array(draw(st.lists(st.integers(0, 6), min_size=k, max_size=k)), float) / 2 for k in m]
    return values, probs


@given(markov_full_support(), st.sampled_from(IR_KINDS), st.integers(0, 2**32 - 1), st.sampled_from([0.02, 0.1, 0.5]))
def test_one_shot_deviations_suffice_for_markov_types_with_full_support(model, ir, seed, scale):
    # perturbed optimal mechanisms: whenever some plan gains, a single lie gains too (and conversely)
    values, probs = model
    base = optimal_mechanism(values, probs, ir=ir)
    rng = np.random.default_rng(seed)
    noisy = base.payment + scale * rng.standard_normal(base.payment.shape)
    a = audit(make_mechanism(values, probs, list(base.allocation), noisy))
    assert (a.gain > TOL) == (a.one_shot_gain > TOL), a
    assert a.one_shot_gain <= a.gain + TOL


def test_one_shot_check_can_fail_without_markov_types():
    # the chapter's three-period mechanism: signals that still predict the value, a double lie gains 0.15
    p_high = np.array([[0.1, 0.4], [0.6, 0.9]])
    probs = 0.25 * np.stack([1 - p_high, p_high], axis=-1)
    strike, fee = np.array([[2.0, 1.0], [1.0, 1.0]]), np.array([[0.0, 0.25], [0.4, 0.4]])
    x3 = (np.array([1.0, 2.0])[None, None, :] >= strike[..., None]).astype(float)
    mech = make_mechanism([np.zeros(2), np.zeros(2), np.array([1.0, 2.0])], probs,
                          [np.zeros(2), np.zeros((2, 2)), x3], fee[..., None] + strike[..., None] * x3)
    a = audit(mech)
    assert a.one_shot_gain == pytest.approx(0.0, abs=TOL)
    assert a.gain == pytest.approx(0.5 * (0.6 + 0.9) - 0.25 - (0.5 * (0.6 + 0.9) - 0.4), abs=TOL)


# --------------------------------------------------------------------------- mechanism kinds, independent types
@given(instances(independent=True), st.sampled_from(IR_KINDS))
def test_per_period_at_least_static_and_equal_to_general_with_independent_types(inst, ir):
    # Proposition 1 of Ashlagi, Daskalakis and Haghpanah: with independent types any mechanism has a
    # per-period ("separable") equivalent, so separable >= static and general = separable
    values, probs = inst
    rev = {k: optimal_mechanism(values, probs, ir=ir, kind=k).revenue for k in ("separable", "general", "static")}
    assert rev["separable"] >= rev["static"] - TOL
    assert rev["general"] == pytest.approx(rev["separable"], abs=1e-7)
