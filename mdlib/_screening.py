"""The sequential-screening model shared by option contracts and handicap auctions.

A buyer's ex-ante type ``tau ~ G`` and his value ``v ~ F(. | tau)``, in quantile coordinates
(see :mod:`mdlib.options` for the conventions), and two numerical helpers on a grid of types.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import integrate

from ._validation import as_real_array, format_number
from ._scipy import _as_dist, _Dist, _quiet

_STEP = np.cbrt(np.finfo(float).eps)  # relative step of the tau-derivative


class _Model:
    """The two primitives, validated, with cached conditional distributions."""

    def __init__(self, first: Any, second_given_first: Any, *, probe: bool = True, need_mean: str = "") -> None:
        """Validate the primitives.

        With ``probe``, ``second_given_first`` is called at three quantiles of ``first`` (1%,
        50%, 99%) so that a family returning garbage is refused at once; with ``need_mean``
        (the reason, for the message), ``first`` and those conditional laws must have finite means.
        """
        try:
            self.G = _as_dist(first, "first")
        except ValueError as exc:
            raise ValueError(f"first must be a continuous scipy.stats distribution of tau with a density: {exc}") from exc
        if not callable(second_given_first):
            raise ValueError(
                "second_given_first must be a callable tau -> scipy.stats distribution of v given tau, "
                f"got {type(second_given_first)}"
            )
        self.cond = second_given_first
        self.h = float(_STEP * self.G.scale)
        self.tau_lo, self.tau_hi = self.G.lo, self.G.hi
        self._cache: dict[float, _Dist] = {}
        if need_mean:
            self.G.require_finite_mean(need_mean, "first")
        if probe or need_mean:
            for t in self.G.ppf(np.array([0.01, 0.5, 0.99])):
                d = self.dist(float(t))
                if need_mean:
                    d.require_finite_mean(need_mean, f"second_given_first({format_number(t)})")

    def dist(self, tau: float) -> _Dist:
        tau = float(tau)
        d = self._cache.get(tau)
        if d is None:
            try:
                raw = self.cond(tau)
            except Exception as exc:
                raise ValueError(f"second_given_first({format_number(tau)}) failed: {exc}") from exc
            try:
                d = _as_dist(raw)
            except ValueError as exc:
                raise ValueError(
                    f"second_given_first({format_number(tau)}) must return a continuous scipy.stats "
                    f"distribution with a density: {exc}"
                ) from exc
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[tau] = d
        return d

    def stencil(self, tau: float) -> list[tuple[float, float]]:
        """Points and weights of the derivative in tau (central, or one-sided at an end)."""
        h = self.h
        if tau - h < self.tau_lo:
            return [(tau, -1.5 / h), (tau + h, 2.0 / h), (tau + 2 * h, -0.5 / h)]
        if tau + h > self.tau_hi:
            return [(tau, 1.5 / h), (tau - h, -2.0 / h), (tau - 2 * h, 0.5 / h)]
        return [(tau + h, 0.5 / h), (tau - h, -0.5 / h)]

    def inverse_hazard(self, tau: NDArray[np.float64]) -> NDArray[np.float64]:
        """(1 - G) / g, computed as exp(log S - log g); zero at the top of the support."""
        log_s, log_g = self.G.logsf(tau), self.G.logpdf(tau)
        with _quiet():
            out = np.exp(log_s - log_g)
        out = np.where(np.isneginf(log_s), 0.0, out)
        if np.any(~np.isfinite(out)):
            bad = np.asarray(tau)[~np.isfinite(out)].flat[0]
            raise ValueError(f"first must have a positive density on its support, got g = 0 at tau = {format_number(bad)}")
        return out

    def quantiles(self, tau: float, u: NDArray[np.float64], upper: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
        """Z(tau, .) and dZ/dtau at quantiles: ``u`` is u where not ``upper`` and q = 1 - u where ``upper``."""
        u = np.asarray(u, dtype=float)

        def z_of(d: _Dist) -> NDArray[np.float64]:
            if not upper.any():
                return d.ppf(u)
            if upper.all():
                return d.isf(u)
            out = np.empty_like(u)
            lo = ~upper
            out[lo] = d.ppf(u[lo])
            out[upper] = d.isf(u[upper])
            return out

        z = z_of(self.dist(tau))
        dz = np.zeros_like(u)
        with _quiet():  # inf - inf at an infinite end of the support gives nan there, unused
            for t, w in self.stencil(tau):
                dz += w * (z if t == tau else z_of(self.dist(t)))
        return z, dz

    def check_tau(self, tau: Any, name: str = "tau") -> tuple[NDArray[np.float64], bool]:
        arr, scalar = as_real_array(tau, name)
        bad = ~np.isfinite(arr) | (arr < self.G.lo) | (arr > self.G.hi)
        if bad.any():
            raise ValueError(
                f"{name} must lie in the support {self.G.support_text} of first, got {format_number(arr[bad].flat[0])}"
            )
        return arr, scalar


def _tau_grid(G: _Dist, n: int) -> NDArray[np.float64]:
    """Types on which the menu is computed: uniform for a bounded support where the density
    is positive at both ends, otherwise quantiles with geometric tails (an end where the
    density vanishes, such as 0 for a lognormal, is replaced by its 1e-10 quantile)."""
    ends_ok = [math.isfinite(x) and 0.0 < float(G.pdf(np.array([x]))[0]) < math.inf for x in (G.lo, G.hi)]
    if all(ends_ok):
        return np.linspace(G.lo, G.hi, n)
    # quantile grid, geometric toward unbounded ends
    n_open = 2 - sum(ends_ok)  # ends that need a geometric tail
    k_tail = min(max(4, n // 10), (n - 2) // n_open)  # leave at least two middle points
    tail = np.geomspace(1e-10, 0.02, k_tail, endpoint=False)
    mid = np.linspace(0.02, 0.98, n - n_open * k_tail)
    u = np.concatenate([tail if not ends_ok[0] else [], mid, 1 - tail[::-1] if not ends_ok[1] else []])
    lo_u = [0.0] if ends_ok[0] else []
    hi_u = [1.0] if ends_ok[1] else []
    u = np.unique(np.concatenate([lo_u, u, hi_u]))
    t = G.ppf(u)
    t = np.where(u == 0.0, G.lo, t)
    t = np.where(u == 1.0, G.hi, t)
    return np.unique(t)

def _cumulative(x: NDArray[np.float64], y: NDArray[np.float64], cuts: list[int]) -> NDArray[np.float64]:
    """Cumulative integral of y over x: Simpson within pieces, the trapezoid across each cut."""
    out = np.zeros_like(x)
    starts = [0] + [c + 1 for c in cuts]
    ends = [c for c in cuts] + [len(x) - 1]
    for s0, e0 in zip(starts, ends):
        if s0 > 0:  # across the cut [s0 - 1, s0]
            out[s0] = out[s0 - 1] + 0.5 * (x[s0] - x[s0 - 1]) * (y[s0] + y[s0 - 1])
        if e0 - s0 >= 2:
            out[s0 + 1 : e0 + 1] = out[s0] + integrate.cumulative_simpson(y[s0 : e0 + 1], x=x[s0 : e0 + 1])
        elif e0 - s0 == 1:
            out[e0] = out[s0] + 0.5 * (x[e0] - x[s0]) * (y[e0] + y[s0])
    return out


def _ex_ante_utility(model: Any, U: Any, tau: Any) -> Any:
    """``U(tau)`` for the ex-ante types ``tau`` (checked by ``model``): a float for a scalar, else an array."""
    arr, scalar = model.check_tau(tau)
    out = np.asarray(U(arr), dtype=float)
    return float(out) if scalar else out
