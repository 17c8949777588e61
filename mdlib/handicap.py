"""Handicap auctions: selling to several buyers who learn their values after they sign.

Each buyer ``i`` learns an ex-ante type ``tau_i ~ G`` and later his value ``v_i ~ F(. | tau_i)``
(the model of :mod:`mdlib.options`); the seller runs the handicap auction of Eső and Szentes,
whose allocation maximises the dynamic virtual surplus.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, interpolate

from ._validation import check_positive_int, format_number
from ._scipy import _quiet
from ._screening import _Model, _cumulative, _ex_ante_utility, _tau_grid

__all__ = ["HandicapAuction", "HandicapSimulation", "handicap_auction"]

#: Largest accepted estimated error of the revenue, relative to |revenue| plus the scale of tau.
_REVENUE_RTOL = 1e-3


class HandicapSimulation(NamedTuple):
    """Outcomes of simulated handicap auctions (one row per auction, one column per bidder)."""

    tau: NDArray[np.float64]
    """Ex-ante types, shape ``(n_auctions, n_bidders)``."""
    value: NDArray[np.float64]
    """Values learned after stage one."""
    bid: NDArray[np.float64]
    r"""Stage-two bids :math:`v - h(\tau)` (truthful bidding is dominant)."""
    winner: NDArray[np.int64]
    """Index of the winning bidder in each auction, ``-1`` if the good is not sold."""
    premium: NDArray[np.float64]
    """Stage-one premiums paid."""
    stage_two_payment: NDArray[np.float64]
    r"""Stage-two payments: the winner's handicap plus the highest other bid (or 0)."""
    revenue: NDArray[np.float64]
    """The seller's revenue in each auction (premiums plus stage-two payments)."""


def _per_type(m: _Model, taus: NDArray[np.float64], x: NDArray[np.float64], fn: str = "cdf") -> NDArray[np.float64]:
    """``fn`` of v | tau_k at x[k, :] (one row per type), vectorised when the family takes arrays."""
    return m.values(taus, x, fn)


