"""Finite dynamic mechanisms: optimal mechanisms by linear programming, and deviation audits.

**The model.**

A buyer lives for periods ``t = 1, ..., T``. In period ``t`` he privately learns his type
``theta_t`` from a finite set ``{0, ..., m_t - 1}``; ``probs`` is the joint probability array
of the type path, of shape ``(m_1, ..., m_T)`` (any correlation allowed). In period ``t`` one
unit of good ``t`` can be allocated to him with probability ``x_t in [0, 1]``; it is worth
``values[t-1][theta_t]`` to him (a period whose values are all 0 only brings information).
Utility is additive: the sum of the values of the goods received minus the payments.

**Values that depend on the type history.** ``values[t-1]`` may instead be an array of shape
``(m_1, ..., m_t)``: the value of good ``t`` on every type history ``(theta_1, ..., theta_t)``
(a vector is the special case of a value that depends on ``theta_t`` only). This is how to
write a value such as ``v(s_0, s_1)`` of Kakade, Lobel and Nazerzadeh's nonseparable example
without folding ``s_0`` into the type of period 2: folding it would make observing period 2
reveal ``s_0``. A deviator's continuation then depends on his true history through its
*belief class*, which with history values also requires equal values of the future goods on
every future path (see below).

**Observed periods.** ``optimal_mechanism(..., observed=(t, ...))`` (0-based period indices)
lets the mechanism see the true type of those periods: the buyer sends no report there, so a
reporting strategy can only misreport the other periods, and there is no incentive constraint
for lying about an observed type. The resulting :class:`Mechanism` records ``observed``, and
:func:`audit` searches exactly those deviations by default (``audit(mech, observed=())``
searches them all, as if every type were private). With ``observed=(1, ..., T-1)`` only the
first type is private: the *relaxed environment*, whose optimal revenue bounds the dynamic one.
The mechanism's arrays are still indexed by the type history it sees (reports and observed
types). When an observed type has probability zero after the reports so far (the observation
contradicts the reports), the mechanism reads it by the off-path convention below, as an
impossible report, rather than punishing the detected lie; with observed types that have
positive probability after every report history (independent ones, say) this never arises.
Observed periods are supported for the ``separable`` kind only; ``static`` and
``general`` raise a ``ValueError`` (their single or final allocation has no notion of a
period whose report is forced).

**Mechanisms and reports.**

``kind="separable"`` (the default)
    Ashlagi, Daskalakis and Haghpanah's *separable* class: the buyer reports a type in every
    period and good ``t`` is allocated in period ``t`` by the reports up to period ``t``, so
    ``allocation[t-1]`` has shape ``(m_1, ..., m_t)``. Payments may fall at any history;
    since utility is additive and there is no discounting, only the total payment on each
    report path matters, and it is stored as ``payment`` of shape ``(m_1, ..., m_T)``.
``kind="static"``
    One report of the whole type path after all types are known; every ``allocation[t-1]``
    has shape ``(m_1, ..., m_T)`` (the goods are delivered at the end; with additive values
    the delivery date does not matter).
``kind="general"``
    Ashlagi, Daskalakis and Haghpanah's *general* class: the buyer reports a type in every
    period, as in ``separable``, but every good is allocated after the last report, by the
    whole report path, so every ``allocation[t-1]`` has shape ``(m_1, ..., m_T)`` and the
    seller may bundle goods across periods. It contains both ``separable`` (an allocation that
    ignores later reports) and ``static`` (a menu that is incentive compatible on whole paths
    is so against every reporting strategy), so its optimum is at least both of theirs; with
    independent types it equals the ``separable`` optimum (their Proposition 1). Asking the buyer
    to re-report his whole history each period, as they do, gives him more ways to lie and
    the seller nothing she could not get with these direct reports (revelation principle).

**Off-path reports.**

The arrays of a mechanism cover *every* report history, so that a deviator always gets a
defined outcome. Optimal mechanisms are computed on the reachable histories only (a report
with probability zero after the reports so far needs no allocation and no constraint); the
other entries are then filled by the convention "a report outside the support, given the
reports so far, is read as the lowest type in that support", i.e. they copy the outcome of a
reachable history. This keeps the deviator's options exactly those the linear programme
constrains, so :func:`audit` of an optimum, which tries *every* report at every history,
finds no profitable deviation. (Filling them with "no good, no payment" would not be sound:
a buyer who received goods could then escape the final payment by an impossible report.)

**Participation (ir).**

``"ex-ante"``: expected utility before period 1 is non-negative; ``"interim"``: expected
utility after learning ``theta_1`` is non-negative for every ``theta_1``; ``"ex-post"``:
realised utility is non-negative on every type path.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, sparse

__all__ = [
    "Mechanism",
    "Audit",
    "Revelation",
    "IR_KINDS",
    "MECHANISM_KINDS",
    "make_mechanism",
    "optimal_mechanism",
    "audit",
    "revelation",
    "revenue_range",
]

IR_KINDS = ("ex-ante", "interim", "ex-post")
MECHANISM_KINDS = ("separable", "general", "static")
_FULL_PATH_KINDS = ("static", "general")  # kinds whose allocations depend on the whole report path
_PROB_TOL = 1e-9  # tolerance on the sum of probs
_TIE_TOL = 1e-12  # best responses within this of the best are ties (the first one is taken)
_MAX_STRATEGIES = 16  # last-period strategies written out per deviator (history values; see _separable_lp)


# --------------------------------------------------------------------------- validation
def _check_kind(kind: Any) -> str:
    if kind == "deferred":
        raise ValueError("kind='deferred' is now spelled kind='general' (Ashlagi, Daskalakis and Haghpanah's "
                         "name for mechanisms that allocate after the last report); got kind='deferred'")
    return _check_choice(kind, "kind", MECHANISM_KINDS)


def _check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return value


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


# --------------------------------------------------------------------------- result objects
@dataclass(frozen=True, eq=False)
class Mechanism:
    """A direct mechanism on a finite type tree: allocation and payment at every report history.

    Build one by hand with :func:`make_mechanism`, or get an optimal one from
    :func:`optimal_mechanism`.
    """

    values: tuple[NDArray[np.float64], ...]
    """``values[t][k]``: the buyer's value for good ``t + 1`` when his type in period ``t + 1`` is ``k``
    (or ``values[t][k_1, ..., k_{t+1}]``, of shape ``(m_1, ..., m_{t+1})``, when it depends on the type history)."""
    probs: NDArray[np.float64]
    """Joint probabilities of the type paths, shape ``(m_1, ..., m_T)``."""
    allocation: tuple[NDArray[np.float64], ...]
    """``allocation[t]``: probability of good ``t + 1``, by report history (shape ``(m_1, ..., m_{t+1})`` for
    ``separable``, ``(m_1, ..., m_T)`` for ``static`` and ``general``)."""
    payment: NDArray[np.float64]
    """Total payment by report path, shape ``(m_1, ..., m_T)``."""
    kind: str = "separable"
    """``"separable"``, ``"general"`` or ``"static"``."""
    ir: str = "ex-post"
    """The participation constraint the mechanism is meant to satisfy (used by :func:`audit`)."""
    observed: tuple[int, ...] = ()
    """0-based periods whose type the mechanism observes: the buyer cannot misreport them (:func:`audit` honours it)."""

    def path_values(self) -> NDArray[np.float64]:
        """Truthful buyer's value of the goods on every type path, shape ``(m_1, ..., m_T)``."""
        T = self.probs.ndim
        total = np.zeros(self.probs.shape)
        for t in range(T):
            v = _value_history(self.values[t], t, self.probs.shape)
            v = v.reshape(v.shape + (1,) * (T - t - 1))
            x = self.allocation[t]
            if self.kind not in _FULL_PATH_KINDS:
                x = x.reshape(x.shape + (1,) * (T - t - 1))
            total = total + v * x
        return total

    @property
    def revenue(self) -> float:
        """Expected revenue under truth-telling, :math:`\\mathbb E[p(\\theta)]`."""
        return float(np.sum(self.probs * self.payment))

    @property
    def utility(self) -> float:
        """Buyer's expected utility under truth-telling (before period 1)."""
        return float(np.sum(self.probs * (self.path_values() - self.payment)))

    @property
    def welfare(self) -> float:
        """Expected value of the goods allocated (revenue plus the buyer's utility)."""
        return float(np.sum(self.probs * self.path_values()))


