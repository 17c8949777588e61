r"""Virtual weights, the single-buyer menu and the ad auction of the virtual-pivot mechanism.

Kakade, Lobel and Nazerzadeh's separable environments (notation of the book): an
agent's initial type :math:`s_0 \sim F` (density :math:`f`, hazard term
:math:`h = (1 - F)/f`) enters his flow values through a function :math:`A(s_0)`,

* multiplicatively, :math:`v_t = A(s_0)\,B_t`, or
* additively, :math:`v_t = A(s_0)\,C_t + B_t`,

where :math:`B_t, C_t` do not depend on :math:`s_0`.  The virtual value
:math:`v_t - h(s_0)\,\partial v_t/\partial s_0` is then an *affine* reweighting of the
value, :math:`\alpha(s_0)\,v_t + \beta_t`, with

* multiplicative: :math:`\alpha = 1 - h A'/A`, :math:`\beta_t = 0`;
* additive: :math:`\alpha = 1`, :math:`\beta_t = -h A'\,C_t \le 0`.

The book uses this one sign convention throughout: weighted flow value
:math:`\alpha v_t + \beta_t`, with :math:`\beta_t \le 0`.  :func:`virtual_weights`
returns :math:`\alpha` and the coefficient :math:`-hA'` of :math:`C_t`.

:func:`single_buyer_menu` solves the one-buyer, one-unit-per-period case with
:math:`v_t = s_0 X_t` (:math:`A(s) = s`, i.i.d. shocks :math:`X_t \ge 0`) and a unit
cost :math:`c`: the optimal mechanism is a menu of contracts (up-front fee
:math:`M(p)`, per-unit price :math:`p`), and type :math:`s_0` picks
:math:`p = c/\alpha(s_0)`.

**The ad auction.** :func:`ad_auction_model` and :func:`ad_auction` build Kakade, Lobel and
Nazerzadeh's two-period Beta-Bernoulli ad auction, as a :class:`~mdlib.pivot.DynamicModel` and in
a fast vectorised form; :func:`ad_auction_breakpoints` locates where its allocation can change,
and :func:`ad_auction_relaxed` computes the relaxed payments exactly.  The virtual pivot itself is
:func:`~mdlib.pivot.dynamic_pivot` with weights.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, stats

from ._scipy import _as_dist, _Dist, _quiet
from ._validation import as_real_array, check_discount, check_in_closed_interval, check_real, check_vector, format_number
from .pivot import DynamicModel

__all__ = [
    "VirtualWeights",
    "virtual_weights",
    "SingleBuyerMenu",
    "single_buyer_menu",
    "AdAuction",
    "AdRelaxed",
    "ad_auction_model",
    "ad_auction",
    "ad_auction_breakpoints",
    "ad_auction_relaxed",
]

_FORMS = ("multiplicative", "additive")
#: Largest accepted estimated error of single_buyer_menu, relative to |profit| + |first_best|.
_MENU_RTOL = 1e-8


class VirtualWeights(NamedTuple):
    """The affine weights of a separable agent; unpacks as ``(alpha, beta_coef)``."""

    alpha: float | NDArray[np.float64]
    r"""The weight :math:`\alpha(s_0)` on the agent's value."""
    beta_coef: float | NDArray[np.float64]
    r"""The coefficient :math:`-h(s_0) A'(s_0)` with :math:`\beta_t = \text{beta\_coef}\cdot C_t`
    (additive form); 0 in the multiplicative form."""


def _named_dist(dist: Any, name: str) -> _Dist:
    """Wrap ``dist`` in the adapter; re-raise its errors with the parameter's name."""
    try:
        return _as_dist(dist)
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("dist "):
            msg = name + msg[4:]
        else:
            msg = f"{name}: {msg}"
        raise ValueError(msg) from None


def _hazard_term(d: _Dist, s: NDArray[np.float64]) -> NDArray[np.float64]:
    """h(s) = (1 - F(s))/f(s), as exp(log S - log f); 0 at the upper end of a bounded support."""
    log_s = d.logsf(s)
    log_f = d.logpdf(s)
    with _quiet():
        h = np.exp(log_s - log_f)
    h = np.where(np.isneginf(log_s), 0.0, h)
    return h