def _handicaps(m: _Model, tau: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Handicap (1 - G)/g * I and the impulse response I(tau) of each type (I checked constant in v)."""
    tau = np.asarray(tau, dtype=float)
    u = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    lam = m.inverse_hazard(tau)
    # the derivative in tau of the quantiles, one stencil per type
    pts, wts = m.stencil(tau)
    dz = np.zeros((tau.size, u.size))
    with _quiet():
        for i in range(3):
            dz += wts[i][:, None] * _per_type(m, pts[i], np.broadcast_to(u, (tau.size, u.size)).copy(), "ppf")
    bad = ~np.all(np.isfinite(dz), axis=1)
    if bad.any():
        raise ValueError(
            "second_given_first must depend smoothly on tau: no finite derivative in tau at "
            f"tau = {format_number(tau[bad][0])}"
        )
    spread = dz.max(1) - dz.min(1)
    wide = spread > 1e-5 * (1.0 + np.abs(dz).max(1))
    if wide.any():
        j = int(np.flatnonzero(wide)[0])
        raise ValueError(
            "second_given_first must have an impulse response I(tau, v) that does not depend on v "
            f"(a handicap auction needs psi = v - handicap(tau)); at tau = {format_number(tau[j])} it ranges over "
            f"[{dz[j].min():.4g}, {dz[j].max():.4g}]"
        )
    info = np.median(dz, axis=1)
    if np.any(info < -1e-9):
        j = int(np.flatnonzero(info < -1e-9)[0])
        raise ValueError(
            "second_given_first must increase in tau in the sense of first-order stochastic dominance "
            f"(I >= 0): at tau = {format_number(tau[j])} the impulse response is {info[j]:.3g} < 0"
        )
    info = np.maximum(info, 0.0)
    return lam * info, info


@dataclass(frozen=True)
class HandicapAuction:
    r"""The revenue-maximising auction for buyers who learn their values after contracting.

    In stage one each bidder, knowing his ex-ante type :math:`\tau`, pays the premium
    :math:`a(\tau)` and receives the handicap :math:`h(\tau) = \frac{1 - G(\tau)}{g(\tau)} I(\tau)`;
    in stage two, knowing his value :math:`v`, he bids :math:`v - h(\tau)` in a second-price
    auction with reserve 0 on the handicapped bids; the winner pays his handicap plus the
    highest other handicapped bid (or 0).  The highest nonnegative dynamic virtual value wins.
    Use :meth:`premium`, :meth:`handicap`, :meth:`utility`, :meth:`win_probability`
    (vectorised in ``tau``), :meth:`payoff` (deviation searches) and :meth:`simulate`.
    """

    n_bidders: int
    """Number of bidders."""
    revenue: float
    r"""Expected revenue :math:`\mathbb{E}[\max(0, \psi^1, \dots, \psi^n)]`, by quadrature."""
    revenue_error: float
    """Estimated quadrature error of ``revenue`` (difference between two rules of different orders)."""
    expected_premiums: float
    """Expected stage-one premiums, summed over bidders."""
    expected_stage_two_payments: float
    """Expected stage-two payments (to the seller, summed over bidders)."""
    surplus: float
    r"""Expected total surplus :math:`\mathbb{E}[v_{\text{winner}}]` (0 when unsold), computed type by type."""
    rent: float
    r"""The bidders' expected ex-ante utilities, summed: :math:`n\,\mathbb{E}[U(\tau)]`."""
    sale_probability: float
    r""":math:`\Pr(\max_i \psi^i \ge 0)`."""
    tau: NDArray[np.float64] = field(repr=False)
    """The grid of ex-ante types on which the utility was integrated."""
    utilities: NDArray[np.float64] = field(repr=False)
    """Ex-ante utilities on the grid."""
    _model: Any = field(repr=False, compare=False, default=None)
    _x: Any = field(repr=False, compare=False, default=None)  # grid of bids, x >= 0
    _Hn1: Any = field(repr=False, compare=False, default=None)  # H(x)^(n - 1): distribution of the best rival bid
    _dHn1: Any = field(repr=False, compare=False, default=None)  # its density
    _U: Any = field(repr=False, compare=False, default=None)

    def handicap(self, tau: ArrayLike) -> Any:
        r"""The handicap :math:`h(\tau) = \frac{1 - G(\tau)}{g(\tau)} I(\tau)` subtracted from the stage-two bid."""
        arr, scalar = self._model.check_tau(tau)
        h, _ = _handicaps(self._model, arr.ravel())
        return float(h[0]) if scalar else h.reshape(arr.shape)

    def _stage_two(self, tau: NDArray[np.float64], h: NDArray[np.float64], payment: bool = False) -> tuple:
        """Expected stage-two surplus E[(v - h - M)^+ | tau] and Pr(win | tau) with handicaps h
        (and, if ``payment``, the expected stage-two payment E[(h + M) 1{v - h > M} | tau])."""
        x = self._x
        sf = _per_type(self._model, tau, x[None, :] + h[:, None], "sf")
        surplus = integrate.simpson(sf * self._Hn1[None, :], x=x, axis=1)
        # Pr(v - h > M) by parts: the atom of M at 0, then the density of M (smooth: a mixture over tau)
        win = sf[:, 0] * self._Hn1[0] + integrate.simpson(sf * self._dHn1[None, :], x=x, axis=1)
        if not payment:
            return surplus, win
        pay = h * win + integrate.simpson(x[None, :] * sf * self._dHn1[None, :], x=x, axis=1)
        return surplus, win, pay

    def win_probability(self, tau: ArrayLike) -> Any:
        r""":math:`\Pr(\text{win} \mid \tau)` under truthful play."""
        arr, scalar = self._model.check_tau(tau)
        flat = arr.ravel()
        _, win = self._stage_two(flat, _handicaps(self._model, flat)[0])
        return float(win[0]) if scalar else win.reshape(arr.shape)

    def utility(self, tau: ArrayLike) -> Any:
        r"""Ex-ante utility :math:`U(\tau) = \int_{\underline\tau}^{\tau} I(t) \Pr(\text{win} \mid t)\, dt`."""
        return _ex_ante_utility(self._model, self._U, tau)

    def premium(self, tau: ArrayLike) -> Any:
        r"""The premium :math:`a(\tau) = \mathbb{E}[(v - h(\tau) - M)^+ \mid \tau] - U(\tau)` paid in stage one."""
        arr, scalar = self._model.check_tau(tau)
        flat = arr.ravel()
        s, _ = self._stage_two(flat, _handicaps(self._model, flat)[0])
        out = s - np.asarray(self._U(flat), dtype=float)
        return float(out[0]) if scalar else out.reshape(arr.shape)

    def payoff(self, tau: ArrayLike, report: ArrayLike) -> NDArray[np.float64]:
        r"""Ex-ante utility of type ``tau`` who buys the handicap of type ``report`` and then bids optimally.

        :math:`\mathbb{E}[(v - h(\hat\tau) - M)^+ \mid \tau] - a(\hat\tau)`; shape ``(len(tau), len(report))``.
        """
        t_arr, _ = self._model.check_tau(tau, "tau")
        r_arr, _ = self._model.check_tau(report, "report")
        t_arr, r_arr = np.atleast_1d(t_arr).ravel(), np.atleast_1d(r_arr).ravel()
        h_r = _handicaps(self._model, r_arr)[0]
        a_r = np.atleast_1d(self.premium(r_arr))
        out = np.empty((t_arr.size, r_arr.size))
        for i, t in enumerate(t_arr):
            s, _ = self._stage_two(np.full(r_arr.size, t), h_r)
            out[i] = s - a_r
        return out

    def simulate(self, n_auctions: int, rng: np.random.Generator) -> HandicapSimulation:
        """Simulate ``n_auctions`` independent auctions: sign-up, premiums, truthful bids, payments.

        Types and values are drawn by inversion (``first.ppf`` and the quantiles of
        ``second_given_first``); premiums and handicaps are interpolated (cubic) from a
        grid of 401 types, which adds an error below 1e-6 on smooth instances.
        """
        n_a = check_positive_int(n_auctions, "n_auctions")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng)}")
        m, n = self._model, self.n_bidders
        lo = m.tau_lo if math.isfinite(m.tau_lo) else float(m.G.ppf(np.array([1e-9]))[0])
        hi = m.tau_hi if math.isfinite(m.tau_hi) else float(m.G.ppf(np.array([1 - 1e-9]))[0])
        grid = np.linspace(lo, hi, 401)
        h_grid = _handicaps(m, grid)[0]
        a_grid = np.asarray(self.premium(grid), dtype=float)
        tau = np.clip(m.G.ppf(rng.random((n_a, n))), lo, hi)
        value = m.values(tau.ravel(), rng.random(n_a * n), "ppf").reshape(n_a, n)
        h = interpolate.CubicSpline(grid, h_grid)(tau)
        premium = interpolate.CubicSpline(grid, a_grid)(tau)
        bid = value - h
        order = np.argsort(-bid, axis=1, kind="stable")
        top = order[:, 0]
        rows = np.arange(n_a)
        best = bid[rows, top]
        second = np.maximum(bid[rows, order[:, 1]], 0.0) if n > 1 else np.zeros(n_a)
        sold = best >= 0.0
        winner = np.where(sold, top, -1)
        pay2 = np.zeros((n_a, n))
        pay2[rows[sold], top[sold]] = h[rows[sold], top[sold]] + second[sold]
        return HandicapSimulation(tau, value, bid, winner, premium, pay2, premium.sum(1) + pay2.sum(1))


