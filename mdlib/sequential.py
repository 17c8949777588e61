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

from ._validation import as_float_array, check_real

__all__ = ["continuation_revenue", "price_points", "two_value_revenues", "TwoValueRevenues"]


def _check_distribution(values: Any, probs: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    v = as_float_array(values, "values")
    q = as_float_array(probs, "probs")
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
    u = as_float_array(promised_utility, "promised_utility")
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


# --------------------------------------------------------------------------- linear programmes of the chapter
# The linear programmes below are small, explicit formulations of the problems of Ashlagi, Daskalakis and
# Haghpanah. They are independent of the tree engine of :mod:`mdlib.finite` and are tested against it.
import itertools as _itertools  # noqa: E402
from typing import Sequence  # noqa: E402

from scipy import optimize as _optimize  # noqa: E402
from scipy import sparse as _sparse  # noqa: E402

__all__ += [
    "continuation_revenue_lp",
    "two_good_continuation_revenue",
    "two_by_two_lp",
    "two_by_two_revenue",
    "optimal_face",
    "TwoByTwoLP",
    "OptimalFace",
]

_TWO_BY_TWO_KINDS = ("separable", "general", "static")


def _solve(c: Any, A_ub: Any, b_ub: Any, A_eq: Any, b_eq: Any, bounds: Any) -> float:
    res = _optimize.linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linear programme not solved: {res.message}")
    return float(-res.fun)


def _ic_rows(v: NDArray[np.float64], ncols: int, x0: int, w0: int) -> list[NDArray[np.float64]]:
    """Rows ``w_j - w_i + (v_i - v_j) x_j <= 0``: type i does not gain by claiming j (x at x0, w at w0)."""
    rows = []
    for i, j in _itertools.permutations(range(len(v)), 2):
        row = np.zeros(ncols)
        row[x0 + j], row[w0 + j], row[w0 + i] = v[i] - v[j], 1.0, -1.0
        rows.append(row)
    return rows


def continuation_revenue_lp(values: Any, probs: Any, promised_utility: float) -> float:
    """Last-period continuation revenue :math:`\\mathrm{CR}_T(w)`, computed by a linear programme.

    The variables are the allocation ``x[i]`` in [0, 1] and the buyer's utility ``w[i] >= 0`` for
    each value ``v[i]`` (the payment is ``v[i] x[i] - w[i]``). The programme maximises
    ``E[v x - w]``, the expected payment, subject to incentive compatibility
    ``w[i] >= w[j] + (v[i] - v[j]) x[j]`` and promise keeping ``E[w] = promised_utility``.
    It is the definition of :math:`\\mathrm{CR}_T` with :math:`\\mathrm{CR}_{T+1}(w) = -w`;
    :func:`continuation_revenue` computes the same number as a concave envelope.

    Parameters
    ----------
    values : vector
        The buyer's possible values of the good, non-negative and strictly increasing.
    probs : vector
        Their probabilities (non-negative, summing to 1).
    promised_utility : float
        The expected utility ``w >= 0`` the buyer must get.

    Returns
    -------
    float
        :math:`\\mathrm{CR}_T(w)`.

    Raises
    ------
    ValueError
        For a bad law, or a ``promised_utility`` that is negative or not finite.

    Examples
    --------
    Values 1, 2, 3 with probabilities .5, .1, .4: at ``w = 0.4`` the seller mixes prices 3 and 1.

    >>> round(continuation_revenue_lp([1, 2, 3], [0.5, 0.1, 0.4], 0.4), 9), round(10 / 9, 9)
    (1.111111111, 1.111111111)
    """
    v, q = _check_distribution(values, probs)
    w = check_real(promised_utility, "promised_utility")
    if w < 0:
        raise ValueError(f"promised_utility must be >= 0, got {w:g}")
    n = len(v)
    rows = _ic_rows(v, 2 * n, 0, n)
    A_ub = np.array(rows) if rows else None
    b_ub = np.zeros(len(rows)) if rows else None
    c = np.concatenate([-q * v, q])
    A_eq = np.concatenate([np.zeros(n), q])[None, :]
    return _solve(c, A_ub, b_ub, A_eq, [w], [(0, 1)] * n + [(0, None)] * n)


def two_good_continuation_revenue(values: Sequence[Any], probs: Sequence[Any], promised_utility: float | None = None) -> float:
    """First-period continuation revenue :math:`\\mathrm{CR}_1(w)` for two goods with independent values.

    One linear programme in the first-period mechanism: allocations ``x[i]`` of good 1 and next
    promises ``w'[i] >= 0`` for each first value ``v1[i]``, incentive compatible
    (``w'[i] >= w'[j] + (v1[i] - v1[j]) x[j]``). The continuation :math:`\\mathrm{CR}_2(w')`, a concave
    envelope, enters as a mixture ``lam[i, :]`` of the posted prices of good 2 (:func:`price_points`)
    plus a cash rebate ``s[i] >= 0``: ``w'[i] = sum_p lam[i, p] utility[p] + s[i]``, and the
    continuation revenue is ``sum_p lam[i, p] revenue[p] - s[i]``. The objective is
    ``E[v1 x + CR_2(w')]``; promise keeping ``E[w'] = w`` is imposed when ``promised_utility`` is given.

    Parameters
    ----------
    values : pair of vectors
        ``(v1, v2)``: the possible values of good 1 and of good 2 (each non-negative, strictly increasing).
    probs : pair of vectors
        ``(f1, f2)``: their probabilities; the two values are independent.
    promised_utility : float, optional
        ``w >= 0``. Default ``None``: maximise over ``w >= 0``, which gives the optimal revenue of the
        separable class (and, with independent values, of every mechanism).

    Returns
    -------
    float
        :math:`\\mathrm{CR}_1(w)`, or :math:`\\max_{w \\ge 0} \\mathrm{CR}_1(w)`.

    Raises
    ------
    ValueError
        If ``values`` or ``probs`` is not a pair of valid laws, or ``promised_utility`` is negative or not finite.

    Examples
    --------
    Values 1, 2 for both goods, ``P(v1 = 2) = 0.3``, ``P(v2 = 2) = 0.6``: the optimum is the best of
    the five candidates of Proposition 4.

    >>> r = two_good_continuation_revenue([[1, 2], [1, 2]], [[0.7, 0.3], [0.4, 0.6]])
    >>> round(r, 9), round(two_value_revenues(0.3, 0.6).best, 9)
    (2.32, 2.32)
    """
    if not isinstance(values, (list, tuple)) or len(values) != 2:
        raise ValueError("values must be a pair (v1, v2) of value vectors")
    if not isinstance(probs, (list, tuple)) or len(probs) != 2:
        raise ValueError("probs must be a pair (f1, f2) of probability vectors")
    v1, f1 = _check_distribution(values[0], probs[0])
    v2, f2 = _check_distribution(values[1], probs[1])
    w = None
    if promised_utility is not None:
        w = check_real(promised_utility, "promised_utility")
        if w < 0:
            raise ValueError(f"promised_utility must be >= 0, got {w:g}")
    rent, rev = price_points(v2, f2)
    n, m = len(v1), len(rent)
    N = 3 * n + n * m  # x[n], w'[n], lam[n, m], s[n]
    lam0, s0 = 2 * n, 2 * n + n * m
    c = np.concatenate([-f1 * v1, np.zeros(n), -np.kron(f1, rev), f1])
    A_ub = _ic_rows(v1, N, 0, n)
    A_eq, b_eq = [], []
    for j in range(n):
        row = np.zeros(N)  # w'_j - sum_p lam_jp rent_p - s_j = 0
        row[n + j], row[s0 + j] = 1.0, -1.0
        row[lam0 + j * m : lam0 + (j + 1) * m] = -rent
        A_eq.append(row)
        row = np.zeros(N)  # sum_p lam_jp = 1
        row[lam0 + j * m : lam0 + (j + 1) * m] = 1.0
        A_eq.append(row)
        b_eq += [0.0, 1.0]
    if w is not None:
        A_eq.append(np.concatenate([np.zeros(n), f1, np.zeros(N - 2 * n)]))
        b_eq.append(w)
    A = np.array(A_ub) if A_ub else None
    b = np.zeros(len(A_ub)) if A_ub else None
    return _solve(c, A, b, np.array(A_eq), b_eq, [(0, 1)] * n + [(0, None)] * (N - n))


class TwoByTwoLP(NamedTuple):
    """The linear programme of :func:`two_by_two_lp`: maximise ``-c @ z`` subject to ``A_ub @ z <= b_ub`` and ``bounds``."""

    c: NDArray[np.float64]
    """Objective to minimise (minus the expected payment)."""
    A_ub: NDArray[np.float64]
    """Constraint matrix, one row per constraint."""
    b_ub: NDArray[np.float64]
    """Right-hand sides (all zero)."""
    bounds: list
    """``(low, high)`` for every column."""
    columns: list
    """Name of every column, e.g. ``"x1(2,1)"``, ``"p(1,2)"``, ``"B(2,1)"`` (values numbered 1, 2)."""
    rows: list
    """Name of every constraint, e.g. ``"IR (1,2)"``, ``"lie in period 2 at (2,1)"``."""
    n_mechanism: int
    """The first ``n_mechanism`` columns are the mechanism (allocations and payments); the rest are the bounds ``B``."""


def _check_two_by_two(values: Any, probs: Any, kind: Any) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    v = as_float_array(values, "values")
    P = as_float_array(probs, "probs")
    if v.shape != (2, 2) or not np.all(np.isfinite(v)):
        raise ValueError(f"values must be a 2 x 2 array of finite numbers (two values for each of two goods), got shape {v.shape}")
    if P.shape != (2, 2) or not np.all(np.isfinite(P)) or np.any(P <= 0) or abs(P.sum() - 1.0) > 1e-9:
        raise ValueError("probs must be a 2 x 2 array of positive probabilities summing to 1 (tolerance 1e-9)")
    if kind not in _TWO_BY_TWO_KINDS:
        raise ValueError(f"kind must be one of {_TWO_BY_TWO_KINDS}, got {kind!r}")
    return v, P, kind


def two_by_two_lp(values: Any, probs: Any, kind: str = "separable") -> TwoByTwoLP:
    """The revenue-maximisation programme for two goods with two values each, written out row by row.

    Columns: ``x1`` (good 1: by the first report for ``"separable"``, by the report path otherwise),
    ``x2`` and ``p`` by report path, and for the sequential kinds one bound ``B(h)`` per true path
    ``h`` on what a buyer who lied in period 1 can still get. Rows: ex-post participation on every
    path; for ``"static"`` every misreport of a whole path; for ``"separable"`` and ``"general"`` a
    lie in period 2 after a truthful first report, ``B(h) >=`` the payoff of each period-2 report
    after a first-period lie (valued at the *true* path ``h``), and for each first value ``E[B | v1]
    <= E[truthful utility | v1]``. With two periods these rows are every incentive constraint.
    Every type path is required to have positive probability, as in ADH's model.

    Parameters
    ----------
    values : 2 x 2 array
        ``values[t]`` are the two values of good ``t + 1``.
    probs : 2 x 2 array
        ``probs[i, j] = P(v1 = values[0][i], v2 = values[1][j])``; positive, summing to 1 (any correlation).
    kind : {"separable", "general", "static"}
        ADH's class of mechanisms.

    Returns
    -------
    TwoByTwoLP

    Raises
    ------
    ValueError
        For values or probabilities of the wrong shape, a path of probability zero, or an unknown ``kind``.

    Examples
    --------
    >>> lp = two_by_two_lp([[1, 2], [1, 2]], [[0.25, 0.25], [0.25, 0.25]], kind="separable")
    >>> len(lp.columns), lp.n_mechanism, lp.rows[:2]
    (14, 10, ['IR (1,1)', 'lie in period 2 at (1,1)'])
    """
    v, P, kind = _check_two_by_two(values, probs, kind)
    paths = list(_itertools.product(range(2), repeat=2))
    name = lambda h: f"({h[0] + 1},{h[1] + 1})"  # noqa: E731
    columns = ([f"x1({i + 1})" for i in range(2)] if kind == "separable" else [f"x1{name(h)}" for h in paths])
    columns += [f"x2{name(h)}" for h in paths] + [f"p{name(h)}" for h in paths]
    n_mech = len(columns)
    if kind != "static":
        columns += [f"B{name(h)}" for h in paths]
    col = {c: i for i, c in enumerate(columns)}
    N = len(columns)

    def util(h: tuple[int, int], r: tuple[int, int]) -> NDArray[np.float64]:
        """Utility of the true path h under the report path r, as a row."""
        row = np.zeros(N)
        row[col[f"x1({r[0] + 1})" if kind == "separable" else f"x1{name(r)}"]] += v[0][h[0]]
        row[col[f"x2{name(r)}"]] += v[1][h[1]]
        row[col[f"p{name(r)}"]] -= 1.0
        return row

    A, rows = [], []
    for h in paths:
        A.append(-util(h, h))
        rows.append(f"IR {name(h)}")
        if kind == "static":
            for r in paths:
                if r != h:
                    A.append(util(h, r) - util(h, h))
                    rows.append(f"report {name(r)} at {name(h)}")
            continue
        A.append(util(h, (h[0], 1 - h[1])) - util(h, h))
        rows.append(f"lie in period 2 at {name(h)}")
        for r2 in range(2):
            row = util(h, (1 - h[0], r2))
            row[col[f"B{name(h)}"]] -= 1.0
            A.append(row)
            rows.append(f"B{name(h)} >= report {name((1 - h[0], r2))}")
    if kind != "static":
        for h1 in range(2):
            cond = P[h1] / P[h1].sum()
            row = np.zeros(N)
            for k in range(2):
                row[col[f"B{name((h1, k))}"]] += cond[k]
                row -= cond[k] * util((h1, k), (h1, k))
            A.append(row)
            rows.append(f"lie in period 1 at ({h1 + 1})")
    c = np.zeros(N)
    for h in paths:
        c[col[f"p{name(h)}"]] = -P[h]
    n_x = n_mech - 4
    bounds = [(0.0, 1.0)] * n_x + [(None, None)] * (N - n_x)
    return TwoByTwoLP(c, np.array(A), np.zeros(len(A)), bounds, columns, rows, n_mech)


def two_by_two_revenue(values: Any, probs: Any, kind: str = "separable") -> Any:
    """Optimal revenue of a class of mechanisms for two goods with two values each (ex-post participation).

    Solves :func:`two_by_two_lp`; an independent formulation of ``optimal_mechanism(values, probs,
    kind=kind).revenue`` for full-support laws. Given a stack of joint laws, it solves all their
    programmes at once, as one programme whose constraint matrix is block diagonal: each block's
    optimum is that law's optimum, and one solve of the whole replaces many calls with their fixed
    overhead (about ten times faster for a few hundred laws).

    Parameters
    ----------
    values : 2 x 2 array
        ``values[t]`` are the two values of good ``t + 1``.
    probs : 2 x 2 array, or array of shape (..., 2, 2)
        Joint law of the two values, every path with positive probability; or a stack of such laws.
    kind : {"separable", "general", "static"}

    Returns
    -------
    float, or ndarray of shape ``probs.shape[:-2]``
        The optimal revenue for each law.

    Raises
    ------
    ValueError
        As :func:`two_by_two_lp`, for any law of the stack.

    Examples
    --------
    ADH's Example 2 with mass 0.01 on each of (1, 1) and (2, 2): the bundle earns ``3 (1 - 0.01)``,
    the best separable mechanism ``2.5 - 0.01``.

    >>> P = [[0.01, 0.49], [0.49, 0.01]]
    >>> round(two_by_two_revenue([[1, 2], [1, 2]], P, "general"), 9), round(two_by_two_revenue([[1, 2], [1, 2]], P), 9)
    (2.97, 2.49)

    Several laws at once: independent values, ``P(v2 = 2) = 0.7`` and ``P(v1 = 2) = 0.3, 0.5, 0.7``.
    Posted prices earn ``max(1, 2 P(v1 = 2)) + 1.4`` (2.4, 2.4, 2.8); at 0.5 the bundle at 3 does
    better, ``3 (1 - 0.5 * 0.3) = 2.55``.

    >>> laws = [np.outer([1 - q, q], [0.3, 0.7]) for q in (0.3, 0.5, 0.7)]
    >>> two_by_two_revenue([[1, 2], [1, 2]], laws, "static").round(9)
    array([2.4 , 2.55, 2.8 ])
    """
    P = as_float_array(probs, "probs")
    if P.ndim <= 2:
        lp = two_by_two_lp(values, P, kind)
        return _solve(lp.c, lp.A_ub, lp.b_ub, None, None, lp.bounds)
    if P.shape[-2:] != (2, 2):
        raise ValueError(f"probs must be a 2 x 2 array or a stack of them (shape (..., 2, 2)), got shape {P.shape}")
    lps = [two_by_two_lp(values, Pk, kind) for Pk in P.reshape(-1, 2, 2)]
    width = len(lps[0].c)
    res = _optimize.linprog(np.concatenate([lp.c for lp in lps]),
                            A_ub=_sparse.block_diag([_sparse.csr_array(lp.A_ub) for lp in lps], format="csr"),
                            b_ub=np.concatenate([lp.b_ub for lp in lps]),
                            bounds=[b for lp in lps for b in lp.bounds], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linear programme not solved: {res.message}")
    blocks = (res.x * np.concatenate([lp.c for lp in lps])).reshape(len(lps), width)
    return -blocks.sum(axis=1).reshape(P.shape[:-2])


class OptimalFace(NamedTuple):
    """What :func:`optimal_face` returns."""

    revenue: float
    """The optimal revenue."""
    low: NDArray[np.float64]
    """Smallest value of each mechanism variable over the (relaxed) optimal face."""
    high: NDArray[np.float64]
    """Largest value of each mechanism variable over that face."""
    columns: list
    """Names of the mechanism variables (as in :class:`TwoByTwoLP`)."""

    @property
    def width(self) -> float:
        """Largest ``high - low``: about ``slack`` (times a constant) when the optimum is unique."""
        return float(np.max(self.high - self.low))


def optimal_face(values: Any, probs: Any, kind: str = "separable", slack: float = 1e-9) -> OptimalFace:
    """Range of every allocation and payment over the optimal mechanisms of :func:`two_by_two_lp`.

    Solves the programme, keeps only the mechanisms within ``slack`` of the optimal revenue, and
    minimises and maximises each mechanism variable over them (two programmes per variable). The
    optimum is unique when every range is about as narrow as ``slack`` allows. The bounds ``B`` of
    a liar's payoff are auxiliary and are not reported.

    Parameters
    ----------
    values, probs, kind
        As :func:`two_by_two_lp`.
    slack : float
        Revenue given up to define the face, in (0, 1e-3].

    Returns
    -------
    OptimalFace

    Raises
    ------
    ValueError
        As :func:`two_by_two_lp`, or for ``slack`` outside (0, 1e-3].

    Examples
    --------
    Inside the region of Proposition 3 the optimum is mechanism 5, and it is unique:

    >>> face = optimal_face([[1, 2], [1, 2]], [[0.21, 0.49], [0.09, 0.21]])
    >>> round(face.revenue, 9), face.width < 1e-6
    (2.49, True)
    """
    slack = check_real(slack, "slack")
    if not 0 < slack <= 1e-3:
        raise ValueError(f"slack must lie in (0, 0.001], got {slack:g}")
    lp = two_by_two_lp(values, probs, kind)
    opt = _solve(lp.c, lp.A_ub, lp.b_ub, None, None, lp.bounds)
    A = np.vstack([lp.A_ub, lp.c])
    b = np.r_[lp.b_ub, -opt + slack]
    N = len(lp.columns)
    ranges = np.array([[-sign * _solve(sign * np.eye(N)[i], A, b, None, None, lp.bounds) for sign in (1.0, -1.0)]
                       for i in range(lp.n_mechanism)])
    return OptimalFace(opt, ranges[:, 0], ranges[:, 1], lp.columns[: lp.n_mechanism])