def _evaluate(fn: Callable[..., Any], s: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    try:
        with _quiet():
            out = np.asarray(fn(s), dtype=float)
    except Exception as exc:
        raise ValueError(f"{name} must be a vectorised function of s0 returning real numbers ({exc})") from None
    try:
        out = np.broadcast_to(out, s.shape).astype(float)
    except ValueError:
        raise ValueError(f"{name}(s0) must have the shape of s0 {s.shape}, got {out.shape}") from None
    if np.isnan(out).any():
        raise ValueError(f"{name} must return real numbers, got NaN at s0 = {format_number(s[np.isnan(out)].flat[0])}")
    return out


def virtual_weights(
    first: Any,
    s0: ArrayLike,
    A: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
    dA: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
    form: str = "multiplicative",
) -> VirtualWeights:
    r"""The affine (virtual) weights :math:`(\alpha(s_0), \beta\text{-coefficient})` of a separable agent.

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution ``F`` of the initial type :math:`s_0`.
    s0 : float or array_like
        Initial types in the closed support of ``first``.
    A, dA : callable, optional
        The function :math:`A` through which :math:`s_0` enters the values, and its
        derivative :math:`A'`, both vectorised (``A(array) -> array``).  Give both or
        neither; the default is the identity, :math:`A(s) = s`, :math:`A' = 1`.
    form : {"multiplicative", "additive"}
        ``"multiplicative"`` for :math:`v_t = A(s_0) B_t`, ``"additive"`` for
        :math:`v_t = A(s_0) C_t + B_t`.

    Returns
    -------
    VirtualWeights
        A named pair ``(alpha, beta_coef)`` (floats for a scalar ``s0``, else arrays of
        its shape).  Multiplicative: :math:`\alpha = 1 - hA'/A` and ``beta_coef = 0``;
        additive: :math:`\alpha = 1` and ``beta_coef`` :math:`= -hA'`, so that the flow
        weight is :math:`\beta_t = \text{beta\_coef}\cdot C_t \le 0` and the weighted
        flow value is :math:`\alpha v_t + \beta_t = v_t - h\,\partial v_t/\partial s_0`.
        Here :math:`h = (1 - F)/f`, which is 0 at the upper end of a bounded support.

    Raises
    ------
    ValueError
        If ``first`` is not a continuous scipy.stats distribution; if ``s0`` is NaN or
        outside the support of ``first``; if ``form`` is unknown; if only one of ``A``
        and ``dA`` is given; or if a weight is not finite (for instance
        :math:`\alpha(0) = -\infty` when :math:`A(0) = 0`).

    Notes
    -----
    Under a monotone hazard rate (:math:`h` decreasing) and an increasing concave
    :math:`A > 0`, :math:`\alpha` is increasing in the multiplicative form
    (:math:`h` and :math:`A'/A` both decrease), and ``beta_coef`` is increasing in the
    additive one.  With :math:`F(\bar s) = 1` the top type is undistorted:
    :math:`\alpha(\bar s) = 1`, ``beta_coef`` :math:`= 0`.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import virtual_weights
    >>> alpha, beta_coef = virtual_weights(stats.uniform(0, 1), [0.5, 0.8, 1.0])
    >>> alpha          # 2 - 1/s
    array([0.  , 0.75, 1.  ])
    >>> beta_coef
    array([0., 0., 0.])
    >>> virtual_weights(stats.uniform(0, 1), 0.25, form="additive")   # beta_coef = -(1 - s)
    VirtualWeights(alpha=1.0, beta_coef=-0.75)
    >>> w = virtual_weights(stats.uniform(0, 1), 0.5, A=np.sqrt, dA=lambda s: 0.5 / np.sqrt(s))
    >>> round(w.alpha, 12)    # 1 - (1 - s)/(2 s)
    0.5
    """
    d = _named_dist(first, "first")
    if not isinstance(form, str) or form not in _FORMS:
        raise ValueError(f"form must be 'multiplicative' or 'additive', got {form!r}")
    if (A is None) != (dA is None):
        missing = "dA" if dA is None else "A"
        raise ValueError(f"{missing} must be given together with {'A' if missing == 'dA' else 'dA'} (or neither)")
    arr, scalar = as_real_array(s0, "s0")
    check_in_closed_interval(arr, "s0", d.lo, d.hi, f"the support {d.support_text} of first")
    h = _hazard_term(d, arr)
    if A is None:
        a_val, da_val = arr, np.ones_like(arr)
    else:
        a_val, da_val = _evaluate(A, arr, "A"), _evaluate(dA, arr, "dA")
    with _quiet():
        hd = np.where(h == 0.0, 0.0, h * da_val)  # h = 0 at the top: no distortion there
        if form == "multiplicative":
            alpha = 1.0 - np.where(hd == 0.0, 0.0, hd / a_val)
            beta = np.zeros_like(arr)
        else:
            alpha = np.ones_like(arr)
            beta = -hd + 0.0
    bad = ~(np.isfinite(alpha) & np.isfinite(beta))
    if bad.any():
        at = arr[bad].flat[0]
        raise ValueError(
            f"the {form} weights are not finite at s0 = {format_number(at)} "
            "(h A'/A or h A' is infinite or undefined there, e.g. A(s0) = 0 or f(s0) = 0)"
        )
    if scalar:
        return VirtualWeights(float(alpha), float(beta))
    return VirtualWeights(alpha, beta)



# --------------------------------------------------------------------------- quadrature
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)


