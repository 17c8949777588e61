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


# --------------------------------------------------------------------------- moved from the chapter (book/virtual_pivot.md)
# Sweeps and convergence checks that guard the chapter's statements; the page keeps one instance of each.
import itertools  # noqa: E402

from scipy import integrate  # noqa: E402

from mdlib import (  # noqa: E402
    audit,
    beta_bernoulli_arm,
    evaluate_policy,
    gittins_index,
    optimal_mechanism,
    revenue_range,
)

AD_K = list(itertools.product((0, 1), repeat=2))


def money_utility(model, res):
    """Each agent's discounted money stream v_i - p_i along x*, by policy evaluation (independent of W)."""
    out = np.empty((model.n_agents, model.n_joint))
    rows = np.arange(model.n_joint)
    for i in range(model.n_agents):
        R = np.zeros((model.n_joint, model.n_decisions))
        R[rows, res.policy] = res.flow_value[i] - res.transfers[i]
        out[i] = evaluate_policy(R, model.joint_transition(), model.discount, res.policy)
    return out


@given(models, st.integers(0, 2**16))
def test_additive_weights_money_utility_and_incentives(model, seed):
    # alpha > 0 and a decision-dependent beta <= 0 small enough that weighted flows stay >= 0 (the additive case)
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0.2, 3.0, model.n_agents)
    beta = [-rng.uniform(0, 0.5, (model.n_decisions, 1)) * alpha[i] * model.values[i].min(axis=1, keepdims=True)
            for i in range(model.n_agents)]
    res = dynamic_pivot(model, weights=(alpha, beta))
    scale = (1 + np.abs(res.welfare).max()) / alpha.min()
    U = money_utility(model, res)
    assert np.allclose(U, (res.welfare - res.welfare_without) / alpha[:, None], atol=ALGEBRA * scale)
    check = audit_pivot(model, res)
    assert check.max_gain <= ALGEBRA * scale and U.min() >= -ALGEBRA * scale


@given(st.lists(st.floats(0, 1), min_size=1, max_size=5), st.lists(st.floats(0, 1), min_size=2, max_size=6),
       st.floats(0, 1), st.floats(0, 1))
def test_monotone_allocation_satisfies_interval_dominance(jumps, levels, x, xp):
    # static case of Lemma 3.6: for nondecreasing X, int_{x'}^{x} (X(y) - X(x')) dy >= 0 in both orders
    jumps, levels = np.sort(jumps), np.sort(levels)[: len(jumps) + 1]
    levels = np.concatenate([levels, np.full(len(jumps) + 1 - len(levels), levels[-1])])
    X = lambda y: levels[np.searchsorted(jumps, y, side="right")]
    lo, hi = sorted((x, xp))
    cuts = np.concatenate([[lo], jumps[(jumps > lo) & (jumps < hi)], [hi]])
    exact = np.sum(np.diff(cuts) * (X(cuts[:-1]) - X(xp)))         # X is constant on each cell
    assert (exact if x >= xp else -exact) >= -1e-12


@given(st.integers(0, 2**16), st.floats(0.3, 0.95))
def test_uncontrolled_signals_give_a_weighted_second_price_auction(seed, d):
    rng = np.random.default_rng(seed)
    n, m = 3, 3
    values, kernels = [], []
    for i in range(n):
        val = np.zeros((n + 1, m))                         # decision 0 keeps the object, 1 + i sells to i
        val[i + 1] = rng.uniform(0, 1, m)
        values.append(val)
        kernels.append(np.tile(rng.dirichlet(np.ones(m), size=m), (n + 1, 1, 1)))   # the decision moves nothing
    model = DynamicModel(values, kernels, d)
    alpha = rng.uniform(0.3, 2.0, n)
    res = dynamic_pivot(model, weights=alpha)
    for k, st_ in enumerate(model.states):
        bids = alpha * np.array([values[i][i + 1, st_[i]] for i in range(n)])
        win = int(res.policy[k]) - 1
        if np.sort(bids)[-1] - np.sort(bids)[-2] < 1e-9:
            continue                                        # ties: either winner is optimal
        assert win == int(np.argmax(bids))
        assert res.transfers[win, k] == pytest.approx(max(np.delete(bids, win).max(), 0.0) / alpha[win], abs=ALGEBRA)
        assert np.abs(np.delete(res.transfers[:, k], win)).max() < ALGEBRA
    assert audit_pivot(model, res).truthful