class Audit(NamedTuple):
    """What a deviation search finds in a mechanism (see :func:`audit`)."""

    gain: float
    """Largest expected gain of any reporting strategy over truth-telling, at any information set of the truthful buyer."""
    one_shot_gain: float
    """Largest gain of a single misreport followed by truth-telling ever after."""
    ir_slack: float
    """Smallest slack of the mechanism's own participation constraint (negative: violated)."""
    ex_ante_slack: float
    """Buyer's expected utility before period 1."""
    interim_slack: float
    """Smallest expected utility after learning the first type."""
    ex_post_slack: float
    """Smallest realised utility on a type path of positive probability."""
    worst_history: tuple[int, ...]
    """True type history at which the largest gain is found (types known when the report is made)."""
    worst_report: tuple[int, ...]
    """The best report there (``separable``: the report in that period; ``static``: the whole reported path)."""


class Revelation(NamedTuple):
    """An indirect mechanism turned into a direct one (see :func:`revelation`)."""

    mechanism: Mechanism
    """The direct mechanism: the indirect one composed with the buyer's optimal strategy."""
    strategy: tuple[NDArray[np.int64], ...]
    """``strategy[t]``: the message the buyer sends in period ``t + 1`` at each true type history
    (shape ``(m_1, ..., m_{t+1})``; ``-1`` at histories of probability zero)."""


# --------------------------------------------------------------------------- building mechanisms
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


def make_mechanism(
    values: Sequence[Any],
    probs: Any,
    allocation: Sequence[Any],
    payment: Any,
    kind: str = "separable",
    ir: str = "ex-post",
    observed: Sequence[int] = (),
) -> Mechanism:
    """Build a direct mechanism from arrays of allocations and payments per report history.

    Parameters
    ----------
    values : sequence of T arrays
        ``values[t][k]`` is the buyer's value for good ``t + 1`` when his period-``t + 1`` type is ``k``;
        or an array of shape ``(m_1, ..., m_{t+1})``: the value on each type history.
    probs : array of shape (m_1, ..., m_T)
        Joint probabilities of the type paths; non-negative, summing to 1 (tolerance 1e-9).
    allocation : sequence of T arrays with entries in [0, 1]
        ``separable``: ``allocation[t]`` has shape ``(m_1, ..., m_{t+1})`` (good ``t + 1`` is
        allocated by the reports up to period ``t + 1``); ``static`` and ``general``: every
        ``allocation[t]`` has shape ``(m_1, ..., m_T)``. Entries are needed at *every* report history, including those of
        probability zero: they are what a deviator gets.
    payment : array of shape (m_1, ..., m_T), or sequence of T arrays
        Either the total payment on each report path, or (``separable``) payments charged at
        each history: ``payment[t]`` of shape ``(m_1, ..., m_{t+1})``, summed along the path.
    kind : {"separable", "general", "static"}
    ir : {"ex-ante", "interim", "ex-post"}
        The participation constraint :func:`audit` reports as ``ir_slack``.
    observed : sequence of int
        0-based periods whose type the mechanism observes (see :func:`optimal_mechanism`);
        :func:`audit` then searches only the deviations that leave those reports true.

    Returns
    -------
    Mechanism

    Raises
    ------
    ValueError
        For probabilities that are negative or do not sum to 1, arrays whose shapes do not match
        ``probs``, allocations outside [0, 1], an unknown ``kind`` or ``ir``, or bad ``observed``.

    Examples
    --------
    A posted price of 1 for one good, sold in period 2 whatever the buyer reports:

    >>> import numpy as np
    >>> probs = np.full((2, 2), 0.25)
    >>> values = [[0, 0], [1, 2]]
    >>> mech = make_mechanism(values, probs, [np.zeros(2), np.ones((2, 2))], np.ones((2, 2)))
    >>> mech.revenue, mech.utility
    (1.0, 0.5)
    """
    vals, p = _check_model(values, probs)
    kind = _check_kind(kind)
    ir = _check_choice(ir, "ir", IR_KINDS)
    obs = _check_observed(observed, p.ndim, kind)
    T, m = p.ndim, p.shape
    if not isinstance(allocation, (list, tuple)) or len(allocation) != T:
        raise ValueError(f"allocation must be a sequence of {T} arrays (one per period)")
    alloc = tuple(
        _as_array(a, m if kind in _FULL_PATH_KINDS else m[: t + 1], f"allocation[{t}]", 0.0, 1.0) for t, a in enumerate(allocation)
    )
    per_history = (
        kind != "static"
        and isinstance(payment, (list, tuple))
        and len(payment) == T
        and all(np.ndim(a) == t + 1 for t, a in enumerate(payment))
    )
    if per_history:
        pay = np.zeros(m)
        for t, a in enumerate(payment):
            arr = _as_array(a, m[: t + 1], f"payment[{t}]")
            pay = pay + arr.reshape(arr.shape + (1,) * (T - t - 1))
    else:
        pay = _as_array(payment, m, "payment")
    return Mechanism(vals, p, alloc, pay, kind, ir, obs)


# --------------------------------------------------------------------------- the buyer's problem
class _BuyerSolution(NamedTuple):
    value: list  # value[t]: (C_t, N_t) optimal continuation value after t messages
    choice: list  # choice[t]: (C_t, m_t, N_t) best message after learning the next type (first of ties; -1 if impossible)


