r"""Revenue-maximising dynamic auctions (Pavan, Segal and Toikka), the concept of the chapter *Optimal dynamic auctions*.

:func:`ar1_stopping`
    Sells one object once and for all to bidders whose values follow AR(1) processes: the
    optimal sale is an optimal stopping problem in the bidders' *virtual* values (the value
    minus the first-period handicap discounted by the impulse response).
:func:`arrival_auction`, :func:`arrival_deviation_gain`
    Sell one object to buyers who arrive over time at a known rate, and audit the payments
    against every misreport.
:func:`ar1_sale_mechanism`
    One good sold once to a buyer whose value follows a discretised AR(1) and who reports
    his initial type and every shock. The seller stops on the virtual value
    :math:`\theta_t - \rho^t h(\theta_0)`; payments come from the discrete envelope formula,
    period by period. The result is a :class:`~mdlib.finite.Mechanism`, so
    :func:`~mdlib.finite.audit` can search every reporting strategy.
:func:`learning_arrival_auction`, :func:`learning_deviation_gain`, :func:`certainty_equivalent_payment`
    One good, a deadline, buyers who arrive at most one per period with a probability
    :math:`\lambda` the seller does not know (a two-point or finite prior), and who stay
    until the deadline. The seller learns :math:`\lambda` from the arrivals.
:func:`progressive_tree`
    The type tree of a buyer who privately knows the growth rate of a multiplicative value
    process (Boleslavsky and Said's progressive screening), ready for
    :func:`~mdlib.finite.optimal_mechanism`.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from ._validation import (
    as_float_array,
    as_real_array,
    check_bool,
    check_discount,
    check_positive_int,
    check_real,
    format_number,
)
from .finite import Mechanism, make_mechanism

__all__ = ["AR1Stopping", "ArrivalAuction", "ar1_stopping", "arrival_auction", "arrival_deviation_gain",
           "AR1Sale", "LearningArrivalAuction", "ar1_sale_mechanism", "learning_arrival_auction", "learning_deviation_gain", "certainty_equivalent_payment", "progressive_tree"]


# --------------------------------------------------------------------------- once-and-for-all AR(1) auction
class AR1Stopping(NamedTuple):
    """The once-and-for-all sale to AR(1) bidders as an optimal stopping problem.

    ``batch`` is the number of type profiles :math:`(\\theta_{1,0}, \\dots, \\theta_{n,0})`
    solved at once, ``n`` the number of bidders and ``J = m**n`` the number of joint
    shock states (bidder 0's shock index varies slowest).
    """

    value: NDArray[np.float64]
    r"""Shape ``(batch,)``: the optimal expected discounted reward
    :math:`\mathbb E[\delta^\tau(\theta_{w,\tau} - \rho^\tau h_w)]` at ``t = 0``."""
    decision: NDArray[np.int8]
    """Shape ``(horizon, batch, J)``: ``-1`` wait, ``i`` sell to bidder ``i``, ``n`` keep the good for good."""
    win_weight: NDArray[np.float64]
    r"""Shape ``(batch, n)``: :math:`Q_i = \mathbb E[\delta^\tau\rho^\tau 1\{i \text{ wins}\}]`, the
    derivative of bidder ``i``'s payoff in his initial type."""
    win_value: NDArray[np.float64]
    r"""Shape ``(batch, n)``: :math:`S_i = \mathbb E[\delta^\tau\theta_{i,\tau} 1\{i \text{ wins}\}]`."""
    value_path: NDArray[np.float64] | None = None
    """With ``paths=True``, shape ``(horizon, batch, J)``: the optimal value from period ``t`` on
    (in period-``t`` units) in every joint shock state; otherwise ``None``."""
    welfare_path: NDArray[np.float64] | None = None
    r"""With ``paths=True``, shape ``(horizon, batch, J)``: the expected value of the good to its
    buyer, :math:`\mathbb E[\delta^{\tau-t}\theta_{w,\tau}]`, under the optimal rule from ``t`` on."""


def _expect_joint(V: NDArray[np.float64], P: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """E[V(next joint state)] for independent chains: V has shape (batch, m, ..., m)."""
    if n == 1:
        return V @ P.T
    if n == 2:
        return P @ V @ P.T
    for ax in range(n):
        V = np.moveaxis(np.tensordot(P, V, axes=([1], [ax + 1])), 0, ax + 1)
    return V


def ar1_stopping(
    theta0: Any,
    rho: float,
    mean: float,
    shocks: Any,
    discount: float,
    horizon: int,
    handicap: Any = None,
    start: int | None = None,
    paths: bool = False,
) -> AR1Stopping:
    r"""Sell one good once to AR(1) bidders: the optimal stopping rule by backward induction.

    Bidder ``i``'s value is :math:`\theta_{i,t} = \mu + \rho^t(\theta_{i,0} - \mu) + z(Z_{i,t})`,
    where :math:`Z_i` is a finite Markov chain (kernel ``P``, values ``z``) started at
    ``start``: an AR(1) with coefficient :math:`\rho` whose shock component has been
    discretised. The impulse response of :math:`\theta_{i,t}` to :math:`\theta_{i,0}` is
    :math:`\rho^t`. In each period ``t < horizon`` the seller either waits, sells to one
    bidder (and stops) or keeps the good for good. Selling to ``i`` at ``t`` is worth
    :math:`\theta_{i,t} - \rho^t h_i`: with ``handicap = 0`` this is the planner's problem,
    with :math:`h_i = (1 - G(\theta_{i,0}))/g(\theta_{i,0})` the seller's virtual surplus.

    Parameters
    ----------
    theta0 : array_like, shape (n,) or (batch, n)
        Initial types, one row per type profile.
    rho : float
        The AR(1) coefficient, in ``[0, 1]``.
    mean : float
        The long-run mean :math:`\mu` to which values revert.
    shocks : pair (P, z)
        The shock chain: a stochastic matrix ``P`` of shape ``(m, m)`` and its values ``z``.
    discount : float
        The discount factor :math:`\delta \in (0, 1]`.
    horizon : int
        The number of periods in which the good can be sold, >= 1.
    handicap : array_like, optional
        The handicaps :math:`h_i`, same shape as ``theta0``; default 0 (efficiency).
    start : int, optional
        The initial shock state; default the state whose ``z`` is closest to 0.
    paths : bool, default False
        Also return the value and the welfare of the rule from every period and state.

    Returns
    -------
    AR1Stopping
        The value, the decision in every period and joint shock state, and each
        bidder's :math:`Q_i` and :math:`S_i` under the optimal rule.

    Raises
    ------
    ValueError
        If ``theta0`` or ``handicap`` is not a finite real array of shape ``(n,)`` or
        ``(batch, n)``, ``rho`` is outside ``[0, 1]``, ``shocks`` is not a stochastic
        matrix with matching values, ``discount`` is outside ``(0, 1]``, ``horizon`` is
        not a positive integer or ``start`` is not a state.

    Notes
    -----
    Ties are resolved towards selling, and among bidders towards the lower index.
    The cost is ``horizon * batch * n * m**(n + 1)``.

    Examples
    --------
    One bidder whose value is known to rise from 0 towards 1 (no shocks): the planner
    sells when :math:`\delta^t(1 - \rho^t)` peaks, at ``t = 2`` for :math:`\rho = 0.5`,
    :math:`\delta = 0.8` (worth :math:`0.64 \times 0.75 = 0.48`).

    >>> from mdlib import ar1_stopping
    >>> res = ar1_stopping([0.0], 0.5, 1.0, ([[1.0]], [0.0]), 0.8, 10)
    >>> round(float(res.value[0]), 6), int((res.decision[:, 0, 0] == -1).sum())
    (0.48, 2)
    """
    paths = check_bool(paths, "paths")
    th, _ = as_real_array(theta0, "theta0")
    if th.ndim == 1:
        th = th[None, :]
    if th.ndim != 2 or th.shape[1] < 1 or not np.isfinite(th).all():
        raise ValueError(f"theta0 must be a finite array of shape (n,) or (batch, n), got shape {th.shape}")
    batch, n = th.shape
    if handicap is None:
        h = np.zeros_like(th)
    else:
        h, _ = as_real_array(handicap, "handicap")
        try:
            h = np.broadcast_to(h, th.shape) if h.ndim <= 2 and h.shape[-1:] in ((n,), ()) else h
        except ValueError:
            pass  # the shape check below names handicap
        if h.shape != th.shape or not np.isfinite(h).all():
            raise ValueError(f"handicap must be a finite array of the shape of theta0 {th.shape}, got {np.shape(handicap)}")
    r = check_real(rho, "rho")
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {format_number(r)}")
    mu = check_real(mean, "mean")
    try:
        P, z = shocks
        P = np.array(P, dtype=np.float64)
        z = np.array(z, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("shocks must be a pair (P, z) of real arrays") from exc
    m = z.shape[0] if z.ndim == 1 else -1
    if P.shape != (m, m) or not np.isfinite(z).all() or (P < 0).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError(f"shocks must be a stochastic matrix P of shape (m, m) with values z of shape (m,), got {P.shape} and {z.shape}")
    d = check_discount(discount, hi_closed=True)
    H = check_positive_int(horizon, "horizon")
    if start is None:
        s0 = int(np.argmin(np.abs(z)))
    elif isinstance(start, (bool, np.bool_)) or not isinstance(start, (int, np.integer)) or not 0 <= start < m:
        raise ValueError(f"start must be a state index in [0, {m - 1}], got {start!r}")
    else:
        s0 = int(start)
    J = m**n
    idx = np.indices((m,) * n).reshape(n, J)
    zval = z[idx]                                                  # (n, J)
    shape = (batch,) + (m,) * n
    decision = np.empty((H, batch, J), dtype=np.int8)
    V = q = s = None
    value_path = np.empty((H, batch, J)) if paths else None
    welfare_path = np.empty((H, batch, J)) if paths else None
    for t in range(H - 1, -1, -1):
        rt = r**t
        theta_t = mu + rt * (th[:, :, None] - mu) + zval[None]     # (batch, n, J)
        reward = theta_t - rt * h[:, :, None]
        best_i = reward.argmax(axis=1)
        best = np.take_along_axis(reward, best_i[:, None], axis=1)[:, 0]
        stop = np.maximum(best, 0.0)
        sell_to = np.where(best >= 0.0, best_i, n)
        if V is None:
            wait = np.zeros((batch, J), dtype=bool)
            V = stop
            cq = cs = np.zeros((batch, n, J))
        else:
            cont = d * _expect_joint(V.reshape(shape), P, n).reshape(batch, J)
            wait = cont > stop
            V = np.where(wait, cont, stop)
            cq = d * _expect_joint(q.reshape((batch * n,) + (m,) * n), P, n).reshape(batch, n, J)
            cs = d * _expect_joint(s.reshape((batch * n,) + (m,) * n), P, n).reshape(batch, n, J)
        dec = np.where(wait, -1, sell_to)
        decision[t] = dec
        win = dec[:, None, :] == np.arange(n)[None, :, None]
        q = np.where(wait[:, None, :], cq, win * rt)
        s = np.where(wait[:, None, :], cs, win * theta_t)
        if paths:
            value_path[t] = V
            welfare_path[t] = s.sum(axis=1)
    j0 = int(np.ravel_multi_index((s0,) * n, (m,) * n))
    return AR1Stopping(value=V[:, j0], decision=decision, win_weight=q[:, :, j0], win_value=s[:, :, j0],
                       value_path=value_path, welfare_path=welfare_path)


# --------------------------------------------------------------------------- stochastic arrivals
class ArrivalAuction(NamedTuple):
    r"""One good, a deadline, buyers who arrive by a Poisson process and stay (recall).

    Types are indexed ``k = 0..K-1`` by increasing value. In the arrays indexed by
    ``b``, ``b = 0`` means "no earlier buyer present" and ``b = k + 1`` "the best
    earlier buyer has type ``k``".
    """

    values: NDArray[np.float64]
    """Shape ``(K,)``: the values :math:`v_k`, increasing."""
    pmf: NDArray[np.float64]
    """Shape ``(K,)``: the probability :math:`f_k` of each type."""
    rate: NDArray[np.float64]
    """Shape ``(horizon,)``: the expected number :math:`\\lambda_t` of arrivals in each period."""
    discount: float
    """The discount factor :math:`\\delta`."""
    virtual: NDArray[np.float64]
    r"""Shape ``(K,)``: the virtual values :math:`\psi_k = v_k - (v_{k+1} - v_k)(1 - F_k)/f_k`."""
    cutoff: NDArray[np.int64]
    """Shape ``(horizon,)``: in period ``t`` the good is sold iff the best present type is
    ``>= cutoff[t]`` (``K``: never)."""
    revenue: float
    r"""The expected discounted virtual surplus :math:`\mathbb E[\delta^\tau\psi_{w}]` of the rule."""
    welfare: float
    r"""The expected discounted value :math:`\mathbb E[\delta^\tau v_{w}]` of the rule."""
    win: NDArray[np.float64]
    r"""Shape ``(horizon, K, K + 1)``: ``win[a, k, b]`` :math:`= \mathbb E[\delta^{\tau-a}1\{\text{win}\}]`
    for a buyer who reports type ``k`` on arriving in period ``a`` when the earlier buyers' best is ``b``."""
    payment: NDArray[np.float64]
    """Shape ``(horizon, K, K + 1)``: his expected payment, valued at ``a``, by the discrete
    envelope formula (the lowest type gets nothing)."""


def _arrival_max_pmf(pmf: NDArray[np.float64], rate: float) -> NDArray[np.float64]:
    """P(best arrival of a period = b) for b = 0 (nobody), 1..K (type b-1): Poisson arrivals."""
    F = np.concatenate([[0.0], np.cumsum(pmf)])
    F[-1] = 1.0
    G = np.exp(-rate * (1.0 - F))
    return np.diff(np.concatenate([[0.0], G]))


def arrival_auction(values: Any, pmf: Any, rate: Any, discount: float, horizon: int,
                    objective: str = "revenue") -> ArrivalAuction:
    r"""Sell one good before a deadline to buyers who arrive over time: cut-offs, interim allocation, payments.

    In each period ``t < horizon`` a Poisson(``rate[t]``) number of buyers arrives, each
    with an independent type drawn from ``pmf``; buyers stay until the deadline and
    arrivals are observed. After the period's arrivals the seller either sells to the
    best present buyer (ties: the earliest arrival; within a period, a uniform random
    order) or waits. She maximises the expected discounted virtual value of the sale
    (``objective="revenue"``) or its value (``"welfare"``); both rules are cut-offs on
    the best present type (ties, up to rounding errors of 1e-12, are resolved towards
    selling). Payments follow from the discrete envelope formula given the history at
    arrival.

    Parameters
    ----------
    values : array_like, shape (K,)
        The buyers' possible values, strictly increasing, ``K >= 1``.
    pmf : array_like, shape (K,)
        Their probabilities, positive, summing to 1.
    rate : float or array_like, shape (horizon,)
        The expected number of arrivals per period, > 0 (one number, or one per period).
    discount : float
        The discount factor :math:`\delta \in (0, 1]`.
    horizon : int
        The number of periods, >= 1 (the deadline).
    objective : {"revenue", "welfare"}
        What the seller maximises.

    Returns
    -------
    ArrivalAuction
        The cut-offs, the rule's expected virtual surplus (its revenue) and welfare, and
        the interim discounted win probability and payment of every report.

    Raises
    ------
    ValueError
        If ``values`` is not strictly increasing, ``pmf`` not a positive probability
        vector of the same length, the virtual values are not strictly increasing (for
        ``objective="revenue"``; ironing is not implemented), ``rate`` not positive,
        ``discount`` outside ``(0, 1]``, ``horizon`` not a positive integer or
        ``objective`` unknown.

    Examples
    --------
    Values 1 and 2 with equal probability have virtual values 0 and 2. With one
    period the seller earns 2 if a buyer of value 2 comes (Poisson with mean 1/2),
    :math:`2(1 - e^{-1/2})`.

    >>> from mdlib import arrival_auction
    >>> res = arrival_auction([1.0, 2.0], [0.5, 0.5], 1.0, 0.9, 1)
    >>> res.virtual
    array([0., 2.])
    >>> round(res.revenue, 6)
    0.786939
    """
    v, _ = as_real_array(values, "values")
    if v.ndim != 1 or v.size < 1 or not np.isfinite(v).all() or (np.diff(v) <= 0).any():
        raise ValueError("values must be a finite, strictly increasing 1-d array")
    f, _ = as_real_array(pmf, "pmf")
    if f.shape != v.shape or (f <= 0).any() or abs(f.sum() - 1.0) > 1e-9:
        raise ValueError(f"pmf must be positive, of length {v.size} and sum to 1")
    d = check_discount(discount, hi_closed=True)
    T = check_positive_int(horizon, "horizon")
    lam, _ = as_real_array(rate, "rate")
    if lam.ndim == 0:
        lam = np.full(T, float(lam))
    if lam.shape != (T,) or not np.isfinite(lam).all() or (lam <= 0).any():
        raise ValueError(f"rate must be positive: one number or one per period (horizon={T}), got {rate!r}")
    if objective not in ("revenue", "welfare"):
        raise ValueError(f"objective must be 'revenue' or 'welfare', got {objective!r}")
    K = v.size
    F = np.cumsum(f)
    psi = v.copy()
    psi[:-1] -= np.diff(v) * (1.0 - F[:-1]) / f[:-1]
    if objective == "revenue" and (np.diff(psi) <= 0).any():
        raise ValueError("the virtual values must be strictly increasing (a regular pmf); ironing is not implemented")
    weight = psi if objective == "revenue" else v
    pM = np.stack([_arrival_max_pmf(f, x) for x in lam])        # (T, K + 1)
    b_all = np.arange(K + 1)
    new_b = np.maximum(b_all[:, None], b_all[None, :])          # [b, M] -> best after arrivals
    w_of = np.concatenate([[-np.inf], weight])
    # the seller's problem; A[b] = value before the period's arrivals, best present b
    cutoff = np.full(T, K, dtype=np.int64)
    sells = np.zeros((T, K + 1), dtype=bool)                    # after arrivals, best b
    A = np.zeros(K + 1)
    for t in range(T - 1, -1, -1):
        sell = w_of >= d * A - 1e-12                            # after arrivals, state b; ties: sell
        sells[t] = sell
        Vt = np.where(sell, w_of, d * A)
        A = Vt[new_b] @ pM[t]
        hit = np.flatnonzero(sell[1:])
        cutoff[t] = hit[0] if hit.size else K
    # the rule's virtual surplus and welfare
    rv = np.zeros(K + 1)
    wv = np.zeros(K + 1)
    psi_of = np.concatenate([[0.0], psi])
    v_of = np.concatenate([[0.0], v])
    for t in range(T - 1, -1, -1):
        rv = (np.where(sells[t], psi_of, d * rv))[new_b] @ pM[t]
        wv = (np.where(sells[t], v_of, d * wv))[new_b] @ pM[t]
    # a tagged buyer of reported type k: after arrivals, others' best b, flag = he loses a tie with b
    k_ = np.arange(K)[:, None, None]
    bo = np.arange(K + 1)[None, :, None]
    fl = np.arange(2)[None, None, :]
    top = np.maximum(k_ + 1, bo)                                # best present, as a b-index
    wins = (k_ + 1 > bo) | ((k_ + 1 == bo) & (fl == 0))
    win = np.zeros((T, K, K + 1))
    # P(tagged first among a same-period tie group of type k): E[1/(N+1) | N >= 1], N ~ Poisson(λ f_k)
    mk = lam[:, None] * f[None, :]
    first = ((1 - np.exp(-mk)) / mk - np.exp(-mk)) / (1 - np.exp(-mk))   # (T, K)
    kk = np.arange(K)
    for t in range(T - 1, -1, -1):
        sold = np.take(sells[t], top)                            # (K, K+1, 1)
        Ht = np.where(sold, wins.astype(float), 0.0) * np.ones((1, 1, 2))
        if t < T - 1:
            cont = np.zeros((K, K + 1, 2))
            for M in range(K + 1):                              # Hn: H after arrivals at t + 1
                nb = np.maximum(bo, M) * np.ones((K, 1, 2), dtype=np.int64)
                nf = np.where(M > bo, 0, fl) * np.ones((K, 1, 1), dtype=np.int64)
                cont += pM[t + 1, M] * Hn[kk[:, None, None], nb, nf]
            Ht = np.where(sold, Ht, d * cont)
        else:
            Ht = np.where(sold, Ht, 0.0)
        # the report period: earlier best b (flag 1 if b == k + 1), then same-period arrivals M
        Qa = np.zeros((K, K + 1))
        b2 = np.arange(K + 1)[None, :]
        k2 = kk[:, None]
        for M in range(K + 1):
            nb = np.maximum(b2, M) * np.ones((K, 1), dtype=np.int64)
            lose = Ht[k2, nb, 1]
            keep = Ht[k2, nb, 0]
            tie_now = (M == k2 + 1) & (b2 < k2 + 1)
            early = b2 == k2 + 1
            val = np.where(early, lose, np.where(tie_now, first[t][k2] * keep + (1 - first[t][k2]) * lose, keep))
            Qa += pM[t, M] * val
        win[t] = Qa
        Hn = Ht
    dv = np.diff(v)
    below = np.cumsum(np.concatenate([np.zeros((T, 1, K + 1)), dv[None, :, None] * win[:, :-1, :]], axis=1), axis=1)
    payment = v[None, :, None] * win - below
    return ArrivalAuction(values=v, pmf=f, rate=lam, discount=d, virtual=psi, cutoff=cutoff,
                          revenue=float(rv[0]), welfare=float(wv[0]), win=win, payment=payment)


def arrival_deviation_gain(auction: ArrivalAuction) -> NDArray[np.float64]:
    r"""The most a buyer gains by misreporting his type and delaying his report.

    A buyer of type ``k`` who arrives in period ``a`` may stay hidden, watch whether the
    good is sold and how the best present type moves, and report any type at any later
    period (an optimal stopping problem over report dates). His payoff from reporting
    ``j`` in period ``t`` with earlier best ``b`` is :math:`v_k Q_t(j, b) - P_t(j, b)`.

    Parameters
    ----------
    auction : ArrivalAuction
        The mechanism, from :func:`arrival_auction`.

    Returns
    -------
    numpy.ndarray
        Shape ``(horizon, K, K + 1)``: the best deviation's payoff minus the truthful
        payoff at once, for a type-``k`` arrival in period ``a`` with earlier best ``b``
        (``>= 0``; 0 means that no delay or misreport pays).

    Raises
    ------
    ValueError
        If ``auction`` is not an :class:`ArrivalAuction`.

    Examples
    --------
    >>> from mdlib import arrival_auction, arrival_deviation_gain
    >>> res = arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 0.5, 0.9, 4)
    >>> float(arrival_deviation_gain(res).max()) < 1e-12
    True
    """
    if not isinstance(auction, ArrivalAuction):
        raise ValueError("auction must be an ArrivalAuction from arrival_auction")
    v, f, lam, d = auction.values, auction.pmf, auction.rate, auction.discount
    T, K, _ = auction.win.shape
    pM = np.stack([_arrival_max_pmf(f, x) for x in lam])
    b_all = np.arange(K + 1)
    new_b = np.maximum(b_all[:, None], b_all[None, :])
    sold = np.zeros((T, K + 1), dtype=bool)
    for t in range(T):
        sold[t, 1:] = np.arange(K) >= auction.cutoff[t]
    # report now: best type to claim, for each true type k
    util = v[:, None, None, None] * auction.win[None] - auction.payment[None]     # [k, t, j, b]
    report_now = util.max(axis=2)                                                   # [k, t, b]
    truthful = np.stack([util[k, :, k, :] for k in range(K)])                       # [k, t, b]
    D = np.zeros((K, K + 1))
    gain = np.zeros((T, K, K + 1))
    for t in range(T - 1, -1, -1):
        # waiting one period: others arrive; the good is gone if the best reaches the cut-off
        nxt = np.where(sold[t][new_b], 0.0, D[:, new_b]) @ pM[t] if t < T - 1 else np.zeros((K, K + 1))
        D = np.maximum(report_now[:, t, :], d * nxt)
        gain[t] = D - truthful[:, t, :]
    return gain


# --------------------------------------------------------------------------- finite models with private shocks and learning

def _check_grid(x: Any, name: str) -> NDArray[np.float64]:
    arr, _ = as_real_array(x, name)
    if arr.ndim != 1 or arr.size < 1 or not np.isfinite(arr).all() or (np.diff(arr) <= 0).any():
        raise ValueError(f"{name} must be a finite, strictly increasing 1-d array")
    return arr


def _check_pmf(p: Any, n: int, name: str) -> NDArray[np.float64]:
    arr, _ = as_real_array(p, name)
    if arr.shape != (n,) or not np.isfinite(arr).all() or (arr <= 0).any() or abs(arr.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be {n} positive probabilities summing to 1")
    return arr / arr.sum()


# --------------------------------------------------------------------------- the AR(1) sale
class AR1Sale(NamedTuple):
    """The once-and-for-all sale to a buyer with AR(1) values (see :func:`ar1_sale_mechanism`)."""

    mechanism: Mechanism
    """The direct mechanism: good ``t + 1`` is "the sale in period ``t``", valued in present value."""
    virtual_surplus: float
    r"""The seller's optimal expected virtual surplus :math:`\mathbb E[\delta^\sigma(\theta_\sigma - \rho^\sigma h(\theta_0))]`."""
    handicap: NDArray[np.float64]
    r"""Shape ``(m_0,)``: the discrete handicap :math:`h_i = (\theta_{0,i+1} - \theta_{0,i})(1 - G_i)/g_i` (0 for the top type)."""
    Q0: NDArray[np.float64]
    r"""Shape ``(m_0,)``: :math:`Q(\theta_0) = \mathbb E[\sum_t \delta^t \rho^t x_t \mid \theta_0]` under truth-telling."""
    sale_probability: NDArray[np.float64]
    """Shape ``(periods,)``: the probability of a sale in each period under truth-telling."""


def ar1_sale_mechanism(theta0: Any, pmf0: Any, shocks: Any, shock_pmf: Any, rho: float, mu: float,
                       discount: float, periods: int) -> AR1Sale:
    r"""The revenue-maximising once-and-for-all sale to a buyer with a discretised AR(1) value.

    The buyer's initial type :math:`\theta_0` takes the values ``theta0`` with probabilities
    ``pmf0``; afterwards :math:`\theta_t = \mu + \rho(\theta_{t-1} - \mu) + \varepsilon_t` with
    independent shocks drawn from ``shocks`` (probabilities ``shock_pmf``). He reports
    :math:`\theta_0` in period 0 and the shock :math:`\varepsilon_t` in every later period
    (equivalently :math:`\theta_t`, given his earlier reports). The seller sells at the first
    period in which the virtual value :math:`\psi_t = \theta_t - \rho^t h(\theta_0)` is at least
    the value of waiting (at the deadline: if it is non-negative), computed from the reports.
    Payments are charged period by period so that, at every report history, the continuation
    utility of the period's type ``k`` is :math:`\sum_{j<k} \Delta_j Q_t(j)`: the discrete
    envelope formula with impulse response :math:`\rho^{s-t}` and the lowest type of each
    period on zero.

    Parameters
    ----------
    theta0 : array_like, shape (m_0,)
        Initial types, strictly increasing.
    pmf0 : array_like, shape (m_0,)
        Their probabilities (positive, summing to 1).
    shocks : array_like, shape (m,)
        Shock values, strictly increasing.
    shock_pmf : array_like, shape (m,)
        Their probabilities.
    rho : float
        Persistence, in [0, 1].
    mu : float
        Long-run mean.
    discount : float
        Discount factor in (0, 1].
    periods : int
        Number of periods ``T >= 1`` (the good is sold in period ``0, ..., T - 1`` or kept).

    Returns
    -------
    AR1Sale
        The mechanism (pass it to :func:`~mdlib.finite.audit`), its virtual surplus, the
        handicaps, :math:`Q(\theta_0)` and the sale probabilities.

    Raises
    ------
    ValueError
        For grids that are not strictly increasing, probabilities that are not positive or do
        not sum to 1, ``rho`` outside [0, 1], ``discount`` outside (0, 1] or ``periods < 1``.

    Examples
    --------
    Two periods, types 0 and 1 (equally likely), shocks ±0.5:

    >>> from mdlib import ar1_sale_mechanism, audit
    >>> sale = ar1_sale_mechanism([0.0, 1.0], [0.5, 0.5], [-0.5, 0.5], [0.5, 0.5], 0.5, 1.0, 0.9, 2)
    >>> sale.handicap
    array([1., 0.])
    >>> round(sale.mechanism.revenue - sale.virtual_surplus, 12), audit(sale.mechanism).gain < 1e-12
    (0.0, True)
    """
    th0 = _check_grid(theta0, "theta0")
    g0 = _check_pmf(pmf0, th0.size, "pmf0")
    eps = _check_grid(shocks, "shocks")
    fe = _check_pmf(shock_pmf, eps.size, "shock_pmf")
    r = check_real(rho, "rho")
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {format_number(r)}")
    m_ = check_real(mu, "mu")
    d = check_discount(discount, hi_closed=True)
    T = check_positive_int(periods, "periods")
    m0, m = th0.size, eps.size
    shape = (m0,) + (m,) * (T - 1)
    G = np.cumsum(g0)
    h = np.zeros(m0)
    h[:-1] = np.diff(th0) * (1.0 - G[:-1]) / g0[:-1]
    # value of the good in period t on each type history, in present value; and the virtual value
    values, virtual = [], []
    for t in range(T):
        sh = shape[: t + 1]
        theta = m_ + r**t * (th0 - m_)
        val = np.broadcast_to(theta.reshape((m0,) + (1,) * t), sh).astype(float).copy()
        for s in range(1, t + 1):
            ax = [1] * (t + 1)
            ax[s] = m
            val = val + (r ** (t - s) * eps).reshape(ax)
        values.append(d**t * val)
        virtual.append(d**t * (val - (r**t * h).reshape((m0,) + (1,) * t)))
    # the seller's stopping problem, backward; W[t] = value before deciding in period t
    W = [None] * T
    sell = [None] * T
    for t in range(T - 1, -1, -1):
        cont = np.zeros(shape[: t + 1]) if t == T - 1 else np.tensordot(W[t + 1], fe, axes=([t + 1], [0]))
        sell[t] = virtual[t] >= cont - 1e-12
        if t == T - 1:
            sell[t] &= virtual[t] >= -1e-12
        W[t] = np.where(sell[t], virtual[t], cont)
    # allocation: sell now if not sold before
    alloc = []
    alive = np.ones((m0,))
    for t in range(T):
        x = alive * sell[t]
        alloc.append(x.astype(float))
        if t < T - 1:
            alive = np.repeat((alive * ~sell[t])[..., None], m, axis=-1)
    # Q_t(history, k): E[sum_{s >= t} delta^s rho^(s - t) x_s | history up to t]
    Qs = [None] * T
    for t in range(T - 1, -1, -1):
        q = d**t * alloc[t]
        if t < T - 1:
            q = q + r * np.tensordot(Qs[t + 1], fe, axes=([t + 1], [0]))
        Qs[t] = q
    # envelope payments, backward: U_t(h, k) = sum_{j<k} Delta_j Q_t(h, j)
    pays = [None] * T
    EU_next = np.zeros(shape)
    for t in range(T - 1, -1, -1):
        grid = th0 if t == 0 else eps
        dq = np.diff(grid).reshape((1,) * t + (-1,)) * np.take(Qs[t], range(grid.size - 1), axis=t)
        U = np.concatenate([np.zeros(shape[:t] + (1,)), np.cumsum(dq, axis=t)], axis=t)
        EU = np.zeros(shape[: t + 1]) if t == T - 1 else EU_next
        pays[t] = values[t] * alloc[t] + EU - U
        probs_t = g0 if t == 0 else fe
        EU_next = np.tensordot(U, probs_t, axes=([t], [0]))
    probs = g0.reshape((m0,) + (1,) * (T - 1))
    for s in range(1, T):
        ax = [1] * T
        ax[s] = m
        probs = probs * fe.reshape(ax)
    mech = make_mechanism(values, probs, alloc, pays, kind="separable", ir="interim")
    sale_p = np.array([float(np.sum(probs * alloc[t].reshape(alloc[t].shape + (1,) * (T - t - 1))))
                       for t in range(T)])
    vs = float(np.tensordot(W[0], g0, axes=([0], [0])))
    return AR1Sale(mech, vs, h, Qs[0].copy(), sale_p)


# --------------------------------------------------------------------------- arrivals with learning
class LearningArrivalAuction(NamedTuple):
    """A deadline sale to buyers whose arrival rate the seller learns (see :func:`learning_arrival_auction`)."""

    values: NDArray[np.float64]
    """Shape ``(K,)``: the values :math:`v_k`."""
    pmf: NDArray[np.float64]
    """Shape ``(K,)``: their probabilities."""
    rates: NDArray[np.float64]
    r"""The possible arrival probabilities :math:`\lambda` per period."""
    prior: NDArray[np.float64]
    """The prior over ``rates``."""
    discount: float
    """The discount factor."""
    virtual: NDArray[np.float64]
    r"""Shape ``(K,)``: the discrete virtual values :math:`\varphi_k`."""
    arrival_probability: NDArray[np.float64]
    r"""Shape ``(horizon + 1, horizon + 1)``: ``[t, n]`` = probability of an arrival in period ``t``
    after ``n`` arrivals in periods ``0..t-1`` (the posterior mean of :math:`\lambda`)."""
    sells: NDArray[np.bool_]
    """Shape ``(horizon, horizon + 1, K + 1)``: ``[t, n, b]`` = the seller sells in period ``t`` after
    ``n`` arrivals in periods ``0..t`` when the best present type is ``b - 1`` (``b = 0``: nobody)."""
    cutoff: NDArray[np.int64]
    """Shape ``(horizon, horizon + 1)``: the lowest type sold to at ``(t, n)`` (``K``: none)."""
    revenue: float
    r"""The expected discounted virtual surplus :math:`\mathbb E[\delta^\sigma \varphi_w]` of the rule."""
    win: NDArray[np.float64]
    r"""Shape ``(horizon, horizon, K, K + 1)``: ``[t, n, k, b]`` = :math:`\mathbb E[\delta^{\sigma - t} 1\{\text{win}\}]`
    for a buyer who reports type ``k`` in period ``t`` after ``n`` earlier reports whose best is ``b``."""
    payment: NDArray[np.float64]
    """Same shape: his expected payment valued at ``t``, by the discrete envelope formula."""


def _posterior_mean(rates: NDArray, prior: NDArray, n: int, t: int) -> float:
    """E[lambda | n arrivals in t periods] for Bernoulli arrivals."""
    w = prior * rates**n * (1.0 - rates) ** (t - n)
    return float(w @ rates / w.sum())


def learning_arrival_auction(values: Any, pmf: Any, rates: Any, prior: Any, discount: float,
                             horizon: int) -> LearningArrivalAuction:
    r"""Sell one good before a deadline to buyers who arrive at an unknown rate that the seller learns.

    In each period ``t < horizon`` one buyer arrives with probability :math:`\lambda` and
    nobody otherwise; :math:`\lambda` is one of ``rates``, drawn once from ``prior`` and unknown
    to the seller, who updates her belief from the arrivals. Types are independent draws from
    ``pmf``; buyers stay until the deadline (recall). After the period's arrival the seller
    sells to the best present buyer (ties: the earlier report) or waits, maximising the
    expected discounted virtual value of the sale. Payments come from the discrete envelope
    formula given the history at a buyer's report, so that the lowest type gets nothing.

    Parameters
    ----------
    values : array_like, shape (K,)
        Strictly increasing values.
    pmf : array_like, shape (K,)
        Their probabilities; the virtual values must be strictly increasing.
    rates : array_like
        Possible arrival probabilities per period, each in (0, 1).
    prior : array_like
        Prior over ``rates`` (positive, summing to 1). One rate with prior ``[1.0]``: a known rate.
    discount : float
        Discount factor in (0, 1].
    horizon : int
        Number of periods, >= 1.

    Returns
    -------
    LearningArrivalAuction

    Raises
    ------
    ValueError
        For bad grids or probabilities, non-increasing virtual values, rates outside (0, 1),
        ``discount`` outside (0, 1] or ``horizon < 1``.

    Examples
    --------
    One period, values 1 and 2 equally likely (virtual values 0 and 2), a buyer arrives with
    probability 1/2 or 9/10, equally likely: the seller earns 2 when a buyer of value 2 comes,
    with probability 0.7 / 2.

    >>> from mdlib import learning_arrival_auction
    >>> res = learning_arrival_auction([1.0, 2.0], [0.5, 0.5], [0.5, 0.9], [0.5, 0.5], 0.9, 1)
    >>> res.virtual
    array([0., 2.])
    >>> round(res.revenue, 12)
    0.7
    """
    v = _check_grid(values, "values")
    f = _check_pmf(pmf, v.size, "pmf")
    lam, _ = as_real_array(rates, "rates")
    lam = np.atleast_1d(lam)
    if lam.ndim != 1 or lam.size < 1 or not np.isfinite(lam).all() or (lam <= 0).any() or (lam >= 1).any():
        raise ValueError("rates must be a nonempty vector of arrival probabilities in (0, 1)")
    pi = _check_pmf(prior, lam.size, "prior")
    d = check_discount(discount, hi_closed=True)
    T = check_positive_int(horizon, "horizon")
    K = v.size
    F = np.cumsum(f)
    phi = v.copy()
    phi[:-1] -= np.diff(v) * (1.0 - F[:-1]) / f[:-1]
    if (np.diff(phi) <= 0).any():
        raise ValueError("the virtual values must be strictly increasing (a regular pmf); ironing is not implemented")
    p = np.zeros((T + 1, T + 1))
    for t in range(T + 1):
        for n in range(t + 1):
            p[t, n] = _posterior_mean(lam, pi, n, t)
    phi_of = np.concatenate([[-np.inf], phi])
    bb = np.arange(K + 1)
    newb = np.maximum(bb[:, None], np.arange(1, K + 1)[None, :])     # [b, k] -> best after a type-k arrival
    # seller: V[t][n, b] after period t's arrival, n arrivals in 0..t (n <= t + 1)
    sells = np.zeros((T, T + 1, K + 1), dtype=bool)
    V = np.zeros((T + 2, K + 1))
    for t in range(T - 1, -1, -1):
        Vt = np.zeros((T + 2, K + 1))
        for n in range(t + 2):
            if t == T - 1:
                cont = np.zeros(K + 1)
            else:
                q = p[t + 1, n]
                cont = d * (q * (V[n + 1][newb] @ f) + (1 - q) * V[n])
            s = phi_of >= cont - 1e-12
            s[0] = False
            sells[t, n] = s
            Vt[n] = np.where(s, phi_of, cont)
        V = Vt
    revenue = float(p[0, 0] * (V[1][newb[0]] @ f) + (1 - p[0, 0]) * V[0][0])
    cutoff = np.full((T, T + 1), K, dtype=np.int64)
    for t in range(T):
        for n in range(T + 1):
            hit = np.flatnonzero(sells[t, n, 1:])
            cutoff[t, n] = hit[0] if hit.size else K
    # a buyer who is the best present with type k: W[t][n, k] = E[delta^(sigma - t) 1{he wins}]
    win = np.zeros((T, T, K, K + 1))
    kk = np.arange(K)
    Wn = np.zeros((T + 2, K))
    for t in range(T - 1, -1, -1):
        Wt = np.zeros((T + 2, K))
        for n in range(1, t + 2):
            now = sells[t, n, kk + 1]
            if t == T - 1:
                later = np.zeros(K)
            else:
                q = p[t + 1, n]
                later = d * (q * F * Wn[n + 1] + (1 - q) * Wn[n])       # an arrival of type <= k keeps him best
            Wt[n] = np.where(now, 1.0, later)
        for n in range(t + 1):
            win[t, n] = np.where(kk[:, None] + 1 > bb[None, :], Wt[n + 1][:, None], 0.0)
        Wn = Wt
    dv = np.diff(v)
    below = np.concatenate([np.zeros((T, T, 1, K + 1)),
                            np.cumsum(dv[None, None, :, None] * win[:, :, :-1, :], axis=2)], axis=2)
    payment = v[None, None, :, None] * win - below
    return LearningArrivalAuction(v, f, lam, pi, d, phi, p, sells, cutoff, revenue, win, payment)


def certainty_equivalent_payment(auction: LearningArrivalAuction) -> NDArray[np.float64]:
    r"""The payments of a seller who prices each buyer as if the arrival rate were known.

    A buyer who reports in period ``t`` after ``n`` earlier reports is charged what the
    known-rate mechanism (:func:`learning_arrival_auction` with the single rate
    :math:`\hat\lambda`) would charge him, where :math:`\hat\lambda` is the posterior mean of
    the rate after the ``n + 1`` arrivals of periods ``0..t``.

    Parameters
    ----------
    auction : LearningArrivalAuction

    Returns
    -------
    numpy.ndarray
        Same shape as ``auction.payment``.

    Raises
    ------
    ValueError
        If ``auction`` is not the result of :func:`learning_arrival_auction`.

    Examples
    --------
    With a known rate the two payments coincide:

    >>> import numpy as np
    >>> from mdlib import learning_arrival_auction, certainty_equivalent_payment
    >>> res = learning_arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], [0.5], [1.0], 0.9, 3)
    >>> bool(np.allclose(certainty_equivalent_payment(res)[:, 0], res.payment[:, 0]))
    True
    """
    if not isinstance(auction, LearningArrivalAuction):
        raise ValueError("auction must be a LearningArrivalAuction from learning_arrival_auction")
    T = auction.win.shape[0]
    out = np.zeros_like(auction.payment)
    cache: dict[float, NDArray[np.float64]] = {}
    for t in range(T):
        for n in range(t + 1):
            lam_hat = round(_posterior_mean(auction.rates, auction.prior, n + 1, t + 1), 15)
            if lam_hat not in cache:
                known = learning_arrival_auction(auction.values, auction.pmf, [lam_hat], [1.0], auction.discount, T)
                cache[lam_hat] = known.payment
            out[t, n] = cache[lam_hat][t, 0]
    return out


def learning_deviation_gain(auction: LearningArrivalAuction, payment: Any = None,
                            reports: str = "any", stay_away: bool = True) -> NDArray[np.float64]:
    r"""The most a buyer gains by hiding his arrival and misreporting his type.

    A buyer of type ``k`` who arrives in period ``a`` may stay hidden, watch the other
    reports and whether the good is sold, and report any type in any later period (an optimal
    stopping problem over report dates). While he hides the seller counts one arrival less;
    he himself knows the true count, which includes him, and forecasts arrivals with it.
    Reporting type ``j`` in period ``s`` after ``m`` other reports with best ``b`` gives him
    :math:`v_k\,\mathrm{win}[s, m, j, b] - \mathrm{payment}[s, m, j, b]`.

    Parameters
    ----------
    auction : LearningArrivalAuction
    payment : array_like, optional
        Payments to use instead of ``auction.payment`` (same shape), e.g.
        :func:`certainty_equivalent_payment`.
    reports : {"any", "delay", "misreport"}
        ``"any"``: every report date and type; ``"delay"``: any date, true type only;
        ``"misreport"``: report on arrival, any type.
    stay_away : bool
        Whether he may hide until the deadline and never report (payoff 0). With ``False`` he
        must report by the last period unless the good has been sold to someone else, which
        separates an incentive to *delay* from a failure of participation.

    Returns
    -------
    numpy.ndarray
        Shape ``(horizon, horizon, K, K + 1)``: ``[a, n, k, b]`` = best deviation payoff minus
        the truthful payoff for a type-``k`` arrival in period ``a`` after ``n`` earlier
        arrivals with best ``b`` (entries with ``n > a`` are 0).

    Raises
    ------
    ValueError
        For a wrong ``auction``, a ``payment`` of the wrong shape or an unknown ``reports``.

    Examples
    --------
    >>> from mdlib import learning_arrival_auction, learning_deviation_gain
    >>> res = learning_arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], [0.2, 0.8], [0.5, 0.5], 0.9, 3)
    >>> float(learning_deviation_gain(res).max()) < 1e-12
    True
    """
    if not isinstance(auction, LearningArrivalAuction):
        raise ValueError("auction must be a LearningArrivalAuction from learning_arrival_auction")
    P = auction.payment if payment is None else as_float_array(payment, "payment")
    if P.shape != auction.payment.shape:
        raise ValueError(f"payment must have shape {auction.payment.shape}, got {P.shape}")
    if not np.isfinite(P).all():
        raise ValueError("payment must be finite")
    stay_away = check_bool(stay_away, "stay_away")
    if reports not in ("any", "delay", "misreport"):
        raise ValueError(f"reports must be 'any', 'delay' or 'misreport', got {reports!r}")
    v, f, d, p = auction.values, auction.pmf, auction.discount, auction.arrival_probability
    T, _, K, _ = auction.win.shape
    bb = np.arange(K + 1)
    newb = np.maximum(bb[:, None], np.arange(1, K + 1)[None, :])
    util = v[:, None, None, None, None] * auction.win[None] - P[None]        # [k, t, n, j, b]
    truthful = np.stack([util[k, :, :, k, :] for k in range(K)])             # [k, t, n, b]
    now = util.max(axis=3) if reports != "delay" else truthful
    gain = np.zeros((T, T, K, K + 1))
    D = np.zeros((K, T + 1, K + 1))                                           # value at t + 1, others' count m
    for t in range(T - 1, -1, -1):
        Dt = np.zeros((K, T + 1, K + 1))
        for m in range(t + 1):                                                # others' count: at most t
            if reports == "misreport":
                hide = np.full((K, K + 1), -np.inf)
            elif t == T - 1:
                hide = np.where(auction.sells[t, m][None, :], 0.0, 0.0 if stay_away else -np.inf) * np.ones((K, 1))
            else:
                q = p[t + 1, m + 1]                                           # he counts himself
                nxt = q * (D[:, m + 1][:, newb] @ f) + (1 - q) * D[:, m]
                hide = np.where(auction.sells[t, m][None, :], 0.0, d * nxt)
            Dt[:, m] = np.maximum(now[:, t, m, :], hide)
        for n in range(t + 1):
            gain[t, n] = Dt[:, n] - truthful[:, t, n, :]
        D = Dt
    return gain


# --------------------------------------------------------------------------- progressive screening
def progressive_tree(rates: Any, prior: Any, shocks: Any, shock_pmf: Any, periods: int,
                     discount: float = 1.0) -> tuple[list[NDArray[np.float64]], NDArray[np.float64]]:
    r"""The type tree of a buyer who privately knows the growth rate of his value.

    Boleslavsky and Said's multiplicative process: :math:`\theta_0 = 1` and
    :math:`\theta_t = \alpha_t \theta_{t-1}` with :math:`\alpha_t = \lambda z_t`, where the rate
    :math:`\lambda` (one of ``rates``, drawn from ``prior``) is the buyer's first, private type
    and the :math:`z_t` are independent draws from ``shocks``. Period 1 of the tree is the
    rate (it brings information only, no good); period ``t + 1`` is :math:`z_t`, and good
    ``t + 1`` is worth :math:`\delta^t \theta_t` on the type history.

    Parameters
    ----------
    rates : array_like
        Growth rates, positive and strictly increasing.
    prior : array_like
        Their probabilities.
    shocks : array_like
        Positive, strictly increasing values of :math:`z`.
    shock_pmf : array_like
        Their probabilities.
    periods : int
        Number of goods ``T >= 1``.
    discount : float
        Discount factor in (0, 1].

    Returns
    -------
    values, probs
        Arguments for :func:`~mdlib.finite.optimal_mechanism` and :func:`~mdlib.finite.make_mechanism`.

    Raises
    ------
    ValueError
        For non-positive or non-increasing grids, bad probabilities, ``periods < 1`` or a
        ``discount`` outside (0, 1].

    Examples
    --------
    >>> from mdlib import progressive_tree
    >>> values, probs = progressive_tree([1.0, 2.0], [0.5, 0.5], [1.0], [1.0], 2)
    >>> [v.ravel().tolist() for v in values]
    [[0.0, 0.0], [1.0, 2.0], [1.0, 4.0]]
    """
    lam = _check_grid(rates, "rates")
    g = _check_pmf(prior, lam.size, "prior")
    z = _check_grid(shocks, "shocks")
    fz = _check_pmf(shock_pmf, z.size, "shock_pmf")
    if lam[0] <= 0 or z[0] <= 0:
        raise ValueError("rates and shocks must be positive")
    T = check_positive_int(periods, "periods")
    d = check_discount(discount, hi_closed=True)
    values = [np.zeros(lam.size)]
    theta = np.ones(lam.size)
    for t in range(1, T + 1):
        growth = lam[:, None] * z[None, :]                       # alpha_t = lambda z_t on (lambda, z_t)
        theta = theta[..., None] * growth.reshape((lam.size,) + (1,) * (t - 1) + (z.size,))
        values.append(d ** (t - 1) * theta)
    probs = g.reshape((-1,) + (1,) * T)
    for t in range(1, T + 1):
        ax = [1] * (T + 1)
        ax[t] = z.size
        probs = probs * fz.reshape(ax)
    return values, probs
