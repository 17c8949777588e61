r"""Sequential screening: a buyer who learns his value after he signs, and menus of options.

The model (notation of the book): the buyer privately learns an ex-ante type
:math:`\tau \sim G` (density :math:`g`), signs a contract, and then privately learns
his value :math:`v \sim F(\cdot \mid \tau)` (density :math:`f(\cdot \mid \tau)`).
The **impulse response** of :math:`v` to :math:`\tau` (the *informativeness* of the lecture slides) is

.. math:: I(\tau, v) = -\frac{\partial F(v \mid \tau) / \partial \tau}{f(v \mid \tau)},

and the **dynamic virtual value** is

.. math:: \psi(\tau, v) = v - \frac{1 - G(\tau)}{g(\tau)}\, I(\tau, v).

Everything is computed in quantile coordinates.  With the canonical representation
:math:`v = Z(\tau, u) = F^{-1}(u \mid \tau)`, :math:`u \in [0, 1]`, one has
:math:`I(\tau, Z(\tau, u)) = \partial_\tau Z(\tau, u)`, which needs only the quantile
function of ``second_given_first(tau)`` at neighbouring values of ``tau`` (a central
difference with step :math:`h = 6 \times 10^{-6}` times the scale of :math:`\tau`;
one-sided, second order, at the ends of the support of :math:`\tau`).  The truncation
error of the difference is :math:`O(h^2)` and its rounding error about
:math:`10^{-16} |v| / h`, so :math:`I` is accurate to about :math:`10^{-10}` relative for
families whose quantile function is accurate to machine precision (about
:math:`10^{-7}` for a family whose ``ppf`` is found numerically by scipy).

**Beyond the support** of :math:`v \mid \tau` we extend :math:`I` by the speed of the
nearer end of the support, :math:`\partial_\tau Z(\tau, 0)` below and
:math:`\partial_\tau Z(\tau, 1)` above (for a location family, :math:`I \equiv 1`
everywhere).  A strike may therefore lie outside the support: above it the option is
never exercised, below it it is always exercised, and its exact position still
matters for the incentives of the other types (clamping it into the support can
break incentive compatibility).

The functions :func:`impulse_response` and :func:`dynamic_virtual_value` are the
building blocks that the many-buyer (handicap-auction) machinery reuses.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import interpolate, stats

from ._validation import as_real_array, check_bool, check_in_closed_interval, check_positive_int, format_number
from ._scipy import _quiet
from ._scipy import _MarginalValue
from ._screening import _STEP, _Model, _cumulative, _ex_ante_utility, _tau_grid

__all__ = [
    "OptionContract",
    "Menu",
    "NotMonotoneError",
    "optimal_option_contract",
    "impulse_response",
    "dynamic_virtual_value",
    "value_distribution",
]

# Gauss-Legendre rule used on every quantile panel.
_GX, _GW = np.polynomial.legendre.leggauss(10)
# Panel ends in u (lower half) and in q = 1 - u (upper half): geometric toward the tails.
_BREAKS = np.array([0.0, 1e-16, 1e-14, 1e-12, 1e-10, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.04, 0.12, 0.25, 0.5])
# Quantile grid on which the sign of psi is scanned (lower half in u, upper half in q).
_SCAN_TAIL = np.array([1e-300, 1e-100, 1e-30, 1e-16, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3])
_SCAN_LOW = np.concatenate([[0.0], _SCAN_TAIL, np.linspace(0.005, 0.5, 100)])
_SCAN_HIGH = np.concatenate([[0.0], _SCAN_TAIL, np.linspace(0.005, 0.495, 99)])[::-1]  # q, so v increases


class NotMonotoneError(ValueError):
    """The pointwise optimum of the relaxed problem is not monotone, so it is not incentive compatible."""


class Menu(NamedTuple):
    """The option chosen by ex-ante types ``tau``, and what it gives them."""

    tau: NDArray[np.float64]
    """The ex-ante types."""
    strike: NDArray[np.float64]
    r"""The strike :math:`k(\tau)`: the price at which the buyer may buy at stage two."""
    fee: NDArray[np.float64]
    r"""The up-front fee :math:`a(\tau)`."""
    utility: NDArray[np.float64]
    r"""The ex-ante utility :math:`U(\tau)` of the type under truth-telling."""
    exercise_probability: NDArray[np.float64]
    r""":math:`\Pr(v \ge k(\tau) \mid \tau)`."""


# --------------------------------------------------------------------------- model# --------------------------------------------------------------------------- pointwise
class _Point(NamedTuple):
    strike: float
    exercise: float  # P(v >= k | tau)
    call: float  # E[(v - k)^+ | tau]
    surplus: float  # E[v 1{v >= k} | tau]
    rent_slope: float  # U'(tau) = E[I 1{v >= k} | tau]
    first_best: float  # E[v^+ | tau]
    expost_violation: float  # nan, or a value v where psi(tau, .) falls through zero


def _panel_nodes(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """Gauss-Legendre nodes and weights of [lo_i, hi_i] (within [0, 1/2]), split at _BREAKS."""
    a = np.maximum(lo[:, None], _BREAKS[None, :-1])
    b = np.minimum(hi[:, None], _BREAKS[None, 1:])
    w = np.maximum(b - a, 0.0)
    nodes = a[..., None] + (_GX[None, None, :] + 1.0) * 0.5 * w[..., None]
    weights = 0.5 * w[..., None] * _GW[None, None, :]
    nodes = np.where(weights > 0, nodes, 0.25)  # unused nodes at a harmless interior point
    return nodes.reshape(len(lo), -1), weights.reshape(len(lo), -1)


def _tail_integrals(m: _Model, tau: float, u_lo: NDArray, q_lo: NDArray) -> tuple[NDArray, NDArray]:
    """For each lower limit (u_lo, q_lo = 1 - u_lo): int_{u_lo}^1 Z du and int_{u_lo}^1 dZ/dtau du."""
    lo_half = np.where(u_lo < 0.5, u_lo, 0.5)
    nl, wl = _panel_nodes(lo_half, np.full_like(u_lo, 0.5))
    nu, wu = _panel_nodes(np.zeros_like(q_lo), np.minimum(q_lo, 0.5))
    shape = nl.shape
    nodes = np.concatenate([nl.ravel(), nu.ravel()])
    upper = np.concatenate([np.zeros(nl.size, bool), np.ones(nu.size, bool)])
    z, dz = m.quantiles(tau, nodes, upper)
    zl, zu = z[: nl.size].reshape(shape), z[nl.size :].reshape(nu.shape)
    dl, du = dz[: nl.size].reshape(shape), dz[nl.size :].reshape(nu.shape)
    with _quiet():
        s = np.where(wl > 0, wl * zl, 0.0).sum(1) + np.where(wu > 0, wu * zu, 0.0).sum(1)
        d = np.where(wl > 0, wl * dl, 0.0).sum(1) + np.where(wu > 0, wu * du, 0.0).sum(1)
    return s, d


def _pointwise(m: _Model, tau: float, lam: float) -> _Point:
    """Strike, exercise probability, call value, surplus and rent slope of ex-ante type tau."""
    d0 = m.dist(tau)
    u = np.concatenate([_SCAN_LOW, _SCAN_HIGH])
    upper = np.concatenate([np.zeros(_SCAN_LOW.size, bool), np.ones(_SCAN_HIGH.size, bool)])
    z, dz = m.quantiles(tau, u, upper)
    ok = np.isfinite(z)
    if np.any(np.isnan(dz[ok])) or np.any(np.isinf(dz[ok])):
        raise ValueError(
            f"second_given_first must depend smoothly on tau: the quantiles of v given tau have no "
            f"finite derivative in tau at tau = {format_number(tau)}"
        )
    if np.any(dz[ok] < -1e-6 * (1.0 + np.abs(z[ok]))):
        j = int(np.flatnonzero(ok & (dz < -1e-6 * (1.0 + np.abs(z))))[0])
        raise ValueError(
            "second_given_first must increase in tau in the sense of first-order stochastic dominance "
            f"(I >= 0): at tau = {format_number(tau)}, v = {format_number(z[j])} the impulse response is "
            f"I = {dz[j]:.3g} < 0"
        )
    psi = z - lam * dz
    u, upper, z, dz, psi = u[ok], upper[ok], z[ok], dz[ok], psi[ok]
    pos = psi > 0
    falls = np.flatnonzero((psi[:-1] > 0) & (psi[1:] < -1e-9 * (1.0 + np.abs(z[1:]))))
    violation = float(z[falls[-1]]) if falls.size else math.nan
    if not pos[-1]:
        # psi <= 0 at the top: the root lies above the support (never exercised); beyond the
        # end of the support (or the last representable quantile) psi = v - lam * I, with I
        # extended by its value there (the speed of that end)
        k = max(float(lam * dz[-1]), float(z[-1]))
        u_k, q_k = 1.0, 0.0
    elif pos.all() or (pos[1:].all() and psi[0] == 0.0):
        # psi >= 0 at the bottom: the root lies below (always exercised); beyond the last
        # quantile the impulse response is extended by its value there
        k = min(float(lam * dz[0]), float(z[0]))
        u_k, q_k = 0.0, 1.0
    else:
        j = int(np.flatnonzero(~pos)[-1])
        k, u_k, q_k = _refine(m, tau, lam, (u[j], upper[j]), (u[j + 1], upper[j + 1]))
    limits_u = np.array([u_k, 0.0])
    limits_q = np.array([q_k, 1.0])
    # first-best lower limit: where v = 0
    u0, q0 = float(d0.cdf(0.0)), float(d0.sf(0.0))
    limits_u[1], limits_q[1] = u0, q0
    if q_k == 0.0:
        s_k, d_k = 0.0, 0.0
        s0, _ = _tail_integrals(m, tau, limits_u[1:], limits_q[1:])
        s_0 = float(s0[0]) if q0 > 0 else 0.0
    else:
        s, dd = _tail_integrals(m, tau, limits_u, limits_q)
        s_k, d_k = float(s[0]), float(dd[0])
        s_0 = float(s[1]) if q0 > 0 else 0.0
    call = s_k - (k * q_k if q_k > 0 else 0.0)
    return _Point(float(k), float(q_k), float(call), float(s_k), float(d_k), s_0, violation)


def _refine(m: _Model, tau: float, lam: float, left: tuple, right: tuple) -> tuple[float, float, float]:
    """Refine the upward zero of psi between two scan points; return (k, u_k, q_k)."""
    (a, ua), (b, ub) = left, right
    if ua == ub:  # both in the same half: a parameter x that is u (lower) or q (upper)
        upper = bool(ua)
        x0, x1 = a, b
    else:  # straddling the middle: use u on [1/2, 1 - q]
        upper = False
        x0, x1 = a, 1.0 - b
    flag = np.full(25, upper)
    # geometric subdivision where the bracket spans orders of magnitude (the tails)
    geometric = x0 > 0 and x1 > 10 * x0 or x1 > 0 and x0 > 10 * x1
    if x0 == 0.0 or x1 == 0.0:
        geometric = False
    for _ in range(4 if geometric else 3):
        xs = np.geomspace(x0, x1, 25) if geometric else np.linspace(x0, x1, 25)
        z, dz = m.quantiles(tau, xs, flag)
        psi = z - lam * dz
        good = np.isfinite(psi)
        idx = np.flatnonzero(good & (psi < 0))  # v increases along xs in both halves
        i = int(idx[-1]) if idx.size else 0
        i = min(i, 23)
        x0, x1 = xs[i], xs[i + 1]
        p0, p1 = psi[i], psi[i + 1]
        if geometric and max(x0, x1) / min(x0, x1) < 1.5:
            geometric = False
    t = 0.5 if not (np.isfinite(p0) and np.isfinite(p1)) or p1 == p0 else float(np.clip(p0 / (p0 - p1), 0.0, 1.0))
    x = float(np.exp(np.log(x0) + t * (np.log(x1) - np.log(x0)))) if min(x0, x1) > 0 else x0 + t * (x1 - x0)
    z, _ = m.quantiles(tau, np.array([x]), np.array([upper]))
    u_k, q_k = (1.0 - x, x) if upper else (x, 1.0 - x)
    k = float(z[0])
    if not math.isfinite(k):  # an infinite end of the support: fall back to the finite neighbour
        k = float(m.quantiles(tau, np.array([x1]), np.array([upper]))[0][0])
    return k, float(u_k), float(q_k)


# --------------------------------------------------------------------------- public: psi
def impulse_response(second_given_first: Callable[[float], Any], tau: ArrayLike, v: ArrayLike, *, first: Any = None) -> Any:
    r"""The impulse response :math:`I(\tau, v) = -\partial_\tau F(v \mid \tau) / f(v \mid \tau)` of the value to the ex-ante type.

    Parameters
    ----------
    second_given_first : callable
        ``tau -> `` scipy.stats continuous distribution of the value ``v`` given ``tau``.
    tau, v : float or array_like
        Ex-ante types and values (broadcast together).
    first : scipy.stats distribution, optional
        The distribution of ``tau``; it sets the step of the numerical derivative (its
        scale) and the support of ``tau``.  Default: a step of :math:`6 \times 10^{-6}`.

    Returns
    -------
    float or ndarray
        :math:`I(\tau, v) = \partial_\tau Z(\tau, u)` at :math:`u = F(v \mid \tau)`,
        extended beyond the support by the speed of the nearer end of the support.

    Raises
    ------
    ValueError
        If ``second_given_first`` is not callable or does not return a continuous
        scipy.stats distribution, or if ``tau``/``v`` contain NaN.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import impulse_response
    >>> normal_news = lambda t: stats.norm(t, 0.25)          # v = tau + noise: I = 1
    >>> round(float(impulse_response(normal_news, 0.3, 1.7)), 8)
    1.0
    >>> scaled = lambda t: stats.expon(scale=t)               # v = tau * noise: I = v / tau
    >>> round(float(impulse_response(scaled, 2.0, 3.0)), 8)
    1.5
    """
    m = _Model(first if first is not None else stats.uniform(0, 1), second_given_first, probe=first is not None)
    if first is None:
        m.tau_lo, m.tau_hi, m.h = -math.inf, math.inf, float(_STEP)
        t_arr, t_scalar = as_real_array(tau, "tau")
        check_in_closed_interval(t_arr, "tau", -math.inf, math.inf, "(-inf, inf)")
    else:
        t_arr, t_scalar = m.check_tau(tau)
    v_arr, v_scalar = as_real_array(v, "v")
    check_in_closed_interval(v_arr, "v", -math.inf, math.inf, "(-inf, inf)")
    t_b, v_b = np.broadcast_arrays(t_arr, v_arr)
    out = np.empty(t_b.shape)
    for t in np.unique(t_b):
        sel = t_b == t
        d0 = m.dist(float(t))
        vv = v_b[sel]
        u_, q_ = d0.cdf(vv), d0.sf(vv)
        upper = u_ > 0.5
        x = np.where(upper, q_, u_)
        _, dz = m.quantiles(float(t), x, upper)
        out[sel] = dz
    return float(out) if (t_scalar and v_scalar) else out


def informativeness(second_given_first: Callable[[float], Any], tau: ArrayLike, v: ArrayLike, *, first: Any = None) -> Any:
    """Former name of :func:`impulse_response` (the lecture slides' word); use that name.

    .. deprecated:: 0.2
       Calls :func:`impulse_response` and warns with a ``DeprecationWarning``.
    """
    warnings.warn("mdlib.informativeness is now mdlib.impulse_response", DeprecationWarning, stacklevel=2)
    return impulse_response(second_given_first, tau, v, first=first)


def dynamic_virtual_value(first: Any, second_given_first: Callable[[float], Any], tau: ArrayLike, v: ArrayLike) -> Any:
    r"""The dynamic virtual value :math:`\psi(\tau, v) = v - \frac{1 - G(\tau)}{g(\tau)} I(\tau, v)`.

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution :math:`G` of the ex-ante type ``tau``.
    second_given_first : callable
        ``tau ->`` scipy.stats continuous distribution of ``v`` given ``tau``.
    tau, v : float or array_like
        Points at which to evaluate (broadcast together); ``tau`` in the support of ``first``.

    Returns
    -------
    float or ndarray
        :math:`\psi(\tau, v)`, with :math:`I` from :func:`impulse_response`.

    Raises
    ------
    ValueError
        For bad distributions, or ``tau`` outside the support of ``first``.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import dynamic_virtual_value
    >>> # tau ~ U[0, 1], v = tau + U[-1/2, 1/2]: psi = v - (1 - tau)
    >>> round(float(dynamic_virtual_value(stats.uniform(0, 1), lambda t: stats.uniform(t - 0.5, 1), 0.25, 0.6)), 8)
    -0.15
    """
    m = _Model(first, second_given_first)
    t_arr, t_scalar = m.check_tau(tau)
    v_arr, v_scalar = as_real_array(v, "v")
    check_in_closed_interval(v_arr, "v", -math.inf, math.inf, "(-inf, inf)")
    t_b, v_b = np.broadcast_arrays(t_arr, v_arr)
    I = np.asarray(impulse_response(second_given_first, t_b, v_b, first=first), dtype=float)
    out = v_b - m.inverse_hazard(t_b) * I
    return float(out) if (t_scalar and v_scalar) else out


# --------------------------------------------------------------------------- the contract
@dataclass(frozen=True)
class OptionContract:
    r"""The revenue-maximising menu of options for one buyer who learns his value after contracting.

    Ex-ante type :math:`\tau` pays the fee :math:`a(\tau)` up front and may buy at stage two
    at the strike :math:`k(\tau)`; he buys exactly when :math:`v \ge k(\tau)`.
    Use :meth:`strike`, :meth:`fee`, :meth:`utility`, :meth:`exercise_probability`
    (all vectorised in ``tau``), :meth:`menu` (all at once) and :meth:`payoff`
    (the ex-ante utility of misreporting, for deviation searches).
    """

    revenue: float
    r"""Expected revenue :math:`\mathbb{E}[a(\tau) + k(\tau)\,\mathbf{1}\{v \ge k(\tau)\}]`."""
    ex_ante_revenue: float
    r"""Revenue of contracting before the buyer learns :math:`\tau`: the expected surplus :math:`\mathbb{E}[v^+]`."""
    surplus: float
    r"""Expected total surplus of the menu, :math:`\mathbb{E}[v\,\mathbf{1}\{v \ge k(\tau)\}]`."""
    rent: float
    r"""The buyer's expected ex-ante utility :math:`\mathbb{E}[U(\tau)]`."""
    expected_fee: float
    r""":math:`\mathbb{E}[a(\tau)]`."""
    expected_strike_payment: float
    r""":math:`\mathbb{E}[k(\tau) \Pr(v \ge k(\tau) \mid \tau)]`."""
    monotone: bool
    r"""Whether the pointwise optimum is monotone (strike nonincreasing in :math:`\tau`, and
    :math:`\psi(\tau, \cdot)` crossing zero once from below): then the menu is optimal and IC."""
    diagnosis: str
    """Empty if ``monotone``; otherwise which monotonicity fails, where, and why."""
    tau: NDArray[np.float64] = field(repr=False)
    """The grid of ex-ante types on which the menu was computed."""
    strikes: NDArray[np.float64] = field(repr=False)
    """The strikes on the grid."""
    fees: NDArray[np.float64] = field(repr=False)
    """The fees on the grid."""
    utilities: NDArray[np.float64] = field(repr=False)
    """The ex-ante utilities on the grid."""
    _model: Any = field(repr=False, compare=False, default=None)
    _U: Any = field(repr=False, compare=False, default=None)

    def _points(self, tau: ArrayLike) -> tuple[list[_Point], NDArray[np.float64], bool]:
        arr, scalar = self._model.check_tau(tau)
        flat = arr.ravel()
        lam = self._model.inverse_hazard(flat)
        pts = [_pointwise(self._model, float(t), float(l)) for t, l in zip(flat, lam)]
        return pts, arr, scalar

    def menu(self, tau: ArrayLike) -> Menu:
        """Strike, fee, utility and exercise probability of the types ``tau``, in one pass."""
        pts, arr, _ = self._points(tau)
        shape = arr.shape
        k = np.array([p.strike for p in pts]).reshape(shape)
        call = np.array([p.call for p in pts]).reshape(shape)
        prob = np.array([p.exercise for p in pts]).reshape(shape)
        U = np.asarray(self._U(arr), dtype=float)
        return Menu(arr, k, call - U, U, prob)

    def strike(self, tau: ArrayLike) -> Any:
        r"""The strike :math:`k(\tau)`: the zero of the extended :math:`\psi(\tau, \cdot)`, possibly outside the support of :math:`v \mid \tau`."""
        m = self.menu(tau)
        return float(m.strike) if np.ndim(m.strike) == 0 else m.strike

    def fee(self, tau: ArrayLike) -> Any:
        r"""The fee :math:`a(\tau) = \mathbb{E}[(v - k(\tau))^+ \mid \tau] - U(\tau)`."""
        m = self.menu(tau)
        return float(m.fee) if np.ndim(m.fee) == 0 else m.fee

    def utility(self, tau: ArrayLike) -> Any:
        r"""The ex-ante utility :math:`U(\tau) = \int_{\underline\tau}^{\tau} \mathbb{E}[I\,\mathbf{1}\{v \ge k(t)\} \mid t]\,dt`."""
        return _ex_ante_utility(self._model, self._U, tau)

    def exercise_probability(self, tau: ArrayLike) -> Any:
        r""":math:`\Pr(v \ge k(\tau) \mid \tau)`."""
        m = self.menu(tau)
        return float(m.exercise_probability) if np.ndim(m.exercise_probability) == 0 else m.exercise_probability

    def payoff(self, tau: ArrayLike, report: ArrayLike) -> NDArray[np.float64]:
        r"""Ex-ante utility :math:`\hat U(\hat\tau \mid \tau)` of type ``tau`` who reports ``report``
        and then exercises optimally: :math:`\mathbb{E}[(v - k(\hat\tau))^+ \mid \tau] - a(\hat\tau)`.

        Returns an array of shape ``(len(tau), len(report))``.
        """
        t_arr, _ = self._model.check_tau(tau, "tau")
        r_arr, _ = self._model.check_tau(report, "report")
        t_arr, r_arr = np.atleast_1d(t_arr).ravel(), np.atleast_1d(r_arr).ravel()
        offered = self.menu(r_arr)
        out = np.empty((t_arr.size, r_arr.size))
        for i, t in enumerate(t_arr):
            out[i] = _call_values(self._model, float(t), offered.strike) - offered.fee
        return out


def _call_values(m: _Model, tau: float, k: NDArray[np.float64]) -> NDArray[np.float64]:
    """E[(v - k_j)^+ | tau] for several strikes k_j."""
    d0 = m.dist(tau)
    k = np.asarray(k, dtype=float)
    finite = np.isfinite(k)
    kk = np.where(finite, k, 0.0)
    u_k, q_k = d0.cdf(kk), d0.sf(kk)
    s, _ = _tail_integrals(m, tau, u_k, q_k)
    call = s - kk * q_k
    return np.where(finite, np.where(q_k > 0, call, 0.0), 0.0)

def optimal_option_contract(
    first: Any,
    second_given_first: Callable[[float], Any],
    *,
    n_grid: int = 201,
    strict: bool = False,
) -> OptionContract:
    r"""The revenue-maximising menu of options (sequential screening of one buyer).

    The buyer learns :math:`\tau \sim G` (``first``), chooses an option
    :math:`(a(\tau), k(\tau))` from the menu, then learns :math:`v \sim F(\cdot \mid \tau)`
    (``second_given_first(tau)``) and buys at the strike if :math:`v \ge k(\tau)`.
    The strike solves :math:`\psi(\tau, k) = 0` (formula extended beyond the support, see
    the module notes) and the fee follows from the envelope formula with
    :math:`U(\underline\tau) = 0`:

    .. math:: U(\tau) = \int_{\underline\tau}^{\tau} \mathbb{E}\left[I(t, v)\,\mathbf{1}\{v \ge k(t)\} \mid t\right] dt,
              \qquad a(\tau) = \mathbb{E}[(v - k(\tau))^+ \mid \tau] - U(\tau).

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution :math:`G` of the ex-ante type ``tau`` (with a density).
    second_given_first : callable
        ``tau ->`` scipy.stats continuous distribution of the value given ``tau``; it must
        be increasing in ``tau`` in the sense of first-order stochastic dominance and
        depend smoothly on ``tau``.
    n_grid : int, default 201
        Number of ex-ante types on which the menu is computed (uniform in ``tau`` for a
        bounded support, in quantiles with geometric tails otherwise); :math:`U` between
        grid points is a cubic Hermite interpolant with the exact slopes.
    strict : bool, default False
        If true, raise :class:`NotMonotoneError` (a ``ValueError``) when the pointwise
        optimum is not monotone; otherwise return it with ``monotone=False`` and a
        ``diagnosis``.

    Returns
    -------
    OptionContract
        With vectorised ``strike(tau)``, ``fee(tau)``, ``utility(tau)``, the ``revenue``
        and the benchmark ``ex_ante_revenue`` (full extraction of :math:`\mathbb{E}[v^+]`).

    Raises
    ------
    ValueError
        If ``first`` is not a continuous distribution with a density, if
        ``second_given_first`` is not callable or returns something else, if the family
        is not FOSD-increasing or not smooth in ``tau``, or if ``n_grid < 5``.
    NotMonotoneError
        With ``strict=True``, when the pointwise optimum is not monotone.

    Notes
    -----
    Revenue is computed as :math:`\mathbb{E}[\,\mathbb{E}[v\,\mathbf{1}\{v \ge k\} \mid \tau] - U(\tau)]`
    by Simpson's rule over the quantiles of :math:`\tau`; every conditional expectation
    is a Gauss--Legendre quadrature in the quantiles of :math:`v \mid \tau`.  On smooth
    instances the revenue is accurate to about 1e-8; a kink of :math:`U'` between grid
    points (where a strike leaves the support) costs :math:`O(\Delta\tau^2)`.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import optimal_option_contract
    >>> c = optimal_option_contract(stats.uniform(0, 1), lambda t: stats.uniform(t - 0.5, 1))
    >>> round(c.revenue, 6), round(13 / 48, 6)        # (1 + Var eps) / 4
    (0.270833, 0.270833)
    >>> [round(float(x), 6) for x in c.strike([0.1, 0.5, 0.9])]   # k = 1 - tau, also outside the support
    [0.9, 0.5, 0.1]
    >>> round(c.fee(0.5), 6), round(c.utility(0.5), 6)  # (tau - 1/4)^2 both
    (0.0625, 0.0625)
    """
    n = check_positive_int(n_grid, "n_grid")
    if n < 5:
        raise ValueError(f"n_grid must be at least 5, got {n}")
    strict = check_bool(strict, "strict")
    m = _Model(first, second_given_first, need_mean="for the expected surplus and revenue of the menu")
    tau = _tau_grid(m.G, n)
    lam = m.inverse_hazard(tau)
    pts = [_pointwise(m, float(t), float(l)) for t, l in zip(tau, lam)]
    _check_smooth(m, tau)
    tau, pts, cuts = _insert_regime_changes(m, tau, pts)
    k = np.array([p.strike for p in pts])
    prob = np.array([p.exercise for p in pts])
    call = np.array([p.call for p in pts])
    surplus = np.array([p.surplus for p in pts])
    slope = np.array([p.rent_slope for p in pts])
    first_best = np.array([p.first_best for p in pts])
    # U(tau) by integrating the slope piece by piece (Simpson between the points where the strike
    # enters or leaves the support), then a cubic Hermite interpolant with the exact slopes
    U = np.maximum(_cumulative(tau, slope, cuts), 0.0)
    U_fn = interpolate.CubicHermiteSpline(tau, U, slope)
    # expectations over tau, in quantiles u = G(tau)
    u = m.G.cdf(tau)
    E = lambda y: float(_cumulative(u, y, cuts)[-1])  # noqa: E731
    fees = call - U
    strike_pay = np.where(prob > 0, np.where(np.isfinite(k), k, 0.0) * prob, 0.0)
    revenue = E(surplus - U)
    diagnosis = _diagnose(tau, k, pts)
    if diagnosis and strict:
        raise NotMonotoneError(diagnosis)
    return OptionContract(
        revenue=revenue,
        ex_ante_revenue=E(first_best),
        surplus=E(surplus),
        rent=E(U),
        expected_fee=E(fees),
        expected_strike_payment=E(strike_pay),
        monotone=not diagnosis,
        diagnosis=diagnosis,
        tau=tau,
        strikes=k,
        fees=fees,
        utilities=U,
        _model=m,
        _U=U_fn,
    )


def _regime(p: _Point) -> int:
    """0: the strike is inside the support; 1: above it (never exercised); 2: below (always)."""
    return 1 if p.exercise == 0.0 else (2 if p.exercise == 1.0 else 0)


def _insert_regime_changes(m: _Model, tau: NDArray[np.float64], pts: list[_Point]) -> tuple:
    """Locate, by bisection, each type at which the strike enters or leaves the support.

    There the rent slope U' has a kink (or a jump), so the grid gets the two ends of a tiny
    bracket around it, and the quadratures run piece by piece.  Returns the new grid, its
    points and the indices ``i`` such that ``[tau[i], tau[i + 1]]`` is such a bracket.
    """
    width = 1e-10 * (m.G.scale + abs(float(tau[-1])))
    nodes = list(zip((float(t) for t in tau), pts))
    out, cuts = [nodes[0]], []
    queue = nodes[1:][::-1]  # next node last
    while queue:
        t1, p1 = queue.pop()
        t0, p0 = out[-1]
        if _regime(p0) == _regime(p1) or t1 - t0 <= width:
            if _regime(p0) != _regime(p1):
                cuts.append(len(out) - 1)
            out.append((t1, p1))
            continue
        a, b, pa, pb = t0, t1, p0, p1
        while b - a > width:
            mid = 0.5 * (a + b)
            pm = _pointwise(m, mid, float(m.inverse_hazard(np.array([mid]))[0]))
            if _regime(pm) == _regime(p0):
                a, pa = mid, pm
            else:
                b, pb = mid, pm
        if a > t0:
            out.append((a, pa))
        # b may itself differ from t1's regime (e.g. an interior strike exactly at a switch):
        # examine the pair (b, t1) next
        queue.append((t1, p1))
        if b < t1:
            queue.append((b, pb))
    new_tau = [t for t, _ in out]
    new_pts = [p for _, p in out]
    return np.array(new_tau), new_pts, cuts

def _check_smooth(m: _Model, tau: NDArray[np.float64]) -> None:
    """Quantiles at neighbouring grid types must agree with the derivative (no jumps in tau)."""
    u = np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    up = np.zeros(u.size, bool)
    zs, dzs = zip(*(m.quantiles(float(t), u, up) for t in tau))
    z, dz = np.array(zs), np.array(dzs)
    gap = np.diff(z, axis=0) - 0.5 * np.diff(tau)[:, None] * (dz[1:] + dz[:-1])
    scale = float(np.max(np.abs(z)) + np.max(z[:, -1] - z[:, 0]) + 1e-300)
    bad = np.abs(gap) > 0.02 * scale
    if bad.any():
        i = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            "second_given_first must depend smoothly on tau: its quantiles jump by "
            f"{float(np.max(np.abs(np.diff(z, axis=0)[i]))):.3g} between tau = {format_number(tau[i])} and "
            f"tau = {format_number(tau[i + 1])}, which its derivative in tau does not explain"
        )


