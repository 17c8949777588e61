"""Adapters to scipy.stats shared by mdlib's modules, and the ironing algorithm.

:class:`_Dist` gives legacy frozen distributions (``stats.uniform(0, 1)``) and new-style
ones (``stats.Uniform(a=0, b=1)``, ``stats.Mixture(...)``) one interface; :func:`_quiet`
silences scipy's warnings inside a quadrature; :func:`_ironing` computes the smallest concave
function above a revenue curve; :class:`_MarginalValue` is a mixture of distributions as a
frozen scipy.stats distribution.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from ._validation import as_real_array, check_in_closed_interval, format_interval


try:  # the new-style infrastructure (scipy >= 1.15); private module, so guard it
    from scipy.stats._distribution_infrastructure import (
        ContinuousDistribution as _NewContinuous,
        DiscreteDistribution as _NewDiscrete,
    )
except ImportError:  # pragma: no cover - depends on the scipy version
    _NewContinuous = _NewDiscrete = None

_DIST_MESSAGE = "{name} must be a scipy.stats continuous distribution with cdf and pdf methods, got "

# Quantile levels at which quadratures are split (value points isf(level)).
_SPLIT_LEVELS = (0.9, 0.75, 0.5, 0.25, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8, 1e-10, 1e-12)


# --------------------------------------------------------------------------- adapter
class _Dist:
    """One interface to legacy (``rv_frozen``) and new-style scipy.stats distributions.

    Methods take and return float arrays (or floats): ``cdf``, ``sf`` (taken from the
    distribution's own ``sf``/``ccdf`` for tail accuracy, never ``1 - cdf``), ``pdf``,
    ``logsf``, ``logpdf``, ``ppf`` (``F^{-1}``), ``isf`` (``F^{-1}(1 - q)``).
    Attributes ``lo`` and ``hi`` are the ends of the support (possibly infinite) and
    ``kinks`` lists known points where the density may jump (ends of the supports of
    a mixture's components).
    """

    def __init__(self, dist: Any, name: str = "dist") -> None:
        self.dist = dist
        self.name = name
        self.kind = _classify(dist, name)
        d = dist
        if self.kind == "new":
            self._cdf, self._sf, self._pdf = d.cdf, d.ccdf, d.pdf
            self._logsf, self._logpdf = d.logccdf, d.logpdf
            self._ppf, self._isf = d.icdf, d.iccdf
        else:
            self._cdf, self._sf, self._pdf = d.cdf, d.sf, d.pdf
            self._logsf, self._logpdf = d.logsf, d.logpdf
            self._ppf, self._isf = d.ppf, d.isf
        try:
            with _quiet():
                lo, hi = (float(np.asarray(x)) for x in d.support())
        except Exception as exc:
            raise ValueError(_DIST_MESSAGE.format(name=name) + f"{type(dist)} (its support() failed: {exc})") from exc
        if math.isnan(lo) or math.isnan(hi) or not lo < hi:
            raise ValueError(
                f"{name} must have valid parameters and a support with lower end < upper end, "
                f"got support {format_interval(lo, hi) if not (math.isnan(lo) or math.isnan(hi)) else (lo, hi)}"
            )
        self.lo, self.hi = lo, hi
        kinks: list[float] = []
        if hasattr(d, "components") and callable(getattr(d, "support", None)):
            for comp in getattr(d, "components", ()):
                try:
                    kinks.extend(float(np.asarray(x)) for x in comp.support())
                except Exception:  # pragma: no cover - defensive
                    pass
        self.kinks = tuple(sorted({k for k in kinks if math.isfinite(k) and lo <= k <= hi}))
        self.support_text = format_interval(lo, hi)
        # a typical size of a value, used for tolerances
        with _quiet():
            qs = np.asarray(self._ppf(np.array([0.25, 0.5, 0.75])), dtype=float)
        if not np.all(np.isfinite(qs)):
            raise ValueError(f"{name} must have finite quantiles, got ppf([0.25, 0.5, 0.75]) = {qs}")
        self.scale = float(max(np.max(np.abs(qs)), qs[2] - qs[0], 1e-300))
        self._mean: float | None = None

    # vectorised evaluations -------------------------------------------------
    def _call(self, fn: Any, x: ArrayLike) -> NDArray[np.float64]:
        with _quiet():
            return np.asarray(fn(np.asarray(x, dtype=float)), dtype=float)

    def _vectorised(name: str) -> Any:  # type: ignore[misc]  # pragma: no mutate block (run while the class is built)
        def method(self: "_Dist", x: ArrayLike) -> NDArray[np.float64]:
            return self._call(getattr(self, "_" + name), x)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"The distribution's ``{name}``, vectorised, as a float array."
        return method

    cdf, sf, pdf, logsf, logpdf, ppf, isf = map(_vectorised, ("cdf", "sf", "pdf", "logsf", "logpdf", "ppf", "isf"))
    del _vectorised

    def sf1(self, x: float) -> float:
        """The survival function at one point, as a float (for quadrature and optimisers)."""
        with _quiet():
            return float(self._sf(float(x)))

    def mean(self) -> float:
        if self._mean is None:
            try:
                with _quiet():
                    self._mean = float(np.asarray(self.dist.mean()))
            except Exception:  # pragma: no cover - a broken mean() counts as no finite mean
                self._mean = math.nan
        return self._mean

    def require_finite_mean(
        self, why: str = "for revenue computations (revenue curve R(q) -> 0 as q -> 0)", name: str | None = None
    ) -> None:
        """Raise unless the value has a finite mean (checked only for an unbounded support).

        The message names the parameter (``name``, default the adapter's) and says ``why``.
        """
        if math.isinf(self.lo) or math.isinf(self.hi):
            m = self.mean()
            if not math.isfinite(m):
                raise ValueError(f"{name or self.name} must have a finite mean {why}, got mean {m}")


class _quiet(warnings.catch_warnings):
    """Silence numpy floating-point warnings and scipy runtime warnings in a block."""

    def __enter__(self) -> Any:
        out = super().__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)
        self._err = np.seterr(all="ignore")
        return out

    def __exit__(self, *exc: Any) -> Any:
        np.seterr(**self._err)
        return super().__exit__(*exc)


def _classify(dist: Any, name: str = "dist") -> str:
    """Return ``"legacy"`` or ``"new"``; raise ``ValueError`` for anything else."""
    if isinstance(dist, stats.rv_discrete) or isinstance(getattr(dist, "dist", None), stats.rv_discrete):
        raise ValueError(_DIST_MESSAGE.format(name=name) + f"a discrete distribution {type(dist)}")
    if _NewDiscrete is not None and isinstance(dist, _NewDiscrete):
        raise ValueError(_DIST_MESSAGE.format(name=name) + f"a discrete distribution {type(dist)}")
    if isinstance(dist, stats.rv_continuous) or isinstance(getattr(dist, "dist", None), stats.rv_continuous):
        return "legacy"
    if (_NewContinuous is not None and isinstance(dist, _NewContinuous)) or isinstance(dist, stats.Mixture):
        return "new"
    # duck typing for look-alikes
    new_api = ("cdf", "ccdf", "pdf", "logccdf", "logpdf", "icdf", "iccdf", "support")
    old_api = ("cdf", "sf", "pdf", "logsf", "logpdf", "ppf", "isf", "support")
    if all(callable(getattr(dist, m, None)) for m in new_api):
        return "new"
    if all(callable(getattr(dist, m, None)) for m in old_api):
        return "legacy"
    raise ValueError(_DIST_MESSAGE.format(name=name) + f"{type(dist)}")


def _as_dist(dist: Any, name: str = "dist") -> _Dist:
    """Validate ``dist`` and wrap it in the adapter (an adapter passes through).

    ``name`` is the parameter's name in error messages (``first``, ``shock``, ...).
    """
    if isinstance(dist, _Dist):
        return dist
    return _Dist(dist, name)


def _values_in_support(d: _Dist, v: Any, name: str) -> tuple[NDArray[np.float64], bool]:
    arr, scalar = as_real_array(v, name)
    check_in_closed_interval(arr, name, d.lo, d.hi, f"the support {d.support_text} of dist")
    return arr, scalar


def _out(arr: NDArray[np.float64], scalar: bool) -> float | NDArray[np.float64]:
    return float(arr) if scalar else arr


# --------------------------------------------------------------------------- phi, R
def _phi(d: _Dist, v: NDArray[np.float64]) -> NDArray[np.float64]:
    """phi(v) = v - S(v)/f(v), computed as v - exp(log S - log f); see virtual_value."""
    v = np.asarray(v, dtype=float)
    log_s = d.logsf(v)
    log_f = d.logpdf(v)
    with _quiet():
        ratio = np.exp(log_s - log_f)
    # S = 0 and f = 0 together: the upper end of a bounded support, where S/f -> 0.
    ratio = np.where(np.isneginf(log_s), 0.0, ratio)
    ratio = np.where(np.isnan(ratio) & np.isposinf(log_f), 0.0, ratio)
    out = v - ratio
    if np.isnan(out).any():
        bad = v[np.isnan(out)].flat[0]
        raise ValueError(f"the virtual value of dist is not defined at v = {bad} (sf or pdf returned NaN)")
    return out


def _revenue_curve(d: _Dist, q: NDArray[np.float64]) -> NDArray[np.float64]:
    """R(q) = q * F^{-1}(1 - q) with R(0) = 0 (finite mean) and R(1) = lower end of support."""
    q = np.asarray(q, dtype=float)
    with _quiet():
        p = d.isf(q)
        r = q * p
    r = np.where(q == 0.0, 0.0, r)
    r = np.where(q == 1.0, d.lo, r)
    return r


# --------------------------------------------------------------------------- ironing
@dataclass
class _Ironing:
    """The concave hull of the revenue curve, located on a grid and refined.

    ``p`` (values, descending) and ``q = S(p)`` (ascending) are the grid;
    ``intervals`` lists ``(a, b, c)``: phibar = c on the value interval [a, b].
    """

    d: _Dist
    p: NDArray[np.float64]
    q: NDArray[np.float64]
    intervals: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def R(self) -> NDArray[np.float64]:
        return self.p * self.q


def _value_grid(d: _Dist) -> NDArray[np.float64]:
    """Sorted grid of some 3000 values: fine in quantiles, in both tails, and in value."""
    tails = np.geomspace(1e-12, 0.02, 60)
    mid = np.linspace(0.0, 1.0, 1201)[1:-1]
    pts = [d.ppf(np.concatenate([tails, mid])), d.isf(tails)]
    lo = d.lo if math.isfinite(d.lo) else float(d.ppf(1e-4))
    hi = d.hi if math.isfinite(d.hi) else float(d.isf(1e-4))
    pts.append(np.linspace(lo, hi, 801))
    pts.append(np.array([d.lo, d.hi, *d.kinks], dtype=float))
    p = np.concatenate(pts)
    p = p[np.isfinite(p)]
    return np.unique(np.clip(p, d.lo, d.hi))


def _grid(d: _Dist) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The value grid and its survival function, for the hull of the revenue curve.

    Returns ``(p, q)`` sorted by ``q`` ascending (``p`` descending), with one point per
    distinct ``q`` (the largest value: the closure of the revenue curve at a gap).
    """
    p = _value_grid(d)
    q = d.sf(p)
    ok = np.isfinite(q)
    p, q = p[ok], np.clip(q[ok], 0.0, 1.0)
    order = np.lexsort((p, q))  # q ascending, then p ascending
    p, q = p[order], q[order]
    # keep the largest value for each distinct quantile
    last = np.ones(q.size, dtype=bool)
    last[:-1] = q[1:] != q[:-1]
    return p[last], q[last]


def _upper_hull(x: NDArray[np.float64], y: NDArray[np.float64]) -> list[int]:
    """Indices of the upper convex hull of points sorted by strictly increasing x."""
    hull: list[int] = []
    for k in range(x.size):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            cross = (x[j] - x[i]) * (y[k] - y[i]) - (y[j] - y[i]) * (x[k] - x[i])
            if cross >= 0.0:
                hull.pop()
            else:
                break
        hull.append(k)
    return hull


def _branch_max(d: _Dist, g: _Ironing, c: float, i0: int, i1: int) -> tuple[float, float]:
    """Maximise (x - c) S(x) over the values x in [p[i1], p[i0]] (grid indices i0 <= i1).

    A grid search brackets the maximiser, then a bounded Brent search refines it
    (the grid points themselves stay candidates, so kinks are found exactly).
    """
    vals = (g.p[i0 : i1 + 1] - c) * g.q[i0 : i1 + 1]
    k = i0 + int(np.argmax(vals))
    best_x, best_v = float(g.p[k]), float(vals[k - i0])
    left, right = float(g.p[min(k + 1, i1)]), float(g.p[max(k - 1, i0)])
    if right > left:
        res = optimize.minimize_scalar(
            lambda x: -(x - c) * d.sf1(x),
            bounds=(left, right),
            method="bounded",
            options={"xatol": 1e-13 * max(1.0, abs(left), abs(right))},
        )
        if np.isfinite(res.fun) and -res.fun > best_v:
            best_x, best_v = float(res.x), float(-res.fun)
    return best_x, best_v


def _polish(d: _Dist, x: float, c: float) -> float:
    """Refine a maximiser of (x - c) S(x) by solving phi(x) = c near x.

    The derivative of (x - c) S(x) has the sign of c - phi(x), so the maximiser is
    where phi crosses c: a smooth tangency, or a jump of phi (where the density
    jumps or a gap ends). ``arctan`` keeps the function finite where phi = -inf.
    Without a crossing near x (an end of the support) x is kept.
    """
    h = 1e-6 * (abs(x) + d.scale)
    a, b = max(x - h, d.lo), min(x + h, d.hi)
    if not a < b:
        return x

    def g(t: float) -> float:
        return float(np.arctan(_phi(d, np.array([t]))[0] - c))

    ga, gb = g(a), g(b)
    if ga * gb >= 0:
        return x
    root = optimize.brentq(g, a, b, xtol=1e-15 * (abs(x) + d.scale), rtol=4 * np.finfo(float).eps)
    # accept the root only if it is at least as good a maximiser
    f_old, f_new = (x - c) * d.sf1(x), (root - c) * d.sf1(root)
    return root if f_new >= f_old - 1e-15 * (abs(f_old) + d.scale) else x


def _refine_interval(d: _Dist, g: _Ironing, i: int, j: int, m: int) -> tuple[float, float, float] | None:
    """Locate precisely the ironing interval whose hull chord passes over grid point m.

    The chord's slope c solves D(c) = 0 with D(c) = max_{x >= p[m]} (x - c) S(x)
    - max_{x <= p[m]} (x - c) S(x), a nondecreasing function of c; the two maximisers
    at that c are the tangent points (a, b) of the chord.
    """
    n = g.p.size

    def D(c: float) -> float:
        return _branch_max(d, g, c, 0, m)[1] - _branch_max(d, g, c, m, n - 1)[1]

    c0 = float((g.R[j] - g.R[i]) / (g.q[j] - g.q[i]))
    step = 1e-7 * (abs(c0) + d.scale)
    d0 = D(c0)
    if d0 == 0.0:
        c_star = c0
    else:
        sign = -1.0 if d0 > 0 else 1.0
        c_far = c0
        for _ in range(80):
            c_far = c0 + sign * step
            d_far = D(c_far)
            if (d_far <= 0.0) if d0 > 0 else (d_far >= 0.0):
                break
            step *= 4.0
        else:  # pragma: no cover - the bracket search should always succeed
            return None
        lo_c, hi_c = sorted((c0, c_far))
        c_star = optimize.brentq(D, lo_c, hi_c, xtol=1e-15 * (abs(c0) + d.scale), rtol=4 * np.finfo(float).eps)
    b = _polish(d, _branch_max(d, g, c_star, 0, m)[0], c_star)
    a = _polish(d, _branch_max(d, g, c_star, m, n - 1)[0], c_star)
    # Alternate: the chord's slope from its ends (exact where an end is a kink, and
    # accurate to second order at a tangency), then the tangency points for that slope.
    for _ in range(3):
        if not b > a:
            return None
        s_a, s_b = d.sf1(a), d.sf1(b)
        if not s_a > s_b:
            break
        c_star = (b * s_b - a * s_a) / (s_b - s_a)
        a_new, b_new = _polish(d, a, c_star), _polish(d, b, c_star)
        if a_new == a and b_new == b:
            break
        a, b = a_new, b_new
    if not b > a:
        return None
    return a, b, float(c_star)


def _ironing(d: _Dist) -> _Ironing:
    """Compute the ironing intervals of ``d`` (see :func:`ironing_intervals`)."""
    p, q = _grid(d)
    g = _Ironing(d=d, p=p, q=q)
    R = g.R
    hull = _upper_hull(q, R)
    tol = 1e-9 * max(d.scale, float(np.max(np.abs(R[np.isfinite(R)]))))
    found: list[tuple[float, float, float]] = []
    for i, j in zip(hull[:-1], hull[1:]):
        if j - i < 2:
            continue
        k = np.arange(i + 1, j)
        chord = R[i] + (R[j] - R[i]) * (q[k] - q[i]) / (q[j] - q[i])
        deficit = chord - R[k]
        if np.max(deficit) <= tol:
            continue
        m = int(k[np.argmax(deficit)])
        iv = _refine_interval(d, g, i, j, m)
        if iv is not None:
            found.append(iv)
    found.sort()
    intervals: list[tuple[float, float, float]] = []
    for a, b, c in found:  # the same interval can be found twice: keep one
        if intervals and a < intervals[-1][1] - 1e-9 * (abs(a) + d.scale):
            continue
        intervals.append((a, b, c))
    g.intervals = intervals
    return g


def _ironed_phi(d: _Dist, g: _Ironing, v: NDArray[np.float64]) -> NDArray[np.float64]:
    out = _phi(d, v)
    for a, b, c in g.intervals:
        out = np.where((v >= a) & (v <= b), c, out)
    return out


def _ironed_R(d: _Dist, g: _Ironing, q: NDArray[np.float64]) -> NDArray[np.float64]:
    out = _revenue_curve(d, q)
    for a, b, c in g.intervals:
        qa, qb = d.sf1(a), d.sf1(b)  # qb <= qa
        out = np.where((q >= qb) & (q <= qa), b * qb + c * (q - qb), out)
    return out


def _monopoly_price(d: _Dist, g: _Ironing) -> float:
    """The smallest maximiser of p S(p) over the support (the upper end if no price earns > 0)."""
    x, val = _branch_max(d, g, 0.0, 0, g.p.size - 1)
    if not val > 0.0:
        return d.hi
    if math.isfinite(d.lo) and d.lo * d.sf1(d.lo) >= val * (1.0 - 1e-14):
        return d.lo
    return _polish(d, x, 0.0)



# --------------------------------------------------------------------------- mixtures
class _MarginalValue(stats.rv_continuous):
    """The marginal distribution of v: the mixture of F(. | tau) over tau ~ G (Gauss-Legendre in u).

    ``state`` holds the weights ``w`` and the laws ``d`` of the components, the support ``lo``, ``hi``, and
    ``values(fn, x)``: every component's ``fn`` (``"cdf"``, ``"sf"``, ``"pdf"``) at ``x``, one row each.
    """

    def __init__(self, state: dict[str, Any], **kwargs: Any) -> None:
        kwargs.setdefault("name", "value_distribution")
        kwargs["a"], kwargs["b"] = state["lo"], state["hi"]
        super().__init__(**kwargs)
        self._state = state
        self._w, self._d, self._values = state["w"], state["d"], state["values"]
        if "grid" not in state:
            # a table for the quantile function: pooled quantiles of the components
            qs = np.concatenate(
                [np.geomspace(1e-12, 1e-3, 40), np.linspace(1e-3, 1 - 1e-3, 400), 1 - np.geomspace(1e-3, 1e-12, 40)]
            )
            vals = np.sort(np.concatenate([d.ppf(qs) for d in self._d]))
            vals = vals[np.isfinite(vals)]
            state["grid"] = np.unique(np.quantile(vals, np.linspace(0, 1, 2001)))
            state["F"] = self._cdf(state["grid"])
        self._grid, self._F = state["grid"], state["F"]

    def _updated_ctor_param(self) -> dict[str, Any]:
        out = super()._updated_ctor_param()
        out["state"] = self._state
        out.pop("a", None)
        out.pop("b", None)
        return out

    def _mix(self, fn: str, x: Any) -> Any:
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        for w, row in zip(self._w, self._values(fn, x)):
            out = out + w * row
        return out

    def _cdf(self, x: Any) -> Any:
        return np.clip(self._mix("cdf", x), 0.0, 1.0)

    def _sf(self, x: Any) -> Any:
        return np.clip(self._mix("sf", x), 0.0, 1.0)

    def _pdf(self, x: Any) -> Any:
        return self._mix("pdf", x)

    def _ppf(self, q: Any) -> Any:
        q = np.asarray(q, dtype=float)
        x = np.interp(q, self._F, self._grid)
        for _ in range(3):  # Newton steps on the exact cdf
            f = self._pdf(x)
            step = np.where(f > 0, (self._cdf(x) - q) / np.where(f > 0, f, 1.0), 0.0)
            x = np.clip(x - step, self._grid[0], self._grid[-1])
        return x

    def _isf(self, q: Any) -> Any:
        q = np.asarray(q, dtype=float)
        x = np.interp(-q, -(1 - self._F), self._grid)
        for _ in range(3):
            f = self._pdf(x)
            step = np.where(f > 0, (self._sf(x) - q) / np.where(f > 0, f, 1.0), 0.0)
            x = np.clip(x + step, self._grid[0], self._grid[-1])
        return x