def test_virtual_index_auction_on_bernoulli_bandits():
    # Cor. 5.3: two Beta-Bernoulli arms, decision j serves bidder j, idle arms frozen; beta per period served
    arms, alpha, beta, d = [beta_bernoulli_arm(1, 1, 4)] * 2, np.array([0.6, 1.0]), np.array([-0.05, 0.0]), 0.9
    values, kernels = [], []
    for j, arm in enumerate(arms):
        val = np.zeros((2, arm.r.size))
        val[j] = arm.r
        K = np.tile(np.eye(arm.r.size), (2, 1, 1))
        K[j] = arm.P
        values.append(val)
        kernels.append(K)
    model = DynamicModel(values, kernels, d)
    res = dynamic_pivot(model, weights=(alpha, [np.array([[beta[0]], [0.0]]), np.array([[0.0], [beta[1]]])]))
    index = np.stack([gittins_index(arm.P, a * arm.r + b, d)[model.states[:, j]]
                      for j, (arm, a, b) in enumerate(zip(arms, alpha, beta))], axis=1)
    clear = np.abs(index[:, 0] - index[:, 1]) > 1e-9
    assert np.array_equal(res.policy[clear], index[clear].argmax(axis=1))          # highest virtual index wins
    rows, win = np.arange(model.n_joint), res.policy
    formula = ((1 - d) * res.welfare_without[win, rows] - beta[win]) / alpha[win]
    assert np.allclose(res.transfers[win, rows], formula, atol=ALGEBRA)             # ((1 - δ) W_-i - β̂)/α̂
    assert np.abs(res.transfers[1 - win, rows]).max() < ALGEBRA and audit_pivot(model, res).truthful


# ---- the two-advertiser auction
def _outcomes(k, shown):
    """(posterior mean at t = 2, probability) after free trial k."""
    up = (1 + k) / 3
    return [((1 + k) / 4, 1 - up), ((2 + k) / 4, up)] if shown else [(up, 1.0)]


def _backward(w, k, d=0.9):
    """Weighted value of each t = 1 decision (0: none, 1 + i: show i), written out by hand."""
    Q = []
    for dec in (0, 1, 2):
        q = w[dec - 1] * (1 + k[dec - 1]) / 3 if dec else 0.0
        for m1, p1 in _outcomes(k[0], dec == 1):
            for m2, p2 in _outcomes(k[1], dec == 2):
                q += d * p1 * p2 * max(0.0, w[0] * m1, w[1] * m2)
        Q.append(q)
    return np.array(Q)


@pytest.mark.parametrize("s", [[0.73, 0.91], [0.95, 0.7], [0.66, 0.62], [1.0, 0.9]])
def test_ad_auction_by_hand_and_t1_payments(s):
    s, d = np.array(s), 0.9
    alpha = 2 - 1 / s
    model = ad_auction_model(s, d)
    res = dynamic_pivot(model, weights=alpha)
    P = model.joint_transition()
    for k in AD_K:
        Q, j = _backward(alpha * s, k, d), model.state_index(k)
        assert res.policy[j] == Q.argmax() and res.welfare[j] == pytest.approx(Q.max(), abs=ALGEBRA)
        win, lose = int(res.policy[j]) - 1, 2 - int(res.policy[j])
        # the winner pays (W_-i - δ E W_-i')/α̂_i = ω_j μ_j1/α̂_i, his rival's weighted value today; the loser pays 0
        EWm = P[j, res.policy[j]] @ res.welfare_without[win]
        assert res.transfers[win, j] == pytest.approx((res.welfare_without[win, j] - d * EWm) / alpha[win], abs=ALGEBRA)
        assert res.transfers[win, j] == pytest.approx(alpha[lose] * s[lose] * (1 + k[lose]) / 3 / alpha[win], abs=ALGEBRA)
        assert abs(res.transfers[lose, j]) < ALGEBRA


