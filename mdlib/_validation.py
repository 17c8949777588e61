"""Shared input checks for mdlib.

Every public function of mdlib checks its inputs with these helpers, so that bad
input always raises a :class:`ValueError` whose message names the parameter and
the allowed range, e.g. ``"n_bidders must be a positive integer, got 0"``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "check_positive_int",
    "check_real",
    "as_real_array",
    "check_in_closed_interval",
    "format_interval",
    "format_number",
]


def format_number(x: float) -> str:
    """Format a number for an error message: ``0``, ``1.5``, ``-0.2``, ``inf``, ``nan``."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}" if x == int(x) or abs(x) >= 1e-4 else repr(x)


def format_interval(lo: float, hi: float) -> str:
    """Format a closed interval, with open brackets at infinite ends: ``[0, 1]``, ``[0, inf)``."""
    left = "(" if math.isinf(lo) else "["
    right = ")" if math.isinf(hi) else "]"
    return f"{left}{format_number(lo)}, {format_number(hi)}{right}"


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1 (not a bool, not a float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_real(value: Any, name: str) -> float:
    """Return ``value`` as a finite ``float``; NaN, infinities, bools and non-numbers raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number)):
            raise ValueError(f"{name} must be a finite real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {format_number(x)}")
    return x


def as_real_array(values: Any, name: str) -> tuple[NDArray[np.float64], bool]:
    """Convert a scalar or array-like of real numbers to a float array.

    Returns the array and whether the input was a scalar (so that the caller can
    return a ``float`` for a scalar input). NaN entries and non-numeric input raise.
    """
    if isinstance(values, (bool, np.bool_)):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {values!r}")
    try:
        arr = np.asarray(values)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {type(values)}") from exc
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {type(values)}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN, got nan")
    return arr, arr.ndim == 0


def check_in_closed_interval(
    arr: NDArray[np.float64], name: str, lo: float, hi: float, where: str
) -> None:
    """Raise unless every entry of ``arr`` is finite and lies in ``[lo, hi]``.

    ``where`` names the interval in the message, e.g. ``"the support [0, 1] of dist"``.
    """
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if bad.any():
        first = arr[bad].flat[0]
        raise ValueError(f"{name} must lie in {where}, got {format_number(first)}")