def _gl(fn: Callable[[NDArray[np.float64]], NDArray[np.float64]], a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Gauss-Legendre (24 nodes) integrals of a vectorised ``fn`` over the intervals [a_i, b_i]."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    mid, half = 0.5 * (a + b), 0.5 * (b - a)
    pts = mid[..., None] + half[..., None] * _GL_X
    return half * (fn(pts) @ _GL_W)


def _adaptive(
    fn: Callable[[NDArray[np.float64]], NDArray[np.float64]], edges: NDArray[np.float64], tol: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Adaptive, vectorised Gauss-Legendre quadrature on the panels between sorted ``edges``.

    A panel is accepted when its 24-point rule agrees with the sum of the rules on its two
    halves to ``tol`` times its share of the length; otherwise it is halved.  Returns the
    integral over each given panel, the refined edges (the given ones and every split point)
    with the cumulative integrals there, and the summed estimated error (the sum of the
    accepted differences).
    """
    edges = np.asarray(edges, dtype=float)
    total_len = max(edges[-1] - edges[0], 1e-300)
    owner = np.arange(len(edges) - 1)
    a, b = edges[:-1].copy(), edges[1:].copy()
    out = np.zeros(len(edges) - 1)
    accepted: list[tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]] = []
    error = 0.0
    for _ in range(40):
        if a.size == 0:
            break
        whole = _gl(fn, a, b)
        m = 0.5 * (a + b)
        halves = _gl(fn, a, m) + _gl(fn, m, b)
        diff = np.abs(whole - halves)
        ok = (diff <= tol * np.maximum((b - a) / total_len, 1e-12)) | (b - a <= 1e-13 * total_len)
        if (~ok).sum() > 4096:  # give up refining: keep the estimate and report its error
            ok[:] = True
        np.add.at(out, owner[ok], halves[ok])
        accepted.append((a[ok], b[ok], halves[ok]))
        error += float(diff[ok].sum())
        a, b, owner, m = a[~ok], b[~ok], owner[~ok], m[~ok]
        a, b, owner = np.concatenate([a, m]), np.concatenate([m, b]), np.concatenate([owner, owner])
    if a.size:  # pragma: no cover - a non-integrable or wildly oscillating integrand
        halves = _gl(fn, a, 0.5 * (a + b)) + _gl(fn, 0.5 * (a + b), b)
        np.add.at(out, owner, halves)
        accepted.append((a, b, halves))
        error += float(np.abs(halves - _gl(fn, a, b)).sum())
    left = np.concatenate([x[0] for x in accepted])
    vals = np.concatenate([x[2] for x in accepted])
    order = np.argsort(left)
    fine = np.concatenate([left[order], edges[-1:]])
    return out, fine, np.concatenate([[0.0], np.cumsum(vals[order])]), error


def _invert_increasing(
    fn: Callable[[NDArray[np.float64]], NDArray[np.float64]], target: NDArray[np.float64], lo: float, hi: float
) -> NDArray[np.float64]:
    """Vectorised bisection: the x in [lo, hi] with fn(x) = target, for an increasing fn."""
    target = np.asarray(target, dtype=float)
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    for _ in range(80):
        m = 0.5 * (a + b)
        below = fn(m) < target
        a = np.where(below, m, a)
        b = np.where(below, b, m)
    return 0.5 * (a + b)


# --------------------------------------------------------------------------- shocks
class _Shock:
    r"""A non-negative per-period shock :math:`X`: :math:`P(X \ge k)`, :math:`E[X; X \ge k]`, :math:`E[(X - k)^+]`.

    Continuous shocks: the stop-loss transform :math:`E[(X-k)^+] = \int_k^\infty S` is
    tabulated at quantile nodes by adaptive quadrature and completed between nodes by a
    Gauss-Legendre rule.  Discrete shocks with a finite support: exact sums.
    """

    def __init__(self, shock: Any) -> None:
        dist = getattr(shock, "dist", None)
        self.discrete = isinstance(dist, stats.rv_discrete)
        if self.discrete:
            lo, hi = (float(v) for v in shock.support())
            if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo > 1e6:
                raise ValueError(f"shock must have a finite support when discrete, got [{format_number(lo)}, {format_number(hi)}]")
            x = np.arange(lo, hi + 1.0)
            p = np.asarray(shock.pmf(x), dtype=float)
            keep = p > 0
            x, p = x[keep], p[keep] / p[keep].sum()
            if x[0] < 0:
                raise ValueError(f"shock must be non-negative, got an atom at {format_number(x[0])}")
            self.atoms, self.probs = x, p
            self._P = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])  # P(X >= x_j)
            self._M = np.concatenate([np.cumsum((p * x)[::-1])[::-1], [0.0]])  # E[X; X >= x_j]
            self.lo, self.hi = float(x[0]), float(x[-1])
            self.mean = float(self._M[0])
            self.breaks = tuple(float(v) for v in x if v > 0)
            self.error = 0.0
            return
        d = _named_dist(shock, "shock")
        if d.lo < 0:
            raise ValueError(f"shock must be non-negative, got support {d.support_text}")
        d.require_finite_mean("for the expected surplus of a unit", "shock")
        self.d = d
        self.lo, self.hi = d.lo, d.hi
        levels = np.array([0.999, 0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02,
                           1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14, 1e-17, 1e-20, 1e-25,
                           1e-30, 1e-40, 1e-50, 1e-70, 1e-100, 1e-150, 1e-200, 1e-250, 1e-300])
        inner = d.isf(levels)
        inner = inner[np.isfinite(inner) & (np.abs(inner) < 1e250)]
        nodes = np.unique(np.concatenate([[d.lo], inner, [d.hi] if math.isfinite(d.hi) else []]))
        nodes = nodes[(nodes >= d.lo) & (nodes <= d.hi)]
        self.nodes = nodes
        sf = lambda x: d.sf(np.clip(x, d.lo, d.hi if math.isfinite(d.hi) else np.inf))  # noqa: E731
        self._sf = sf
        pieces, _, _, err = _adaptive(sf, nodes, 1e-14 * d.scale)
        tail, tail_err = 0.0, 0.0
        if not math.isfinite(d.hi):
            tail, tail_err = integrate.quad(lambda x: float(sf(x)), nodes[-1], np.inf, epsabs=1e-15 * d.scale, limit=200)
        # excess at the nodes: int_{node_j}^{hi} S
        self._excess_nodes = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]]) + tail
        self.mean = float(d.lo + self._excess_nodes[0])
        self.breaks = (d.lo,) if d.lo > 0 else ()
        self.error = err + tail_err + tail
        if not math.isfinite(self.mean):  # pragma: no cover - require_finite_mean guards this
            raise ValueError("shock must have a finite mean")

    def ge(self, k: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(X >= k)."""
        k = np.asarray(k, dtype=float)
        if self.discrete:
            return self._P[np.searchsorted(self.atoms, k, side="left")]
        return np.where(k <= self.lo, 1.0, self._sf(k))

    def excess(self, k: NDArray[np.float64]) -> NDArray[np.float64]:
        """E[(X - k)^+] for k >= 0."""
        k = np.asarray(k, dtype=float)
        if self.discrete:
            j = np.searchsorted(self.atoms, k, side="left")
            return np.maximum(self._M[j] - np.where(np.isfinite(k), k, 0.0) * self._P[j], 0.0)
        nodes = self.nodes
        kc = np.clip(np.where(np.isfinite(k), k, nodes[-1]), nodes[0], nodes[-1])
        j = np.clip(np.searchsorted(nodes, kc, side="right"), 1, len(nodes) - 1)  # nodes[j-1] <= k < nodes[j]
        out = self._excess_nodes[j] + _gl(self._sf, kc, nodes[j])
        out = np.where(k <= self.lo, self.mean - k, out)
        # beyond the last node (the top of a bounded support, or a quantile of level 1e-300 or
        # so): the excess is at most the tail integral there, which `error` includes; take 0
        out = np.where(k >= nodes[-1], 0.0, out)
        return np.where(np.isinf(k), 0.0, np.maximum(out, 0.0))

    def tail_mean(self, k: NDArray[np.float64]) -> NDArray[np.float64]:
        """E[X; X >= k]."""
        k = np.asarray(k, dtype=float)
        if self.discrete:
            return self._M[np.searchsorted(self.atoms, k, side="left")]
        finite_k = np.where(np.isfinite(k), k, 0.0)
        return np.where(np.isinf(k), 0.0, np.where(k <= self.lo, self.mean, finite_k * self.ge(k) + self.excess(k)))


# --------------------------------------------------------------------------- the menu
@dataclass(frozen=True)
class SingleBuyerMenu:
    r"""The optimal (virtual-pivot) menu for one buyer with values :math:`s_0 X_t`; see :func:`single_buyer_menu`.

    Types below the ``cutoff`` are excluded: for them ``price`` is ``inf`` and ``fee``,
    ``rent``, ``relaxed_payment`` and ``unit_payments`` are 0.
    """

    cost: float
    """The unit cost :math:`c \\ge 0`."""
    discount: float
    """The discount factor :math:`\\delta`; the buyer is served in periods :math:`t \\ge 1`."""
    cutoff: float
    r"""The exclusion cutoff :math:`\underline s`: the smallest type that ever buys."""
    profit: float
    """The seller's expected discounted profit (payments minus production costs)."""
    first_best: float
    """The expected discounted surplus of the efficient allocation (buy iff :math:`s_0 X_t \\ge c`)."""
    error: float
    """An estimate of the absolute quadrature error of ``profit``, ``first_best`` and ``rent``."""
    _first: _Dist = field(repr=False, compare=False)
    _shock: _Shock = field(repr=False, compare=False)
    _nodes: NDArray[np.float64] = field(repr=False, compare=False)
    _rent_nodes: NDArray[np.float64] = field(repr=False, compare=False)
    _thr: float = field(default=0.0, repr=False, compare=False)

    @property
    def horizon_weight(self) -> float:
        r""":math:`D = \delta/(1 - \delta)`, the discounted number of periods :math:`t \ge 1`."""
        return self.discount / (1.0 - self.discount)

    # -- internals ----------------------------------------------------------
    def _types(self, s0: ArrayLike) -> tuple[NDArray[np.float64], bool]:
        d = self._first
        arr, scalar = as_real_array(s0, "s0")
        check_in_closed_interval(arr, "s0", d.lo, d.hi, f"the support {d.support_text} of first")
        return arr, scalar

    def _phi(self, s: NDArray[np.float64]) -> NDArray[np.float64]:
        return s - _hazard_term(self._first, s)

    def _included(self, s: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Type s signs a contract iff phi(s) >= c / (top of the shock) (phi(s) > 0 if that is 0)."""
        with _quiet():
            phi = self._phi(s)
        inc = phi >= self._thr - 1e-12 * max(self._first.hi, 1.0)
        return inc & (s >= self.cutoff - 1e-9 * max(self._first.hi, 1.0))

    def _kappa(self, s: NDArray[np.float64]) -> NDArray[np.float64]:
        """The smallest shock at which type s buys, c / phi(s) (inf for an excluded type)."""
        with _quiet():
            phi = self._phi(s)
            k = np.where(phi > 0, self.cost / np.where(phi > 0, phi, 1.0), np.inf if self.cost > 0 else 0.0)
        return np.where(self._included(s), k, np.inf)

    def _rent_density(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """dU/ds0 = D E[X; X >= kappa(s0)] (the envelope integrand)."""
        return self.horizon_weight * self._shock.tail_mean(self._kappa(z))

    def _rent(self, s: NDArray[np.float64]) -> NDArray[np.float64]:
        nodes = self._nodes
        sc = np.clip(s, nodes[0], nodes[-1])
        j = np.clip(np.searchsorted(nodes, sc, side="right") - 1, 0, len(nodes) - 1)
        out = self._rent_nodes[j] + _gl(self._rent_density, nodes[j], sc)
        return np.where(self._included(s), out, 0.0)

    @staticmethod
    def _out(arr: NDArray[np.float64], scalar: bool) -> float | NDArray[np.float64]:
        return float(arr) if scalar else arr

    # -- public -------------------------------------------------------------
    def price(self, s0: ArrayLike) -> float | NDArray[np.float64]:
        r"""The per-unit price :math:`p(s_0) = c/\alpha(s_0)` of type ``s0``'s contract (``inf`` if excluded)."""
        s, scalar = self._types(s0)
        with _quiet():
            p = np.where(np.isinf(self._kappa(s)), np.inf, s * self._kappa(s))
        return self._out(p, scalar)

    def rent(self, s0: ArrayLike) -> float | NDArray[np.float64]:
        r"""The buyer's expected discounted utility :math:`U(s_0) = D\int_{\underline s}^{s_0} E[X; X \ge \kappa(z)]\,dz`."""
        s, scalar = self._types(s0)
        return self._out(self._rent(s), scalar)

    def relaxed_payment(self, s0: ArrayLike) -> float | NDArray[np.float64]:
        r"""The relaxed payment :math:`p^*(s_0)`: expected discounted value minus the rent."""
        s, scalar = self._types(s0)
        value = self.horizon_weight * s * self._shock.tail_mean(self._kappa(s))
        return self._out(np.where(self._included(s), value - self._rent(s), 0.0), scalar)

    def unit_payments(self, s0: ArrayLike) -> float | NDArray[np.float64]:
        r"""Expected discounted per-unit payments :math:`D\,p(s_0)\,P(s_0 X \ge p(s_0))`."""
        s, scalar = self._types(s0)
        k = self._kappa(s)
        with _quiet():
            out = np.where(np.isinf(k), 0.0, self.horizon_weight * s * np.where(np.isinf(k), 0.0, k) * self._shock.ge(k))
        return self._out(out, scalar)

    def fee(self, s0: ArrayLike) -> float | NDArray[np.float64]:
        r"""The up-front fee :math:`D\,E[(s_0 X - p(s_0))^+] - U(s_0)` = relaxed payment minus unit payments."""
        s, scalar = self._types(s0)
        k = self._kappa(s)
        surplus = self.horizon_weight * s * self._shock.excess(k)
        return self._out(np.where(self._included(s), np.maximum(surplus - self._rent(s), 0.0), 0.0), scalar)

    def price_range(self) -> tuple[float, float]:
        """The prices on the menu, ``(price(top type), price(cutoff))``."""
        if self.cost == 0.0:
            return 0.0, 0.0
        return float(self.price(self._first.hi)), float(self.price(self.cutoff))

    def menu_fee(self, p: ArrayLike) -> float | NDArray[np.float64]:
        r"""The menu :math:`M(p)`: the up-front fee of the contract with per-unit price ``p``.

        ``p`` must lie in :meth:`price_range`; :math:`M` is decreasing in ``p``.
        """
        arr, scalar = as_real_array(p, "p")
        p_lo, p_hi = self.price_range()
        slack = 1e-9 * max(p_lo, 1e-300)
        arr = np.where((arr < p_lo) & (arr >= p_lo - slack), p_lo, arr)
        arr = np.where((arr > p_hi) & (arr <= p_hi + slack), p_hi, arr)
        check_in_closed_interval(arr, "p", p_lo, p_hi, f"the range of menu prices [{format_number(p_lo)}, {format_number(p_hi)}]")
        if self.cost == 0.0:
            return self._out(np.full(arr.shape, float(self.fee(self._first.hi))), scalar)
        # type with c/alpha(s) = p: alpha(s) = c/p, alpha increasing on [cutoff, hi]
        with _quiet():
            target = np.where(np.isinf(arr), 0.0, self.cost / arr)
        s = _invert_increasing(lambda z: self._phi(z) / z, target, self.cutoff, self._first.hi)
        s = np.where(arr >= p_hi, self.cutoff, np.where(arr <= p_lo, self._first.hi, s))
        return self._out(np.asarray(self.fee(s), dtype=float), scalar)


def single_buyer_menu(first: Any, shock: Any, cost: float, discount: float) -> SingleBuyerMenu:
    r"""The optimal dynamic mechanism for one buyer with values :math:`s_0 X_t`: a menu of (fee, price) contracts.

    The buyer privately knows his type :math:`s_0 \sim` ``first`` when he signs; in each
    period :math:`t \ge 1` he privately learns :math:`X_t \sim` ``shock`` (i.i.d.,
    independent of :math:`s_0`) and values one unit at :math:`s_0 X_t`; the seller makes
    each unit at cost :math:`c` and both discount by :math:`\delta`.  This is the
    multiplicative separable case with :math:`A(s) = s`, so the virtual weight is
    :math:`\alpha(s_0) = 1 - h(s_0)/s_0` (:func:`virtual_weights`) and the virtual-pivot
    mechanism becomes a menu: type :math:`s_0` pays a fee up front and then buys any
    period at the per-unit price :math:`p(s_0) = c/\alpha(s_0)`, that is iff
    :math:`X_t \ge \kappa(s_0) = c/\varphi(s_0)`, with :math:`\varphi(s) = s - h(s)`.

    Parameters
    ----------
    first : scipy.stats continuous distribution
        The distribution of :math:`s_0`, with a bounded support :math:`[\underline{s}_{\min}, \bar s]`,
        lower end :math:`\ge 0`, and an increasing weight :math:`\alpha` above the cutoff (a
        monotone hazard rate suffices).
    shock : scipy.stats distribution
        The distribution of :math:`X_t \ge 0`: continuous with a finite mean, or discrete
        (legacy ``scipy.stats`` frozen) with a finite support.
    cost : float
        The unit cost :math:`c \ge 0`.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`; :math:`D = \delta/(1-\delta)`.

    Returns
    -------
    SingleBuyerMenu
        Frozen; vectorised methods ``price``, ``fee``, ``rent``, ``relaxed_payment``,
        ``unit_payments`` of the type and ``menu_fee`` of the price, and the numbers
        ``cutoff``, ``profit``, ``first_best`` and ``error``.

    Raises
    ------
    ValueError
        Naming ``cost`` (negative, or so large that no unit is ever worth making),
        ``discount`` (outside (0, 1)), ``shock`` (negative values, no finite mean, not a
        distribution) or ``first`` (not a bounded continuous distribution on
        :math:`[0, \infty)`, or :math:`\alpha` not increasing on the included types); or
        if ``error`` exceeds ``1e-8 * (profit + first_best)`` (a shock with too heavy a tail).

    Notes
    -----
    With :math:`T(k) = E[X; X \ge k]` and :math:`I(k) = E[(X - k)^+]`:

    * cutoff :math:`\underline s`: the smallest type with :math:`\varphi(s) \ge c/\bar x`
      (:math:`\bar x` the top of the support of ``shock``; :math:`c/\bar x = 0` if unbounded);
    * rent (envelope formula, :math:`U(\underline s) = 0`):
      :math:`U(s) = D\int_{\underline s}^{s} T(\kappa(z))\,dz`;
    * relaxed payment :math:`p^*(s) = D\,s\,T(\kappa(s)) - U(s)`;
      fee :math:`p^*(s) - D\,p(s)\,P(X \ge \kappa(s)) = D\,s\,I(\kappa(s)) - U(s)`, increasing in
      :math:`s` (its derivative is :math:`-D\,p'(s)\,P(X \ge \kappa(s)) \ge 0`);
    * profit :math:`D\int_{\underline s}^{\bar s} \varphi(s)\,I(\kappa(s))\,f(s)\,ds` (the virtual
      surplus), first best :math:`D\int s\,I(c/s)\,f(s)\,ds`.

    Continuous shocks and all integrals over types use adaptive Gauss-Legendre quadrature
    with panels split at the kinks of the integrands; ``error`` sums the estimated errors
    (about 1e-12 relative on smooth instances).  Discrete shocks are summed exactly.

    Examples
    --------
    >>> from scipy import stats
    >>> from mdlib import single_buyer_menu
    >>> m = single_buyer_menu(stats.uniform(0, 1), stats.uniform(0, 1), cost=0.2, discount=0.9)
    >>> round(m.cutoff, 12), round(m.profit, 6), round(m.first_best / m.profit, 9)   # (1 + c)/2
    (0.6, 0.504849, 2.0)
    >>> m.price([0.8, 1.0]).round(6)        # c s/(2 s - 1)
    array([0.266667, 0.2     ])
    >>> round(m.rent(1.0), 9), round(m.fee(0.8), 9)
    (1.44, 1.0)
    >>> round(m.menu_fee(0.3), 9)           # D ((1 + c)/2 - p)^2
    0.81
    """
    c = _check_nonneg(cost, "cost")
    delta = check_discount(discount)
    d = _named_dist(first, "first")
    if d.lo < 0 or not math.isfinite(d.hi):
        raise ValueError(f"first must have a bounded support in [0, inf), got {d.support_text}")
    if isinstance(shock, (int, float, str)) or shock is None:
        raise ValueError(f"shock must be a scipy.stats distribution, got {shock!r}")
    x = _Shock(shock)
    if x.mean <= 0:
        raise ValueError("shock must have a positive mean (X = 0 almost surely leaves nothing to sell)")
    lo, hi = d.lo, d.hi
    if c >= hi * x.hi:
        raise ValueError(
            f"cost must be below the largest value {format_number(hi * x.hi)} (top of first times top of shock), "
            f"got {format_number(c)}"
        )
    D = delta / (1.0 - delta)
    thr = c / x.hi if math.isfinite(x.hi) else 0.0

    def phi(s: NDArray[np.float64]) -> NDArray[np.float64]:
        with _quiet():
            out = np.asarray(s, dtype=float) - _hazard_term(d, np.asarray(s, dtype=float))
        return np.where(np.isnan(out), -np.inf, out)

    # the cutoff, then monotonicity of alpha on the included types
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 2049), d.ppf(np.linspace(0.0005, 0.9995, 1000))]))
    grid = grid[(grid >= lo) & (grid <= hi)]
    pg = phi(grid)
    if pg[0] >= thr:
        cutoff = lo
    else:
        cutoff = float(_invert_increasing(lambda s: phi(s) - thr, np.array(0.0), lo, hi))
    above = grid[grid >= cutoff]
    with _quiet():
        alpha = phi(above) / above
    drop = np.diff(alpha) < -1e-9 * np.maximum(1.0, np.abs(alpha[1:]))
    low_bad = (grid < cutoff) & (pg > thr + 1e-12 * hi)
    if drop.any() or low_bad.any():
        where = above[1:][drop][0] if drop.any() else grid[low_bad][0]
        raise ValueError(
            "first must have an increasing weight alpha(s0) = 1 - h(s0)/s0 on the included types "
            f"(a monotone hazard rate suffices); it fails near s0 = {format_number(where)}"
        )

    # panels over types: kinks where kappa(s) crosses a break of the shock
    nodes = [cutoff, hi, *np.linspace(cutoff, hi, 33)[1:-1]]
    if c > 0 and x.breaks:
        targets = np.array([c / b for b in x.breaks])
        ok = (targets > phi(np.array(cutoff))) & (targets < hi)
        if ok.any():
            nodes.extend(_invert_increasing(phi, targets[ok], cutoff, hi).tolist())
    nodes_arr = np.unique(np.clip(np.asarray(nodes, dtype=float), cutoff, hi))
    scale = max(hi, 1e-300) * max(x.mean, 1e-300) * max(D, 1.0)

    proto = SingleBuyerMenu(c, delta, cutoff, 0.0, 0.0, 0.0, d, x, nodes_arr, np.zeros_like(nodes_arr), thr)
    _, rent_edges, rent_nodes, err_rent = _adaptive(proto._rent_density, nodes_arr, 1e-13 * scale)

    def virtual_surplus(s: NDArray[np.float64]) -> NDArray[np.float64]:
        k = proto._kappa(s)
        with _quiet():
            out = D * phi(s) * x.excess(k) * d.pdf(s)
        return np.where(np.isinf(k), 0.0, out)

    profit_pieces, _, _, err_profit = _adaptive(virtual_surplus, nodes_arr, 1e-13 * scale)

    fb_lo = max(lo, thr)
    fb_nodes = [fb_lo, hi, *np.linspace(fb_lo, hi, 33)[1:-1]]
    if c > 0:
        fb_nodes.extend(c / b for b in x.breaks if fb_lo < c / b < hi)
    fb_nodes_arr = np.unique(np.asarray(fb_nodes, dtype=float))

    def surplus(s: NDArray[np.float64]) -> NDArray[np.float64]:
        with _quiet():
            k = np.where(s > 0, c / np.where(s > 0, s, 1.0), np.inf if c > 0 else 0.0)
            out = D * s * x.excess(k) * d.pdf(s)
        return np.where(np.isfinite(out), out, 0.0)

    fb_pieces, _, _, err_fb = _adaptive(surplus, fb_nodes_arr, 1e-13 * scale)
    profit = float(profit_pieces.sum())
    first_best = float(fb_pieces.sum())
    error = err_rent + err_profit + err_fb + D * hi * x.error
    for name, val in (("profit", profit), ("first_best", first_best)):
        if not math.isfinite(val):  # pragma: no cover - guarded by the checks above
            raise ValueError(f"the {name} integral is not finite: check first and shock")
    if not error <= _MENU_RTOL * (abs(profit) + abs(first_best)):
        raise ValueError(
            f"the quadratures of the menu did not reach their tolerance: estimated error {error:.3g} for a "
            f"profit of {profit:.6g} (tolerance {_MENU_RTOL:g} relative); shock may have too heavy a tail"
        )
    return SingleBuyerMenu(c, delta, cutoff, profit, first_best, float(error), d, x, rent_edges, rent_nodes, thr)