def _decision_values(x, a_hat, w_j, k_i, k_j, d=0.9):
    """Agent 1's true utility (period-1 units) from each t = 1 decision, truthful at t = 2."""
    mu_i, mu_j = (1 + k_i) / 3, (1 + k_j) / 3
    out = []
    for dec in (0, 1, 2):
        pay = w_j * mu_j / a_hat if dec != 2 else 0.0
        later = sum(p1 * p2 * max(a_hat * x * m1 - w_j * m2, 0.0) / a_hat
                    for m1, p1 in _outcomes(k_i, dec == 1) for m2, p2 in _outcomes(k_j, dec == 2))
        out.append(x * mu_i * (dec == 1) - pay + d * later)
    return np.array(out)


def test_ad_auction_t1_rereporting_search():
    # frozen weight α(x'), true margin x; any re-reported margin (201 points) and free trial at t = 1, truth at t = 2
    d, shat = 0.9, np.linspace(0, 1, 201)
    grid = (0.55, 0.6, 0.7, 0.8, 0.9, 1.0)
    gain, min_u = -np.inf, np.inf
    for x_rep in grid:
        a_hat = 2 - 1 / x_rep
        for s_j in (0.6, 0.75, 0.9):
            w_j = (2 * s_j - 1) * (ad_auction_relaxed([x_rep, s_j], d).payment[1] > ALGEBRA)
            reach = ad_auction(np.stack([a_hat * shat, np.full_like(shat, w_j)], -1), d).decision
            for x in grid:
                truth_dec = ad_auction([a_hat * x, w_j], d).decision
                for k_i, k_j in AD_K:
                    vals = _decision_values(x, a_hat, w_j, k_i, k_j, d)
                    gain = max(gain, vals[reach[:, :, k_j]].max() - vals[truth_dec[k_i, k_j]])
                    min_u = min(min_u, vals[truth_dec[k_i, k_j]])
    assert gain <= ALGEBRA and min_u >= -ALGEBRA
    # one deviation replayed through the general pivot: true 0.8, t = 0 report 0.6, rival 0.75;
    # re-report margin 1.0 and k = 1 at t = 1 while k = (0, 0); truthful at t = 2
    a_w = 2 - 1 / np.array([0.6, 0.75])
    r_rep = dynamic_pivot(m_rep := ad_auction_model([1.0, 0.75], d), weights=a_w)
    r_true = dynamic_pivot(m_true := ad_auction_model([0.8, 0.75], d), weights=a_w)
    j1, j1_true = m_rep.state_index((1, 0)), m_true.state_index((0, 0))
    dec1 = int(r_rep.policy[j1])
    u_dev = 0.8 / 3 * (dec1 == 1) - r_rep.transfers[0, j1]
    u_dev += d * m_true.joint_transition()[j1_true, dec1] @ (r_true.flow_value[0] - r_true.transfers[0])
    assert u_dev == pytest.approx(_decision_values(0.8, a_w[0], a_w[1] * 0.75, 0, 0, d)[dec1], abs=ALGEBRA)


def _homogeneous_square_mean(f, degree, cuts):
    """Exact mean over [0, 1]^2 of f, homogeneous of the given degree and linear between the ratios in cuts."""
    total = 0.0
    for c, make in ((cuts, lambda m: np.stack([m, np.ones_like(m)], -1)),
                    (1 / cuts, lambda m: np.stack([np.ones_like(m), m], -1))):
        e = np.unique(np.concatenate([[0.0, 1.0], c[(c > 0) & (c < 1)]]))
        total += np.sum(np.diff(e) * f(make((e[:-1] + e[1:]) / 2)))
    return total / (degree + 2)


def test_homogeneity_reduction_of_the_square_integral():
    f = lambda a, b: a * b / (a + b) + a**2 / (a + 2 * b)             # homogeneous of degree 1, smooth
    lhs = integrate.dblquad(lambda y, x: f(x, y), 0, 1, 0, 1)[0]
    rhs = (integrate.quad(lambda r: f(r, 1.0), 0, 1)[0] + integrate.quad(lambda r: f(1.0, r), 0, 1)[0]) / 3
    assert lhs == pytest.approx(rhs, abs=1e-8)