def _diagnose(tau: NDArray[np.float64], k: NDArray[np.float64], pts: list[_Point]) -> str:
    msgs = []
    expost = [(t, p.expost_violation) for t, p in zip(tau, pts) if math.isfinite(p.expost_violation)]
    if expost:
        t0, v0 = expost[0]
        msgs.append(
            f"ex-post monotonicity fails: psi(tau, .) falls through zero at v = {format_number(v0)} for "
            f"tau = {format_number(t0)} ({len(expost)} grid types), so {{psi >= 0}} is not an option's "
            "exercise region (the impulse response I(tau, v) rises too fast in v)"
        )
    with np.errstate(invalid="ignore"):
        rise = np.diff(k)
    scale = float(np.nanmax(np.abs(k[np.isfinite(k)]), initial=0.0) + 1.0)
    up = np.flatnonzero((rise > 1e-7 * scale) | (np.isfinite(k[:-1]) & np.isinf(k[1:])))
    if up.size:
        runs = np.split(up, np.flatnonzero(np.diff(up) > 1) + 1)
        where = ", ".join(f"[{format_number(tau[r[0]])}, {format_number(tau[r[-1] + 1])}]" for r in runs[:3])
        more = f" and {len(runs) - 3} more intervals" if len(runs) > 3 else ""
        msgs.append(
            f"ex-ante monotonicity fails: the strike k(tau) increases on {where}{more}, "
            "because psi decreases in tau there (the rent term (1 - G)/g * I falls more slowly than the "
            "value rises); the envelope fees are then not incentive compatible and the optimum pools types"
        )
    return "; ".join(msgs)


