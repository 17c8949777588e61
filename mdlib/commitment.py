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
from typing import Any, NamedTuple

import numpy as np
from scipy import integrate, optimize

from .auctions import posted_price_revenue

__all__ = ["positive_commitment", "commitment_game", "PositiveCommitment", "CommitmentGame"]

_TIE_TOL = 1e-9  # two prices whose revenues differ by less than this are a tie
_TIE_GAP = 1e-4  # ... when they are at least this far apart (relative to the scale of the values)


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


def _finite(dist: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if isinstance(dist, tuple) and len(dist) == 2:
        v = np.asarray(dist[0], dtype=np.float64)
        q = np.asarray(dist[1], dtype=np.float64)
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
    rent = float(integrate.quad(lambda x: (x - p) * dist.pdf(x), p, hi, limit=200)[0])
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
    fin = _finite((values, probs))
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
