"""Tests of the weighted (virtual) pivot in mdlib.pivot and of the two-period ad auction.

Order: closed forms (weights one = the efficient pivot, the weighted Vickrey auction at
discount 0), then hypothesis properties on random models (periodic ex-post IC by the
best-response audit under true utilities, IR, flow identities, scale invariance), then
the ad auction (fast path against the general pivot, breakpoints, audit), then input
validation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdlib import (
    random_model,
    DynamicModel,
    PivotWeights,
    ad_auction,
    ad_auction_breakpoints,
    ad_auction_model,
    ad_auction_relaxed,
    audit_pivot,
    dynamic_pivot,
)

from helpers import dynamic_models

ALGEBRA = 1e-9




def random_weights(seed: int, model: DynamicModel) -> PivotWeights:
    """Positive alpha; beta >= 0 depending on the decision only (so truth-telling stays optimal)."""
    rng = np.random.default_rng(seed + 1)
    alpha = rng.uniform(0.2, 3.0, model.n_agents)
    beta = tuple(rng.uniform(0.0, 0.5, (model.n_decisions, 1)) for _ in range(model.n_agents))
    return PivotWeights(alpha, beta)


models = dynamic_models(max_discount=0.95)


# --------------------------------------------------------------------------- closed forms
def test_unit_weights_reproduce_the_efficient_pivot():
    for seed in range(4):
        model = random_model(seed, 3, 2, 3, 0.9)
        plain = dynamic_pivot(model)
        ones = dynamic_pivot(model, weights=np.ones(3))
        pair = dynamic_pivot(model, weights=(np.ones(3), [np.zeros((3, 2))] * 3))
        for res in (ones, pair):
            assert np.array_equal(res.policy, plain.policy)
            for name in ("welfare", "welfare_without", "marginal_contribution", "transfers", "outside_option"):
                assert np.allclose(getattr(res, name), getattr(plain, name), atol=ALGEBRA), name
        assert plain.weights is None and np.array_equal(plain.utility, plain.marginal_contribution)


def test_weighted_vickrey_at_discount_zero():
    # one object, three bidders with known values; decision 1 + i serves bidder i
    v, alpha = np.array([4.0, 3.0, 2.5]), np.array([0.5, 1.0, 1.0])
    values = []
    for i in range(3):
        val = np.zeros((4, 1))
        val[i + 1] = v[i]
        values.append(val)
    model = DynamicModel(values, [np.ones((4, 1, 1))] * 3, 0.0)
    res = dynamic_pivot(model, weights=alpha)
    b = alpha * v                                     # weighted bids 2, 3, 2.5: bidder 1 wins
    assert res.policy[0] == 2
    assert res.transfers[:, 0] == pytest.approx([0.0, 2.5 / 1.0, 0.0], abs=ALGEBRA)
    assert res.utility[1, 0] == pytest.approx(v[1] - np.sort(b)[-2] / alpha[1], abs=ALGEBRA)


def test_state_dependent_beta_can_break_truth_telling():
    # beta that rewards *claiming* the high state makes lying profitable; the audit sees it
    values = [np.array([[0.0, 0.0], [0.2, 1.0]])]
    model = DynamicModel(values, [np.tile(np.eye(2), (2, 1, 1))], 0.5)
    ok = dynamic_pivot(model, weights=([1.0], [np.array([[0.0], [0.3]])]))
    assert audit_pivot(model, ok).truthful
    res = dynamic_pivot(model, weights=([1.0], [np.array([[0.0, 0.0], [0.0, 0.3]])]))
    assert not audit_pivot(model, res).truthful


# --------------------------------------------------------------------------- properties
@given(models)
def test_weighted_pivot_is_periodic_ex_post_ic_and_ir(model):
    w = random_weights(int(model.values[0].sum() * 1e6) % 1000, model)
    res = dynamic_pivot(model, weights=w)
    check = audit_pivot(model, res)                   # best responses under TRUE utilities
    scale = (1 + np.abs(res.welfare).max()) / w.alpha.min()
    assert check.truthful and check.max_gain <= ALGEBRA * scale
    assert check.max_value_error <= ALGEBRA * scale   # truthful value (W - W_-i)/alpha_i
    assert res.utility.min() >= -ALGEBRA * scale      # periodic ex-post IR


@given(models)
def test_unit_weights_property(model):
    plain, ones = dynamic_pivot(model), dynamic_pivot(model, weights=np.ones(model.n_agents))
    assert np.array_equal(plain.policy, ones.policy)
    assert np.allclose(plain.transfers, ones.transfers, atol=ALGEBRA * (1 + np.abs(plain.welfare).max()))
    assert np.allclose(plain.utility, ones.utility, atol=ALGEBRA * (1 + np.abs(plain.welfare).max()))


@given(models)
def test_flow_identities(model):
    w = random_weights(7, model)
    res = dynamic_pivot(model, weights=w)
    d, S = model.discount, model.n_joint
    scale = (1 + np.abs(res.welfare).max()) / w.alpha.min()
    m_over_alpha = res.flow_marginal_contribution / w.alpha[:, None]
    assert np.allclose(res.transfers, res.flow_value - m_over_alpha, atol=ALGEBRA * scale)   # p = u - m/alpha
    P = model.joint_transition()[np.arange(S), res.policy]
    for i in range(model.n_agents):
        M = res.marginal_contribution[i]
        assert np.allclose(M, res.flow_marginal_contribution[i] + d * P @ M, atol=ALGEBRA * scale)


@given(models, st.floats(0.1, 10.0))
def test_scaling_all_weights_changes_nothing_for_the_agents(model, c):
    w = random_weights(3, model)
    res = dynamic_pivot(model, weights=w)
    big = dynamic_pivot(model, weights=(c * w.alpha, [c * b for b in w.beta]))
    scale = (1 + np.abs(res.welfare).max()) / w.alpha.min()
    assert np.array_equal(res.policy, big.policy) or np.allclose(res.welfare * c, big.welfare, atol=ALGEBRA * scale * c)
    assert np.allclose(big.marginal_contribution, c * res.marginal_contribution, atol=ALGEBRA * scale * c)
    assert np.allclose(big.utility, res.utility, atol=ALGEBRA * scale)


# --------------------------------------------------------------------------- the ad auction
def test_ad_auction_fast_path_matches_the_weighted_pivot():
    d = 0.9
    for s in ([0.6, 0.6], [0.8, 0.6], [1.0, 0.9], [0.73, 0.91], [0.55, 0.97]):
        s = np.array(s)
        alpha = 2 - 1 / s                                  # uniform s0, A(s) = s
        model = ad_auction_model(s, d)
        res = dynamic_pivot(model, weights=alpha)
        fast = ad_auction(alpha * s, d)
        for k in ((0, 0), (0, 1), (1, 0), (1, 1)):
            j = model.state_index(k)
            assert res.policy[j] == fast.decision[k]
            assert d * res.welfare[j] == pytest.approx(fast.welfare[k], abs=ALGEBRA)
        assert np.allclose(fast.welfare, (fast.conversions * (alpha * s)).sum(-1), atol=ALGEBRA)


def test_ad_auction_is_ic_with_frozen_weights_from_any_report():
    d = 0.9
    for x, x_rep, s_j in ((0.7, 0.9, 0.75), (0.9, 0.6, 0.6), (0.8, 0.8, 0.9)):
        model = ad_auction_model([x, s_j], d)
        res = dynamic_pivot(model, weights=[2 - 1 / x_rep, 2 - 1 / s_j])
        check = audit_pivot(model, res)
        assert check.truthful and check.max_value_error < ALGEBRA
        assert res.utility.min() >= -ALGEBRA


def test_ad_auction_breakpoints_bracket_every_change():
    r = ad_auction_breakpoints(0.9)
    assert np.all(np.diff(r) > 0) and r[0] > 0
    grid = np.geomspace(r[0] / 4, 4 * r[-1], 4001)
    dec = ad_auction(np.stack([grid, np.ones_like(grid)], -1), 0.9).decision.reshape(grid.size, -1)
    changes = np.flatnonzero((dec[1:] != dec[:-1]).any(axis=1))
    for c in changes:                                   # a breakpoint lies between the two grid points
        assert ((r >= grid[c] - 1e-12) & (r <= grid[c + 1] + 1e-12)).any()
    assert changes.size > 0


def test_ad_auction_model_transitions_and_start():
    model = ad_auction_model([0.5, 0.7, 0.9], 0.8)
    assert model.n_decisions == 4 and model.n_states == (8, 8, 8)
    assert model.state_index([1, 0, 1]) == 1 * 64 + 0 * 8 + 1
    assert np.allclose(model.transitions[0][1, 0], [0, 0, 0, 0, 2 / 3, 1 / 3, 0, 0])
    assert np.allclose(model.transitions[0][2, 1], [0, 0, 0, 1, 0, 0, 0, 0])
    assert model.values[2][3, 6] == pytest.approx(0.9 * 0.75)


def test_ad_auction_relaxed_matches_quadrature_and_closed_forms():
    d = 0.9
    n = 60_000                                    # vectorised midpoint sum: error <= jumps x max jump x step
    for s in ([0.83, 0.71], [0.64, 0.97], [0.99, 0.52]):
        out = ad_auction_relaxed(s, d)
        for i in (0, 1):
            z = 0.5 + (np.arange(n) + 0.5) * (s[i] - 0.5) / n
            prof = np.tile(np.array(s, dtype=float), (n, 1))
            prof[:, i] = z
            vol = ad_auction(np.clip(2 * prof - 1, 0, None), d).conversions.mean(axis=(-3, -2))[:, i]
            assert out.rent[i] == pytest.approx(vol.mean() * (s[i] - 0.5), abs=5e-5)
            top = ad_auction(np.clip(2 * np.array(s) - 1, 0, None), d).conversions.mean(axis=(0, 1))[i]
            assert out.value[i] == pytest.approx(s[i] * top, abs=ALGEBRA)
    alone = d * (1 + d) / 2
    assert np.allclose(ad_auction_relaxed([[0.7, 0.5], [0.5, 0.5]], d).payment, [[alone / 2, 0], [0, 0]], atol=ALGEBRA)


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_ad_auction_relaxed_properties(x, y):
    out = ad_auction_relaxed([x, y], 0.9)
    assert (out.payment >= out.conversions / 2 - ALGEBRA).all()        # p* >= vol/2 >= 0: nonnegative fees above 1/2
    assert (out.rent >= -ALGEBRA).all() and (out.rent <= out.value + ALGEBRA).all()
    up = ad_auction_relaxed([min(x + 0.05, 1.0), y], 0.9)
    assert up.conversions[0] >= out.conversions[0] - ALGEBRA         # monotone in own report


def test_ad_auction_profit_two_routes_on_a_grid():
    N = 60
    g = (np.arange(N) + 0.5) / N
    S = np.stack(np.meshgrid(g, g, indexing="ij"), -1)
    pay = ad_auction_relaxed(S, 0.9).payment.sum(-1).mean()
    surplus = ad_auction(np.clip(2 * S - 1, 0, None), 0.9).welfare.mean()
    assert pay == pytest.approx(surplus, abs=2e-4)                     # Lemma 3.3 up to the grid's error
    assert pay == pytest.approx(0.3628679, abs=2e-4)


# --------------------------------------------------------------------------- validation
def test_weights_validation():
    model = random_model(0, 2, 2, 3, 0.5)
    with pytest.raises(ValueError, match="weights: alpha must have shape"):
        dynamic_pivot(model, weights=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="weights: alpha must be positive.*excluded"):
        dynamic_pivot(model, weights=[1.0, 0.0])
    with pytest.raises(ValueError, match="weights: alpha must be positive"):
        dynamic_pivot(model, weights=[-0.5, 1.0])
    with pytest.raises(ValueError, match="weights: alpha must be finite"):
        dynamic_pivot(model, weights=[np.nan, 1.0])
    with pytest.raises(ValueError, match="weights"):
        dynamic_pivot(model, weights="ab")
    with pytest.raises(ValueError, match=r"weights: beta\[1\] must be real and broadcastable"):
        dynamic_pivot(model, weights=([1.0, 1.0], [None, np.zeros((2, 2))]))
    with pytest.raises(ValueError, match=r"weights: beta\[0\] must be finite"):
        dynamic_pivot(model, weights=([1.0, 1.0], [np.full((3, 1), np.inf), None]))
    with pytest.raises(ValueError, match="weights: beta must list"):
        dynamic_pivot(model, weights=([1.0, 1.0], [None]))


def test_ad_auction_validation():
    with pytest.raises(ValueError, match="margins"):
        ad_auction_model([], 0.9)
    with pytest.raises(ValueError, match="discount"):
        ad_auction_model([0.5, 0.5], 0.0)
    with pytest.raises(ValueError, match="scales"):
        ad_auction([0.5, 0.5, 0.5], 0.9)
    with pytest.raises(ValueError, match="scales"):
        ad_auction([np.nan, 0.5], 0.9)
    with pytest.raises(ValueError, match="discount"):
        ad_auction_breakpoints(1.0)
    with pytest.raises(ValueError, match="margins"):
        ad_auction_relaxed([0.5, 1.5], 0.9)
    with pytest.raises(ValueError, match="margins"):
        ad_auction_relaxed([0.5], 0.9)