def _solve_buyer(tree: _Tree, alloc: list, pay: NDArray[np.float64], n: Sequence[int], truthful: bool = False,
                 keep_choice: bool = False, observed: tuple[int, ...] = ()) -> _BuyerSolution:
    """Backward induction for a buyer facing message sets of sizes ``n`` (alloc[t]: (N_t, n_t); pay: (N_T,)).

    The state after ``t`` messages is (belief class of the true history, message history). With
    ``truthful=True`` the buyer reports his true type from now on instead of optimising (n == m);
    in the periods ``observed`` the mechanism reads his true type (n == m there).
    """
    T = tree.T
    N = [math.prod(n[:t]) for t in range(T + 1)]
    value: list = [None] * (T + 1)
    choice: list = [None] * T
    value[T] = -pay.reshape(1, N[T])
    for t in range(T - 1, -1, -1):
        nxt = value[t + 1].reshape(-1, N[t], n[t])  # (C_{t+1}, N_t, n_t)
        val = np.zeros((tree.C[t], N[t]))
        ch = np.full((tree.C[t], tree.m[t], N[t]), -1, dtype=np.int64) if keep_choice else None
        for c in range(tree.C[t]):
            ks = np.flatnonzero(tree.cq[t][c] > 0)
            nk = nxt[tree.cnext[t][c, ks]]  # (k, N_t, n_t)
            opt = tree.vq[t][c, ks, None, None] * alloc[t][None, :, :] + nk
            if truthful or t in observed:
                top = opt[np.arange(len(ks)), :, ks]
            else:
                top = opt.max(axis=-1)
                if keep_choice:
                    ch[c, ks] = np.argmax(opt >= top[..., None] - _TIE_TOL, axis=-1)
            val[c] = tree.cq[t][c, ks] @ top
        value[t] = val
        choice[t] = ch
    return _BuyerSolution(value, choice)


def _separable_arrays(mech: Mechanism) -> tuple[list, NDArray[np.float64]]:
    m = mech.probs.shape
    alloc = [np.asarray(mech.allocation[t]).reshape(math.prod(m[:t]), m[t]) for t in range(len(m))]
    return alloc, mech.payment.reshape(-1)


def audit(mechanism: Mechanism, observed: Sequence[int] | None = None) -> Audit:
    """Search every reporting strategy for a profitable deviation, and measure the participation slack.

    For ``separable`` mechanisms the search is backward induction over (belief class of
    the true type history, report history): every report at every history, off-path continuations
    included, so that a misreport may be followed by a best response that lies again. For
    ``general`` mechanisms the state is (true type history, report history), since the goods
    received at the end are valued at the true types of every period. For ``static``
    mechanisms it compares every true path with every reported path.

    Parameters
    ----------
    mechanism : Mechanism
        From :func:`make_mechanism` or :func:`optimal_mechanism`.
    observed : sequence of int, optional
        Periods whose type the mechanism observes, so that the buyer cannot misreport them.
        Default: ``mechanism.observed`` (the deviations the mechanism was designed against);
        pass ``()`` to search every deviation, as if every type were private.

    Returns
    -------
    Audit
        ``gain`` (largest expected gain over truth-telling at any information set of a truthful
        buyer; 0 for an incentive-compatible mechanism), ``one_shot_gain`` (the same, restricted to a
        single misreport followed by truth-telling), the slacks of the three participation
        constraints and of the mechanism's own ``ir``, and where the largest gain arises.

    Examples
    --------
    A price that depends on the first report invites a lie:

    >>> import numpy as np
    >>> probs = np.full((2, 2), 0.25)
    >>> mech = make_mechanism([[0, 0], [1, 2]], probs, [np.zeros(2), np.ones((2, 2))],
    ...                       np.array([[1.0, 1.0], [1.5, 1.5]]))
    >>> a = audit(mech)
    >>> a.gain, a.worst_history, a.worst_report
    (0.5, (1,), (0,))

    If the mechanism observes the first type, that lie is impossible:

    >>> audit(mech, observed=(0,)).gain
    0.0
    """
    if not isinstance(mechanism, Mechanism):
        raise ValueError(f"mechanism must be a Mechanism (see make_mechanism), got {type(mechanism).__name__}")
    obs = mechanism.observed if observed is None else _check_observed(observed, mechanism.probs.ndim, mechanism.kind)
    tree = _Tree(mechanism.values, mechanism.probs)
    T, m = tree.T, tree.m
    path_u = (mechanism.path_values() - mechanism.payment).reshape(-1)
    suppT = tree.supp[T]
    ex_post = float(path_u[suppT].min())
    P1 = tree.P[1]
    first = tree.prefix(np.arange(tree.H[T]), 1)
    interim_num = np.bincount(first, weights=tree.P[T] * path_u, minlength=m[0])
    interim = float((interim_num[P1 > 0] / P1[P1 > 0]).min())
    ex_ante = float(np.sum(tree.P[T] * path_u))
    if mechanism.kind == "static":
        gain, one_shot, hist, rep = _audit_static(tree, mechanism)
    elif mechanism.kind == "general":
        gain, one_shot, hist, rep = _audit_general(tree, mechanism)
    else:
        gain, one_shot, hist, rep = _audit_separable(tree, mechanism, obs)
    slack = {"ex-ante": ex_ante, "interim": interim, "ex-post": ex_post}[mechanism.ir]
    return Audit(gain, one_shot, slack, ex_ante, interim, ex_post, hist, rep)


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _audit_separable(tree: _Tree, mech: Mechanism, observed: tuple[int, ...] = ()) -> tuple[float, float, tuple[int, ...], tuple[int, ...]]:
    T, m = tree.T, tree.m
    alloc, pay = _separable_arrays(mech)
    best = _solve_buyer(tree, alloc, pay, m, observed=observed).value
    truth = _solve_buyer(tree, alloc, pay, m, truthful=True).value  # report the truth from any state on
    gain, one_shot, where = 0.0, 0.0, ((), ())
    for t in range(T):
        if t in observed:  # no report to choose; later choices are searched at later periods
            continue
        kids = np.flatnonzero(tree.supp[t + 1])  # truthful histories after learning the type of period t + 1
        h, k = kids // m[t], kids % m[t]
        c1 = tree.cls[t + 1][kids] if t + 1 < T else np.zeros(len(kids), dtype=np.int64)
        nb = best[t + 1].reshape(-1, tree.H[t], m[t])[c1, h]  # (kids, reports)
        nt = truth[t + 1].reshape(-1, tree.H[t], m[t])[c1, h]
        now = tree.vh[t][kids][:, None] * alloc[t][h]
        truthful = now[np.arange(len(kids)), k] + nt[np.arange(len(kids)), k]
        with_best = now + nb
        lie = now + nt
        lie[np.arange(len(kids)), k] = -np.inf
        g_all = with_best.max(axis=1) - truthful
        if m[t] > 1:
            one_shot = max(one_shot, float((lie.max(axis=1) - truthful).max()))
        i = int(np.argmax(g_all))
        if g_all[i] > gain:
            gain = float(g_all[i])
            r = int(np.argmax(with_best[i] >= with_best[i].max() - _TIE_TOL))
            where = (_unravel(int(kids[i]), m[: t + 1]), (r,))
    return gain, one_shot, where[0], where[1]


def _audit_static(tree: _Tree, mech: Mechanism) -> tuple[float, float, tuple[int, ...], tuple[int, ...]]:
    T, m = tree.T, tree.m
    S = np.flatnonzero(tree.supp[T])
    V = np.stack([tree.vh[t][tree.prefix(S, t + 1)] for t in range(T)], axis=1)  # (N, T)
    X = np.stack([np.asarray(a).reshape(-1) for a in mech.allocation], axis=0)  # (T, H_T)
    U = V @ X - mech.payment.reshape(-1)[None, :]  # (N, H_T): true path, reported path
    truth = U[np.arange(len(S)), S]
    g = U.max(axis=1) - truth
    i = int(np.argmax(g))
    r = int(np.argmax(U[i] >= U[i].max() - _TIE_TOL))
    gain = max(0.0, float(g[i]))
    hist = _unravel(S[i], m) if gain > 0 else ()
    rep = _unravel(r, m) if gain > 0 else ()
    return gain, gain, hist, rep


