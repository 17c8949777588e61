r"""Gittins indices of Markov arms and of Bernoulli arms with Beta posteriors.

An **arm** is a Markov chain on finitely many states ``0, ..., n - 1`` with transition
matrix ``P`` and reward ``r[s]`` per period; it moves only when it is played. Its
**Gittins index** in state :math:`s` is the best reward rate that stopping can buy,

.. math:: \gamma(s) = \max_{\tau \ge 1}
          \frac{\mathbb{E}_s \sum_{t < \tau} \delta^t r(s_t)}{\mathbb{E}_s \sum_{t < \tau} \delta^t},

in the units of ``r``. Equivalently (the **calibration** or retirement
characterisation) it is the constant reward :math:`\lambda` per period that makes the
owner indifferent between playing the arm once more, with the option to retire on
:math:`\lambda` forever afterwards, and retiring now.

:func:`gittins_index` computes every state's index exactly, by the
largest-remaining-index algorithm of Varaiya, Walrand and Buyukkoc in the
state-elimination form of Sonin: the state with the largest reward has the largest
index; eliminating it (a path that enters it goes on through it) leaves a smaller
arm whose "rewards" and "durations" are discounted sums, and the next index is the
largest remaining ratio. Each elimination is a rank-one update, :math:`O(n^3)` in all.

:func:`bernoulli_gittins_index` computes the index of a Bernoulli arm whose unknown
success probability has a Beta(``a``, ``b``) posterior, by calibration: a backward
induction on the posterior tree finds the value of the retirement problem, and a
safeguarded Newton iteration on the retirement reward (the value is convex and
piecewise linear in it) finds the indifference point. The tree is cut at a depth
where the truncation error is provably below the tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._markov import ROW_SUM_TOL
from ._validation import as_real_array, check_discount, check_positive_int, check_real, format_number

__all__ = ["gittins_index", "bernoulli_gittins_index", "beta_stopping_value"]

# --------------------------------------------------------------------------- finite arms
def gittins_index(P: Any, r: Any, discount: float) -> NDArray[np.float64]:
    r"""The Gittins index of every state of a finite Markov arm, in the units of ``r``.

    Parameters
    ----------
    P : array_like, shape (n, n)
        The arm's transition matrix when it is played: ``P[s, s']`` is the probability
        of moving from ``s`` to ``s'``. Rows are distributions (nonnegative, summing to
        one within 1e-9).
    r : array_like, shape (n,)
        The reward ``r[s]`` of playing the arm in state ``s``.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    numpy.ndarray, shape (n,)
        :math:`\gamma(s)`: the constant reward per period that makes the owner of the
        arm in state ``s`` indifferent between playing it (with the option to retire on
        that reward later) and retiring now. It lies between ``r[s]`` and ``max(r)``.

    Raises
    ------
    ValueError
        If ``P`` is not a square stochastic matrix, ``r`` does not have one finite
        entry per state, or ``discount`` is outside ``(0, 1)``.

    Notes
    -----
    Largest-remaining-index algorithm (Varaiya, Walrand and Buyukkoc 1985) in Sonin's
    (2008) state-elimination form, compiled with numba: :math:`n` rank-one updates of
    the discounted kernel, :math:`O(n^3)` operations in all, no linear solves.

    Examples
    --------
    A state paying 1 that moves for good, with probability 1/2 each period, to a
    state paying 0: playing it until the move earns :math:`1/(1 - \delta/2)` over a
    discounted time of the same length, so its index is 1; the absorbing state's is 0.

    >>> import numpy as np
    >>> from mdlib import gittins_index
    >>> gittins_index([[0.5, 0.5], [0.0, 1.0]], [1.0, 0.0], 0.9)
    array([1., 0.])

    A state paying 0 that moves to a state paying 1 forever is worth
    :math:`\delta` per period at best (play it once, then enjoy 1 forever):

    >>> gittins_index([[0.0, 1.0], [0.0, 1.0]], [0.0, 1.0], 0.9).round(12)
    array([0.9, 1. ])
    """
    try:
        P_arr = np.array(P, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("P must be a square array of probabilities") from exc
    if P_arr.ndim != 2 or P_arr.shape[0] != P_arr.shape[1] or P_arr.shape[0] < 1:
        raise ValueError(f"P must be a square (n, n) matrix with n >= 1, got shape {P_arr.shape}")
    if not np.isfinite(P_arr).all() or (P_arr < 0).any():
        raise ValueError("P must contain finite nonnegative probabilities")
    sums = P_arr.sum(axis=1)
    if (np.abs(sums - 1.0) > ROW_SUM_TOL).any():
        s = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(f"P must be stochastic: row {s} sums to {sums[s]:.12g}, not 1")
    r_arr, _ = as_real_array(r, "r")
    if r_arr.shape != (P_arr.shape[0],):
        raise ValueError(f"r must have shape ({P_arr.shape[0]},) to match P, got {r_arr.shape}")
    if not np.isfinite(r_arr).all():
        raise ValueError("r must be finite")
    d = check_discount(discount)
    from ._bandit_kernels import _eliminate  # lazy: numba is slow to import

    return _eliminate(np.ascontiguousarray(P_arr), r_arr, d)


# --------------------------------------------------------------------------- Bernoulli arms
def bernoulli_gittins_index(a: Any, b: Any, discount: float, tol: float = 1e-6) -> float | NDArray[np.float64]:
    r"""The Gittins index of a Bernoulli arm with a Beta(``a``, ``b``) posterior.

    The arm pays 1 on a success and 0 on a failure; its success probability is
    unknown, with a Beta(``a``, ``b``) posterior that is updated after every play.
    The index is expressed as the equivalent *known* success probability: the
    per-period reward for which the owner is indifferent between retiring and
    playing the uncertain arm once more (calibration).

    Parameters
    ----------
    a, b : float or array_like
        The Beta parameters (successes and failures plus the prior's), both > 0;
        arrays are broadcast against each other.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.
    tol : float, default 1e-6
        Absolute accuracy of the index, in ``(0, 0.01]``.

    Returns
    -------
    float or numpy.ndarray
        The index, a float for scalar input and an array of the broadcast shape
        otherwise. It exceeds the posterior mean ``a / (a + b)`` (the value of
        learning) and is below 1.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not positive, ``a`` and ``b`` do not broadcast,
        ``discount`` is outside ``(0, 1)`` or ``tol`` outside ``(0, 0.01]``.

    Notes
    -----
    Calibration on the posterior tree, cut at a depth :math:`N` where posteriors are
    frozen. Freezing undervalues a node by at most :math:`\delta^N \sigma_N/(2(1-\delta))`,
    with :math:`\sigma_N \le 1/(2\sqrt{a + b + N + 1})` the posterior standard
    deviation there, and the retirement gap falls by at least 1 per unit of reward,
    so :math:`N` is chosen to make this at most ``tol / 4``. The returned value is a
    lower bound of the exact index within ``tol``. Compiled with numba and parallel
    over the entries of ``a`` and ``b``.

    Examples
    --------
    The uniform prior at discount 0.9 (Gittins's tables give 0.7029):

    >>> from mdlib import bernoulli_gittins_index
    >>> round(bernoulli_gittins_index(1, 1, 0.9), 4)
    0.7029
    >>> bernoulli_gittins_index([1, 2], [2, 2], 0.9).round(4)
    array([0.5001, 0.6346])
    """
    a_arr, a_scalar = as_real_array(a, "a")
    b_arr, b_scalar = as_real_array(b, "b")
    for name, arr in (("a", a_arr), ("b", b_arr)):
        bad = ~np.isfinite(arr) | (arr <= 0)
        if bad.any():
            raise ValueError(f"{name} must be positive and finite, got {format_number(arr[bad].flat[0])}")
    try:
        a_b, b_b = np.broadcast_arrays(a_arr, b_arr)
    except ValueError as exc:
        raise ValueError(f"a and b must broadcast together, got shapes {a_arr.shape} and {b_arr.shape}") from exc
    d = check_discount(discount)
    t = check_real(tol, "tol")
    if not 0.0 < t <= 0.01:
        raise ValueError(f"tol must lie in (0, 0.01], got {format_number(t)}")
    flat_a = np.ascontiguousarray(a_b, dtype=np.float64).ravel()
    flat_b = np.ascontiguousarray(b_b, dtype=np.float64).ravel()
    # equal (a, b) pairs share one computation
    pairs, inverse = np.unique(np.stack([flat_a, flat_b], axis=1), axis=0, return_inverse=True)
    from ._bandit_kernels import _bernoulli_table  # lazy: numba is slow to import

    values = _bernoulli_table(np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]), d, t)
    out = values[inverse.ravel()].reshape(a_b.shape)
    if a_scalar and b_scalar:
        return float(out)
    return out


# --------------------------------------------------------------------------- optimal stopping
def beta_stopping_value(a: float, b: float, retirement: float, discount: float, depth: int) -> float:
    r"""The value of a Bernoulli arm with a Beta(a, b) prior that may be retired on a known reward.

    The owner pulls the arm (a success pays 1 and moves the posterior to Beta(a + 1, b), a failure
    to Beta(a, b + 1)) or retires for good on ``retirement`` per period. The value solves

    .. math:: W_n(s) = \max\Big(\frac{\lambda}{1 - \delta},\;
              \mu_n(s) + \delta\big[\mu_n(s) W_{n+1}(s + 1) + (1 - \mu_n(s)) W_{n+1}(s)\big]\Big),
              \qquad \mu_n(s) = \frac{a + s}{a + b + n},

    on the posterior tree (``s`` successes in ``n`` pulls), cut at ``depth`` where the posterior is
    frozen: :math:`W_N(s) = \max(\lambda, \mu_N(s))/(1 - \delta)`. The Gittins index is the
    retirement reward at which retiring at once is optimal but only just (calibration), and the
    social value of a Beta arm against a bidder of known value is this value.

    Parameters
    ----------
    a, b : float
        The Beta prior, both positive.
    retirement : float
        The reward :math:`\lambda` per period after retiring.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.
    depth : int
        The number of pulls after which the posterior is frozen (at least 1); the truncation
        error is at most :math:`\delta^{N}/(1 - \delta)`.

    Returns
    -------
    float
        :math:`W_0(0)`, in total discounted reward.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not positive, ``retirement`` is not finite, ``discount`` is outside
        ``(0, 1)`` or ``depth`` is not a positive integer.

    Examples
    --------
    With nothing to retire on, the owner keeps pulling, and the posterior mean is a martingale:

    >>> from mdlib import bernoulli_gittins_index, beta_stopping_value
    >>> round(beta_stopping_value(2, 3, 0.0, 0.9, 200), 9), round(2 / 5 / (1 - 0.9), 9)
    (4.0, 4.0)

    At the Gittins index the owner is indifferent between retiring now and pulling once more:

    >>> lam = bernoulli_gittins_index(1, 1, 0.9, tol=1e-9)
    >>> abs(beta_stopping_value(1, 1, lam, 0.9, 300) - lam / (1 - 0.9)) < 1e-6
    True
    """
    a_ = check_real(a, "a")
    b_ = check_real(b, "b")
    if not (a_ > 0 and b_ > 0):
        raise ValueError(f"a and b must be positive, got a = {format_number(a_)}, b = {format_number(b_)}")
    lam = check_real(retirement, "retirement")
    d = check_discount(discount)
    N = check_positive_int(depth, "depth")
    retire = lam / (1 - d)
    s = np.arange(N + 1)
    W = np.maximum(retire, (a_ + s) / (a_ + b_ + N) / (1 - d))
    for n in range(N - 1, -1, -1):
        s = np.arange(n + 1)
        mu = (a_ + s) / (a_ + b_ + n)
        W = np.maximum(retire, mu + d * (mu * W[1 : n + 2] + (1 - mu) * W[: n + 1]))
    return float(W[0])
