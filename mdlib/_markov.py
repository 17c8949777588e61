"""Kernels of finite Markov decision problems shared by :mod:`mdlib.mdp` and :mod:`mdlib.pivot` (no input checks)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

ROW_SUM_TOL = 1e-9  # tolerance on the row sums of a transition matrix


def _evaluate(R: NDArray, Q: NDArray, d: float, pol: NDArray) -> NDArray[np.float64]:
    """The value of the stationary policy ``pol``: solve ``(I - d Q_pol) v = R_pol``."""
    idx = np.arange(R.shape[0])
    A = np.eye(R.shape[0]) - d * Q[idx, pol, :]
    return np.linalg.solve(A, R[idx, pol])


def _action_values(R: NDArray, Q: NDArray, d: float, v: NDArray) -> NDArray[np.float64]:
    """``R + d Q v``, with ``-inf`` kept where an action is infeasible."""
    with np.errstate(invalid="ignore"):
        q = R + d * (Q @ v)
    q[R == -np.inf] = -np.inf
    return q
