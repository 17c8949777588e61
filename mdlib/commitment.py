"""Dynamic contracting under positive commitment (Lobel and Paes Leme, 2019).

A seller sells one item per period to a buyer who learns his value for item ``t`` in period ``t``
(values i.i.d. with law ``F``). She can promise future deliveries but cannot promise not to make
new offers. Their Theorem 1: in every equilibrium the buyer keeps exactly the rent ``Z`` he would
get without commitment, and the seller sells each item in advance at ``p_hat = mu - Z``.
:func:`positive_commitment` returns the numbers of the three regimes (no commitment, positive
commitment, full commitment) for a scipy.stats distribution or a finite law.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from scipy import integrate, optimize

from ._validation import as_float_array, check_real
from .auctions import posted_price_revenue

__all__ = ["positive_commitment", "commitment_game", "PositiveCommitment", "CommitmentGame"]
__all__ += ["equilibrium_offers", "best_responses", "BestResponses"]

_TIE_TOL = 1e-9  # two prices whose revenues differ by less than this are a tie
_TIE_GAP = 1e-4  # ... when they are at least this far apart (relative to the scale of the values)
_RENT_TOL = 1e-7  # largest accepted estimated error of the quadrature for the rent Z, relative to Z


class PositiveCommitment(NamedTuple):
    """Per-item numbers of the repeated sale (see :func:`positive_commitment`)."""

    monopoly_price: float
    """p*: the unique maximiser of p (1 - F(p)), the price posted without commitment."""
    monopoly_revenue: float
    """R* = p* (1 - F(p*)): per-item revenue without commitment."""
    mean: float
    """mu = E[v]: per-item revenue with full commitment (the buyer keeps nothing)."""
    rent: float
    """Z = E[(v - p*)^+]: the buyer's per-item utility without commitment, and under positive commitment."""
    advance_price: float
    """p_hat = mu - Z = E[min(v, p*)]: the per-item revenue under positive commitment."""


def _finite(dist: Any, name: tuple[str, str] = ("dist", "dist")) -> tuple[np.ndarray, np.ndarray] | None:
    if isinstance(dist, tuple) and len(dist) == 2:
        v = as_float_array(dist[0], f"{name[0]}")
        q = as_float_array(dist[1], f"{name[1]}")
        if v.ndim != 1 or q.shape != v.shape or v.size == 0 or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError("dist as (values, probs) needs two vectors of equal length, values finite and >= 0")
        if not np.all(np.isfinite(q)) or np.any(q < 0) or abs(q.sum() - 1.0) > 1e-9:
            raise ValueError("dist as (values, probs) needs probs non-negative and summing to 1 (tolerance 1e-9)")
        return v, q
    return None


