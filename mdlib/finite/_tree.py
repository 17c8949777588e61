"""The finite type tree and the input checks of :mod:`mdlib.finite`."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice as _check_choice

IR_KINDS = ("ex-ante", "interim", "ex-post")
MECHANISM_KINDS = ("separable", "general", "static")
_FULL_PATH_KINDS = ("static", "general")  # kinds whose allocations depend on the whole report path
_PROB_TOL = 1e-9  # tolerance on the sum of probs
_TIE_TOL = 1e-12  # best responses within this of the best are ties (the first one is taken)


# --------------------------------------------------------------------------- validation
def _check_kind(kind: Any) -> str:
    if kind == "deferred":
        raise ValueError("kind='deferred' is now spelled kind='general' (Ashlagi, Daskalakis and Haghpanah's "
                         "name for mechanisms that allocate after the last report); got kind='deferred'")
    return _check_choice(kind, "kind", MECHANISM_KINDS)



def _check_model(values: Any, probs: Any) -> tuple[tuple[NDArray[np.float64], ...], NDArray[np.float64]]:
    """Validate ``probs`` (non-negative, sums to 1) and ``values`` (one vector per period)."""
    try:
        p = np.asarray(probs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"probs must be an array of probabilities, got {type(probs).__name__}") from exc
    if p.ndim < 1 or p.size == 0:
        raise ValueError(f"probs must have one axis per period and be non-empty, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs must be finite, got nan or inf")
    if np.any(p < 0):
        raise ValueError(f"probs must be non-negative, got minimum {float(p.min()):g}")
    total = float(p.sum())
    if abs(total - 1.0) > _PROB_TOL:
        raise ValueError(f"probs must sum to 1 (tolerance 1e-9), got {total!r}")
    if isinstance(values, np.ndarray) and values.dtype != object and values.ndim == 2:
        vals_in: Sequence[Any] = list(values)
    elif isinstance(values, (list, tuple)):
        vals_in = values
    else:
        raise ValueError(f"values must be a sequence of one value vector per period, got {type(values).__name__}")
    if len(vals_in) != p.ndim:
        raise ValueError(f"values must have one vector per period (or an array over type histories): probs has {p.ndim} axes, values has {len(vals_in)}")
    vals = []
    for t, v in enumerate(vals_in):
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"values[{t}] must be a vector of real numbers") from exc
        if a.ndim > 1 or t == 0:  # a value per type history
            if a.shape != p.shape[: t + 1] and not (a.ndim == 1 and a.shape == (p.shape[t],)):
                raise ValueError(
                    f"values[{t}] must have length probs.shape[{t}] = {p.shape[t]}, or shape "
                    f"probs.shape[:{t + 1}] = {p.shape[: t + 1]} for values that depend on the type history, got shape {a.shape}"
                )
        elif a.ndim != 1 or a.shape[0] != p.shape[t]:
            raise ValueError(
                f"values[{t}] must have length probs.shape[{t}] = {p.shape[t]}, or shape "
                f"probs.shape[:{t + 1}] = {p.shape[: t + 1]} for values that depend on the type history, got shape {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise ValueError(f"values[{t}] must be finite, got nan or inf")
        vals.append(a)
    return tuple(vals), p


def _value_history(v: NDArray[np.float64], t: int, m: tuple[int, ...]) -> NDArray[np.float64]:
    """Values of good ``t + 1`` on every type history of length ``t + 1`` (shape ``m[:t + 1]``)."""
    if v.ndim == t + 1:
        return v
    return np.broadcast_to(v.reshape((1,) * t + (-1,)), m[: t + 1])


def _check_observed(observed: Any, T: int, kind: str) -> tuple[int, ...]:
    """Validate ``observed``: distinct integer period indices in ``[0, T - 1]``; sorted tuple."""
    if isinstance(observed, (str, bytes)) or np.ndim(observed) != 1 and not (
        isinstance(observed, (list, tuple)) and len(observed) == 0
    ):
        raise ValueError(f"observed must be a sequence of 0-based period indices (e.g. (1,)), got {observed!r}")
    out = []
    for o in list(observed):
        if isinstance(o, (bool, np.bool_)) or not isinstance(o, (int, np.integer)):
            raise ValueError(f"observed must hold integer period indices, got {o!r}")
        if not 0 <= int(o) < T:
            raise ValueError(f"observed indices must lie in [0, {T - 1}] (probs has {T} periods), got {int(o)}")
        out.append(int(o))
    if len(set(out)) != len(out):
        raise ValueError(f"observed must not repeat a period, got {tuple(out)}")
    if out and kind in _FULL_PATH_KINDS:
        raise ValueError(f"observed is supported for kind 'separable' only, got kind={kind!r}")
    return tuple(sorted(out))


# --------------------------------------------------------------------------- the type tree
class _Tree:
    """Histories, supports, belief classes and the canonical (reachable) history of every report history.

    Level ``t`` holds the histories of length ``t`` (flat indices, C order). Two true
    histories of the same length belong to the same *belief class* when they give the same
    conditional law of the future types and (for values that depend on the type history) the
    same values of the future goods on every future path: a deviator's continuation problem
    depends on his true history only through that class.
    """

    def __init__(self, values: tuple[NDArray[np.float64], ...], probs: NDArray[np.float64]):
        self.values = values
        self.probs = probs
        self.m = probs.shape
        self.T = T = probs.ndim
        self.H = [math.prod(self.m[:t]) for t in range(T + 1)]
        # vh[t]: value of good t + 1 on every history of length t + 1 (flat)
        self.vh = [np.ascontiguousarray(_value_history(values[t], t, self.m)).reshape(-1) for t in range(T)]
        self.history_values = history_values = any(np.ndim(v) > 1 for v in values)
        self.P = [probs.sum(axis=tuple(range(t, T))).reshape(-1) if t < T else probs.reshape(-1) for t in range(T + 1)]
        self.P[0] = np.array([1.0])
        self.supp = [P > 0 for P in self.P]
        # conditional law of the next type given each history of length t
        self.cond = []
        for t in range(T):
            nxt = self.P[t + 1].reshape(self.H[t], self.m[t])
            with np.errstate(invalid="ignore", divide="ignore"):
                c = np.where(self.supp[t][:, None], nxt / np.where(self.P[t] > 0, self.P[t], 1.0)[:, None], 0.0)
            self.cond.append(c)
        # belief classes
        self.cls: list[NDArray[np.int64]] = []
        self.rep: list[NDArray[np.int64]] = []
        for t in range(T + 1):
            cls = np.full(self.H[t], -1, dtype=np.int64)
            idx = np.flatnonzero(self.supp[t])
            if t == 0 or t == T:
                cls[idx] = 0
                rep = idx[:1]
            else:
                rows = probs.reshape(self.H[t], -1)[idx] / self.P[t][idx, None]
                if history_values:  # the classes must also agree on the values of the future goods
                    rest = math.prod(self.m[t:])
                    live = rows > 0
                    parts = [rows]
                    for s in range(t, T):
                        w = math.prod(self.m[t : s + 1])
                        vs = self.vh[s].reshape(self.H[t], w, 1)[idx]
                        vs = np.broadcast_to(vs, (len(idx), w, rest // w)).reshape(len(idx), rest)
                        parts.append(np.where(live, vs, 0.0))
                    rows = np.concatenate(parts, axis=1)
                _, first, inv = np.unique(np.round(rows, 12), axis=0, return_index=True, return_inverse=True)
                cls[idx] = inv.reshape(-1)
                rep = idx[first]
            self.cls.append(cls)
            self.rep.append(rep)
        self.C = [len(r) for r in self.rep]
        self.cq = [self.cond[t][self.rep[t]] for t in range(T)]  # (C_t, m_t)
        self.cnext = []
        self.vq = []  # vq[t]: (C_t, m_t) value of good t + 1 by belief class and next type
        self.okey, self.ok_k, self.ok_c, self.ok_v = [], [], [], []
        for t in range(T):
            kids = self.rep[t][:, None] * self.m[t] + np.arange(self.m[t])[None, :]
            live = self.cq[t] > 0
            self.cnext.append(np.where(live, self.cls[t + 1][kids], -1))
            self.vq.append(np.where(live, self.vh[t][kids], 0.0))
            # outcome keys: the distinct (next type, next class, value of good t + 1) of (class, next type)
            c_i, k_i = np.nonzero(live)
            trip = np.stack([k_i, self.cnext[t][c_i, k_i], np.round(self.vq[t][c_i, k_i], 12)], axis=1)
            uniq, inv = np.unique(trip, axis=0, return_inverse=True)
            key = np.full(live.shape, -1, dtype=np.int64)
            key[c_i, k_i] = inv.reshape(-1)
            self.okey.append(key)
            first = np.zeros(len(uniq), dtype=np.int64)
            first[inv.reshape(-1)[::-1]] = np.arange(len(c_i))[::-1]
            self.ok_k.append(k_i[first])
            self.ok_c.append(self.cnext[t][c_i[first], k_i[first]])
            self.ok_v.append(self.vq[t][c_i[first], k_i[first]])
        # canonical reachable history of every report history
        self.canon = [np.zeros(1, dtype=np.int64)]
        for t in range(T):
            prev = self.canon[t]
            base = prev[:, None] * self.m[t] + np.arange(self.m[t])[None, :]
            ok = self.supp[t + 1][base]
            default = np.argmax(self.supp[t + 1].reshape(self.H[t], self.m[t])[prev], axis=1)
            self.canon.append(np.where(ok, base, (prev * self.m[t] + default)[:, None]).reshape(-1))

    def prefix(self, idx: NDArray[np.int64], t: int) -> NDArray[np.int64]:
        """Flat index at level t of the prefix of full-path indices ``idx``."""
        return idx // math.prod(self.m[t:])



def _as_array(a: Any, shape: tuple[int, ...], name: str, lo: float | None = None, hi: float | None = None) -> NDArray[np.float64]:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got nan or inf")
    if lo is not None and (np.any(arr < lo - 1e-12) or np.any(arr > hi + 1e-12)):
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got range [{arr.min():g}, {arr.max():g}]")
    if lo is not None:
        arr = np.clip(arr, lo, hi)
    return arr