def test_ad_auction_exact_profit_and_grid_convergence():
    d = 0.9
    cuts, alone = ad_auction_breakpoints(d), d * (1 + d) / 2
    welfare = lambda u: ad_auction(u, d).welfare.mean(axis=(-2, -1))
    conv = lambda u: ad_auction(u, d).conversions.mean(axis=(-3, -2))
    # both included (a quarter of the profiles, scales u = 2s - 1 uniform): the virtual surplus is homogeneous of
    # degree 1; a lone advertiser pays vol/2
    profit_vs = _homogeneous_square_mean(welfare, 1, cuts) / 4 + 2 * (1 / 4) * alone / 2
    relaxed = lambda u: ad_auction_relaxed((1 + u) / 2, d)
    part0 = lambda u: (relaxed(u).conversions / 2).sum(-1)             # degree 0 part of p_rel in u
    part1 = lambda u: (relaxed(u).payment - relaxed(u).conversions / 2).sum(-1)
    profit_pay = (_homogeneous_square_mean(part0, 0, cuts) + _homogeneous_square_mean(part1, 1, cuts)) / 4 + alone / 4
    assert profit_pay == pytest.approx(profit_vs, abs=ALGEBRA)        # Lemma 3.3, exactly
    welfare_vp = (_homogeneous_square_mean(lambda u: conv(u).sum(-1) / 2, 0, cuts)
                  + _homogeneous_square_mean(lambda u: (u * conv(u)).sum(-1) / 2, 1, cuts)) / 4 + 2 * (1 / 4) * (3 / 4) * alone
    welfare_eff = _homogeneous_square_mean(welfare, 1, cuts)
    exact = np.array([profit_vs, welfare_vp, welfare_eff, alone - welfare_eff])
    assert [round(v, 4) for v in exact] == [0.3629, 0.512, 0.5965, 0.2585]   # the chapter's table
    errors = []
    for N in (50, 100, 200):
        g = (np.arange(N) + 0.5) / N
        S = np.stack(np.meshgrid(g, g, indexing="ij"), -1)
        vp, eff = ad_auction(np.clip(2 * S - 1, 0, None), d), ad_auction(S, d)
        grid = np.array([vp.welfare.mean(), (vp.conversions * S[:, :, None, None, :]).sum(-1).mean(),
                         eff.welfare.mean(), alone - eff.welfare.mean()])
        errors.append(np.abs(grid - exact).max())
        assert ad_auction_relaxed(S, d).payment.sum(-1).mean() == pytest.approx(profit_vs, abs=0.5 / N**2)   # midpoint error ~ 1/N^2
    assert errors[-1] < 2e-5 and errors[2] < errors[0]


def test_ad_auction_rent_is_an_exact_step_integral():
    d = 0.9
    r = ad_auction_breakpoints(d)
    s = np.array([0.83, 0.71])
    vol = lambda z: ad_auction_relaxed(np.stack([z, np.full_like(z, s[1])], -1), d).conversions[..., 0]
    jumps = 0.5 + r * (2 * s[1] - 1) / 2                               # own margins at which the ratio hits a breakpoint
    jumps = jumps[(jumps > 0.5) & (jumps < s[0])]
    quad = integrate.quad(lambda z: float(vol(np.array(z))), 0.5, s[0], points=list(jumps), limit=200)[0]
    assert ad_auction_relaxed(s, d).rent[0] == pytest.approx(quad, abs=1e-8)
    zz = np.linspace(0.5, 1, 2001)[1:]
    assert np.count_nonzero(np.abs(np.diff(vol(zz))) > 1e-12) >= 2         # a step function with several jumps


def test_efficient_pivot_revenue_identity():
    d, s = 0.9, np.array([0.73, 0.91])
    model = ad_auction_model(s, d)
    res = dynamic_pivot(model)
    R = np.zeros((model.n_joint, 3))
    R[np.arange(model.n_joint), res.policy] = res.transfers.sum(0)
    starts = [model.state_index(k) for k in AD_K]
    revenue = d * evaluate_policy(R, model.joint_transition(), d, res.policy)[starts]
    identity = d * (res.welfare_without.sum(0) - res.welfare)[starts]
    assert np.allclose(revenue, identity, atol=ALGEBRA)                 # revenue = W_-1 + W_-2 - W
    assert identity.mean() == pytest.approx(d * (1 + d) / 2 * s.sum() - ad_auction(s, d).welfare.mean(), abs=ALGEBRA)