def _check_nonneg(value: Any, name: str) -> float:
    v = check_real(value, name)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {format_number(v)}")
    return v


# --------------------------------------------------------------------------- the ad auction
#: (successes, trials) seen in each live private state of :func:`ad_auction_model` (state 7 is the end).
_AD_TRIALS = ((0, 1), (1, 1), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2))


def _posterior_mean(successes: int, trials: int) -> float:
    """Mean of the conversion rate after ``successes`` in ``trials`` under the uniform (Beta(1, 1)) prior."""
    return (1 + successes) / (2 + trials)


def _ad_mean() -> NDArray[np.float64]:
    """Posterior mean of the conversion rate in each private state (0 at the absorbing end)."""
    return np.array([_posterior_mean(s, n) for s, n in _AD_TRIALS] + [0.0])


class AdAuction(NamedTuple):
    """The weighted-welfare allocation of the two-period ad auction, for each pair of free trials.

    The trailing axes ``(k_0, k_1)`` index the agents' free-trial outcomes at ``t = 1``;
    leading axes are those of ``scales`` (without its last axis).
    """

    decision: NDArray[np.int64]
    """The decision at ``t = 1``: 0 shows no ad, ``1 + i`` shows agent ``i``'s; shape ``(..., 2, 2)``."""
    welfare: NDArray[np.float64]
    r"""The weighted welfare :math:`\mathbb{E}\sum_{t \ge 1} \delta^t \sum_i w_i \mu_{i,t} 1\{a_t = i\}`, shape ``(..., 2, 2)``."""
    conversions: NDArray[np.float64]
    r"""Each agent's expected discounted conversions :math:`\mathbb{E}\sum_{t\ge1}\delta^t \mu_{i,t} 1\{a_t = i\}`
    under that allocation, shape ``(..., 2, 2, 2)`` (last axis: the agent)."""


