r"""Revenue-maximising dynamic auctions: the AR(1) once-and-for-all sale and stochastic arrivals.

Pavan, Segal and Toikka's optimal dynamic auctions. :func:`ar1_stopping` sells one object
once and for all to bidders whose values follow AR(1) processes: the optimal sale is an
optimal stopping problem in the bidders' *virtual* values (the value minus the first-period
handicap discounted by the impulse response). :func:`arrival_auction` sells one object to
buyers who arrive over time at a possibly unknown rate, and :func:`arrival_deviation_gain`
audits its payments against every misreport.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validation import as_real_array, check_discount, check_positive_int, check_real, format_number

__all__ = ["AR1Stopping", "ArrivalAuction", "ar1_stopping", "arrival_auction", "arrival_deviation_gain"]


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
        h = np.broadcast_to(h, th.shape) if h.ndim <= 2 and h.shape[-1:] in ((n,), ()) else h
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
    Hn = np.zeros((K, K + 1, 2))                                # H after arrivals at t + 1
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
            for M in range(K + 1):
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
