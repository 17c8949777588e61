r"""Envelope payments: the payments that an allocation rule pins down in the two-stage model.

The model (notation of the book): the buyer learns an ex-ante type :math:`\tau`, reports it,
then learns his value :math:`v \sim F(\cdot \mid \tau)` on :math:`[\underline v, \bar v]` and
reports it.  In every incentive-compatible mechanism with allocation :math:`x(\tau, v)`,

.. math::

   U(\tau) = U(\underline\tau) + \int_{\underline\tau}^{\tau} \int x(s, v)\,
   \bigl(-\partial_s F(v \mid s)\bigr)\, dv\, ds,

   p(\tau, v) = a(\tau) + v\, x(\tau, v) - \underline v\, x(\tau, \underline v)
   - \int_{\underline v}^{v} x(\tau, y)\, dy,

   a(\tau) = \underline v\, x(\tau, \underline v)
   + \int x(\tau, y)\, \bigl(1 - F(y \mid \tau)\bigr)\, dy - U(\tau),

where :math:`a(\tau) = p(\tau, \underline v)` is the payment of the lowest value (the *fee* when
the lowest value does not buy).  :func:`envelope_payments` evaluates these formulas on a grid
with the trapezoidal rule; :math:`\partial_\tau F` is a second-order finite difference along the
:math:`\tau` grid, so the error is :math:`O(h^2)` in the grid steps for smooth inputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_real

__all__ = ["EnvelopePayments", "envelope_payments"]


class EnvelopePayments(NamedTuple):
    """The utilities and payments that the envelope formula assigns to an allocation rule."""

    utility: NDArray[np.float64]
    """:math:`U(\\tau)` on the ``tau`` grid (truthful ex-ante expected utility)."""
    fee: NDArray[np.float64]
    """:math:`a(\\tau) = p(\\tau, \\underline v)`, the payment of the lowest value, on the ``tau`` grid."""
    payment: NDArray[np.float64]
    """:math:`p(\\tau, v)` on the grid, shape ``(len(tau), len(v))``."""


def _grid(a: Any, name: str) -> NDArray[np.float64]:
    arr = as_float_array(a, name)
    if arr.ndim != 1 or arr.size < 3:
        raise ValueError(f"{name} must be a one-dimensional grid with at least 3 points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return arr


def _trapezoid_cumulative(y: NDArray[np.float64], x: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    y = np.moveaxis(y, axis, -1)
    steps = np.diff(x) * (y[..., 1:] + y[..., :-1]) / 2
    out = np.concatenate([np.zeros(y.shape[:-1] + (1,)), np.cumsum(steps, axis=-1)], axis=-1)
    return np.moveaxis(out, -1, axis)


def envelope_payments(
    tau: ArrayLike, v: ArrayLike, x: ArrayLike, cdf: ArrayLike, *, utility_low: float = 0.0
) -> EnvelopePayments:
    r"""The envelope utilities :math:`U(\tau)`, fees :math:`a(\tau)` and payments :math:`p(\tau, v)` of an allocation.

    Parameters
    ----------
    tau : array_like, shape (n,)
        Strictly increasing grid of ex-ante types, from :math:`\underline\tau` to :math:`\bar\tau`.
    v : array_like, shape (m,)
        Strictly increasing grid of values that covers the support of every :math:`F(\cdot \mid \tau)`:
        ``cdf[:, 0]`` must be 0 and ``cdf[:, -1]`` must be 1 (to within :math:`10^{-6}`).
    x : array_like, shape (n, m)
        The allocation :math:`x(\tau, v)`, entries in [0, 1].
    cdf : array_like, shape (n, m)
        :math:`F(v \mid \tau)`, entries in [0, 1], non-decreasing in ``v``.
    utility_low : float, default 0
        :math:`U(\underline\tau)`, the one constant that the allocation leaves free.

    Returns
    -------
    EnvelopePayments
        ``utility`` :math:`U(\tau)`, ``fee`` :math:`a(\tau) = p(\tau, \underline v)` and ``payment``
        :math:`p(\tau, v)`.  If :math:`x` is non-decreasing in :math:`v`, every ``payment[i]`` makes
        truthful reporting of the value optimal on the grid, exactly.

    Raises
    ------
    ValueError
        If a grid is not strictly increasing, an array has the wrong shape, ``x`` leaves [0, 1],
        ``cdf`` leaves [0, 1] or decreases in ``v`` or does not run from 0 to 1, or ``utility_low``
        is not a finite number.

    Examples
    --------
    Uniform news, :math:`v = \tau + \varepsilon` with :math:`\varepsilon` uniform on
    :math:`[-\frac12, \frac12]`, and the option with strike :math:`k` for every type: the buyer
    buys when :math:`v \ge k` and pays the strike.  The impulse response is 1, so
    :math:`U'(\tau) = \Pr(v \ge k \mid \tau) = \tau` for :math:`k = \frac12`, and :math:`U(\tau) = \tau^2/2`.

    >>> import numpy as np
    >>> from mdlib import envelope_payments
    >>> tau = np.linspace(0, 1, 101)
    >>> v = np.linspace(-0.5, 1.5, 2001)
    >>> cdf = np.clip(v[None, :] - tau[:, None] + 0.5, 0, 1)
    >>> x = (v[None, :] >= 0.5) * np.ones_like(tau)[:, None]
    >>> env = envelope_payments(tau, v, x, cdf)
    >>> round(float(env.utility[-1]), 3)                     # U(1) = 1/2
    0.5
    >>> round(float(env.payment[50, 1500] - env.fee[50]), 3)   # a buyer with v = 1 pays the strike
    0.5
    """
    t = _grid(tau, "tau")
    y = _grid(v, "v")
    shape = (t.size, y.size)
    x_arr = as_float_array(x, "x")
    F = as_float_array(cdf, "cdf")
    if x_arr.shape != shape:
        raise ValueError(f"x must have shape (len(tau), len(v)) = {shape}, got {x_arr.shape}")
    if F.shape != shape:
        raise ValueError(f"cdf must have shape (len(tau), len(v)) = {shape}, got {F.shape}")
    if not np.all(np.isfinite(x_arr)) or x_arr.min() < 0 or x_arr.max() > 1:
        raise ValueError("x must have entries in [0, 1]")
    if not np.all(np.isfinite(F)) or F.min() < 0 or F.max() > 1 or np.any(np.diff(F, axis=1) < -1e-12):
        raise ValueError("cdf must have entries in [0, 1], non-decreasing in v")
    if np.max(F[:, 0]) > 1e-6 or np.min(F[:, -1]) < 1 - 1e-6:
        raise ValueError("cdf must run from 0 at v[0] to 1 at v[-1]: the v grid must cover the support")
    U_low = check_real(utility_low, "utility_low")

    dF_dtau = np.gradient(F, t, axis=0, edge_order=2)
    rate = np.trapezoid(x_arr * (-dF_dtau), y, axis=1)                     # U'(τ) = E[I x | τ]
    utility = U_low + _trapezoid_cumulative(rate, t, axis=0)
    rent_in_v = _trapezoid_cumulative(x_arr, y, axis=1)                    # ∫_{v̲}^{v} x(τ, y) dy
    fee = y[0] * x_arr[:, 0] + np.trapezoid(x_arr * (1 - F), y, axis=1) - utility
    payment = fee[:, None] + y[None, :] * x_arr - y[0] * x_arr[:, :1] - rent_in_v
    return EnvelopePayments(utility=utility, fee=fee, payment=payment)