def _pair_array(x: Any, name: str) -> NDArray[np.float64]:
    """``x`` as a finite float array whose last axis has length 2 (one entry per advertiser)."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers with last axis of length 2") from exc
    if a.ndim < 1 or a.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return a


def ad_auction_model(margins: Any, discount: float = 0.9) -> DynamicModel:
    r"""The two-period Beta-Bernoulli ad auction as a :class:`~mdlib.pivot.DynamicModel`.

    One ad slot is sold in periods :math:`t = 1, 2`. Agent ``i`` earns ``margins[i]``
    per conversion; his conversion rate has a uniform (Beta(1, 1)) prior, and at
    :math:`t = 1` he privately sees one free trial :math:`k_i \in \{0, 1\}`, so his
    posterior mean is :math:`(1 + k_i)/3`. If his ad is shown at :math:`t = 1` he sees
    its outcome and his mean becomes (successes + 1)/4; otherwise he learns nothing.
    His flow value of being shown is his margin times his posterior mean.

    The period is part of each agent's private state: states 0, 1 are :math:`t = 1`
    with :math:`k_i = 0, 1`; states 2, 3 are :math:`t = 2` after no showing
    (:math:`k_i = 0, 1`); states 4, 5, 6 are :math:`t = 2` after a showing with 0, 1, 2
    successes in two trials; state 7 is the absorbing end (value 0). Decision 0 shows
    no ad and decision ``1 + i`` shows agent ``i``'s. The model's values are in
    period-1 units: multiply by ``discount`` for values seen from :math:`t = 0`.

    Parameters
    ----------
    margins : array_like, shape (n_agents,)
        Each agent's value per conversion (his initial type :math:`s_{i,0}`), finite.
    discount : float, default 0.9
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    DynamicModel
        ``n_agents`` agents with 8 states each and ``n_agents + 1`` decisions; the
        starting joint state for free trials ``k`` is ``model.state_index(k)``.

    Raises
    ------
    ValueError
        If ``margins`` is not a nonempty finite vector or ``discount`` is outside ``(0, 1)``.

    Examples
    --------
    >>> from mdlib import ad_auction_model, dynamic_pivot
    >>> model = ad_auction_model([0.8, 0.6], 0.9)
    >>> model.n_states, model.n_decisions
    ((8, 8), 3)
    >>> res = dynamic_pivot(model)                       # efficient: the higher margin wins
    >>> int(res.policy[model.state_index([1, 1])])
    1
    """
    v = check_vector(margins, "margins")
    d = check_discount(discount)
    n = v.size
    base = np.zeros((8, 8))                              # not shown: t = 1 -> t = 2 (same k), t = 2 -> end
    base[0, 2] = base[1, 3] = 1.0
    base[2:, 7] = 1.0
    shown = base.copy()
    shown[0, 2], shown[1, 3] = 0.0, 0.0
    shown[0, 4], shown[0, 5] = 2 / 3, 1 / 3              # P(success | k = 0) = 1/3
    shown[1, 5], shown[1, 6] = 1 / 3, 2 / 3              # P(success | k = 1) = 2/3
    values, transitions = [], []
    for i in range(n):
        val = np.zeros((n + 1, 8))
        val[i + 1] = v[i] * _ad_mean()
        kern = np.tile(base, (n + 1, 1, 1))
        kern[i + 1] = shown
        values.append(val)
        transitions.append(kern)
    return DynamicModel(values, transitions, d)


def _ad_outcomes(k: int, shown: bool) -> list[tuple[float, float]]:
    """(posterior mean at t = 2, probability) after free trial ``k``, shown or not at t = 1."""
    if not shown:
        return [((1 + k) / 3, 1.0)]
    up = (1 + k) / 3
    return [((1 + k) / 4, 1 - up), ((2 + k) / 4, up)]


def ad_auction(scales: Any, discount: float = 0.9) -> AdAuction:
    r"""The weighted-welfare allocation of the two-agent ad auction, vectorised over weight profiles.

    Agent ``i``'s weighted value of a conversion is ``scales[..., i]`` (for the virtual
    pivot :math:`w_i = \hat\alpha_i s_{i,0}`, which is :math:`2 s_{i,0} - 1` for a
    uniform :math:`s_{i,0}`); the allocation maximises
    :math:`\mathbb{E}\sum_{t=1,2}\delta^t w_{a_t}\mu_{a_t,t}` by backward induction
    (the model of :func:`ad_auction_model`, solved in closed loops instead of as an MDP).
    At :math:`t = 2` it shows the largest positive :math:`w_i\mu_{i,2}`. Ties go to the
    smallest decision number, as in :func:`~mdlib.pivot.dynamic_pivot`.

    Parameters
    ----------
    scales : array_like, shape (..., 2)
        Weighted values per conversion; a nonpositive scale is never served.
    discount : float, default 0.9
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    AdAuction
        The decision at :math:`t = 1`, the weighted welfare and each agent's expected
        discounted conversions (seen from :math:`t = 0`), for each pair of free trials.

    Raises
    ------
    ValueError
        If ``scales`` is not a finite array with last axis of length 2, or ``discount``
        is outside ``(0, 1)``.

    Notes
    -----
    The allocation is homogeneous of degree 0 in ``scales``: it depends only on the
    ratio :math:`w_0/w_1`, and changes only at the ratios of
    :func:`ad_auction_breakpoints`.

    Examples
    --------
    Equal scales and a success for agent 0 only: agent 0 is shown in both periods
    (his mean is at least 1/2 after either outcome, his rival's 1/3), and expects
    :math:`\delta(2/3 + \delta \cdot 2/3) = 1.14` discounted conversions:

    >>> from mdlib import ad_auction
    >>> out = ad_auction([0.6, 0.6], 0.9)
    >>> int(out.decision[1, 0]), out.conversions[1, 0].round(6)
    (1, array([1.14, 0.  ]))
    """
    w = _pair_array(scales, "scales")
    d = check_discount(discount)
    lead = w.shape[:-1]
    decision = np.empty((*lead, 2, 2), dtype=np.int64)
    welfare = np.empty((*lead, 2, 2))
    conv = np.empty((*lead, 2, 2, 2))
    zero = np.zeros(lead)
    for k0 in (0, 1):
        for k1 in (0, 1):
            mu = ((1 + k0) / 3, (1 + k1) / 3)
            Q, C = [], []
            for dec in (0, 1, 2):
                q = zero + (w[..., dec - 1] * mu[dec - 1] if dec else 0.0)
                c = [zero + (mu[0] if dec == 1 else 0.0), zero + (mu[1] if dec == 2 else 0.0)]
                for m0, p0 in _ad_outcomes(k0, dec == 1):
                    for m1, p1 in _ad_outcomes(k1, dec == 2):
                        bids = np.stack([zero, w[..., 0] * m0, w[..., 1] * m1], axis=-1)
                        a2 = bids.argmax(axis=-1)
                        q = q + d * p0 * p1 * bids.max(axis=-1)
                        c[0] = c[0] + d * p0 * p1 * m0 * (a2 == 1)
                        c[1] = c[1] + d * p0 * p1 * m1 * (a2 == 2)
                Q.append(q)
                C.append(np.stack(c, axis=-1))
            Q_arr = np.stack(Q, axis=-1)
            best = Q_arr.argmax(axis=-1)
            decision[..., k0, k1] = best
            welfare[..., k0, k1] = d * Q_arr.max(axis=-1)
            C_arr = np.stack(C, axis=-2)                           # (..., 3, 2)
            conv[..., k0, k1, :] = d * np.take_along_axis(C_arr, best[..., None, None], axis=-2)[..., 0, :]
    return AdAuction(decision=decision, welfare=welfare, conversions=conv)


def ad_auction_breakpoints(discount: float = 0.9) -> NDArray[np.float64]:
    r"""The ratios :math:`w_0/w_1 > 0` at which the ad auction's allocation can change.

    The weighted welfare is the upper envelope of the lines
    :math:`w_0 c_0(\pi) + w_1 c_1(\pi)` over the finitely many deterministic policies
    :math:`\pi` (a decision at :math:`t = 1`, and one at :math:`t = 2` for each outcome),
    :math:`c_i(\pi)` agent ``i``'s expected discounted conversions. The optimal policy
    can only change where two lines cross, so between consecutive returned ratios the
    allocation of :func:`ad_auction` is constant, for every pair of free trials. The set
    may contain ratios at which nothing changes; it contains every ratio at which
    something does.

    Parameters
    ----------
    discount : float, default 0.9
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    numpy.ndarray
        Sorted, distinct positive ratios.

    Raises
    ------
    ValueError
        If ``discount`` is outside ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from mdlib import ad_auction, ad_auction_breakpoints
    >>> r = ad_auction_breakpoints(0.9)
    >>> mid = np.concatenate([[r[0] / 2], (r[:-1] + r[1:]) / 2, [2 * r[-1]]])
    >>> lo, hi = ad_auction(np.stack([mid * (1 - 1e-9), np.ones_like(mid)], -1)), ad_auction(np.stack([mid * (1 + 1e-9), np.ones_like(mid)], -1))
    >>> bool((lo.decision == hi.decision).all())
    True
    """
    d = check_discount(discount)
    ratios = []
    for k0 in (0, 1):
        for k1 in (0, 1):
            mu = ((1 + k0) / 3, (1 + k1) / 3)
            lines = []
            for dec in (0, 1, 2):
                outcomes = [(m0, p0, m1, p1) for m0, p0 in _ad_outcomes(k0, dec == 1) for m1, p1 in _ad_outcomes(k1, dec == 2)]
                for later in itertools.product((0, 1, 2), repeat=len(outcomes)):
                    c = [mu[0] if dec == 1 else 0.0, mu[1] if dec == 2 else 0.0]
                    for (m0, p0, m1, p1), a2 in zip(outcomes, later):
                        if a2 == 1:
                            c[0] += d * p0 * p1 * m0
                        elif a2 == 2:
                            c[1] += d * p0 * p1 * m1
                    lines.append(c)
            L = np.array(lines)
            dc0 = L[:, None, 0] - L[None, :, 0]
            dc1 = L[None, :, 1] - L[:, None, 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                r = dc1 / dc0
            keep = (np.abs(dc0) > 1e-12) & (np.abs(dc1) > 1e-12) & (r > 0)   # distinct, crossing lines
            ratios.append(r[keep])
    out = np.unique(np.concatenate(ratios))
    return out[np.concatenate([[True], np.diff(out) > 1e-12 * out[1:]])]


class AdRelaxed(NamedTuple):
    """Relaxed payments of the ad auction's virtual pivot; arrays of shape ``(..., 2)`` (last axis: the agent)."""

    conversions: NDArray[np.float64]
    r""":math:`\mathrm{vol}_i`: expected discounted conversions, averaged over the free trials."""
    value: NDArray[np.float64]
    r""":math:`V_i = s_{i,0}\,\mathrm{vol}_i`."""
    rent: NDArray[np.float64]
    r""":math:`U_i = \int_{1/2}^{s_{i,0}} \mathrm{vol}_i(z)\,dz`, the envelope rent."""
    payment: NDArray[np.float64]
    r""":math:`p^*_i = V_i - U_i`; agents with :math:`p^*_i \le 0` are excluded."""


def ad_auction_relaxed(margins: Any, discount: float = 0.9) -> AdRelaxed:
    r"""Relaxed payments of the virtual pivot in the ad auction, for margins uniform on [0, 1].

    With :math:`s_{i,0} \sim U[0, 1]` and :math:`A(s) = s`, the weight is
    :math:`\alpha(s) = 2 - 1/s` and the weighted value of a conversion is
    :math:`2 s - 1`; an agent with :math:`s_{i,0} \le 1/2` is excluded. Agent ``i``'s
    conversions :math:`\mathrm{vol}_i` under the allocation of :func:`ad_auction` are a
    step function of his own report, with jumps only at the ratios of
    :func:`ad_auction_breakpoints`, so the envelope integral
    :math:`U_i = \int_{1/2}^{s_{i,0}} \mathrm{vol}_i(z)\,dz` is summed exactly, cell by cell.

    Parameters
    ----------
    margins : array_like, shape (..., 2)
        Reported margins :math:`(s_{1,0}, s_{2,0})` in :math:`[0, 1]`.
    discount : float, default 0.9
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    AdRelaxed
        ``conversions``, ``value``, ``rent`` and ``payment``, each of shape ``margins.shape``.

    Raises
    ------
    ValueError
        If ``margins`` does not have last axis 2 or has entries outside ``[0, 1]``, or
        ``discount`` is outside ``(0, 1)``.

    Notes
    -----
    At a profile where the allocation ties (e.g. equal margins) the conversions are
    those of the limit from above in the agent's own margin. Expected profit is the
    mean of ``payment.sum(-1)`` over the margins (Lemma 3.3 of Kakade, Lobel and
    Nazerzadeh: the expected virtual surplus).

    Examples
    --------
    A lone advertiser (rival below 1/2) pays half his expected conversions,
    :math:`\delta(1 + \delta)/4 = 0.4275`, whatever his margin:

    >>> from mdlib import ad_auction_relaxed
    >>> ad_auction_relaxed([[0.8, 0.3], [0.95, 0.1]], 0.9).payment.round(6)
    array([[0.4275, 0.    ],
           [0.4275, 0.    ]])
    >>> out = ad_auction_relaxed([1.0, 0.9], 0.9)
    >>> out.value.round(6), out.rent.round(6), out.payment.round(6)
    (array([0.645 , 0.3375]), array([0.1305, 0.045 ]), array([0.5145, 0.2925]))
    """
    s = _pair_array(margins, "margins")
    if (s < 0).any() or (s > 1).any():
        raise ValueError("margins must lie in [0, 1]")
    d = check_discount(discount)
    key = ("ad_tables", d)
    if key not in _AD_CACHE:
        r = ad_auction_breakpoints(d)
        tables = []
        for i in (0, 1):
            edges = np.concatenate([[0.0], np.sort(r if i == 0 else 1 / r)])
            mids = np.concatenate([(edges[:-1] + edges[1:]) / 2, [2 * edges[-1]]])
            scales = np.ones((mids.size, 2))
            scales[:, i] = mids
            g = ad_auction(scales, d).conversions.mean(axis=(-3, -2))[:, i]
            G = np.concatenate([[0.0], np.cumsum(g[:-1] * np.diff(edges))])
            tables.append((edges, g, G))
        _AD_CACHE[key] = tables
    tables = _AD_CACHE[key]
    alone = d * (1 + d) / 2                               # shown twice, E mu_t = 1/2
    u = 2 * s - 1
    vol, rent = np.empty(s.shape), np.empty(s.shape)
    for i in (0, 1):
        edges, g, G = tables[i]
        u_i, u_j = u[..., i], u[..., 1 - i]
        both, solo = (u_i > 0) & (u_j > 0), (u_i > 0) & (u_j <= 0)
        rho = np.where(both, u_i / np.where(u_j > 0, u_j, 1.0), 0.0)
        cell = np.searchsorted(edges, rho, side="right") - 1
        vol[..., i] = np.where(both, g[cell], np.where(solo, alone, 0.0))
        rent[..., i] = np.where(both, u_j / 2 * (G[cell] + g[cell] * (rho - edges[cell])),
                                np.where(solo, u_i / 2 * alone, 0.0))
    value = s * vol
    return AdRelaxed(conversions=vol, value=value, rent=rent, payment=value - rent)


_AD_CACHE: dict = {}
