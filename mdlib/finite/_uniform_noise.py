"""The uniform-noise model of Part II as a finite type tree (a lattice of step ``1/n``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from .._validation import check_positive_int as _check_positive_int

__all__ = ["UniformNoiseTree", "uniform_noise_tree"]


class UniformNoiseTree(NamedTuple):
    """The lattice version of the uniform-noise model (see :func:`uniform_noise_tree`).

    It unpacks as ``tau, value, values, probs``, so ``optimal_mechanism(*tree[2:])`` solves it.
    """

    tau: NDArray[np.float64]
    """The ex-ante types ``0, 1/n, ..., 1`` (the first period's types)."""
    value: NDArray[np.float64]
    """The values ``-half/n, ..., (n + half)/n`` of the good (the second period's types), ``half = n // 2``."""
    values: list[NDArray[np.float64]]
    """The ``values`` argument of :func:`optimal_mechanism`: zeros in period 1 (no good), ``value`` in period 2."""
    probs: NDArray[np.float64]
    """The ``probs`` argument: the joint probability of ``(tau[i], value[j])``, shape ``(n + 1, n + 2 * half + 1)``."""


def uniform_noise_tree(n: Any) -> UniformNoiseTree:
    """The uniform-noise model on a lattice of step ``1/n``, as a finite type tree.

    The buyer learns an ex-ante type ``tau``, uniform on ``0, 1/n, ..., 1``, and then the value
    ``tau + eps`` of one good, with the noise ``eps`` independent of ``tau`` and uniform on the
    lattice points of ``[-1/2, 1/2]``, i.e. on ``-half/n, ..., half/n`` with ``half = n // 2``.
    The first period only brings information (its good is worth 0). As ``n`` grows this
    approaches the continuous model: ``tau`` uniform on ``[0, 1]``, ``eps`` uniform on
    ``[-1/2, 1/2]``.

    Parameters
    ----------
    n : int
        The number of steps of the lattice of ex-ante types (``n + 1`` types); at least 1.

    Returns
    -------
    UniformNoiseTree
        ``tau``, ``value``, and the arguments ``values`` and ``probs`` of
        :func:`optimal_mechanism`, :func:`revenue_range` and :func:`revelation`.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.

    Examples
    --------
    >>> from mdlib import optimal_mechanism, uniform_noise_tree
    >>> tree = uniform_noise_tree(2)
    >>> tree.tau, tree.value
    (array([0. , 0.5, 1. ]), array([-0.5,  0. ,  0.5,  1. ,  1.5]))
    >>> tree.probs * 9
    array([[1., 1., 1., 0., 0.],
           [0., 1., 1., 1., 0.],
           [0., 0., 1., 1., 1.]])
    >>> round(optimal_mechanism(*tree[2:], ir="interim").revenue, 6)
    0.388889
    """
    n = _check_positive_int(n, "n")
    half = n // 2
    tau = np.arange(n + 1) / n
    value = np.arange(-half, n + half + 1) / n
    probs = np.zeros((n + 1, value.size))
    for i in range(n + 1):
        probs[i, i : i + 2 * half + 1] = 1 / ((n + 1) * (2 * half + 1))
    return UniformNoiseTree(tau, value, [np.zeros(n + 1), value], probs)
