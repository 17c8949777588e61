"""Tests of mdlib.optimal_auctions: the AR(1) stopping rule and sale, the auction with arrivals, learning about
arrivals, progressive screening."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdlib
from mdlib import ar1_stopping, arrival_auction, arrival_deviation_gain

ALGEBRA = 1e-9


# --------------------------------------------------------------------------- closed-form cases
def test_ar1_sale_one_period_is_myerson():
    # one period: sell iff the discrete virtual value θ_0 - h >= 0; types 1, 2 equally likely: price 2, revenue 1
    sale = mdlib.ar1_sale_mechanism([1.0, 2.0], [0.5, 0.5], [0.0], [1.0], 0.5, 1.0, 0.9, 1)
    assert np.allclose(sale.handicap, [1.0, 0.0])
    assert abs(sale.mechanism.revenue - 1.0) < 1e-12 and abs(sale.virtual_surplus - 1.0) < 1e-12


def test_learning_known_rate_one_period():
    res = mdlib.learning_arrival_auction([1.0, 2.0], [0.5, 0.5], [0.4], [1.0], 0.9, 1)
    assert abs(res.revenue - 0.4 * 0.5 * 2.0) < 1e-12


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="rho"):
        mdlib.ar1_sale_mechanism([0.0, 1.0], [0.5, 0.5], [0.0], [1.0], 1.5, 1.0, 0.9, 2)
    with pytest.raises(ValueError, match="rates"):
        mdlib.learning_arrival_auction([1.0, 2.0], [0.5, 0.5], [1.2], [1.0], 0.9, 2)
    with pytest.raises(ValueError, match="reports"):
        res = mdlib.learning_arrival_auction([1.0, 2.0], [0.5, 0.5], [0.4], [1.0], 0.9, 2)
        mdlib.learning_deviation_gain(res, reports="later")
    with pytest.raises(ValueError, match="rates and shocks must be positive"):
        mdlib.progressive_tree([-1.0, 1.0], [0.5, 0.5], [1.0], [1.0], 2)


# --------------------------------------------------------------------------- properties
def test_ar1_sale_double_deviation_when_values_can_turn_negative():
    """Monotone Q_0 and no profitable single lie, yet a lie about a later shock after a first one pays
    (mean 0, so values and virtual values can be negative): one-shot integral monotonicity is not enough."""
    sale = mdlib.ar1_sale_mechanism([0.0, 1.0], [0.5, 0.5], [-0.5, 0.5], [0.5, 0.5], 0.5, 0.0, 1.0, 3)
    a = mdlib.audit(sale.mechanism)
    assert (np.diff(sale.Q0) > 0).all() and a.one_shot_gain < 1e-12 and a.gain > 0.2


def test_ar1_sale_double_deviation_random_walk():
    """ρ = 1, three types on [0, 1]: the top type claims the middle one and then lies about the shock."""
    sale = mdlib.ar1_sale_mechanism([0.0, 0.5, 1.0], np.full(3, 1 / 3), [-0.125, 0.125], [0.5, 0.5], 1.0, 1.0, 0.5, 2)
    a = mdlib.audit(sale.mechanism)
    assert a.one_shot_gain < 1e-12 and a.gain > 0.05 and a.worst_history == (2,)


@given(n0=st.integers(2, 4), rho=st.floats(0.0, 1.0), step=st.floats(0.05, 0.3), delta=st.floats(0.5, 0.98),
       periods=st.integers(1, 3), mu=st.floats(1.0, 2.0))
def test_ar1_sale_uniform_types_is_incentive_compatible(n0, rho, step, delta, periods, mu):
    """Uniform initial types on [0, 1], long-run mean >= 1 (values mature, as on the chapter's page): no reporting
    single lie pays (discrete integral monotonicity); revenue = virtual surplus. Full incentive compatibility is not
    implied on a discrete grid (see the double-deviation tests); the chapter audits its own instance."""
    sale = mdlib.ar1_sale_mechanism(np.linspace(0, 1, n0), np.full(n0, 1 / n0), [-step, step], [0.5, 0.5],
                                    rho, mu, delta, periods)
    a = mdlib.audit(sale.mechanism)
    assert a.one_shot_gain < 1e-9
    assert abs(a.interim_slack) < 1e-9
    assert abs(sale.mechanism.revenue - sale.virtual_surplus) < 1e-9
    assert (np.diff(sale.Q0) >= -1e-12).all()
    x = sale.mechanism.allocation
    total = sum(x[t].reshape(x[t].shape + (1,) * (periods - 1 - t)) for t in range(periods))
    assert total.max() <= 1 + 1e-12, "sold at most once on every report path"


@given(seed=st.integers(0, 10_000))
def test_ar1_sale_revenue_identity_any_prior(seed):
    """Revenue equals virtual surplus for any prior, and a non-monotone Q_0 is always exploited."""
    rng = np.random.default_rng(seed)
    g = rng.dirichlet(np.ones(4))
    sale = mdlib.ar1_sale_mechanism([0.0, 0.3, 0.6, 1.0], g, [-0.1, 0.1], [0.5, 0.5], 0.8, 1.0, 0.95, 2)
    assert abs(sale.mechanism.revenue - sale.virtual_surplus) < 1e-9
    if (np.diff(sale.Q0) < -1e-9).any():
        assert mdlib.audit(sale.mechanism).gain > 1e-12


@given(K=st.integers(2, 5), lo=st.floats(0.05, 0.45), hi=st.floats(0.55, 0.95), w=st.floats(0.1, 0.9),
       T=st.integers(1, 4), delta=st.floats(0.6, 1.0))
def test_learning_envelope_payments_deter_hiding(K, lo, hi, w, T, delta):
    v = np.arange(1, K + 1, dtype=float)
    res = mdlib.learning_arrival_auction(v, np.full(K, 1 / K), [lo, hi], [1 - w, w], delta, T)
    assert mdlib.learning_deviation_gain(res).max() < 1e-10
    assert mdlib.learning_deviation_gain(res, stay_away=False).max() < 1e-10
    for t in range(T - 1):
        assert (np.diff(res.cutoff[t, : t + 2]) >= 0).all(), "cut-off rises with the arrivals seen"
    # interim allocation nondecreasing in the report, payments never above the value
    assert (np.diff(res.win, axis=2) >= -1e-12).all()
    assert (res.payment <= v[None, None, :, None] * res.win + 1e-12).all()


def test_learning_revenue_matches_monte_carlo():
    v = np.arange(1, 5) / 4
    res = mdlib.learning_arrival_auction(v, np.full(4, 0.25), [0.2, 0.8], [0.5, 0.5], 0.9, 4)
    rng = np.random.default_rng(0)
    n = 200_000
    lam = np.where(rng.random(n) < 0.5, 0.2, 0.8)
    best, count, alive, total = np.zeros(n, int), np.zeros(n, int), np.ones(n, bool), np.zeros(n)
    for t in range(4):
        came = rng.random(n) < lam
        typ = rng.integers(1, 5, n)
        count += came
        best = np.where(came, np.maximum(best, typ), best)
        sell = alive & res.sells[t, count, best]
        total += np.where(sell, 0.9**t * res.virtual[np.maximum(best - 1, 0)], 0.0)
        alive &= ~sell
    assert abs(total.mean() - res.revenue) < 4 * total.std() / np.sqrt(n)


@given(lam_hi=st.floats(1.05, 1.6), gH=st.floats(0.2, 0.8), z=st.floats(0.1, 0.5), T=st.integers(1, 3))
def test_progressive_lp_matches_closed_form(lam_hi, gH, z, T):
    values, probs = mdlib.progressive_tree([1.0, lam_hi], [1 - gH, gH], [1 - z, 1 + z], [0.5, 0.5], T, 0.9)
    t = np.arange(1, T + 1)
    weight = (1 - gH) - gH * (lam_hi**t - 1)
    if np.min(np.abs(weight)) < 1e-3:
        return                                       # near a tie the LP may pick either allocation
    closed = np.sum(0.9 ** (t - 1) * (gH * lam_hi**t + np.maximum(weight, 0.0)))
    mech = mdlib.optimal_mechanism(values, probs, ir="interim")
    assert abs(mech.revenue - closed) < 1e-6
    assert mdlib.audit(mech).gain < 1e-7


# --------------------------------------------------------------------------- AR(1) once-and-for-all auction
NO_SHOCK = ([[1.0]], [0.0])
WALK = ([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]], [-0.1, 0.0, 0.1])


def simulate_ar1(res, theta0, h, rho, mean, shocks, d, seed):
    """Realised δ^τ (θ_w,τ - ρ^τ h_w) of the rule in res, one shock path per profile."""
    P, z = np.asarray(shocks[0]), np.asarray(shocks[1])
    rng = np.random.default_rng(seed)
    batch, n = theta0.shape
    m = z.size
    Z = np.full((batch, n), int(np.argmin(np.abs(z))))
    alive = np.ones(batch, dtype=bool)
    out = np.zeros(batch)
    cdf = np.cumsum(P, axis=1)
    for t in range(res.decision.shape[0]):
        j = np.ravel_multi_index(tuple(Z.T), (m,) * n)
        dec = res.decision[t, np.arange(batch), j]
        sell = alive & (dec >= 0) & (dec < n)
        w = np.clip(dec, 0, n - 1)
        th = mean + rho**t * (theta0[np.arange(batch), w] - mean) + z[Z[np.arange(batch), w]]
        out += np.where(sell, d**t * (th - rho**t * h[np.arange(batch), w]), 0.0)
        alive &= dec == -1
        u = rng.random((batch, n))
        Z = (u[:, :, None] > cdf[Z]).sum(axis=2)
    return out


def test_ar1_deterministic_closed_form():
    """No shocks, one bidder: the planner sells at the best date of δ^t(μ + ρ^t(θ0 - μ))."""
    for theta0, rho, mean, d in [(0.0, 0.5, 1.0, 0.8), (0.3, 0.9, 1.0, 0.95), (0.8, 0.7, 0.5, 0.9)]:
        t = np.arange(40)
        want = max(0.0, (d**t * (mean + rho**t * (theta0 - mean))).max())
        res = ar1_stopping([theta0], rho, mean, NO_SHOCK, d, 40)
        assert abs(res.value[0] - want) < ALGEBRA
        # with a handicap h the seller's value is the best date of δ^t(θ_t - ρ^t h)
        res_h = ar1_stopping([theta0], rho, mean, NO_SHOCK, d, 40, handicap=[1 - theta0])
        want_h = max(0.0, (d**t * (mean + rho**t * (theta0 - mean) - rho**t * (1 - theta0))).max())
        assert abs(res_h.value[0] - want_h) < ALGEBRA


def test_ar1_third_bidder_who_never_wins_changes_nothing():
    th2 = np.array([[0.2, 0.7], [0.5, 0.5]])
    two = ar1_stopping(th2, 0.9, 1.0, WALK, 0.9, 8, handicap=1 - th2)
    th3 = np.column_stack([th2, [0.5, 0.5]])
    three = ar1_stopping(th3, 0.9, 1.0, WALK, 0.9, 8, handicap=np.column_stack([1 - th2, [1e6, 1e6]]))
    assert np.allclose(two.value, three.value, atol=ALGEBRA)
    assert np.allclose(three.win_weight[:, 2], 0.0) and np.allclose(two.win_weight, three.win_weight[:, :2])


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.5, 1.0), st.floats(0.0, 2.0))
def test_ar1_value_is_the_rules_reward(a, b, rho, d, mean):
    th = np.array([[a, b]])
    h = 1 - th
    res = ar1_stopping(th, rho, mean, WALK, d, 12, handicap=h, paths=True)
    # value = Σ_i S_i - Σ_i h_i Q_i (the reward of the rule it reports)
    assert abs(res.value[0] - (res.win_value - h * res.win_weight).sum()) < 1e-9
    eff = ar1_stopping(th, rho, mean, WALK, d, 12, paths=True)
    assert res.value[0] <= eff.value[0] + 1e-12 and eff.value[0] >= res.win_value.sum() - 1e-12
    # the welfare lost from t on is at most ρ^t max h
    gap = eff.value_path - res.welfare_path
    bound = rho ** np.arange(12)[:, None, None] * h.max()
    assert (gap >= -1e-12).all() and (gap <= bound + 1e-12).all()
    # higher initial types win (weakly) more: Q_0 increases in θ_{0,0}
    up = ar1_stopping(np.array([[min(a + 0.1, 1.0), b]]), rho, mean, WALK, d, 12, handicap=1 - np.array([[min(a + 0.1, 1.0), b]]))
    assert up.win_weight[0, 0] >= res.win_weight[0, 0] - 1e-12


def test_ar1_monte_carlo():
    rng = np.random.default_rng(5)
    th = rng.uniform(0, 1, (20_000, 2))
    res = ar1_stopping(th, 0.8, 1.0, WALK, 0.9, 15, handicap=1 - th)
    sim = simulate_ar1(res, th, 1 - th, 0.8, 1.0, WALK, 0.9, 6)
    se = (sim - res.value).std() / np.sqrt(sim.size)
    assert abs(sim.mean() - res.value.mean()) < 4 * se


def test_ar1_bad_input():
    with pytest.raises(ValueError, match="theta0"):
        ar1_stopping([[[0.5]]], 0.5, 1.0, NO_SHOCK, 0.9, 3)
    with pytest.raises(ValueError, match="rho"):
        ar1_stopping([0.5], 1.5, 1.0, NO_SHOCK, 0.9, 3)
    with pytest.raises(ValueError, match="shocks"):
        ar1_stopping([0.5], 0.5, 1.0, ([[0.5]], [0.0]), 0.9, 3)
    with pytest.raises(ValueError, match="discount"):
        ar1_stopping([0.5], 0.5, 1.0, NO_SHOCK, 0.0, 3)
    with pytest.raises(ValueError, match="horizon"):
        ar1_stopping([0.5], 0.5, 1.0, NO_SHOCK, 0.9, 0)
    with pytest.raises(ValueError, match="handicap"):
        ar1_stopping([0.5, 0.2], 0.5, 1.0, NO_SHOCK, 0.9, 3, handicap=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="start"):
        ar1_stopping([0.5], 0.5, 1.0, NO_SHOCK, 0.9, 3, start=1)


# --------------------------------------------------------------------------- stochastic arrivals
UNIFORM10 = ((np.arange(10) + 1) / 10, np.full(10, 0.1))


def best_arrival_pmf(pmf, rate):
    G = np.exp(-rate * (1 - np.concatenate([[0.0], np.cumsum(pmf)])))
    return np.diff(np.concatenate([[0.0], G]))


def test_arrivals_one_period_closed_form():
    v, f = UNIFORM10
    res = arrival_auction(v, f, 0.7, 0.9, 1)
    assert np.allclose(res.virtual, 2 * v - 1, atol=ALGEBRA), "k/10 - 0.1 (1 - k/10)/0.1 = 2 v_k - 1"
    pM = best_arrival_pmf(f, 0.7)
    assert abs(res.revenue - pM[1:] @ np.maximum(res.virtual, 0.0)) < ALGEBRA
    assert res.cutoff[0] == np.argmax(res.virtual >= 0)


@given(st.floats(0.1, 2.0), st.floats(0.6, 1.0), st.integers(1, 8), st.integers(0, 10**6))
def test_arrivals_properties(rate, d, T, seed):
    """Constant arrival rate: cut-offs, revenue equivalence, Theorem 6, one-step look-ahead."""
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 7))
    f = np.full(K, 1.0 / K)  # uniform on an evenly spaced grid is regular
    v = np.arange(1, K + 1) * rng.uniform(0.5, 2.0)
    rev = arrival_auction(v, f, rate, d, T)
    eff = arrival_auction(v, f, rate, d, T, objective="welfare")
    assert (np.diff(rev.cutoff) <= 0).all() and (np.diff(eff.cutoff) <= 0).all(), "cut-offs fall"
    assert rev.revenue >= eff.revenue - 1e-12 and eff.welfare >= rev.welfare - 1e-12
    assert (rev.cutoff >= eff.cutoff).all(), "the seller is pickier"
    # interim: monotone in the reported type; revenue equivalence E_k[P_k] = E_k[ψ_k Q_k]
    for res in (rev, eff):
        assert (np.diff(res.win, axis=1) >= -1e-12).all()
        assert np.allclose(np.einsum("k,akb->ab", f, res.payment), np.einsum("k,akb->ab", f * res.virtual, res.win), atol=1e-12)
        assert arrival_deviation_gain(res).max() < 1e-12, "no misreport or delay pays (Theorem 6)"
    # before the last period the cut-off is the one-step look-ahead rule
    pM = best_arrival_pmf(f, rate)
    w = rev.virtual
    ola = [k for k in range(K) if w[k] >= d * (pM @ np.maximum(w[k], np.concatenate([[-np.inf], w])))]
    if T > 1:
        assert (rev.cutoff[:-1] == (ola[0] if ola else K)).all()


@given(st.integers(1, 8), st.integers(0, 10**6))
def test_arrivals_falling_rate(T, seed):
    """A rate that falls over the season: the cut-offs fall, and still no delay pays."""
    rng = np.random.default_rng(seed)
    v, f = UNIFORM10
    rate = np.sort(rng.uniform(0.1, 2.0, T))[::-1]
    res = arrival_auction(v, f, rate, 0.9, T)
    assert (np.diff(res.cutoff) <= 0).all()
    assert arrival_deviation_gain(res).max() < 1e-12


def simulate_arrivals(res, T, paths, seed):
    """Discounted revenue when the winner pays P/Q at the sale (earliest arrival wins ties)."""
    rng = np.random.default_rng(seed)
    F = np.concatenate([[0.0], np.cumsum(res.pmf)])
    best = np.zeros(paths, dtype=np.int64)      # b-index of the best present buyer
    arr = np.zeros(paths, dtype=np.int64)       # his arrival period
    hist = np.zeros(paths, dtype=np.int64)      # the best before his arrival
    alive = np.ones(paths, dtype=bool)
    revenue = np.zeros(paths)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(res.win > 0, res.payment / res.win, 0.0)
    for t in range(T):
        G = np.exp(-res.rate[t] * (1 - F))
        M = (rng.random(paths)[:, None] > G[None, :]).sum(axis=1)
        new = M > best
        hist = np.where(new, best, hist)
        arr = np.where(new, t, arr)
        best = np.where(new, M, best)
        sell = alive & (best >= 1) & (best - 1 >= res.cutoff[t])
        k = np.maximum(best - 1, 0)
        revenue += np.where(sell, res.discount**t * price[arr, k, hist], 0.0)
        alive &= ~sell
    return revenue


def test_arrivals_revenue_by_simulation():
    v, f = UNIFORM10
    res = arrival_auction(v, f, np.linspace(1.0, 0.3, 8), 0.95, 8)
    sim = simulate_arrivals(res, 8, 100_000, 9)
    se = sim.std() / np.sqrt(sim.size)
    assert abs(sim.mean() - res.revenue) < 4 * se


def test_arrivals_bad_input():
    v, f = UNIFORM10
    with pytest.raises(ValueError, match="values"):
        arrival_auction(v[::-1], f, 1.0, 0.9, 3)
    with pytest.raises(ValueError, match="pmf"):
        arrival_auction(v, f * 2, 1.0, 0.9, 3)
    with pytest.raises(ValueError, match="virtual"):
        arrival_auction([1.0, 2.0, 3.0], [0.45, 0.1, 0.45], 1.0, 0.9, 3)
    with pytest.raises(ValueError, match="rate"):
        arrival_auction(v, f, 0.0, 0.9, 3)
    with pytest.raises(ValueError, match="rate"):
        arrival_auction(v, f, [1.0, 0.5], 0.9, 3)
    with pytest.raises(ValueError, match="discount"):
        arrival_auction(v, f, 1.0, 1.5, 3)
    with pytest.raises(ValueError, match="horizon"):
        arrival_auction(v, f, 1.0, 0.9, 0)
    with pytest.raises(ValueError, match="objective"):
        arrival_auction(v, f, 1.0, 0.9, 3, objective="profit")
    with pytest.raises(ValueError, match="auction"):
        arrival_deviation_gain(None)


def test_ar1_three_bidders_match_the_product_chain():
    """Three bidders: the joint shock state's expectation against the Kronecker product of the kernels
    (an asymmetric kernel, so that the axes of the joint state are told apart)."""
    P = np.array([[0.7, 0.3, 0.0], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    z = np.array([-0.2, 0.0, 0.3])
    th = np.array([[0.2, 0.5, 0.9], [0.6, 0.1, 0.4]])
    h = np.array([[0.3, 0.1, 0.0], [0.0, 0.2, 0.5]])
    rho, mean, d, H = 0.7, 0.5, 0.9, 4
    res = ar1_stopping(th, rho, mean, (P, z), d, H, handicap=h, start=0)
    joint = np.kron(np.kron(P, P), P)                     # state (s1, s2, s3), bidder 1 most significant
    idx = np.indices((3, 3, 3)).reshape(3, -1)
    for row in range(th.shape[0]):
        V = np.zeros(27)
        for t in range(H - 1, -1, -1):
            reward = mean + rho**t * (th[row][:, None] - mean) + z[idx] - rho**t * h[row][:, None]
            stop = np.maximum(reward.max(axis=0), 0.0)
            V = stop if t == H - 1 else np.maximum(stop, d * joint @ V)
        assert abs(res.value[row] - V[0]) < 1e-12


def test_ar1_sale_participation_is_interim():
    """The envelope payments leave the lowest initial type nothing in expectation: the mechanism's own
    participation constraint is interim, and it binds."""
    sale = mdlib.ar1_sale_mechanism([0.0, 1.0], [0.5, 0.5], [-0.5, 0.5], [0.5, 0.5], 0.5, 0.0, 1.0, 3)
    check = mdlib.audit(sale.mechanism)
    assert sale.mechanism.ir == "interim"
    assert check.ir_slack == check.interim_slack and abs(check.interim_slack) < 1e-9


def test_arrivals_one_type_sells_to_the_first_arrival():
    """One type (value 2): nothing to screen, the good goes to the first arrival; with rate λ a period
    brings nobody with probability e^{-λ}, so revenue = Σ_t δ^t e^{-λ t}(1 - e^{-λ}) · 2."""
    lam, d, T = 0.4, 0.9, 5
    res = arrival_auction([2.0], [1.0], lam, d, T)
    t = np.arange(T)
    closed = 2.0 * np.sum(d**t * np.exp(-lam * t) * (1 - np.exp(-lam)))
    assert np.array_equal(res.cutoff, np.zeros(T, dtype=np.int64))
    assert abs(res.revenue - closed) < 1e-12 and abs(res.welfare - closed) < 1e-12


def test_arrivals_negative_values_never_sell():
    """Every virtual value negative: the seller keeps the good (cut-off K in every period), earns 0."""
    res = arrival_auction([-2.0, -1.0], [0.5, 0.5], 1.0, 0.9, 3)
    assert np.array_equal(res.cutoff, [2, 2, 2]) and res.revenue == 0.0
    assert np.all(res.win == 0.0) and np.all(res.payment == 0.0)


def tagged_win_by_simulation(res, a, k, b, paths, seed):
    """E[δ^(τ-a) 1{he wins}] for a buyer who reports type k on arriving in period a with earlier best b:
    others of each type arrive in Poisson numbers, a same-period tie is ordered at random and an earlier
    buyer wins a tie (independent of the library's backward pass)."""
    rng = np.random.default_rng(seed)
    K = res.values.size
    T = res.cutoff.size
    best = np.full(paths, b)                    # b-index of the best present buyer
    lead = np.ones(paths, dtype=bool)           # he is the one who would be sold to
    alive = np.ones(paths, dtype=bool)
    won = np.zeros(paths)
    for t in range(a, T):
        counts = rng.poisson(res.rate[t] * res.pmf, size=(paths, K))
        M = np.where(counts.any(axis=1), K - np.argmax(counts[:, ::-1] > 0, axis=1), 0)
        if t == a:
            ahead = rng.random(paths) * (counts[:, k] + 1) < 1.0       # first among his own type
            lead = (k + 1 > b) & ((M < k + 1) | ((M == k + 1) & ahead))
            best = np.maximum(np.maximum(best, M), k + 1)
        else:
            lead &= M <= k + 1
            best = np.maximum(best, M)
        sell = alive & (best - 1 >= res.cutoff[t])
        won += np.where(sell & lead, res.discount ** (t - a), 0.0)
        alive &= ~sell
    return won


def test_arrivals_win_probability_by_simulation():
    """The interim discounted win probability, ties within a period included (rate 1.5 makes them common)."""
    res = arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 1.5, 0.9, 3)
    for a, k, b in [(0, 1, 0), (0, 2, 0), (1, 1, 1), (1, 2, 3), (0, 1, 2), (2, 2, 2)]:
        won = tagged_win_by_simulation(res, a, k, b, 100_000, seed=a * 100 + k * 10 + b)
        se = won.std() / np.sqrt(won.size)
        assert abs(won.mean() - res.win[a, k, b]) < 4 * se + 1e-9, (a, k, b)


def deviation_gain_by_recursion(res, payment, reports, stay_away):
    """learning_deviation_gain by a memoised recursion over (type, period, others' count, others' best)."""
    from functools import lru_cache

    v, f, d, p = res.values, res.pmf, res.discount, res.arrival_probability
    T, _, K, _ = res.win.shape

    def util(k, t, n, j, b):
        return v[k] * res.win[t, n, j, b] - payment[t, n, j, b]

    @lru_cache(maxsize=None)
    def hidden(k, t, m, b):
        js = [k] if reports == "delay" else range(K)
        report = max(util(k, t, m, j, b) for j in js)
        if reports == "misreport":
            return report
        if res.sells[t, m, b]:
            wait = 0.0
        elif t == T - 1:
            wait = 0.0 if stay_away else -np.inf
        else:
            q = p[t + 1, m + 1]
            arrive = sum(f[j] * hidden(k, t + 1, m + 1, max(b, j + 1)) for j in range(K))
            wait = d * (q * arrive + (1 - q) * hidden(k, t + 1, m, b))
        return max(report, wait)

    gain = np.zeros((T, T, K, K + 1))
    for t in range(T):
        for n in range(t + 1):
            for k in range(K):
                for b in range(K + 1):
                    gain[t, n, k, b] = hidden(k, t, n, b) - util(k, t, n, k, b)
    return gain


@pytest.mark.parametrize("reports", ["any", "delay", "misreport"])
@pytest.mark.parametrize("stay_away", [True, False])
def test_learning_deviation_gain_matches_recursion(reports, stay_away):
    """Against naive payments (hiding pays) and the envelope payments (it does not)."""
    res = mdlib.learning_arrival_auction(np.arange(1, 5) / 4, np.full(4, 0.25), [0.1, 0.9], [0.5, 0.5], 0.95, 5)
    naive = mdlib.certainty_equivalent_payment(res)
    for payment in (naive, res.payment):
        got = mdlib.learning_deviation_gain(res, payment, reports=reports, stay_away=stay_away)
        want = deviation_gain_by_recursion(res, payment, reports, stay_away)
        assert np.allclose(got, want, atol=1e-12)
    if reports != "misreport":
        assert mdlib.learning_deviation_gain(res, naive, reports=reports, stay_away=stay_away).max() > 1e-3
