"""Finite Markov decision problems: optimal values and policies.

A finite, discounted Markov decision problem (MDP) has states ``s = 0, ..., n - 1``,
actions ``a = 0, ..., m - 1``, a reward ``R[s, a]`` (``-inf`` marks an action that
is not available in state ``s``), a transition ``Q[s, a, s']`` and a discount
factor ``discount`` in ``[0, 1)``. Its value solves the Bellman equation

.. math:: v(s) = \\max_a \\Big\\{ R(s, a) + \\delta \\sum_{s'} Q(s, a, s')\\, v(s') \\Big\\}.

:func:`solve_mdp` solves it by policy iteration with exact linear solves
(``quantecon.markov.DiscreteDP``), so values are exact up to rounding, and then
breaks ties deterministically: among the actions within a rounding tolerance of the
best, the one with the smallest index is chosen. :func:`evaluate_policy` and
:func:`action_values` are the two half-steps of policy iteration, exposed for
audits (a deviation is profitable when its action value exceeds the value).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._markov import ROW_SUM_TOL, _action_values, _evaluate
from ._validation import as_float_array, check_discount

__all__ = ["MDPSolution", "solve_mdp", "evaluate_policy", "action_values"]

#: Rows of a transition array must sum to one within this tolerance.


class MDPSolution(NamedTuple):
    """The optimal value and a deterministic optimal policy of a finite MDP."""

    v: NDArray[np.float64]
    """The optimal value :math:`v(s)`, shape ``(n_states,)``."""
    policy: NDArray[np.int64]
    """An optimal action in each state, shape ``(n_states,)``: the smallest optimal index."""


# --------------------------------------------------------------------------- validation
def _check_R_Q(R: Any, Q: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    R_arr = as_float_array(R, "R")
    Q_arr = as_float_array(Q, "Q")
    if R_arr.ndim != 2 or R_arr.shape[0] < 1 or R_arr.shape[1] < 1:
        raise ValueError(f"R must have shape (n_states, n_actions) with both >= 1, got shape {R_arr.shape}")
    n, m = R_arr.shape
    if Q_arr.shape != (n, m, n):
        raise ValueError(
            f"R and Q must have matching shapes: Q must have shape (n_states, n_actions, n_states) = {(n, m, n)} "
            f"to match R of shape {R_arr.shape}, got {Q_arr.shape}"
        )
    if np.isnan(R_arr).any() or (R_arr == np.inf).any():
        raise ValueError("R must be finite or -inf (an infeasible action), got nan or +inf")
    feasible = R_arr > -np.inf
    if not feasible.any(axis=1).all():
        s = int(np.flatnonzero(~feasible.any(axis=1))[0])
        raise ValueError(f"R must allow at least one feasible (finite) action in every state; state {s} has none")
    if not np.isfinite(Q_arr).all() or (Q_arr < 0).any():
        raise ValueError("Q must contain finite nonnegative probabilities")
    sums = Q_arr.sum(axis=2)
    bad = feasible & (np.abs(sums - 1.0) > ROW_SUM_TOL)
    if bad.any():
        s, a = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(f"Q rows must sum to 1: Q[{s}, {a}, :] sums to {sums[s, a]:.12g}")
    return R_arr, Q_arr


def _check_policy(policy: Any, R: NDArray[np.float64]) -> NDArray[np.int64]:
    pol = np.asarray(policy)
    if pol.shape != (R.shape[0],) or not np.issubdtype(pol.dtype, np.integer):
        raise ValueError(f"policy must be an integer array of shape (n_states,) = {(R.shape[0],)}, got {pol.shape}")
    if (pol < 0).any() or (pol >= R.shape[1]).any():
        raise ValueError(f"policy entries must lie in [0, {R.shape[1] - 1}] (the actions)")
    if (R[np.arange(R.shape[0]), pol] == -np.inf).any():
        raise ValueError("policy must choose a feasible action (finite reward) in every state")
    return pol.astype(np.int64)


# --------------------------------------------------------------------------- public
def evaluate_policy(R: Any, Q: Any, discount: float, policy: Any) -> NDArray[np.float64]:
    r"""The value of following a stationary policy forever, by one exact linear solve.

    Parameters
    ----------
    R : array_like, shape (n_states, n_actions)
        Rewards; ``-inf`` marks an infeasible action.
    Q : array_like, shape (n_states, n_actions, n_states)
        Transition probabilities; ``Q[s, a]`` sums to one for every feasible ``(s, a)``.
    discount : float
        The discount factor :math:`\delta \in [0, 1)`.
    policy : array_like of int, shape (n_states,)
        The action chosen in each state; it must be feasible.

    Returns
    -------
    numpy.ndarray
        :math:`v_\sigma = (I - \delta Q_\sigma)^{-1} R_\sigma`.

    Raises
    ------
    ValueError
        For shapes that disagree, rows of ``Q`` not summing to one, a ``discount``
        outside ``[0, 1)`` or a policy that picks an infeasible action.

    Examples
    --------
    >>> import numpy as np
    >>> from mdlib import evaluate_policy
    >>> R = np.array([[1.0], [0.0]]); Q = np.array([[[0.0, 1.0]], [[1.0, 0.0]]])
    >>> evaluate_policy(R, Q, 0.5, [0, 0]).round(6)   # 1 + 0.25 + ... = 4/3 in state 0
    array([1.333333, 0.666667])
    """
    R_arr, Q_arr = _check_R_Q(R, Q)
    d = check_discount(discount, lo_closed=True)
    pol = _check_policy(policy, R_arr)
    return _evaluate(R_arr, Q_arr, d, pol)


def action_values(R: Any, Q: Any, discount: float, v: Any) -> NDArray[np.float64]:
    r"""The action values :math:`R(s, a) + \delta \sum_{s'} Q(s, a, s')\, v(s')`.

    Parameters
    ----------
    R, Q, discount
        As in :func:`solve_mdp`.
    v : array_like, shape (n_states,)
        A value function (the continuation value).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_states, n_actions)``; ``-inf`` for infeasible actions.

    Raises
    ------
    ValueError
        For bad ``R``, ``Q``, ``discount`` or a ``v`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from mdlib import action_values
    >>> R = np.array([[1.0, 0.0]]); Q = np.ones((1, 2, 1))
    >>> action_values(R, Q, 0.9, [10.0])
    array([[10.,  9.]])
    """
    R_arr, Q_arr = _check_R_Q(R, Q)
    d = check_discount(discount, lo_closed=True)
    v_arr = as_float_array(v, "v")
    if v_arr.shape != (R_arr.shape[0],) or not np.isfinite(v_arr).all():
        raise ValueError(f"v must be a finite array of shape (n_states,) = {(R_arr.shape[0],)}, got {v_arr.shape}")
    return _action_values(R_arr, Q_arr, d, v_arr)


def solve_mdp(R: Any, Q: Any, discount: float) -> MDPSolution:
    r"""The optimal value and the smallest-index optimal policy of a finite discounted MDP.

    Parameters
    ----------
    R : array_like, shape (n_states, n_actions)
        The reward ``R[s, a]`` of action ``a`` in state ``s``; ``-inf`` marks an
        infeasible action. Every state needs at least one feasible action.
    Q : array_like, shape (n_states, n_actions, n_states)
        ``Q[s, a, s']`` is the probability of moving to ``s'``; each row of a
        feasible ``(s, a)`` sums to one (within 1e-9). Rows of infeasible actions
        are ignored.
    discount : float
        The discount factor :math:`\delta \in [0, 1)`.

    Returns
    -------
    MDPSolution
        ``(v, policy)``: the optimal value and, in each state, the smallest action
        whose action value is within rounding (1e-12 relative) of the maximum.
        ``v`` is the exact value of ``policy`` (one linear solve).

    Raises
    ------
    ValueError
        If shapes disagree, ``R`` has NaN or ``+inf`` or a state without a feasible
        action, ``Q`` has negative entries or rows not summing to one, or
        ``discount`` is outside ``[0, 1)``.

    Notes
    -----
    Policy iteration (``quantecon.markov.DiscreteDP(...).solve("policy_iteration")``)
    evaluates each policy by an exact linear solve, so it stops at an exactly
    optimal policy after finitely many steps. Because floating-point noise can make
    two equally good actions look different, the policy is then re-chosen with a
    fixed tie-break, and its value is re-evaluated.

    Examples
    --------
    Stay put for 1 per period, or move once to a state paying 2 forever:

    >>> import numpy as np
    >>> from mdlib import solve_mdp
    >>> R = np.array([[1.0, 0.0], [2.0, -np.inf]])
    >>> Q = np.zeros((2, 2, 2)); Q[0, 0, 0] = Q[0, 1, 1] = Q[1, 0, 1] = 1.0
    >>> v, policy = solve_mdp(R, Q, 0.9)
    >>> v.round(6), policy
    (array([18., 20.]), array([1, 0]))
    """
    R_arr, Q_arr = _check_R_Q(R, Q)
    d = check_discount(discount, lo_closed=True)
    feasible = R_arr > -np.inf
    if d == 0.0:
        v0 = np.where(feasible, R_arr, -np.inf).max(axis=1)
        return _tie_broken(R_arr, Q_arr, d, v0)
    from quantecon.markov import DiscreteDP  # imported lazily: numba makes it slow to import

    # quantecon needs every row of Q to be a distribution; infeasible rows never matter.
    Q_qe = np.where(feasible[:, :, None], Q_arr, 0.0)
    Q_qe[~feasible, 0] = 1.0
    Q_qe /= Q_qe.sum(axis=2, keepdims=True)
    ddp = DiscreteDP(R_arr, Q_qe, d)
    res = ddp.solve(method="policy_iteration")
    return _tie_broken(R_arr, Q_arr, d, np.asarray(res.v, dtype=np.float64))


def _tie_broken(R: NDArray, Q: NDArray, d: float, v: NDArray) -> MDPSolution:
    """Pick the smallest near-optimal action in every state and return its exact value.

    An action within ``1e-12 * scale`` of the best loses at most that much per period,
    so the returned value is within ``1e-12 * scale / (1 - d)`` of the optimum.
    """
    finite_R = R[R > -np.inf]
    scale = 1.0 + np.abs(finite_R).max() / (1.0 - d)
    q = _action_values(R, Q, d, v)
    best = q.max(axis=1)
    policy = np.argmax(q >= best[:, None] - 1e-12 * scale, axis=1).astype(np.int64)
    return MDPSolution(_evaluate(R, Q, d, policy), policy)
