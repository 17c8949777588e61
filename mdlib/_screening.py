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
from ._scipy import _as_dist, _classify, _Dist, _quiet

_STEP = np.cbrt(np.finfo(float).eps)  # relative step of the tau-derivative
# The new-style scipy.stats names of the legacy methods.
_NEW_STYLE = {"cdf": "cdf", "sf": "ccdf", "pdf": "pdf", "ppf": "icdf", "isf": "iccdf"}


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
        self._broadcasts: bool | None = None  # whether the family takes an array of types (None: not yet known)
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

    def stencil(self, tau: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Points and weights of the derivative in tau at each type, shape ``(3,) + tau.shape``: central
        (the third weight zero), or one-sided and second order at an end of the support of tau."""
        tau = np.asarray(tau, dtype=float)
        h = self.h
        low = tau - h < self.tau_lo
        high = ~low & (tau + h > self.tau_hi)
        side = np.where(high, -1.0, 1.0)  # the direction of a one-sided stencil
        one_sided = low | high
        pts = np.stack([
            np.where(one_sided, tau, tau + h),
            np.where(one_sided, tau + side * h, tau - h),
            np.where(one_sided, tau + 2 * side * h, tau),
        ])
        wts = np.stack([
            np.where(one_sided, -1.5 * side / h, 0.5 / h),
            np.where(one_sided, 2.0 * side / h, -0.5 / h),
            np.where(one_sided, -0.5 * side / h, 0.0),
        ])
        return pts, wts

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

    def values(self, tau: NDArray[np.float64], x: NDArray[np.float64], method: str) -> NDArray[np.float64]:
        """``method`` (``"cdf"``, ``"sf"``, ``"pdf"``, ``"ppf"`` or ``"isf"``) of the law of v given the
        types ``tau`` at the points ``x``, whose leading axes have the shape of ``tau``: ``tau[i]`` is the
        type of the points ``x[i, ...]`` (one type per point when the shapes agree).

        Several types at once take one call of the family with an array of types when the family
        accepts one (its first such answer is compared with the laws of the lowest and the highest
        type); otherwise, or where that call gives NaN (invalid parameters at some type: the per-type
        law says which), the law of each type is built and validated on its own, and cached.
        """
        tau = np.asarray(tau, dtype=float)
        x = np.asarray(x, dtype=float)
        if x.shape[: tau.ndim] != tau.shape:
            raise ValueError(f"the points' leading axes {x.shape} must have the shape {tau.shape} of the types")
        if tau.size == 0:
            return np.empty(x.shape)
        first = float(tau.flat[0])
        if np.all(tau == first):
            return getattr(self.dist(first), method)(x)
        if self._broadcasts is not False:
            out = self._values_at_once(tau, x, method)
            if out is not None:
                return out
        flat_tau, rows = tau.ravel(), x.reshape(tau.size, -1)
        order = np.argsort(flat_tau, kind="stable")
        starts = np.flatnonzero(np.diff(flat_tau[order], prepend=np.nan) != 0)  # where each distinct type begins
        out = np.empty(rows.shape)
        for group in np.split(order, starts[1:]):
            out[group] = getattr(self.dist(float(flat_tau[group[0]])), method)(rows[group])
        return out.reshape(x.shape)

    def _values_at_once(self, tau: NDArray[np.float64], x: NDArray[np.float64], method: str) -> NDArray[np.float64] | None:
        try:
            with _quiet():
                raw = self.cond(tau.reshape(tau.shape + (1,) * (x.ndim - tau.ndim)))
                name = method if _classify(raw) == "legacy" else _NEW_STYLE[method]
                out = np.asarray(getattr(raw, name)(x), dtype=float)
        except Exception:  # noqa: BLE001 - the family does not take an array of types
            self._broadcasts = False
            return None
        if out.shape != x.shape:
            self._broadcasts = False
            return None
        if np.any(np.isnan(out) & ~np.isnan(x)):
            return None
        if self._broadcasts is None:  # the first answer: the lowest and the highest type against their own laws
            for t in (tau.min(), tau.max()):
                sel = tau == t
                ref = getattr(self.dist(float(t)), method)(x[sel])
                if not np.allclose(out[sel], ref, rtol=1e-12, atol=0.0, equal_nan=True):
                    self._broadcasts = False
                    return None
            self._broadcasts = True
        return out

    def quantiles_at(self, tau: NDArray[np.float64], x: NDArray[np.float64], upper: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
        """Z(tau[i], .) and dZ/dtau at quantile levels, elementwise: ``x`` is u where not ``upper``
        and q = 1 - u where ``upper`` (tau, x and upper of one shape)."""
        tau = np.asarray(tau, dtype=float)
        x = np.asarray(x, dtype=float)
        upper = np.broadcast_to(np.asarray(upper, dtype=bool), x.shape)

        def z_at(t: NDArray[np.float64], sel: NDArray[np.bool_]) -> NDArray[np.float64]:
            out = np.empty(int(sel.sum()))
            up = upper[sel]
            if (~up).any():
                out[~up] = self.values(t[sel][~up], x[sel][~up], "ppf")
            if up.any():
                out[up] = self.values(t[sel][up], x[sel][up], "isf")
            return out

        everywhere = np.ones(x.shape, dtype=bool)
        z = z_at(tau, everywhere).reshape(x.shape)
        pts, wts = self.stencil(tau)
        dz = np.zeros(x.shape)
        with _quiet():  # inf - inf at an infinite end of the support gives nan there, unused
            for t, w in zip(pts, wts):
                zt = z.copy()
                other = (w != 0) & (t != tau)
                if other.any():
                    zt[other] = z_at(t, other)
                dz += np.where(w != 0, w * zt, 0.0)
        return z, dz

    def quantiles(self, tau: float, u: NDArray[np.float64], upper: NDArray[np.bool_]) -> tuple[NDArray, NDArray]:
        """Z(tau, .) and dZ/dtau at quantiles of one type: ``u`` is u where not ``upper`` and q = 1 - u where ``upper``."""
        u = np.asarray(u, dtype=float)
        return self.quantiles_at(np.full(u.shape, float(tau)), u, upper)

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