# ---- the limits of relaxation (Section 6 of the paper)
def _best_deviation(c_plus, c_minus, delta_price, n=401):
    """Largest gain of any (report of s0, strategy for s1) over truth, for x* with second-period price Δ below 1/2."""
    s = (np.arange(n) + 0.5) / n
    U = 0.5 * s + 0.5 * c_minus * np.maximum(s - 0.5, 0)
    v = np.stack([s + c_plus, c_minus * s], axis=1)
    P_low = np.array([c_plus / 2 + delta_price / 2, c_plus / 2 - delta_price / 2])
    low = 0.5 * np.maximum(v - P_low[0], -P_low[1]).sum(axis=1)           # best s1-strategy after any report below 1/2
    high = v.mean(axis=1)[:, None] - (v.mean(axis=1) - U)[None, s >= 0.5]  # any report above 1/2: the good for sure
    return max(float((low - U).max()), float((high.max(axis=1) - U).max()))


@given(st.floats(1.1, 3.0), st.floats(0.05, 0.99), st.floats(0.0, 1.0))
def test_threshold_two_c_plus(c_plus, ratio, where):
    # sufficiency: below 2c+, any Δ in [c-/2, c+] implements x*; necessity: above 2c+, no Δ does
    c_minus = 2 * c_plus * ratio
    assert _best_deviation(c_plus, c_minus, c_minus / 2 + where * (c_plus - c_minus / 2)) < 1e-12
    c_big = 2 * c_plus / ratio
    if c_big > 2 * c_plus + 0.2:
        assert min(_best_deviation(c_plus, c_big, D) for D in np.linspace(0, 2 * c_big, 161)) > 1e-4


def _lim_model(N, c_plus=2.0, c_minus=6.0):
    s = (np.arange(N) + 0.5) / N
    return [np.zeros(N), np.stack([s + c_plus, c_minus * s], axis=1)], np.full((N, 2), 0.5 / N)


def test_relaxed_and_dynamic_lp_as_the_grid_refines():
    gaps = []
    for N in (20, 40, 80, 160):
        values, probs = _lim_model(N)
        rel = optimal_mechanism(values, probs, ir="interim", observed=(1,))
        dyn = optimal_mechanism(values, probs, ir="interim")
        assert rel.revenue == pytest.approx(2 / 2 + 6 / 8 + (2 + 6) / (8 * N), abs=1e-9)   # c+/2 + c-/8 + (2 + c-)/(8N)
        gaps.append(rel.revenue - dyn.revenue)
    assert np.all(np.diff(gaps) < 0) and 0.08 < gaps[-1] < 0.085                           # about 0.084 at N = 160
    rel20 = optimal_mechanism(*_lim_model(20), ir="interim", observed=(1,))
    assert audit(rel20).gain < 1e-9 and audit(rel20, observed=()).gain > 1e-3
    with pytest.raises(ValueError):                                    # no payments implement x* at c- = 6 > 2c+
        revenue_range(*_lim_model(20), list(rel20.allocation))
    rel35 = optimal_mechanism(*_lim_model(20, 2.0, 3.5), ir="interim", observed=(1,))
    assert revenue_range(*_lim_model(20, 2.0, 3.5), list(rel35.allocation))[1] == pytest.approx(rel35.revenue, abs=1e-7)


# ---------------------------------------------------------------- gaps found by mutation testing (make mutation)
def test_ad_auction_breakpoints_pinned():
    """The candidate breakpoints, pinned (count, ends, sum): a line of the later decisions built wrongly
    (e.g. the a2 == 1 branch crediting the wrong agent) adds or moves candidates the bracketing test tolerates."""
    for d, size, total, first, last in [(0.9, 285, 440.90405665572075, 0.05, 20.0),
                                        (0.5, 193, 281.1478776314269, 2 / 27, 13.5)]:
        r = ad_auction_breakpoints(d)
        assert r.size == size
        assert (r[0], r[-1], r.sum()) == pytest.approx((first, last, total), rel=1e-12)