def _audit_general(tree: _Tree, mech: Mechanism) -> tuple[float, float, tuple[int, ...], tuple[int, ...]]:
    T, m, H = tree.T, tree.m, tree.H
    V = np.stack([tree.vh[t][tree.prefix(np.arange(H[T]), t + 1)] for t in range(T)], axis=1)  # (every path, T)
    X = np.stack([np.asarray(a).reshape(-1) for a in mech.allocation], axis=0)  # (T, H_T)
    best = V @ X - mech.payment.reshape(-1)[None, :]  # (true path, reported path)
    truth = best
    gain, one_shot, where = 0.0, 0.0, ((), ())
    for t in range(T - 1, -1, -1):
        nb = best.reshape(H[t], m[t], H[t], m[t])  # (true history, next type, report history, next report)
        nt = truth.reshape(H[t], m[t], H[t], m[t])
        kids = np.flatnonzero(tree.supp[t + 1])
        h, k = kids // m[t], kids % m[t]
        with_best = nb[h, k, h, :]  # (kids, next report)
        truthful = nt[h, k, h, k]
        lie = nt[h, k, h, :].copy()
        lie[np.arange(len(kids)), k] = -np.inf
        g_all = with_best.max(axis=1) - truthful
        if m[t] > 1:
            one_shot = max(one_shot, float((lie.max(axis=1) - truthful).max()))
        i = int(np.argmax(g_all))
        if g_all[i] > gain:
            gain = float(g_all[i])
            r = int(np.argmax(with_best[i] >= with_best[i].max() - _TIE_TOL))
            where = (_unravel(int(kids[i]), m[: t + 1]), (r,))
        cond = tree.cond[t]  # (H_t, m_t)
        best = np.einsum("hk,hkr->hr", cond, nb.max(axis=3))
        truth = np.einsum("hk,hkr->hr", cond, nt[:, np.arange(m[t]), :, np.arange(m[t])].transpose(1, 0, 2))
    return gain, one_shot, where[0], where[1]


# --------------------------------------------------------------------------- the indirect -> direct map
def revelation(
    values: Sequence[Any],
    probs: Any,
    allocation: Sequence[Any],
    payment: Any,
    ir: str = "ex-post",
) -> Revelation:
    """Turn an indirect dynamic mechanism into the equivalent direct one (the revelation principle).

    The indirect mechanism offers ``n_t`` messages in period ``t``; ``allocation[t]`` (shape
    ``(n_1, ..., n_{t+1})``) is the probability of good ``t + 1`` after the messages so far, and
    ``payment`` (shape ``(n_1, ..., n_T)``) the total payment. The buyer's optimal strategy is
    found by backward induction (ties go to the lowest message); the direct mechanism asks for
    the types and plays that strategy on the buyer's behalf.

    Parameters
    ----------
    values, probs
        The model, as in :func:`optimal_mechanism`.
    allocation : sequence of T arrays
        Allocation probabilities by message history.
    payment : array of shape (n_1, ..., n_T)
        Total payment by message path.
    ir : {"ex-ante", "interim", "ex-post"}
        Stored on the direct mechanism (for :func:`audit`).

    Returns
    -------
    Revelation
        The direct ``mechanism`` (kind ``"separable"``) and the buyer's ``strategy``.

    Raises
    ------
    ValueError
        For a bad model, or arrays whose shapes are not those of a message tree.

    Examples
    --------
    A menu of two options offered after the buyer learns his first type: pay 0 and buy good 2 at
    price 1.9, or pay 0.5 up front and buy it at price 1 (ties go to the first message).

    >>> import numpy as np
    >>> probs = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> values = [[0, 0], [1, 2]]
    >>> alloc = [np.zeros(2), np.array([[0.0, 1.0], [0.0, 1.0]])]   # second message: buy or not
    >>> pay = np.array([[0.0, 1.9], [0.5, 1.5]])
    >>> direct = revelation(values, probs, alloc, pay)
    >>> direct.strategy[0]
    array([0, 1])
    >>> round(direct.mechanism.revenue, 6), audit(direct.mechanism).gain
    (0.84, 0.0)
    """
    vals, p = _check_model(values, probs)
    ir = _check_choice(ir, "ir", IR_KINDS)
    T = p.ndim
    if not isinstance(allocation, (list, tuple)) or len(allocation) != T:
        raise ValueError(f"allocation must be a sequence of {T} arrays (one per period)")
    first = np.asarray(allocation[T - 1])
    if first.ndim != T:
        raise ValueError(f"allocation[{T - 1}] must have one axis per period, got shape {first.shape}")
    n = first.shape
    alloc = [_as_array(a, n[: t + 1], f"allocation[{t}]", 0.0, 1.0) for t, a in enumerate(allocation)]
    pay = _as_array(payment, n, "payment")
    tree = _Tree(vals, p)
    flat = [a.reshape(math.prod(n[:t]), n[t]) for t, a in enumerate(alloc)]
    sol = _solve_buyer(tree, flat, pay.reshape(-1), n, keep_choice=True)
    msg = [np.zeros(1, dtype=np.int64)]  # message history (flat) at each true history
    strategy = []
    for t in range(T):
        c = np.maximum(tree.cls[t], 0)
        ch = sol.choice[t][c[:, None], np.arange(p.shape[t])[None, :], np.maximum(msg[t], 0)[:, None]]  # (H_t, m_t)
        kid_ok = tree.supp[t + 1].reshape(tree.H[t], p.shape[t])
        s = np.where(kid_ok, ch, -1)
        strategy.append(s.reshape(p.shape[: t + 1]))
        msg.append(np.where(kid_ok, np.maximum(msg[t], 0)[:, None] * n[t] + ch, -1).reshape(-1))
    # the direct mechanism: outcomes of the messages sent, at reachable histories; canonical copies elsewhere
    d_alloc = []
    for t in range(T):
        mh = msg[t + 1][tree.canon[t + 1]]
        d_alloc.append(flat[t].reshape(-1)[mh].reshape(p.shape[: t + 1]))
    d_pay = pay.reshape(-1)[msg[T][tree.canon[T]]].reshape(p.shape)
    return Revelation(Mechanism(vals, p, tuple(d_alloc), d_pay, "separable", ir), tuple(strategy))


# --------------------------------------------------------------------------- linear programmes
class _Rows:
    """Sparse constraint rows, added in blocks of fixed width (column -1 = no entry)."""

    def __init__(self) -> None:
        self.r: list = []
        self.c: list = []
        self.v: list = []
        self.b: list = []
        self.n = 0

    def add(self, cols: NDArray[np.int64], vals: NDArray[np.float64], rhs: Any = 0.0) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), cols.shape)
        k = cols.shape[0]
        if k == 0:
            return
        rows = np.broadcast_to(np.arange(self.n, self.n + k)[:, None], cols.shape)
        keep = cols >= 0
        self.r.append(rows[keep])
        self.c.append(cols[keep])
        self.v.append(vals[keep])
        self.b.append(np.broadcast_to(np.asarray(rhs, dtype=np.float64), (k,)))
        self.n += k

    def matrix(self, ncols: int) -> tuple[Any, Any]:
        if self.n == 0:
            return None, None
        A = sparse.coo_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.n, ncols)
        ).tocsr()
        return A, np.concatenate(self.b)


