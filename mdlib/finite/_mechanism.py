"""Direct mechanisms on a finite type tree: :class:`Mechanism` and :func:`make_mechanism`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice as _check_choice
from ._tree import _FULL_PATH_KINDS, IR_KINDS, _as_array, _check_kind, _check_model, _check_observed, _value_history

__all__ = ["Mechanism", "make_mechanism"]


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
