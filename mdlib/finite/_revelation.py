"""The revelation principle on a finite type tree: an indirect mechanism turned into a direct one."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from .._validation import check_choice as _check_choice
from ._audit import _solve_buyer
from ._mechanism import Mechanism
from ._tree import IR_KINDS, _as_array, _check_model, _Tree

__all__ = ["Revelation", "revelation"]


class Revelation(NamedTuple):
    """An indirect mechanism turned into a direct one (see :func:`revelation`)."""

    mechanism: Mechanism
    """The direct mechanism: the indirect one composed with the buyer's optimal strategy."""
    strategy: tuple[NDArray[np.int64], ...]
    """``strategy[t]``: the message the buyer sends in period ``t + 1`` at each true type history
    (shape ``(m_1, ..., m_{t+1})``; ``-1`` at histories of probability zero)."""



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
    >>> from mdlib import audit, revelation
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