def _marginal_state(model: _Model, n_nodes: int) -> dict[str, Any]:
    """Gauss-Legendre nodes in the quantile of tau and the law of v at each node."""
    per = max(2, n_nodes // 8)
    gx, gw = np.polynomial.legendre.leggauss(per)
    edges = np.array([0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0])
    a, b = edges[:-1, None], edges[1:, None]
    u = (a + (gx + 1) * 0.5 * (b - a)).ravel()
    w = (0.5 * (b - a) * gw).ravel()
    dists = [model.dist(float(t)) for t in model.G.ppf(u)]
    return {"w": w, "d": dists, "lo": min(d.lo for d in dists), "hi": max(d.hi for d in dists)}


def value_distribution(first: Any, second_given_first: Callable[[float], Any], *, n_nodes: int = 64) -> Any:
    r"""The marginal distribution of the value :math:`v`, :math:`\int F(\cdot \mid \tau)\, dG(\tau)`.

    A frozen scipy.stats distribution (so it can be passed to
    :func:`~mdlib.auctions.posted_price_revenue` or
    :func:`~mdlib.auctions.second_price_revenue`, the static benchmarks sold after
    the value is learned).  The mixture is a Gauss--Legendre quadrature over the
    quantiles of :math:`\tau` with ``n_nodes`` nodes (accurate to about 1e-8 for families
    smooth in :math:`\tau`, about 1e-4 when :math:`F(v \mid \tau)` has kinks in :math:`\tau`,
    as with uniform news; :func:`~mdlib.auctions.posted_price_revenue` is then slow, since
    it irons the small wiggles of the quadrature, and an exact marginal is better).

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution of the ex-ante type.
    second_given_first : callable
        ``tau ->`` scipy.stats distribution of ``v`` given ``tau``.
    n_nodes : int, default 64
        Number of quadrature nodes in :math:`\tau` (at least 16).

    Returns
    -------
    scipy.stats frozen distribution
        With ``cdf``, ``sf``, ``pdf``, ``ppf``, ``isf``.

    Raises
    ------
    ValueError
        For bad distributions or ``n_nodes < 16``.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import value_distribution, posted_price_revenue
    >>> marg = value_distribution(stats.uniform(0, 1), lambda t: stats.norm(t, 0.25))
    >>> round(float(marg.mean()), 6)
    0.5
    >>> round(posted_price_revenue(marg).revenue, 6)    # the static benchmark: a posted price after v is known
    0.250136
    """
    n = check_positive_int(n_nodes, "n_nodes")
    if n < 16:
        raise ValueError(f"n_nodes must be at least 16, got {n}")
    model = _Model(first, second_given_first, need_mean="for the quadrature over tau of the marginal law of v")
    return _MarginalValue(_marginal_state(model, n))()
