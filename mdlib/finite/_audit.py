"""Deviation audits of a finite dynamic mechanism: :func:`audit` and the buyer's optimal strategy."""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from ._mechanism import Mechanism
from ._tree import _TIE_TOL, _Tree, _check_observed

__all__ = ["Audit", "audit"]


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
    >>> from mdlib import audit, make_mechanism
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


def _record(with_best: NDArray[np.float64], truthful: NDArray[np.float64], lie: NDArray[np.float64],
            kids: NDArray[np.int64], shape: tuple[int, ...], found: tuple) -> tuple:
    """Update ``(gain, one_shot, where)`` with the reports open at one period.

    Rows are the truthful histories ``kids`` (flat, of shape ``shape``) just after a type is learned,
    columns the reports: ``with_best`` continues optimally, ``lie`` truthfully (its truthful column is
    overwritten), ``truthful`` is the value of telling the truth throughout.
    """
    gain, one_shot, where = found
    lie[np.arange(len(kids)), kids % shape[-1]] = -np.inf
    g_all = with_best.max(axis=1) - truthful
    if shape[-1] > 1:
        one_shot = max(one_shot, float((lie.max(axis=1) - truthful).max()))
    i = int(np.argmax(g_all))
    if g_all[i] > gain:
        gain = float(g_all[i])
        r = int(np.argmax(with_best[i] >= with_best[i].max() - _TIE_TOL))
        where = (_unravel(int(kids[i]), shape), (r,))
    return gain, one_shot, where


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
        gain, one_shot, where = _record(now + nb, truthful, now + nt, kids, m[: t + 1], (gain, one_shot, where))
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
        gain, one_shot, where = _record(nb[h, k, h, :], nt[h, k, h, k], nt[h, k, h, :].copy(), kids, m[: t + 1],
                                        (gain, one_shot, where))
        cond = tree.cond[t]  # (H_t, m_t)
        best = np.einsum("hk,hkr->hr", cond, nb.max(axis=3))
        truth = np.einsum("hk,hkr->hr", cond, nt[:, np.arange(m[t]), :, np.arange(m[t])].transpose(1, 0, 2))
    return gain, one_shot, where[0], where[1]