def _solve_lp(c: NDArray[np.float64], ub: _Rows, eq: _Rows, bounds: NDArray[np.float64],
              method: str | None = None) -> NDArray[np.float64]:
    A_ub, b_ub = ub.matrix(len(c))
    A_eq, b_eq = eq.matrix(len(c))
    res = optimize.linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=bounds,
        method=method or ("highs-ipm" if ub.n + eq.n > 20000 else "highs"),  # interior point (with crossover) scales better
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(f"linear programme failed: {res.message}")
    return res.x


def _separable_lp(tree: _Tree, ir: str | None, fixed: list | None = None, sense: float = -1.0,
                observed: tuple[int, ...] = ()) -> tuple[list, NDArray[np.float64]]:
    T, m, H = tree.T, tree.m, tree.H
    nvar = 0
    lo: list = []
    hi: list = []

    def new_vars(k: int, low: float, high: float) -> NDArray[np.int64]:
        nonlocal nvar
        ids = np.arange(nvar, nvar + k)
        nvar += k
        lo.append(np.full(k, low))
        hi.append(np.full(k, high))
        return ids

    xid = []
    for t in range(T):
        ids = np.full(H[t + 1], -1, dtype=np.int64)
        s = np.flatnonzero(tree.supp[t + 1])
        ids[s] = new_vars(len(s), 0.0, 1.0 if np.any(tree.vh[t]) else 0.0)
        if fixed is not None:  # the allocation is given: pin it by its bounds
            lo[-1] = hi[-1] = np.asarray(fixed[t], dtype=np.float64).reshape(-1)[s]
        xid.append(ids)
    pid = np.full(H[T], -1, dtype=np.int64)
    sT = np.flatnonzero(tree.supp[T])
    pid[sT] = new_vars(len(sT), -np.inf, np.inf)
    # reachable (belief class, report history) pairs, level by level
    pairs = [np.zeros((1, 2), dtype=np.int64)]
    for t in range(T - 1):
        c, h = pairs[t].T
        cn = tree.cnext[t][c]  # (k, m_t)
        hs = h[:, None] * m[t] + np.arange(m[t])[None, :]
        if t in observed:  # the mechanism reads the true type k (a contradicted one as the canonical report)
            code = np.maximum(cn, 0) * H[t + 1] + tree.canon[t + 1][hs]
            new = np.unique(code[cn >= 0])
        else:
            mask = (cn[:, :, None] >= 0) & tree.supp[t + 1][hs][:, None, :]
            code = np.maximum(cn, 0)[:, :, None] * H[t + 1] + hs[:, None, :]
            new = np.unique(np.broadcast_to(code, mask.shape)[mask])
        pairs.append(np.stack([new // H[t + 1], new % H[t + 1]], axis=1))
    # truthful pairs get a value variable U; the others are written through Y(next type, next class, history)
    counts = tree.supp[T].reshape(H[T - 1], m[T - 1]).sum(axis=1)
    # histories of length T - 1 after which the last report is not the buyer's choice (a single
    # reachable report, or an observed last period): the deviator's value is written out, no Y
    single = (counts == 1) | (T - 1 in observed)
    # With values over type histories, a deviator's classes rarely share outcome keys, and the
    # auxiliary Y of the last period cost more than they save: when every off-truth pair of the
    # last level has at most _MAX_STRATEGIES last-period strategies, write its value as one
    # constraint per strategy instead (all appear on the small side of an inequality).
    expand_last = False
    if T >= 2 and tree.history_values and fixed is None:
        c_l, h_l = pairs[T - 1].T
        off_l = (tree.cls[T - 1][h_l] != c_l) & ~single[h_l]
        n_k = (tree.cq[T - 1][c_l[off_l]] > 0).sum(axis=1)
        expand_last = bool(np.all(counts[h_l[off_l]].astype(float) ** n_k <= _MAX_STRATEGIES))
    uid, ykeys, yid0 = [], [], []
    for t in range(T):
        c, h = pairs[t].T
        on = tree.cls[t][h] == c
        ids = np.full(len(c), -1, dtype=np.int64)
        ids[on] = new_vars(int(on.sum()), -np.inf, np.inf)
        uid.append(dict(zip((c * H[t] + h).tolist(), ids.tolist())) if t else {0: int(ids[0])})
        cf, hf = c[~on], h[~on]
        valid = tree.cq[t][cf] > 0
        key = np.maximum(tree.okey[t][cf], 0) * H[t] + hf[:, None]
        if t == T - 1:  # a history with a single reachable last report leaves the deviator no choice: no Y needed
            valid &= ~single[hf][:, None]
            if expand_last:
                valid[:] = False
        uk = np.unique(key[valid])
        ykeys.append(uk)
        yid0.append(new_vars(len(uk), -np.inf, np.inf)[0] if len(uk) else nvar)

    def nv(t1: int, c1: NDArray[np.int64], h1: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Columns and coefficients (rows padded with -1) of the continuation value at level t1 of pairs (c1, h1).

        Truthful pairs have a variable U; the value of another pair is the expectation over the
        next type k of Y(outcome key of (c1, k), h1), or, when the last report r after h1 is not
        the buyer's choice, of v(c1, k) x(h1 r) - p(h1 r) written out.
        """
        if t1 == T:
            return pid[h1][:, None], -np.ones((len(h1), 1))
        on = tree.cls[t1][h1] == c1
        rows = [np.flatnonzero(on)]
        cols = [np.array([uid[t1][k] for k in (c1[on] * H[t1] + h1[on]).tolist()], dtype=np.int64)]
        vals = [np.ones(int(on.sum()))]
        off = np.flatnonzero(~on)
        if len(off):
            q = tree.cq[t1][c1[off]]
            i, k = np.nonzero(q > 0)
            r, cc, hh, qq = off[i], c1[off][i], h1[off][i], q[i, k]
            key = tree.okey[t1][cc, k] * H[t1] + hh
            direct = single[hh] if t1 == T - 1 else np.zeros(len(hh), dtype=bool)
            ky = ~direct
            rows.append(r[ky])
            cols.append(yid0[t1] + np.searchsorted(ykeys[t1], key[ky]))
            vals.append(qq[ky])
            if direct.any():
                kid = tree.canon[T][hh[direct] * m[t1] + k[direct]]  # the only report, or the observed type
                rows += [r[direct], r[direct]]
                cols += [xid[t1][kid], pid[kid]]
                vals += [qq[direct] * tree.vq[t1][cc[direct], k[direct]], -qq[direct]]
        rows_a, cols_a, vals_a = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        order = np.argsort(rows_a, kind="stable")
        rows_a, cols_a, vals_a = rows_a[order], cols_a[order], vals_a[order]
        count = np.bincount(rows_a, minlength=len(h1))
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        slot = np.arange(len(rows_a)) - start[rows_a]
        width = max(1, int(count.max(initial=0)))
        out_c = np.full((len(h1), width), -1, dtype=np.int64)
        out_v = np.zeros((len(h1), width))
        out_c[rows_a, slot] = cols_a
        out_v[rows_a, slot] = vals_a
        return out_c, out_v

    def nvx(t1: int, c1: NDArray[np.int64], h1: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Like ``nv``, as rows ``(source pair, columns, coefficients)``; with ``expand_last`` an
        off-truth pair of the last level gives one row per last-period strategy."""
        if not (expand_last and t1 == T - 1):
            cols, vals = nv(t1, c1, h1)
            return np.arange(len(h1)), cols, vals
        expand = (tree.cls[t1][h1] != c1) & ~single[h1]
        ia, ib = np.flatnonzero(~expand), np.flatnonzero(expand)
        srcs, cols, vals = [ia], [], []
        if len(ia):
            ca, va = nv(t1, c1[ia], h1[ia])
            cols.append(ca)
            vals.append(va)
        if len(ib):
            cc, hh = c1[ib], h1[ib]
            live = tree.cq[t1][cc] > 0
            n_k, n_r = live.sum(axis=1), counts[hh]
            reach = tree.supp[T].reshape(H[t1], m[t1])
            for a, b in sorted(set(zip(n_k.tolist(), n_r.tolist()))):
                g = np.flatnonzero((n_k == a) & (n_r == b))
                ks = np.argsort(~live[g], axis=1, kind="stable")[:, :a]  # the possible next types
                qs = np.take_along_axis(tree.cq[t1][cc[g]], ks, axis=1)
                vs = np.take_along_axis(tree.vq[t1][cc[g]], ks, axis=1)
                rs = np.argsort(~reach[hh[g]], axis=1, kind="stable")[:, :b]  # the reports he can send
                phis = np.array(list(itertools.product(range(b), repeat=a)), dtype=np.int64).reshape(-1, a)
                kid = hh[g][:, None, None] * m[t1] + rs[:, phis]  # (pairs, strategies, next types)
                F = phis.shape[0]
                cols.append(np.concatenate([xid[t1][kid], pid[kid]], axis=2).reshape(len(g) * F, 2 * a))
                coef = np.concatenate([qs * vs, -qs], axis=1)[:, None, :]
                vals.append(np.broadcast_to(coef, (len(g), F, 2 * a)).reshape(len(g) * F, 2 * a))
                srcs.append(np.repeat(ib[g], F))
        if not cols:
            return np.zeros(0, dtype=np.int64), np.full((0, 1), -1, dtype=np.int64), np.zeros((0, 1))
        width = max(x.shape[1] for x in cols)
        cols = [np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=-1) for x in cols]
        vals = [np.pad(x, ((0, 0), (0, width - x.shape[1]))) for x in vals]
        return np.concatenate(srcs), np.concatenate(cols), np.concatenate(vals)

    ub, eq = _Rows(), _Rows()
    for t in range(T):
        c, h = pairs[t].T
        k_idx = np.arange(m[t])
        on = tree.cls[t][h] == c
        co, ho = c[on], h[on]
        if len(co):
            # truthful pairs: the value is the truthful continuation (an equality) ...
            q = tree.cq[t][co]
            cn = np.maximum(tree.cnext[t][co], 0)
            kid = ho[:, None] * m[t] + k_idx[None, :]
            valid = q > 0
            pi, ki = np.nonzero(valid)
            ncols, nvals = nv(t + 1, cn[pi, ki], kid[pi, ki])
            W = ncols.shape[1]
            rows_c = np.full((len(co), m[t], 1 + W), -1, dtype=np.int64)
            rows_v = np.zeros((len(co), m[t], 1 + W))
            rows_c[pi, ki, 0] = xid[t][kid[pi, ki]]
            rows_v[pi, ki, 0] = -q[pi, ki] * tree.vq[t][co[pi], ki]
            rows_c[pi, ki, 1:] = ncols
            rows_v[pi, ki, 1:] = -q[pi, ki][:, None] * nvals
            ucol = np.array([uid[t][k] for k in (co * H[t] + ho).tolist()] if t else [uid[0][0]])
            eq.add(np.concatenate([ucol[:, None], rows_c.reshape(len(co), -1)], axis=1),
                   np.concatenate([np.ones((len(co), 1)), rows_v.reshape(len(co), -1)], axis=1))
        if len(co) and t not in observed:
            # ... and no report r beats the truth k (r reachable after the reports so far)
            okr = tree.supp[t + 1][kid]
            mask = valid[:, :, None] & okr[:, None, :] & (k_idx[:, None] != k_idx[None, :])[None, :, :]
            pi, ki, ri = np.nonzero(mask)
            kid_r, kid_k, c1 = ho[pi] * m[t] + ri, ho[pi] * m[t] + ki, cn[pi, ki]
            src, cr, vr = nvx(t + 1, c1, kid_r)
            ck, vk = nv(t + 1, c1, kid_k)
            vv = tree.vq[t][co[pi], ki][:, None]
            ub.add(np.concatenate([xid[t][kid_r][src][:, None], cr, xid[t][kid_k][src][:, None], ck[src]], axis=1),
                   np.concatenate([vv[src], vr, -vv[src], -vk[src]], axis=1))
        # off-path pairs: Y(outcome key, history) is at least the value of every report the buyer can send
        uk = ykeys[t]
        if len(uk):
            yo, yh = uk // H[t], uk % H[t]
            yk, yc, yv = tree.ok_k[t][yo], tree.ok_c[t][yo], tree.ok_v[t][yo]
            if t in observed:  # the one "report" is the true type (canonical if contradicted)
                yi = np.arange(len(uk))
                kid_r = tree.canon[t + 1][yh * m[t] + yk]
            else:
                okr = tree.supp[t + 1][yh[:, None] * m[t] + k_idx[None, :]]
                yi, ri = np.nonzero(okr)
                kid_r = yh[yi] * m[t] + ri
            src, cr, vr = nvx(t + 1, yc[yi], kid_r)
            ub.add(np.concatenate([xid[t][kid_r][src][:, None], cr, (yid0[t] + yi)[src][:, None]], axis=1),
                   np.concatenate([yv[yi][src][:, None], vr, -np.ones((len(src), 1))], axis=1))
    if ir is None:  # the lowest first type (with positive probability) gets interim utility exactly 0
        s1 = np.flatnonzero(tree.supp[1])[:1]
        cols, vals = nv(1, tree.cls[1][s1], s1)
        eq.add(np.concatenate([xid[0][s1][:, None], cols], axis=1), np.concatenate([tree.vh[0][s1][:, None], vals], axis=1))
    else:
        _participation(tree, ir, ub, xid, pid, nv)
    cost = np.zeros(nvar)
    cost[pid[sT]] = sense * tree.P[T][sT]
    bounds = np.stack([np.concatenate(lo), np.concatenate(hi)], axis=1)
    sol = _solve_lp(cost, ub, eq, bounds, method="highs-ds" if expand_last else None)  # dual simplex: many rows, few columns
    alloc = [sol[xid[t][tree.canon[t + 1]]].reshape(m[: t + 1]) for t in range(T)]
    pay = sol[pid[tree.canon[T]]].reshape(m)
    return alloc, pay


def _participation(tree: _Tree, ir: str, ub: _Rows, xid: list, pid: NDArray[np.int64], nv: Any) -> None:
    T = tree.T
    if ir == "ex-ante":
        s = np.flatnonzero(tree.supp[1])
        cols, vals = nv(1, tree.cls[1][s], s)
        q = tree.P[1][s][:, None]
        ub.add(np.concatenate([xid[0][s], cols.reshape(-1)])[None, :],
               np.concatenate([-q[:, 0] * tree.vh[0][s], (-q * vals).reshape(-1)])[None, :])
    elif ir == "interim":
        s = np.flatnonzero(tree.supp[1])
        cols, vals = nv(1, tree.cls[1][s], s)
        ub.add(np.concatenate([xid[0][s][:, None], cols], axis=1),
               np.concatenate([-tree.vh[0][s][:, None], -vals], axis=1))
    else:
        s = np.flatnonzero(tree.supp[T])
        cols = [xid[t][tree.prefix(s, t + 1)] for t in range(T)] + [pid[s]]
        vals = [-tree.vh[t][tree.prefix(s, t + 1)] for t in range(T)] + [np.ones(len(s))]
        ub.add(np.stack(cols, axis=1), np.stack(vals, axis=1))


def _static_lp(tree: _Tree, ir: str) -> tuple[list, NDArray[np.float64]]:
    T, m = tree.T, tree.m
    S = np.flatnonzero(tree.supp[T])
    N = len(S)
    types = np.array(np.unravel_index(S, m)).T
    V = np.stack([tree.vh[t][tree.prefix(S, t + 1)] for t in range(T)], axis=1)  # (N, T)
    xcol = np.arange(N * T).reshape(T, N)  # x_t(path s) -> column
    pcol = N * T + np.arange(N)
    nvar = N * T + N
    ub, eq = _Rows(), _Rows()
    a, b = np.nonzero(~np.eye(N, dtype=bool))  # true path a, reported path b
    cols = np.concatenate([xcol[:, b].T, xcol[:, a].T, pcol[b][:, None], pcol[a][:, None]], axis=1)
    vals = np.concatenate([V[a], -V[a], -np.ones((len(a), 1)), np.ones((len(a), 1))], axis=1)
    ub.add(cols, vals)
    ucols = np.concatenate([xcol.T, pcol[:, None]], axis=1)  # utility of each path, as a row
    uvals = np.concatenate([V, -np.ones((N, 1))], axis=1)
    P = tree.P[T][S]
    if ir == "ex-post":
        ub.add(ucols, -uvals)
    elif ir == "ex-ante":
        ub.add(ucols.reshape(1, -1), (-uvals * P[:, None]).reshape(1, -1))
    else:
        first = types[:, 0]
        for k in np.unique(first):
            sel = first == k
            ub.add(ucols[sel].reshape(1, -1), (-uvals[sel] * P[sel, None]).reshape(1, -1))
    cost = np.zeros(nvar)
    cost[pcol] = -P
    bounds = np.array([[0.0, 1.0 if np.any(tree.vh[t]) else 0.0] for t in range(T) for _ in range(N)] + [[-np.inf, np.inf]] * N)
    sol = _solve_lp(cost, ub, eq, bounds)
    pos = np.full(tree.H[T], -1, dtype=np.int64)
    pos[S] = np.arange(N)
    where = pos[tree.canon[T]]
    alloc = [sol[xcol[t]][where].reshape(m) for t in range(T)]
    pay = sol[pcol][where].reshape(m)
    return alloc, pay


def _general_lp(tree: _Tree, ir: str) -> tuple[list, NDArray[np.float64]]:
    """The ``general`` programme: variables x_t(path), p(path), the truthful values U and the deviators' values Z.

    ``Z[(t, g, r)]`` bounds the best continuation of a buyer whose true history ``g`` has length
    ``t`` and whose reports ``r`` (length ``t - 1``, not a prefix of ``g``) already lie, just
    before he sends report ``t``; it only appears on the small side of incentive constraints,
    so the optimum may take it equal to that best continuation.
    """
    T, m, H = tree.T, tree.m, tree.H
    S = [np.flatnonzero(tree.supp[t]) for t in range(T + 1)]
    N = len(S[T])
    pos = np.full(H[T], -1, dtype=np.int64)
    pos[S[T]] = np.arange(N)
    V = np.stack([tree.vh[t][tree.prefix(S[T], t + 1)] for t in range(T)], axis=1)  # (N, T)
    nvar = (T + 1) * N  # x_t(path) at t * N + j, p(path) at T * N + j
    uvar: dict = {}
    for t in range(1, T):
        for g in S[t].tolist():
            uvar[(t, g)] = nvar
            nvar += 1
    zvar: dict = {}
    for t in range(2, T + 1):
        for g in S[t].tolist():
            for r in S[t - 1].tolist():
                if g // m[t - 1] != r:
                    zvar[(t, g, r)] = nvar
                    nvar += 1

    def final(g: int, s: int) -> tuple[list, list]:
        """Utility (as a row) of true path g after reporting path s."""
        j, i = int(pos[s]), int(pos[g])
        return [t * N + j for t in range(T)] + [T * N + j], V[i].tolist() + [-1.0]

    def truthful(t: int, g: int) -> tuple[list, list]:
        return final(g, g) if t == T else ([uvar[(t, g)]], [1.0])

    def lying(t: int, g: int, s: int) -> tuple[list, list]:
        """Best continuation (as a row) of true history g after reports s, both of length t, g != s."""
        if t == T:
            return final(g, s)
        ks = np.flatnonzero(tree.cond[t][g] > 0)
        return [zvar[(t + 1, g * m[t] + int(k), s)] for k in ks], tree.cond[t][g, ks].tolist()

    ub_rows: list = []
    eq_rows: list = []

    def row(store: list, *parts: tuple[list, list, float]) -> None:
        cols, vals = [], []
        for c, v, sign in parts:
            cols += c
            vals += [sign * x for x in v]
        store.append((cols, vals))

    for t in range(T):
        for g in S[t + 1].tolist():
            h = g // m[t]
            # no report r beats the truth, for a buyer who has told the truth so far
            for r in range(m[t]):
                s = h * m[t] + r
                if s != g and tree.supp[t + 1][s]:
                    row(ub_rows, (*lying(t + 1, g, s), 1.0), (*truthful(t + 1, g), -1.0))
            if 0 < t + 1 < T:  # the truthful value is the expected truthful continuation
                ks = np.flatnonzero(tree.cond[t + 1][g] > 0)
                parts = [([uvar[(t + 1, g)]], [1.0], 1.0)]
                for k in ks.tolist():
                    c, v = truthful(t + 2, g * m[t + 1] + k)
                    parts.append((c, v, -float(tree.cond[t + 1][g, k])))
                row(eq_rows, *parts)
    for (t, g, r), z in zvar.items():  # a liar's value bounds every report he can send next
        for k in range(m[t - 1]):
            s = r * m[t - 1] + k
            if tree.supp[t][s]:
                row(ub_rows, (*lying(t, g, s), 1.0), ([z], [1.0], -1.0))
    if ir == "ex-post":
        for g in S[T].tolist():
            row(ub_rows, (*final(g, g), -1.0))
    elif ir == "interim":
        for g in S[1].tolist():
            row(ub_rows, (*truthful(1, g), -1.0))
    else:
        row(ub_rows, *[(*truthful(1, g), -float(tree.P[1][g])) for g in S[1].tolist()])
    ub, eq = _Rows(), _Rows()
    for rows, store in ((ub_rows, ub), (eq_rows, eq)):
        if rows:
            width = max(len(c) for c, _ in rows)
            cols = np.full((len(rows), width), -1, dtype=np.int64)
            vals = np.zeros((len(rows), width))
            for i, (c, v) in enumerate(rows):
                cols[i, : len(c)] = c
                vals[i, : len(v)] = v
            store.add(cols, vals)
    cost = np.zeros(nvar)
    cost[T * N + np.arange(N)] = -tree.P[T][S[T]]
    bounds = np.array([[0.0, 1.0 if np.any(tree.vh[t]) else 0.0] for t in range(T) for _ in range(N)]
                      + [[-np.inf, np.inf]] * (nvar - T * N))
    sol = _solve_lp(cost, ub, eq, bounds)
    where = pos[tree.canon[T]]
    alloc = [sol[t * N + where].reshape(m) for t in range(T)]
    pay = sol[T * N + where].reshape(m)
    return alloc, pay


def optimal_mechanism(
    values: Sequence[Any],
    probs: Any,
    ir: str = "ex-post",
    kind: str = "separable",
    observed: Sequence[int] = (),
) -> Mechanism:
    """The revenue-maximising mechanism of a finite dynamic screening problem, by linear programming.

    Maximises expected payment subject to incentive compatibility against *every* reporting
    strategy and the participation constraint ``ir``, with scipy's HiGHS on a sparse programme.
    Incentive constraints are imposed only where the report history has positive probability;
    a deviator who reaches a history the mechanism never expects is covered by value variables
    indexed by (belief class of his true history, report history), so the result passes
    :func:`audit`. The unreachable entries of the returned arrays follow the convention of the
    module docstring.

    Parameters
    ----------
    values : sequence of T arrays
        ``values[t][k]``: value of good ``t + 1`` to a buyer whose period-``t + 1`` type is ``k``
        (all zeros for a period that only brings information); or an array of shape
        ``(m_1, ..., m_{t+1})`` when the value depends on the whole type history.
    probs : array of shape (m_1, ..., m_T)
        Joint probabilities of the type paths; non-negative, summing to 1 (tolerance 1e-9).
    ir : {"ex-ante", "interim", "ex-post"}
        Participation before period 1, after learning the first type, or on every type path.
    kind : {"separable", "general", "static"}
        Ashlagi, Daskalakis and Haghpanah's class names. ``"separable"``: a report every period,
        good ``t`` allocated in period ``t`` from the reports so far. ``"general"``: a report
        every period, all goods allocated after the last report (its linear programme has
        variables for pairs of true and reported histories, so keep it to a few hundred type
        paths). ``"static"``: one report of the whole path at the end. The former spelling
        ``"deferred"`` is refused with a message naming ``"general"``.
    observed : sequence of int
        0-based indices of the periods whose type the mechanism observes: the buyer sends no
        report there, the mechanism conditions on the true type, and there is no incentive
        constraint for lying about it (``separable`` kind only). With
        ``observed=(1, ..., T - 1)`` only the first type is private: the *relaxed* environment
        of Kakade, Lobel and Nazerzadeh, whose revenue bounds the dynamic one.

    Returns
    -------
    Mechanism
        With ``allocation``, ``payment``, ``revenue``, ``utility``, ``welfare`` and ``observed``.

    Raises
    ------
    ValueError
        For probabilities that are negative or do not sum to 1, ``values`` whose shapes do not
        match ``probs``, an unknown ``ir`` or ``kind``, or ``observed`` with indices that are
        not integers, out of range or repeated (or given with kind ``static``/``general``).

    Examples
    --------
    One good, two equally likely values 1 and 2: the optimal posted price is 2 (revenue 1,
    tied with price 1).

    >>> mech = optimal_mechanism([[1.0, 2.0]], [0.5, 0.5])
    >>> round(mech.revenue, 9)
    1.0

    Selling before the buyer learns anything extracts the whole surplus:

    >>> import numpy as np
    >>> mech = optimal_mechanism([[1.0, 2.0], [1.0, 3.0]], np.full((2, 2), 0.25), ir="ex-ante")
    >>> round(mech.revenue, 9), round(audit(mech).gain, 9)
    (3.5, 0.0)

    With negatively correlated values, allocating both goods after the last report (bundling
    across periods) beats allocating good 1 in period 1:

    >>> probs = np.array([[0.01, 0.49], [0.49, 0.01]])
    >>> [round(optimal_mechanism([[1, 2], [1, 2]], probs, kind=k).revenue, 9) for k in ("separable", "general")]
    [2.49, 2.97]

    A good whose value (1 or 2) is correlated with a first type that only brings information:
    if the mechanism observes the value, only the first type is private and the seller earns
    the mean value 1.6; if the value is private too, she earns the lower conditional mean 1.4.

    >>> probs = np.array([[0.3, 0.2], [0.1, 0.4]])
    >>> values = [[0.0, 0.0], [1.0, 2.0]]
    >>> [round(optimal_mechanism(values, probs, ir="interim", observed=o).revenue, 9) for o in [(1,), ()]]
    [1.6, 1.4]
    """
    vals, p = _check_model(values, probs)
    ir = _check_choice(ir, "ir", IR_KINDS)
    kind = _check_kind(kind)
    obs = _check_observed(observed, p.ndim, kind)
    tree = _Tree(vals, p)
    if kind == "static":
        alloc, pay = _static_lp(tree, ir)
    elif kind == "general":
        alloc, pay = _general_lp(tree, ir)
    else:
        alloc, pay = _separable_lp(tree, ir, observed=obs)
    alloc = [np.clip(a, 0.0, 1.0) for a in alloc]
    return Mechanism(vals, p, tuple(alloc), pay, kind, ir, obs)


def revenue_range(values: Sequence[Any], probs: Any, allocation: Sequence[Any]) -> tuple[float, float]:
    """Smallest and largest expected revenue of incentive-compatible payments for a given allocation rule.

    Payments range over all those that make the ``separable`` mechanism with this allocation
    incentive compatible (against every reporting strategy) and give the lowest first-period
    type (of positive probability) an interim expected utility of exactly 0. Dynamic revenue
    equivalence says that with continuous types the range is a single point; on a finite grid it
    is an interval whose width measures the slack of discrete incentive constraints.

    Parameters
    ----------
    values, probs
        The model, as in :func:`optimal_mechanism`.
    allocation : sequence of T arrays
        ``allocation[t]`` of shape ``(m_1, ..., m_{t+1})``, entries in [0, 1].

    Returns
    -------
    (float, float)
        The minimum and maximum expected revenue.

    Raises
    ------
    ValueError
        For a bad model, or an allocation of the wrong shape or outside [0, 1].

    Examples
    --------
    One good, values 1 and 2, sold to the high type only: the low type gets 0, and the high
    type's price can be anything in [1, 2].

    >>> revenue_range([[1.0, 2.0]], [0.5, 0.5], [[0.0, 1.0]])
    (0.5, 1.0)
    """
    mech = make_mechanism(values, probs, allocation, np.zeros(np.shape(probs)))
    tree = _Tree(mech.values, mech.probs)
    try:
        lo_mech = _separable_lp(tree, None, list(mech.allocation), sense=1.0)
        hi_mech = _separable_lp(tree, None, list(mech.allocation), sense=-1.0)
    except RuntimeError as exc:
        raise ValueError("allocation cannot be implemented: no payments make it incentive compatible") from exc
    lo_rev = float(np.sum(mech.probs * lo_mech[1]))
    hi_rev = float(np.sum(mech.probs * hi_mech[1]))
    return lo_rev, hi_rev
