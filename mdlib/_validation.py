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
    "check_choice",
    "check_discount",
    "check_vector",
    "as_float_array",
    "check_bool",
    "check_optional_str",
    "make_rng",
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


def check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return value


def check_discount(
    value: Any, name: str = "discount", *, lo: float = 0.0, hi: float = 1.0,
    lo_closed: bool = False, hi_closed: bool = False,
) -> float:
    """Return a discount factor as a ``float`` if it lies in the interval from ``lo`` to ``hi``.

    ``lo_closed`` and ``hi_closed`` say whether the ends belong to the allowed range, which the
    message names, e.g. ``"discount must lie in [0, 1), got 1"``.
    """
    d = check_real(value, name)
    above = d >= lo if lo_closed else d > lo
    below = d <= hi if hi_closed else d < hi
    if not (above and below):
        where = f"{'[' if lo_closed else '('}{format_number(lo)}, {format_number(hi)}{']' if hi_closed else ')'}"
        raise ValueError(f"{name} must lie in {where}, got {format_number(d)}")
    return d


def check_vector(value: Any, name: str) -> NDArray[np.float64]:
    """Return ``value`` as a nonempty one-dimensional array of finite floats."""
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a one-dimensional array of real numbers") from exc
    if v.ndim != 1 or v.size < 1:
        raise ValueError(f"{name} must be a nonempty one-dimensional array, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} must be finite")
    return v


def as_float_array(value: Any, name: str) -> NDArray[np.float64]:
    """``np.asarray(value, dtype=float)``, with a ``ValueError`` naming ``name`` for non-numbers.

    ``None``, strings and anything numpy cannot convert to floats (ragged or nested
    non-numeric sequences) raise; NaN and infinities pass (the caller checks finiteness).
    """
    if value is None or isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an array of real numbers, got {value!r}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers ({exc})") from exc


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a ``bool`` if it is ``True`` or ``False`` (a Python or numpy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_optional_str(value: Any, name: str) -> str | None:
    """Return ``value`` if it is a string or ``None``."""
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string or None, got {value!r}")
    return value


def make_rng(seed: Any, name: str = "seed") -> np.random.Generator:
    """``np.random.default_rng(seed)``, with a ``ValueError`` naming ``name`` for a bad seed."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be None, a nonnegative integer, a sequence of them or a numpy Generator, got {seed!r} ({exc})"
        ) from exc
