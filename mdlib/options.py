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
# Interior types evaluated at once in each round of the search for a change of regime.
_SPLIT = 15
_SCAN_U = np.concatenate([_SCAN_LOW, _SCAN_HIGH])
_SCAN_UPPER = np.concatenate([np.zeros(_SCAN_LOW.size, bool), np.ones(_SCAN_HIGH.size, bool)])


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


def _tail_integrals(m: _Model, tau: NDArray[np.float64], u_lo: NDArray, q_lo: NDArray) -> tuple[NDArray, NDArray]:
    """For each type tau[i] and lower limit (u_lo[i, j], q_lo[i, j] = 1 - u_lo[i, j]):
    int_{u_lo}^1 Z du and int_{u_lo}^1 dZ/dtau du, each of shape ``u_lo.shape``."""
    shape = u_lo.shape
    u_flat, q_flat = u_lo.ravel(), q_lo.ravel()
    lo_half = np.where(u_flat < 0.5, u_flat, 0.5)
    nl, wl = _panel_nodes(lo_half, np.full_like(u_flat, 0.5))
    nu, wu = _panel_nodes(np.zeros_like(q_flat), np.minimum(q_flat, 0.5))
    per_type = np.repeat(np.repeat(tau, shape[1]), nl.shape[1])
    nodes = np.concatenate([nl.ravel(), nu.ravel()])
    upper = np.concatenate([np.zeros(nl.size, bool), np.ones(nu.size, bool)])
    z, dz = m.quantiles_at(np.concatenate([per_type, per_type]), nodes, upper)
    zl, zu = z[: nl.size].reshape(nl.shape), z[nl.size :].reshape(nu.shape)
    dl, du = dz[: nl.size].reshape(nl.shape), dz[nl.size :].reshape(nu.shape)
    with _quiet():
        s = np.where(wl > 0, wl * zl, 0.0).sum(1) + np.where(wu > 0, wu * zu, 0.0).sum(1)
        d = np.where(wl > 0, wl * dl, 0.0).sum(1) + np.where(wu > 0, wu * du, 0.0).sum(1)
    return s.reshape(shape), d.reshape(shape)


