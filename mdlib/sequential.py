"""Sequential mechanisms with ex-post participation (Ashlagi, Daskalakis and Haghpanah, 2023).

Two pieces of their analysis in closed form, to be checked against the linear programmes of
:mod:`mdlib.finite`:

* :func:`continuation_revenue` -- the last-period continuation revenue :math:`CR_k(u)`: the most a
  seller can earn from one good sold to a buyer with finitely many values, subject to incentive
  compatibility, ex-post participation and giving him expected utility exactly ``u``. It is the
  upper concave envelope of the points (buyer's utility, revenue) of the posted prices, continued
  with slope -1 past the lowest price (a cash rebate).
* :func:`two_value_revenues` -- the revenues of the five candidate mechanisms of their
  Proposition 4 (two goods, two values), whose maximum is the optimum.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validation import check_real

__all__ = ["continuation_revenue", "price_points", "two_value_revenues", "TwoValueRevenues"]


def _check_distribution(values: Any, probs: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    v = np.asarray(values, dtype=np.float64)
    q = np.asarray(probs, dtype=np.float64)
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise ValueError(f"values must be a non-empty vector of finite numbers, got shape {v.shape}")
    if q.shape != v.shape:
        raise ValueError(f"probs must have the shape of values {v.shape}, got {q.shape}")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or abs(q.sum() - 1.0) > 1e-9:
        raise ValueError("probs must be non-negative and sum to 1 (tolerance 1e-9)")
    if np.any(np.diff(v) <= 0) or v[0] < 0:
        raise ValueError("values must be non-negative and strictly increasing")
    return v, q


def price_points(values: Any, probs: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Buyer's expected utility and seller's revenue of every posted price ``p`` in ``values``.

    Parameters
    ----------
    values : vector
        The buyer's possible values, non-negative and strictly increasing.
    probs : vector
        Their probabilities (non-negative, summing to 1).

    Returns
    -------
    (utility, revenue) : two vectors
        ``utility[i] = E[(v - values[i])^+]`` and ``revenue[i] = values[i] P(v >= values[i])``.

    Raises
    ------
    ValueError
        For values that are not non-negative and increasing, or probabilities that do not match.

    Examples
    --------
    >>> u, r = price_points([1.0, 2.0], [0.7, 0.3])
    >>> u.round(6).tolist(), r.round(6).tolist()
    ([0.3, 0.0], [1.0, 0.6])
    """
    v, q = _check_distribution(values, probs)
    utility = np.maximum(v[None, :] - v[:, None], 0.0) @ q
    revenue = v * np.cumsum(q[::-1])[::-1]
    return utility, revenue


def continuation_revenue(values: Any, probs: Any, promised_utility: Any) -> NDArray[np.float64] | float:
    """Last-period continuation revenue :math:`CR_k(u)` of Ashlagi, Daskalakis and Haghpanah.

    The largest expected payment from one good when the buyer's value has the finite law
    ``(values, probs)``, the mechanism is incentive compatible and ex-post individually rational,
    and the buyer's expected utility is exactly ``u``. It is the upper concave envelope of the
    points of :func:`price_points`, extended beyond the lowest price's point
    ``(E[v] - min v, min v)`` with slope -1 (a sale at the lowest value plus a cash transfer).

    Parameters
    ----------
    values, probs : vectors
        The law of the value (values non-negative, strictly increasing).
    promised_utility : float or array
        ``u >= 0``.

    Returns
    -------
    float or array
        :math:`CR_k(u)`, with the shape of ``promised_utility``.

    Raises
    ------
    ValueError
        For a bad law or a negative or non-finite ``promised_utility``.

    Examples
    --------
    Values 1, 2, 3 with probabilities .5, .1, .4: price 2 is dominated by mixing prices 3 and 1.

    >>> round(continuation_revenue([1, 2, 3], [0.5, 0.1, 0.4], 0.4), 9), round(10 / 9, 9)
    (1.111111111, 1.111111111)
    """
    v, q = _check_distribution(values, probs)
    u = np.asarray(promised_utility, dtype=np.float64)
    if not np.all(np.isfinite(u)) or np.any(u < 0):
        raise ValueError("promised_utility must be finite and >= 0")
    pu, pr = price_points(v, q)
    order = np.argsort(pu, kind="stable")  # increasing utility = decreasing price
    xs, ys = pu[order], pr[order]
    hull: list[int] = []  # upper concave hull, monotone chain
    for i in range(len(xs)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (ys[b] - ys[a]) * (xs[i] - xs[a]) <= (ys[i] - ys[a]) * (xs[b] - xs[a]):
                hull.pop()
            else:
                break
        if hull and xs[hull[-1]] == xs[i]:
            if ys[i] > ys[hull[-1]]:
                hull[-1] = i
            continue
        hull.append(i)
    hx, hy = xs[hull], ys[hull]
    out = np.where(u <= hx[-1], np.interp(u, hx, hy), hy[-1] - (u - hx[-1]))
    return float(out) if out.ndim == 0 else out


class TwoValueRevenues(NamedTuple):
    """Revenues of the five candidate mechanisms of Proposition 4 (two goods, values ``lo < hi``)."""

    separate_low: float
    """R1: each good at price ``lo``."""
    separate_high: float
    """R2: each good at price ``hi``."""
    high_then_low: float
    """R3: good 1 at ``hi``, good 2 at ``lo``."""
    bundle: float
    """R4: only the bundle, at ``lo + hi``."""
    dynamic: float
    """R5: good 1 to everyone; good 2 at ``hi`` after a low first value, at ``p* = lo - (1 - q2)(hi - lo)`` after a high one."""

    @property
    def best(self) -> float:
        """The optimal revenue over all mechanisms, :math:`\\max(R_1, \\dots, R_5)`."""
        return max(self)


def two_value_revenues(q1: float, q2: float, lo: float = 1.0, hi: float = 2.0) -> TwoValueRevenues:
    """The five revenues :math:`R_1, \\dots, R_5` of Proposition 4 of Ashlagi, Daskalakis and Haghpanah.

    Parameters
    ----------
    q1, q2 : float in [0, 1]
        Probabilities that the value of good 1, good 2 is ``hi`` (independent goods).
    lo, hi : float
        The two values, ``0 <= lo < hi``.

    Returns
    -------
    TwoValueRevenues

    Raises
    ------
    ValueError
        For probabilities outside [0, 1] or values with ``lo < 0`` or ``lo >= hi``.

    Examples
    --------
    >>> r = two_value_revenues(1 / 3, 1 / 2)
    >>> round(r.dynamic, 9), round(r.best - max(r[:4]), 9)
    (2.166666667, 0.166666667)
    """
    q1 = check_real(q1, "q1")
    q2 = check_real(q2, "q2")
    lo = check_real(lo, "lo")
    hi = check_real(hi, "hi")
    for name, q in (("q1", q1), ("q2", q2)):
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {q:g}")
    if not 0.0 <= lo < hi:
        raise ValueError(f"lo and hi must satisfy 0 <= lo < hi, got lo={lo:g}, hi={hi:g}")
    r1 = 2 * lo
    r2 = hi * (q1 + q2)
    r3 = hi * q1 + lo
    r4 = (lo + hi) * (1 - (1 - q1) * (1 - q2))
    r5 = lo * (1 + q1) + q2 * (hi - q1 * lo)
    return TwoValueRevenues(r1, r2, r3, r4, r5)
