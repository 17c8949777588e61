"""Static auctions: the optimal (Myerson) auction, second-price auctions, posted prices.

All revenues are exact expectations computed by quadrature (``scipy.integrate.tanhsinh``),
for ``n_bidders`` bidders with i.i.d. values drawn from ``dist``, any continuous
scipy.stats distribution (legacy or new-style; see :mod:`mdlib.distributions`).

The formulas use only the survival function ``S = 1 - F`` of ``dist``. With
``B1(t) = 1 - F(t)^n`` (some value exceeds ``t``) and ``B2(t)`` the probability that
at least two of the ``n`` values exceed ``t``,

* second-price auction with reserve ``r``: revenue ``r B1(r) + int_r^hi B2(t) dt``
  (the tail formula for the expected payment ``max(r, second-highest value)``);
* optimal auction: revenue ``int phibar(v)^+ dF(v)^n`` which, integrated by parts
  on each piece where ``phibar = phi``, is the second-price revenue at the optimal
  reserve ``r*`` corrected on every ironing interval ``[a, b]`` above ``r*`` with
  constant ``phibar = c`` by ``c (B1(a) - B1(b)) - (a B1(a) - b B1(b) + int_a^b B2)``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from scipy import integrate, special

from ._validation import check_positive_int, check_real, format_number
from ._scipy import _SPLIT_LEVELS, _as_dist, _Dist, _ironing, _monopoly_price

__all__ = [
    "PostedPrice",
    "optimal_reserve",
    "myerson_revenue",
    "second_price_revenue",
    "posted_price_revenue",
]


class PostedPrice(NamedTuple):
    """The monopoly posted price for one buyer and the revenue it earns."""

    price: float
    """The price :math:`p^*`, a maximiser of :math:`p\\,(1 - F(p))`."""
    revenue: float
    """The revenue :math:`R^* = p^*(1 - F(p^*))`."""


# --------------------------------------------------------------------------- helpers
def _b1(n: int, s: float) -> float:
    """P(at least one of n values exceeds t) when S(t) = s."""
    return float(special.betainc(1.0, float(n), s))


def _b2(n: int, s: float) -> float:
    """P(at least two of n values exceed t) when S(t) = s (n >= 2)."""
    return float(special.betainc(2.0, float(n - 1), s))


class _Pieces(NamedTuple):
    head: float  # r B1(r) (plus the part of int B2 below the support)
    pieces: list[tuple[float, float, float]]  # (x0, x1, int_{x0}^{x1} B2)
    error: float  # summed error estimate of the quadratures


def _spa_pieces(d: _Dist, n: int, r: float, breaks: tuple[float, ...] = ()) -> _Pieces:
    """The second-price revenue with reserve r, as a head term plus integrals of B2 on pieces."""
    start = max(r, d.lo)
    head = r * _b1(n, d.sf1(start)) + ((start - r) if n >= 2 else 0.0)
    if n == 1 or start >= d.hi:
        return _Pieces(head, [], 0.0)
    cut = {float(x) for x in d.isf(np.array(_SPLIT_LEVELS))}
    cut.update(float(x) for x in breaks)
    cut.update(d.kinks)
    inner = sorted(x for x in cut if math.isfinite(x) and start < x < d.hi)
    edges = np.array([start, *inner, d.hi])
    x0s, x1s = edges[:-1], edges[1:]
    b2 = lambda t: special.betainc(2.0, float(n - 1), d.sf(t))  # noqa: E731
    values, errors, status = np.empty(x0s.size), np.empty(x0s.size), np.zeros(x0s.size, dtype=int)
    # a piece a few ulps wide (two cuts at one point up to rounding): B2 is in [0, 1], so its integral is
    # its width times B2 at its left end, up to its width; tanh-sinh cannot place nodes inside it
    narrow = x1s - x0s <= 1e-13 * (np.abs(x0s) + d.scale)
    values[narrow] = (x1s - x0s)[narrow] * b2(x0s[narrow])
    errors[narrow] = (x1s - x0s)[narrow]
    if not narrow.all():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # judged by the status and error estimate below instead
            # every piece at once: tanh-sinh quadrature evaluates B2 on arrays of points, one call per level
            res = integrate.tanhsinh(b2, x0s[~narrow], x1s[~narrow], atol=1e-14 * d.scale, rtol=1e-12)
        values[~narrow], errors[~narrow], status[~narrow] = res.integral, res.error, res.status
    for x0, x1, val, err, code in zip(x0s, x1s, values, errors, status):
        if not (math.isfinite(val) and math.isfinite(err)) or code == -3:  # -3: a non-finite value of B2
            raise ValueError(
                f"the revenue integral is not finite on [{format_number(x0)}, {format_number(x1)}]: "
                "dist has too heavy an upper tail (the second-highest value needs a finite mean)"
            )
    pieces = [(float(x0), float(x1), float(val)) for x0, x1, val in zip(x0s, x1s, values)]
    # a piece where the tolerance was not reached counts as an unbounded error: _checked_total refuses it
    error = float(np.sum(np.where(status == 0, errors, np.inf)))
    return _Pieces(head, pieces, error)


def _checked_total(total: float, error: float, d: _Dist) -> float:
    if not math.isfinite(total):
        raise ValueError("the revenue is not finite: dist needs a finite mean")
    if error > 1e-8 * abs(total) + 1e-12 * d.scale:
        raise ValueError(
            f"the quadrature for the revenue did not converge (estimated error {error:.3g} "
            f"for a revenue of {total:.6g}); dist may have too heavy a tail"
        )
    return float(total)


def _check_reserve(d: _Dist, reserve: Any) -> float:
    r = check_real(reserve, "reserve")
    if d.lo <= r <= d.hi or (r == 0.0 and d.lo >= 0.0):
        return r
    raise ValueError(f"reserve must lie in the support {d.support_text} of dist, got {format_number(r)}")


# --------------------------------------------------------------------------- public
def optimal_reserve(dist: Any) -> float:
    r"""The optimal reserve :math:`r^*`, where the ironed virtual value crosses zero.

    Parameters
    ----------
    dist : scipy.stats continuous distribution
        The distribution ``F`` of each bidder's value.

    Returns
    -------
    float
        :math:`r^*` with :math:`\bar\varphi(r^*) = 0`: the smallest maximiser of the
        revenue curve :math:`p\,(1 - F(p))` over prices ``p`` in the support. It is the
        lower end of the support if :math:`\bar\varphi > 0` there, and the upper end if
        no price earns positive revenue. It does not depend on the number of bidders,
        and it equals the monopoly price :math:`p^*` of :func:`posted_price_revenue`.

    Raises
    ------
    ValueError
        As :func:`~mdlib.distributions.ironing_intervals` does, for a bad ``dist``.

    Notes
    -----
    Found on the grid of :func:`~mdlib.distributions.ironing_intervals`, refined
    with a bounded Brent search and then by solving :math:`\varphi(r) = 0` with
    ``brentq`` where the density is smooth (accurate to about 1e-13 relative there).

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import optimal_reserve
    >>> round(optimal_reserve(stats.uniform(0, 1)), 9)
    0.5
    >>> round(optimal_reserve(stats.expon(scale=3)), 9)   # r* = scale (the mean)
    3.0
    >>> round(optimal_reserve(stats.uniform(2, 1)), 9)    # U[2, 3]: phi > 0 at the bottom
    2.0
    """
    d = _as_dist(dist)
    d.require_finite_mean()
    return float(_monopoly_price(d, _ironing(d)))


def second_price_revenue(dist: Any, n_bidders: int, reserve: float = 0.0) -> float:
    r"""Expected revenue of the second-price auction with an anonymous reserve.

    Parameters
    ----------
    dist : scipy.stats continuous distribution
        The distribution ``F`` of each bidder's value (values are i.i.d.).
    n_bidders : int
        The number of bidders ``n >= 1``.
    reserve : float, default 0.0
        The reserve price ``r``. It must lie in the closed support ``[lo, hi]`` of
        ``dist``, with one exception: ``reserve = 0.0`` (the default, "no reserve")
        is also accepted when ``0 <= lo``. A zero reserve below the support is a real
        zero reserve: with ``n >= 2`` bidders it earns the same as a reserve at
        ``lo``; a single bidder then pays 0.

    Returns
    -------
    float
        The expected payment :math:`\mathbb{E}[\max(r, v_{(2)})\,;\ v_{(1)} \ge r]`.

    Raises
    ------
    ValueError
        If ``n_bidders`` is not a positive integer (floats and bools included), if
        ``reserve`` is NaN, infinite or outside the support as above, if ``dist`` is
        bad, or if the revenue integral is not finite (a heavy tail without a mean).

    Notes
    -----
    With :math:`B_1(t) = 1 - F(t)^n` and
    :math:`B_2(t) = \Pr[\text{at least two values exceed } t] = I_{1-F(t)}(2, n-1)`,

    .. math:: \text{revenue} = r\,B_1(r) + \int_r^{\bar v} B_2(t)\,dt
              = n \int_r^{\bar v} \varphi(v) F(v)^{n-1} f(v)\,dv.

    The first form needs only the survival function, whose tail is accurate, and
    stays finite whenever the second-highest value has a mean. The integral is
    split at the reserve, at quantiles of ``dist`` and at the ends of the
    components of a mixture, and every piece is integrated at once by tanh-sinh
    quadrature (``scipy.integrate.tanhsinh``, which evaluates the survival
    function on arrays of points); its relative error is about 1e-10 or better.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import second_price_revenue
    >>> round(second_price_revenue(stats.uniform(0, 1), 2), 9)   # E[second-highest] = 1/3
    0.333333333
    >>> round(second_price_revenue(stats.uniform(0, 1), 2, reserve=0.5), 9)   # = 5/12
    0.416666667
    >>> round(second_price_revenue(stats.expon(scale=3), 3), 9)   # 3 (1/2 + 1/3)
    2.5
    """
    d = _as_dist(dist)
    n = check_positive_int(n_bidders, "n_bidders")
    r = _check_reserve(d, reserve)
    d.require_finite_mean()
    res = _spa_pieces(d, n, r)
    total = res.head + sum(val for _, _, val in res.pieces)
    return _checked_total(total, res.error, d)


def myerson_revenue(dist: Any, n_bidders: int) -> float:
    r"""Expected revenue of Myerson's optimal auction with ``n_bidders`` i.i.d. bidders.

    Parameters
    ----------
    dist : scipy.stats continuous distribution
        The distribution ``F`` of each bidder's value; it need not be regular.
    n_bidders : int
        The number of bidders ``n >= 1``.

    Returns
    -------
    float
        :math:`\mathbb{E}[\max(0, \max_i \bar\varphi(v_i))]`, the expected ironed
        virtual surplus. For a regular ``dist`` it equals the revenue of the
        second-price auction with reserve :math:`r^*`; with ``n = 1`` it is the
        monopoly revenue :math:`R^*`.

    Raises
    ------
    ValueError
        If ``n_bidders`` is not a positive integer, ``dist`` is bad (including an
        unbounded support without a finite mean), or the quadrature fails.

    Notes
    -----
    Since :math:`\bar\varphi` is nondecreasing, the revenue is
    :math:`\int_{r^*}^{\bar v} \bar\varphi(v)\,dF(v)^n`. Where
    :math:`\bar\varphi = \varphi` this equals the second-price formula of
    :func:`second_price_revenue`; on each ironing interval :math:`[a, b]` above
    :math:`r^*`, with constant value ``c``, it is :math:`c\,(F(b)^n - F(a)^n)`.
    The quadrature is split at the support ends, :math:`r^*`, the ironing ends and
    quantiles of ``dist``; the ends enter to second order only (tangency), so the
    relative error is about 1e-10 (1e-8 when an end sits where the density jumps).

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import myerson_revenue
    >>> round(myerson_revenue(stats.uniform(0, 1), 2), 9)   # 5/12
    0.416666667
    >>> round(myerson_revenue(stats.uniform(0, 1), 1), 9)   # one buyer: the monopoly revenue 1/4
    0.25
    """
    d = _as_dist(dist)
    n = check_positive_int(n_bidders, "n_bidders")
    d.require_finite_mean()
    g = _ironing(d)
    r = _monopoly_price(d, g)
    if r >= d.hi:
        return 0.0
    tol = 1e-12 * (abs(r) + d.scale)
    above = [(a, b, c) for a, b, c in g.intervals if b > r + tol]
    breaks = tuple(x for a, b, _ in above for x in (a, b))
    res = _spa_pieces(d, n, r, breaks)
    total = res.head
    for x0, x1, val in res.pieces:
        if not any(a - tol <= x0 and x1 <= b + tol for a, b, _ in above):
            total += val
    for a, b, c in above:
        a = max(a, r)
        b1a, b1b = _b1(n, d.sf1(a)), _b1(n, d.sf1(b))
        total += c * (b1a - b1b) - a * b1a + b * b1b
    return _checked_total(total, res.error, d)


def posted_price_revenue(dist: Any) -> PostedPrice:
    r"""The monopoly posted price for one buyer, and its revenue.

    Parameters
    ----------
    dist
        As in :func:`optimal_reserve`; here the distribution of the one buyer's value.

    Returns
    -------
    PostedPrice
        A named tuple ``(price, revenue)`` of floats: the price
        :math:`p^* = \arg\max_p p\,(1 - F(p))` (the smallest maximiser; the global one
        for an irregular ``F``) and :math:`R^* = p^*(1 - F(p^*))`. The price equals
        :func:`optimal_reserve`: the maximum of :math:`\bar R` is attained where
        :math:`R` is maximal.

    Raises
    ------
    ValueError
        For a bad ``dist`` (including one with an unbounded support and no finite mean).

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import posted_price_revenue
    >>> pp = posted_price_revenue(stats.uniform(0, 1))
    >>> round(pp.price, 9), round(pp.revenue, 9)
    (0.5, 0.25)
    """
    d = _as_dist(dist)
    d.require_finite_mean()
    price = float(_monopoly_price(d, _ironing(d)))
    return PostedPrice(price, float(price * d.sf1(price)) if price < d.hi else 0.0)