def positive_commitment(dist: Any) -> PositiveCommitment:
    """The per-item outcome of the repeated sale under no, positive and full commitment.

    Parameters
    ----------
    dist : scipy.stats frozen continuous distribution, or tuple (values, probs)
        The law ``F`` of the buyer's value for each item (non-negative values, finite mean), or a
        finite law given by its support points and probabilities.

    Returns
    -------
    PositiveCommitment
        ``monopoly_price`` p*, ``monopoly_revenue`` R*, ``mean`` mu, ``rent`` Z and
        ``advance_price`` p_hat = mu - Z.

    Raises
    ------
    ValueError
        For a bad ``dist``, or when the monopoly price is not unique (the theorem assumes it is:
        with tied prices the equilibrium revenue is not pinned down).

    Examples
    --------
    >>> from scipy import stats
    >>> pc = positive_commitment(stats.uniform(0, 1))
    >>> [round(x, 9) for x in pc]
    [0.5, 0.25, 0.5, 0.125, 0.375]
    >>> positive_commitment(([1.0, 2.0, 3.0], [0.3, 0.4, 0.3])).advance_price
    1.7
    """
    fin = _finite(dist)
    if fin is not None:
        v, q = fin
        rev = v * np.array([q[v >= p].sum() for p in v])
        best = np.flatnonzero(rev >= rev.max() - _TIE_TOL)
        if len(np.unique(v[best])) > 1:
            raise ValueError(f"dist has several monopoly prices {sorted(set(v[best].tolist()))}: the theorem needs a unique one")
        p = float(v[best[0]])
        mean = float(v @ q)
        rent = float(np.maximum(v - p, 0.0) @ q)
        return PositiveCommitment(p, float(rev.max()), mean, rent, mean - rent)
    pp = posted_price_revenue(dist)  # validates dist
    p, r = float(pp.price), float(pp.revenue)
    # uniqueness: no price far from p earns (almost) as much
    qs = np.linspace(0.0, 1.0, 4001)[1:-1]
    grid = np.asarray(dist.ppf(qs), dtype=np.float64)
    revs = grid * dist.sf(grid)
    scale = max(abs(p), float(dist.std()), 1e-12)
    far = np.abs(grid - p) > _TIE_GAP * scale
    if np.any(far & (revs >= r - _TIE_TOL * max(1.0, r))):
        raise ValueError("dist has more than one monopoly price: the theorem needs a unique one")
    mean = float(dist.mean())
    hi = float(dist.ppf(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # judged by the error estimate below instead
        rent, rent_error = integrate.quad(lambda x: (x - p) * dist.pdf(x), p, hi, limit=200)
    if not (math.isfinite(rent) and rent_error <= _RENT_TOL * max(abs(rent), scale)):
        raise ValueError(
            f"the quadrature for the rent Z did not converge (estimated error {rent_error:.3g} for Z = {rent:.6g}); "
            "dist may have too heavy a tail"
        )
    rent = float(rent)
    return PositiveCommitment(p, r, mean, rent, mean - rent)


class CommitmentGame(NamedTuple):
    """Equilibrium values of the discrete repeated sale, by state (see :func:`commitment_game`)."""

    seller: dict
    """``seller[(t, X)]``: the seller's expected revenue from period ``t`` on, when the items in ``X`` are unsold."""
    buyer: dict
    """``buyer[(t, X)]``: the buyer's expected utility from period ``t`` on (before learning his period-``t`` value)."""


def commitment_game(values: Any, probs: Any, horizon: int) -> CommitmentGame:
    """Solve the finite repeated sale under positive commitment by backward induction, one LP per state.

    Items ``1, ..., horizon``; item ``t`` is consumed in period ``t``, when the buyer learns its value
    (i.i.d. with the finite law ``(values, probs)``); period 0 brings no information. In state
    ``(t, X)`` (``X``: the unsold items, all ``>= max(t, 1)``) the seller offers a direct mechanism: a
    probability of item ``t`` now (if ``t`` is in ``X``), a lottery over sets ``S`` of future items
    promised for delivery (worth the mean value each to the buyer) and a payment. It must be
    incentive compatible and leave the buyer at least what rejecting it gives him, namely the
    value of the next state with nothing sold; the seller then moves on to ``(t + 1, X - {t} - S)``.

    Parameters
    ----------
    values, probs : vectors
        The finite law of each item's value.
    horizon : int
        Number of items ``T``; there are about ``T 2^T`` states and each LP has
        ``m 2^(|X| - 1)`` lottery variables, so keep ``T <= 5``.

    Returns
    -------
    CommitmentGame
        ``seller`` and ``buyer`` dictionaries keyed by ``(t, X)`` with ``X`` a sorted tuple.

    Raises
    ------
    ValueError
        For a bad law or a horizon that is not an integer in [1, 6].

    Examples
    --------
    >>> game = commitment_game([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 2)
    >>> round(game.seller[(0, (1, 2))], 9), round(game.buyer[(0, (1, 2))], 9)
    (3.4, 0.6)
    """
    fin = _finite((values, probs), ("values", "probs"))
    if fin is None:  # pragma: no cover - _finite always returns a law for a pair
        raise ValueError("values and probs must describe a finite law")
    v, q = fin
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= int(horizon) <= 6:
        raise ValueError(f"horizon must be an integer in [1, 6], got {horizon!r}")
    T = int(horizon)
    mu = float(v @ q)
    seller: dict = {}
    buyer: dict = {}
    for t in range(T + 1, -1, -1):
        pool = list(range(max(t, 1), T + 1))
        for size in range(len(pool) + 1):
            for X in itertools.combinations(pool, size):
                if t == T + 1:
                    seller[(t, X)], buyer[(t, X)] = 0.0, 0.0
                    continue
                rest = tuple(i for i in X if i != t)
                subsets = [S for k in range(len(rest) + 1) for S in itertools.combinations(rest, k)]
                left = [tuple(i for i in rest if i not in S) for S in subsets]
                B = np.array([mu * len(S) + buyer[(t + 1, L)] for S, L in zip(subsets, left)])
                Sv = np.array([seller[(t + 1, L)] for L in left])
                now = t in X
                vt, qt = (v, q) if now else (np.zeros(1), np.ones(1))
                m, n = len(vt), len(subsets)
                width = 1 + n + 1  # q_j, w_{j,S}, p_j
                nvar = m * width

                def util(j: int, r: int) -> np.ndarray:  # type j reporting r, as a row
                    row = np.zeros(nvar)
                    row[r * width] = vt[j]
                    row[r * width + 1: r * width + 1 + n] = B
                    row[r * width + 1 + n] = -1.0
                    return row

                A = [util(j, r) - util(j, j) for j in range(m) for r in range(m) if r != j]
                b = [0.0] * len(A)
                outside = buyer[(t + 1, rest)]
                for j in range(m):
                    A.append(-util(j, j))
                    b.append(-outside)
                Aeq = np.zeros((m, nvar))
                for j in range(m):
                    Aeq[j, j * width + 1: j * width + 1 + n] = 1.0
                c = np.zeros(nvar)
                for j in range(m):
                    c[j * width + 1: j * width + 1 + n] = -qt[j] * Sv
                    c[j * width + 1 + n] = -qt[j]
                bounds = []
                for _ in range(m):
                    bounds += [(0.0, 1.0 if now else 0.0)] + [(0.0, 1.0)] * n + [(None, None)]
                res = optimize.linprog(c, A_ub=np.array(A) if A else None, b_ub=np.array(b) if b else None,
                                       A_eq=Aeq, b_eq=np.ones(m), bounds=bounds, method="highs")
                if res.status != 0:  # pragma: no cover - the LP is always feasible (sell nothing)
                    raise RuntimeError(f"state {(t, X)}: {res.message}")
                x = res.x
                seller[(t, X)] = -float(res.fun)
                buyer[(t, X)] = float(sum(qt[j] * (util(j, j) @ x) for j in range(m)))
    return CommitmentGame(seller, buyer)


# --------------------------------------------------------------------------- best responses
# Checking a candidate equilibrium of the finite game: the seller's strategy is a menu of
# (bundle, price) options in every state; the buyer's strategy picks, in any mechanism, the
# option that maximises his payoff now plus the rent ``Z`` per item left unsold (the
# theorem's continuation value), ties broken towards the seller. Both are then tested
# against *all* deviations by backward induction.

Option = tuple[tuple[int, ...], float]
"""One line of a menu: the set of items delivered (``t`` itself is consumed now) and its price."""


def _states(T: int) -> list[tuple[int, tuple[int, ...]]]:
    out = []
    for t in range(T + 1, -1, -1):
        pool = list(range(max(t, 1), T + 1))
        for size in range(len(pool) + 1):
            out.extend((t, X) for X in itertools.combinations(pool, size))
    return out


def _horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= int(horizon) <= 6:
        raise ValueError(f"horizon must be an integer in [1, 6], got {horizon!r}")
    return int(horizon)


def equilibrium_offers(
    values: Any, probs: Any, horizon: int, kind: str = "day-before",
    contract_price: float | None = None, spot_price: float | None = None,
) -> dict:
    """The seller's strategy of a candidate equilibrium: one menu of (bundle, price) options per state.

    In state ``(t, X)`` the menu has two channels. The *spot* channel sells item ``t`` (if it is
    unsold) at ``spot_price``; the *contract* channel sells future items in advance at
    ``contract_price`` each: item ``t + 1`` only (``kind="day-before"``) or every unsold future
    item as one bundle (``kind="upfront"``). The buyer may take either channel or both; the
    no-trade option is not listed, since the seller cannot remove it
    (:func:`best_responses` always adds it).

    Parameters
    ----------
    values, probs : vectors
        The finite law of each item's value (its monopoly price must be unique when a price is
        left to its default).
    horizon : int
        Number of items ``T``, an integer in [1, 6].
    kind : {"day-before", "upfront"}
        Which future items the contract channel sells.
    contract_price, spot_price : float, optional
        Per-item prices of the two channels; by default the positive-commitment price
        ``mu - Z`` and the monopoly price ``p*``.

    Returns
    -------
    dict
        ``offers[(t, X)]``: a tuple of options ``(bundle, price)``, ``bundle`` a sorted tuple of items.

    Raises
    ------
    ValueError
        For a bad law, a horizon outside [1, 6], an unknown ``kind`` or a negative price.

    Examples
    --------
    >>> offers = equilibrium_offers([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 2)
    >>> offers[(1, (1, 2))]
    (((1,), 2.0), ((2,), 1.7), ((1, 2), 3.7))
    """
    T = _horizon(horizon)
    if kind not in ("day-before", "upfront"):
        raise ValueError(f"kind must be 'day-before' or 'upfront', got {kind!r}")
    law = _finite((values, probs), ("values", "probs"))
    if contract_price is not None:
        contract_price = check_real(contract_price, "contract_price")
    if spot_price is not None:
        spot_price = check_real(spot_price, "spot_price")
    if contract_price is None or spot_price is None:
        pc = positive_commitment(law)
        contract_price = pc.advance_price if contract_price is None else contract_price
        spot_price = pc.monopoly_price if spot_price is None else spot_price
    c, s = float(contract_price), float(spot_price)
    if not (np.isfinite(c) and np.isfinite(s) and c >= 0 and s >= 0):
        raise ValueError(f"contract_price and spot_price must be finite and >= 0, got {c!r} and {s!r}")
    offers: dict = {}
    for t, X in _states(T):
        if t > T:
            continue
        future = tuple(i for i in X if i > t)
        if kind == "day-before":
            future = tuple(i for i in future if i == t + 1)
        menu: list = []
        if t in X:
            menu.append(((t,), s))
        if future:
            menu.append((future, c * len(future)))
            if t in X:
                menu.append(((t, *future), s + c * len(future)))
        offers[(t, X)] = tuple(menu)
    return offers


class BestResponses(NamedTuple):
    """A strategy profile of the finite game against all deviations (see :func:`best_responses`)."""

    buyer: dict
    """``buyer[(t, X)]``: the buyer's expected utility from period ``t`` on when both follow the profile."""
    seller: dict
    """``seller[(t, X)]``: the seller's expected revenue from period ``t`` on when both follow the profile."""
    buyer_best: dict
    """The buyer's best-response value against the seller's strategy (backward induction over his choices)."""
    seller_best: dict
    """The seller's best-response value against the buyer's strategy (one LP over all direct mechanisms, lotteries allowed, per state)."""
    buyer_gain: float
    """Largest gain of a buyer deviation over all states: ``max(buyer_best - buyer)``."""
    seller_gain: float
    """Largest gain of a seller deviation over all states: ``max(seller_best - seller)``."""
    used: dict
    """``used[(t, X)]``: the options some value chooses (the no-trade option included when chosen)."""


def best_responses(values: Any, probs: Any, horizon: int, offers: dict, rent: float | None = None) -> BestResponses:
    """Play a candidate equilibrium of the finite game and compute both players' best responses to it.

    The seller's strategy is ``offers`` (see :func:`equilibrium_offers`), to which the no-trade
    option ``((), 0)`` is always added. The buyer's strategy: in any mechanism, in state
    ``(t, X)`` with current value ``v``, choose the option maximising ``v 1{t in S} + mu |S - {t}|
    - price + rent |X'|`` (``X'``: the items still unsold afterwards), ties broken towards the
    larger price. The function evaluates this profile in every state; computes the buyer's
    best response to ``offers`` by backward induction (his own optimal continuation, so
    deviations in several periods are covered); and computes the seller's best response to the
    buyer's strategy by backward induction, solving in each state a linear programme over all
    direct mechanisms with lotteries (incentive compatible and individually rational against
    the buyer's continuation ``rent |X'|``), which bounds every mechanism the buyer's strategy
    could face.

    Parameters
    ----------
    values, probs : vectors
        The finite law of each item's value.
    horizon : int
        Number of items ``T``, an integer in [1, 6].
    offers : dict
        ``offers[(t, X)]``: the menu in every state, a tuple of ``(bundle, price)`` with
        ``bundle`` a subset of ``X``.
    rent : float, optional
        The per-item continuation value in the buyer's strategy; by default ``Z`` of
        :func:`positive_commitment`.

    Returns
    -------
    BestResponses
        Profile values, best-response values, the two largest gains, and the options used.

    Raises
    ------
    ValueError
        For a bad law, a horizon outside [1, 6], a state missing from ``offers`` or a bundle
        that is not a subset of the unsold items.

    Examples
    --------
    >>> law = ([1.0, 2.0, 3.0], [0.3, 0.4, 0.3])
    >>> br = best_responses(*law, 2, equilibrium_offers(*law, 2))
    >>> round(br.seller[(0, (1, 2))], 9), round(br.buyer[(0, (1, 2))], 9)
    (3.4, 0.6)
    >>> abs(br.buyer_gain) < 1e-9 and abs(br.seller_gain) < 1e-9
    True
    """
    fin = _finite((values, probs), ("values", "probs"))
    assert fin is not None
    v, f = fin
    T = _horizon(horizon)
    z = positive_commitment((v, f)).rent if rent is None else check_real(rent, "rent")
    if not isinstance(offers, dict):
        raise ValueError(f"offers must be a dict mapping states (t, X) to menus, got {type(offers).__name__}")
    mu = float(v @ f)
    tol = 1e-9
    buyer: dict = {}
    seller: dict = {}
    buyer_best: dict = {}
    seller_best: dict = {}
    used: dict = {}
    for t, X in _states(T):
        if t == T + 1:
            buyer[(t, X)] = seller[(t, X)] = buyer_best[(t, X)] = seller_best[(t, X)] = 0.0
            continue
        if (t, X) not in offers:
            raise ValueError(f"offers has no menu for state {(t, X)}")
        try:
            menu = [((), 0.0)] + [(tuple(sorted(S)), check_real(p, "price")) for S, p in offers[(t, X)]]
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"offers[{(t, X)}] must be a tuple of options (bundle, price) with a finite price: {exc}"
            ) from exc
        for S, _ in menu:
            if not set(S) <= set(X):
                raise ValueError(f"offers[{(t, X)}] sells {S}, which is not a subset of the unsold items {X}")
        now = t in X
        vt, ft = (v, f) if now else (np.zeros(1), np.ones(1))
        nxt = [tuple(i for i in X if i != t and i not in S) for S, _ in menu]
        gross = np.array([[x * (t in S) + mu * len([i for i in S if i != t]) - p for S, p in menu] for x in vt])
        belief = gross + z * np.array([len(L) for L in nxt])
        price = np.array([p for _, p in menu])
        ch = [int(max(np.flatnonzero(row >= row.max() - tol), key=lambda k: price[k])) for row in belief]
        buyer[(t, X)] = float(sum(ft[j] * (gross[j, k] + buyer[(t + 1, nxt[k])]) for j, k in enumerate(ch)))
        seller[(t, X)] = float(sum(ft[j] * (price[k] + seller[(t + 1, nxt[k])]) for j, k in enumerate(ch)))
        best = gross + np.array([buyer_best[(t + 1, L)] for L in nxt])
        buyer_best[(t, X)] = float(ft @ best.max(axis=1))
        used[(t, X)] = tuple(menu[k] for k in sorted(set(ch)))
        seller_best[(t, X)] = _seller_lp(t, X, vt, ft, mu, z, seller_best)
    keys = [k for k in buyer if k[0] <= T]
    return BestResponses(
        buyer, seller, buyer_best, seller_best,
        float(max(buyer_best[k] - buyer[k] for k in keys)),
        float(max(seller_best[k] - seller[k] for k in keys)),
        used,
    )


def _seller_lp(t: int, X: tuple, vt: np.ndarray, ft: np.ndarray, mu: float, z: float, cont: dict) -> float:
    """Best revenue in state (t, X) over direct mechanisms facing a buyer whose continuation is z per unsold item."""
    rest = tuple(i for i in X if i != t)
    subsets = [S for k in range(len(rest) + 1) for S in itertools.combinations(rest, k)]
    left = [tuple(i for i in rest if i not in S) for S in subsets]
    B = np.array([mu * len(S) + z * len(L) for S, L in zip(subsets, left)])
    W = np.array([cont[(t + 1, L)] for L in left])
    m, n = len(vt), len(subsets)
    width = n + 2  # q_j, lottery w_{j,S}, payment p_j
    now = t in X

    def util(j: int, r: int) -> np.ndarray:
        row = np.zeros(m * width)
        row[r * width] = vt[j]
        row[r * width + 1: r * width + 1 + n] = B
        row[r * width + 1 + n] = -1.0
        return row

    A = [util(j, r) - util(j, j) for j in range(m) for r in range(m) if r != j]
    A += [-util(j, j) for j in range(m)]
    b = [0.0] * (m * (m - 1)) + [-z * len(rest)] * m
    Aeq = np.zeros((m, m * width))
    c = np.zeros(m * width)
    bounds: list = []
    for j in range(m):
        Aeq[j, j * width + 1: j * width + 1 + n] = 1.0
        c[j * width + 1: j * width + 1 + n] = -ft[j] * W
        c[j * width + 1 + n] = -ft[j]
        bounds += [(0.0, 1.0 if now else 0.0)] + [(0.0, 1.0)] * n + [(None, None)]
    res = optimize.linprog(c, A_ub=np.array(A), b_ub=np.array(b), A_eq=Aeq, b_eq=np.ones(m), bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - selling nothing is always feasible
        raise RuntimeError(f"state {(t, X)}: {res.message}")
    return -float(res.fun)