def _scan(m: _Model, tau: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
    """Z and dZ/dtau of each type on the scan grid, rows in the order of ``tau``; raises for the first
    type whose quantiles have no finite derivative in tau or decrease in tau."""
    n = tau.size
    z, dz = m.quantiles_at(np.repeat(tau, _SCAN_U.size), np.tile(_SCAN_U, n), np.tile(_SCAN_UPPER, n))
    z, dz = z.reshape(n, -1), dz.reshape(n, -1)
    ok = np.isfinite(z)
    rough = (ok & ~np.isfinite(dz)).any(1)
    with _quiet():
        falling = ok & (dz < -1e-6 * (1.0 + np.abs(z)))
    bad = rough | falling.any(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if rough[i]:
            raise ValueError(
                f"second_given_first must depend smoothly on tau: the quantiles of v given tau have no "
                f"finite derivative in tau at tau = {format_number(tau[i])}"
            )
        j = int(np.flatnonzero(falling[i])[0])
        raise ValueError(
            "second_given_first must increase in tau in the sense of first-order stochastic dominance "
            f"(I >= 0): at tau = {format_number(tau[i])}, v = {format_number(z[i, j])} the impulse response is "
            f"I = {dz[i, j]:.3g} < 0"
        )
    return z, dz, ok


def _pointwise(m: _Model, tau: ArrayLike, lam: ArrayLike) -> list[_Point]:
    """Strike, exercise probability, call value, surplus and rent slope of each ex-ante type tau[i]
    (with inverse hazard rate lam[i]), all types at once."""
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    n = tau.size
    z_all, dz_all, ok_all = _scan(m, tau)
    k = np.empty(n)
    u_k, q_k = np.empty(n), np.empty(n)
    violation = np.full(n, math.nan)
    brackets: list[tuple[int, float, bool, float, bool]] = []
    for i in range(n):
        ok = ok_all[i]
        u, upper, z, dz = _SCAN_U[ok], _SCAN_UPPER[ok], z_all[i, ok], dz_all[i, ok]
        psi = z - lam[i] * dz
        pos = psi > 0
        falls = np.flatnonzero((psi[:-1] > 0) & (psi[1:] < -1e-9 * (1.0 + np.abs(z[1:]))))
        if falls.size:
            violation[i] = float(z[falls[-1]])
        if not pos[-1]:
            # psi <= 0 at the top: the root lies above the support (never exercised); beyond the
            # end of the support (or the last representable quantile) psi = v - lam * I, with I
            # extended by its value there (the speed of that end)
            k[i], u_k[i], q_k[i] = max(float(lam[i] * dz[-1]), float(z[-1])), 1.0, 0.0
        elif pos.all() or (pos[1:].all() and psi[0] == 0.0):
            # psi >= 0 at the bottom: the root lies below (always exercised); beyond the last
            # quantile the impulse response is extended by its value there
            k[i], u_k[i], q_k[i] = min(float(lam[i] * dz[0]), float(z[0])), 0.0, 1.0
        else:
            j = int(np.flatnonzero(~pos)[-1])
            brackets.append((i, u[j], bool(upper[j]), u[j + 1], bool(upper[j + 1])))
    if brackets:
        rows = np.array([b[0] for b in brackets])
        k[rows], u_k[rows], q_k[rows] = _refine(m, tau[rows], lam[rows], *(np.array(c) for c in list(zip(*brackets))[1:]))
    # first-best lower limit: where v = 0
    zero = np.zeros(n)
    u0, q0 = m.values(tau, zero, "cdf"), m.values(tau, zero, "sf")
    s, d = _tail_integrals(m, tau, np.stack([u_k, u0], axis=1), np.stack([q_k, q0], axis=1))
    never = q_k == 0.0
    s_k, d_k = np.where(never, 0.0, s[:, 0]), np.where(never, 0.0, d[:, 0])
    s_0 = np.where(q0 > 0, s[:, 1], 0.0)
    call = s_k - np.where(q_k > 0, k * q_k, 0.0)
    return [_Point(*map(float, row)) for row in zip(k, q_k, call, s_k, d_k, s_0, violation)]


def _refine(m: _Model, tau: NDArray, lam: NDArray, a: NDArray, ua: NDArray, b: NDArray, ub: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Refine the upward zero of psi between two scan points (a, ua) and (b, ub) of each type;
    return (k, u_k, q_k)."""
    same = ua == ub
    # both in the same half: a parameter x that is u (lower) or q (upper); straddling the middle:
    # u on [1/2, 1 - q]
    upper = np.where(same, ua, False)
    x0, x1 = a.astype(float), np.where(same, b, 1.0 - b)
    # geometric subdivision where the bracket spans orders of magnitude (the tails)
    geometric = ((x0 > 0) & (x1 > 10 * x0)) | ((x1 > 0) & (x0 > 10 * x1))
    geometric &= (x0 != 0.0) & (x1 != 0.0)
    rounds = np.where(geometric, 4, 3)
    p0, p1 = np.full(tau.size, math.nan), np.full(tau.size, math.nan)
    for r in range(4):
        act = np.flatnonzero(rounds > r)
        if not act.size:
            break
        g = geometric[act]
        xs = np.empty((act.size, 25))
        if g.any():
            xs[g] = np.geomspace(x0[act][g], x1[act][g], 25, axis=1)
        if (~g).any():
            xs[~g] = np.linspace(x0[act][~g], x1[act][~g], 25, axis=1)
        z, dz = m.quantiles_at(np.repeat(tau[act], 25), xs.ravel(), np.repeat(upper[act], 25))
        psi = z.reshape(xs.shape) - lam[act, None] * dz.reshape(xs.shape)
        below = np.isfinite(psi) & (psi < 0)  # v increases along xs in both halves
        last = np.where(below, np.arange(25), -1).max(axis=1)
        i = np.minimum(np.maximum(last, 0), 23)
        rows = np.arange(act.size)
        x0[act], x1[act] = xs[rows, i], xs[rows, i + 1]
        p0[act], p1[act] = psi[rows, i], psi[rows, i + 1]
        with _quiet():
            narrow = np.maximum(x0[act], x1[act]) / np.minimum(x0[act], x1[act]) < 1.5
        geometric[act] = g & ~narrow
    with _quiet():
        t = np.where(~(np.isfinite(p0) & np.isfinite(p1)) | (p1 == p0), 0.5, np.clip(p0 / (p0 - p1), 0.0, 1.0))
        x = np.where(np.minimum(x0, x1) > 0, np.exp(np.log(x0) + t * (np.log(x1) - np.log(x0))), x0 + t * (x1 - x0))
    k = m.quantiles_at(tau, x, upper)[0]
    u_k, q_k = np.where(upper, 1.0 - x, x), np.where(upper, x, 1.0 - x)
    inf = ~np.isfinite(k)
    if inf.any():  # an infinite end of the support: fall back to the finite neighbour
        k[inf] = m.quantiles_at(tau[inf], x1[inf], upper[inf])[0]
    return k, u_k, q_k


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
    t_b, v_b = (np.array(a, dtype=float) for a in np.broadcast_arrays(t_arr, v_arr))
    u_, q_ = m.values(t_b, v_b, "cdf"), m.values(t_b, v_b, "sf")
    upper = u_ > 0.5
    _, out = m.quantiles_at(t_b, np.where(upper, q_, u_), upper)
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
        pts = _pointwise(self._model, flat, lam)
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
        return _call_values(self._model, t_arr, offered.strike) - offered.fee[None, :]


def _call_values(m: _Model, tau: NDArray[np.float64], k: NDArray[np.float64]) -> NDArray[np.float64]:
    """E[(v - k_j)^+ | tau_i] for several types tau_i and strikes k_j, shape ``(len(tau), len(k))``."""
    k = np.asarray(k, dtype=float)
    finite = np.isfinite(k)
    kk = np.broadcast_to(np.where(finite, k, 0.0), (tau.size, k.size))
    u_k, q_k = m.values(tau, kk, "cdf"), m.values(tau, kk, "sf")
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
        depend smoothly on ``tau``.  It is first called with a numpy array of types: a
        family written with array arithmetic (``lambda t: stats.norm(t, 0.25)``) then
        gives every type in one call, which is several times faster; a family that
        refuses an array, or answers differently from one type at a time, is called
        with one float at a time.
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
    pts = _pointwise(m, tau, lam)
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
    """Locate each type at which the strike enters or leaves the support (the bracket shrinks
    ``_SPLIT + 1``-fold a round).

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
        while b - a > width:  # the first switch among _SPLIT equally spaced interior types, all at once
            mids = np.linspace(a, b, _SPLIT + 2)[1:-1]
            pms = _pointwise(m, mids, m.inverse_hazard(mids))
            switched = [j for j, pm in enumerate(pms) if _regime(pm) != _regime(p0)]
            if not switched:
                a, pa = float(mids[-1]), pms[-1]
                continue
            j = switched[0]
            b, pb = float(mids[j]), pms[j]
            if j > 0:
                a, pa = float(mids[j - 1]), pms[j - 1]
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
    z, dz = (a.reshape(tau.size, u.size) for a in m.quantiles_at(np.repeat(tau, u.size), np.tile(u, tau.size), np.tile(up, tau.size)))
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
    taus = model.G.ppf(u)
    dists = [model.dist(float(t)) for t in taus]

    def values(fn: str, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``fn`` of the law of v given each node's type at x, shape ``(len(taus),) + x.shape``."""
        return model.values(taus, np.broadcast_to(x, taus.shape + x.shape), fn)

    return {"w": w, "d": dists, "values": values, "lo": min(d.lo for d in dists), "hi": max(d.hi for d in dists)}


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
        ``tau ->`` scipy.stats distribution of ``v`` given ``tau`` (called with an array of
        types where it accepts one, as in :func:`optimal_option_contract`).
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