def handicap_auction(
    first: Any,
    second_given_first: Callable[[float], Any],
    n_bidders: int,
    *,
    n_grid: int = 201,
) -> HandicapAuction:
    r"""The optimal auction for ``n_bidders`` i.i.d. buyers who learn their values after contracting.

    Each buyer learns :math:`\tau \sim G` (``first``), signs up, then learns
    :math:`v \sim F(\cdot \mid \tau)` (``second_given_first(tau)``).  When the
    impulse response :math:`I(\tau, v)` does not depend on :math:`v` (e.g. additive news
    :math:`v = \tau + \varepsilon`, where :math:`I \equiv 1`), the dynamic virtual value is
    :math:`\psi = v - h(\tau)` with the handicap :math:`h(\tau) = \frac{1-G(\tau)}{g(\tau)} I(\tau)`,
    and the optimal mechanism (Eső and Szentes) is a **handicap auction**: premiums in stage one,
    a second-price auction on handicapped bids with reserve 0 in stage two.  Premiums follow
    from the envelope formula with :math:`U(\underline\tau) = 0`:

    .. math:: U(\tau) = \int_{\underline\tau}^{\tau} I(t)\,\Pr(\text{win} \mid t)\,dt, \qquad
              a(\tau) = \mathbb{E}[(v - h(\tau) - M)^+ \mid \tau] - U(\tau),

    where :math:`M` is the highest rival bid, floored at 0.

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution :math:`G` of each bidder's ex-ante type (with a density).
    second_given_first : callable
        ``tau ->`` scipy.stats continuous distribution of the value given ``tau``: FOSD-increasing
        and smooth in ``tau``, with an impulse response that does not depend on ``v`` (called
        with an array of types where it accepts one, as in
        :func:`~mdlib.options.optimal_option_contract`).
    n_bidders : int
        Number of bidders, at least 1 (one bidder: the option contract).
    n_grid : int, default 201
        Number of ex-ante types on which :math:`U` is integrated (at least 5).

    Returns
    -------
    HandicapAuction
        With vectorised ``premium(tau)``, ``handicap(tau)``, the ``revenue`` (and its error
        estimate ``revenue_error``) and ``simulate(n_auctions, rng)``.

    Raises
    ------
    ValueError
        If ``n_bidders`` is not an integer >= 1, ``n_grid < 5``, ``first`` has no density,
        ``second_given_first`` does not return continuous distributions, is not FOSD-increasing
        or smooth in ``tau``, if its impulse response depends on ``v``, if the handicap
        increases in ``tau`` (then :math:`\psi` is not monotone and the auction is not IC),
        if ``first`` or ``second_given_first`` has no finite mean, or if ``revenue_error``
        exceeds ``1e-3 * (|revenue| + scale)`` (``scale`` the size of a typical ``tau``).

    Notes
    -----
    The distribution of one bidder's handicapped bid, :math:`H(x) = \mathbb{E}_\tau[F(x + h(\tau) \mid \tau)]`,
    is a composite Gauss--Legendre quadrature over the quantiles of :math:`\tau` (64 panels of 8
    nodes); revenue is :math:`\int_0^\infty (1 - H(x)^n)\,dx` by Simpson's rule on 4001 points.
    ``revenue_error`` compares this with a rule of half the panels and half the points:
    about 1e-12 on smooth instances, about 1e-5 when :math:`F(v \mid \tau)` has kinks in :math:`\tau`.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import handicap_auction
    >>> a = handicap_auction(stats.uniform(0, 1), lambda t: stats.norm(t, 0.25), 2)
    >>> round(a.revenue, 6)                      # E[max(0, psi1, psi2)]
    0.446447
    >>> [round(float(h), 6) for h in a.handicap([0.0, 0.5, 1.0])]   # 1 - tau
    [1.0, 0.5, 0.0]
    >>> round(a.premium(1.0), 4)
    0.3749
    """
    n = check_positive_int(n_bidders, "n_bidders")
    n_g = check_positive_int(n_grid, "n_grid")
    if n_g < 5:
        raise ValueError(f"n_grid must be at least 5, got {n_g}")
    m = _Model(first, second_given_first, need_mean="for the expected revenue of the auction")
    # quadrature over tau: composite Gauss-Legendre in u = G(tau)
    gx, gw = np.polynomial.legendre.leggauss(8)

    def rule(panels: int) -> tuple[NDArray, NDArray]:
        e = np.linspace(0.0, 1.0, panels + 1)
        a_, b_ = e[:-1, None], e[1:, None]
        return (a_ + (gx + 1) * 0.5 * (b_ - a_)).ravel(), (0.5 * (b_ - a_) * gw).ravel()

    u_nodes, w_nodes = rule(64)
    t_nodes = m.G.ppf(u_nodes)
    for t in t_nodes[[0, t_nodes.size // 2, -1]]:  # validates the family (continuous, with a density)
        m.dist(float(t))
    h_nodes, _ = _handicaps(m, t_nodes)
    # the handicap must not increase with tau (psi nondecreasing in tau)
    order = np.argsort(t_nodes)
    rise = np.diff(h_nodes[order])
    if np.any(rise > 1e-7 * (1.0 + np.max(np.abs(h_nodes)))):
        j = int(np.flatnonzero(rise > 1e-7 * (1.0 + np.max(np.abs(h_nodes))))[0])
        raise ValueError(
            "first and second_given_first must give a handicap (1 - G)/g * I that does not increase in tau "
            f"(so that psi = v - handicap increases in tau); it rises near tau = {format_number(t_nodes[order][j])}"
        )
    # range of positive bids
    top_q = 1e-13
    with _quiet():
        tops = _per_type(m, t_nodes, np.full((t_nodes.size, 1), top_q), "isf")[:, 0] - h_nodes
    x_max = float(np.max(tops[np.isfinite(tops)])) if np.any(np.isfinite(tops)) else 0.0
    x_max = max(x_max, 1e-9 * (1.0 + m.G.scale))
    x = np.linspace(0.0, x_max, 4001)

    def bid_cdf(uw: tuple[NDArray, NDArray], xs: NDArray) -> tuple[NDArray, NDArray]:
        u_, w_ = uw
        t_ = m.G.ppf(u_)
        h_ = h_nodes if u_ is u_nodes else _handicaps(m, t_)[0]
        shifted = xs[None, :] + h_[:, None]
        cdf = _per_type(m, t_, shifted, "cdf")
        pdf = _per_type(m, t_, shifted, "pdf")
        return np.clip(w_ @ cdf, 0.0, 1.0), w_ @ pdf

    H, h_density = bid_cdf((u_nodes, w_nodes), x)
    revenue = float(integrate.simpson(1.0 - H**n, x=x))
    H_coarse, _ = bid_cdf(rule(32), x[::2])
    coarse = float(integrate.simpson(1.0 - H_coarse**n, x=x[::2]))
    Hn1 = H ** (n - 1)
    dHn1 = (n - 1) * H ** max(n - 2, 0) * h_density if n > 1 else np.zeros_like(x)
    # per-type quantities on a grid of types
    tau = _tau_grid(m.G, n_g)
    h_tau, info = _handicaps(m, tau)
    proto = HandicapAuction(n, revenue, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, tau, tau, m, x, Hn1, dHn1, None)
    stage_surplus, win, pay2 = proto._stage_two(tau, h_tau, payment=True)
    slope = info * win
    U = np.maximum(_cumulative(tau, slope, []), 0.0)
    U_fn = interpolate.CubicHermiteSpline(tau, U, slope)
    u_tau = m.G.cdf(tau)
    E = lambda y: float(_cumulative(u_tau, y, [])[-1])  # noqa: E731
    premiums = stage_surplus - U
    expected_premiums = n * E(premiums)
    rent = n * E(U)
    stage_two = n * E(pay2)  # computed type by type: the identity with revenue is a check
    sale = float(1.0 - H[0] ** n)
    revenue_error = abs(revenue - coarse)
    if not (math.isfinite(revenue) and revenue_error <= _REVENUE_RTOL * (abs(revenue) + m.G.scale)):
        raise ValueError(
            f"the revenue quadrature did not reach its tolerance: revenue {revenue:.6g} with estimated error "
            f"{revenue_error:.3g} > {_REVENUE_RTOL:g} * (|revenue| + scale of first); second_given_first "
            "may have too heavy a tail (the bids are integrated up to their 1 - 1e-13 quantile)"
        )
    return HandicapAuction(
        n_bidders=n,
        revenue=revenue,
        revenue_error=revenue_error,
        expected_premiums=expected_premiums,
        expected_stage_two_payments=stage_two,
        surplus=n * E(stage_surplus + pay2),
        rent=rent,
        sale_probability=sale,
        tau=tau,
        utilities=U,
        _model=m,
        _x=x,
        _Hn1=Hn1,
        _dHn1=dHn1,
        _U=U_fn,
    )
