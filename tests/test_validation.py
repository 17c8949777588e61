"""The shared input checks (``mdlib._validation``): what they accept, what they return, and their messages
word for word (every public function's error message is built from them)."""

from __future__ import annotations

import numpy as np
import pytest

from mdlib import _validation as V

from helpers import refuses


@pytest.mark.parametrize("x, text", [(0, "0"), (1.5, "1.5"), (-0.2, "-0.2"), (3.0, "3"), (1e-4, "0.0001"),
                                     (2.5e-5, "2.5e-05"), (1e-7, "1e-07"), (123456789.0, "1.23457e+08"),
                                     (float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "nan")])
def test_format_number(x, text):
    assert V.format_number(x) == text


def test_format_interval():
    assert V.format_interval(0, 1) == "[0, 1]"
    assert V.format_interval(0, float("inf")) == "[0, inf)"
    assert V.format_interval(float("-inf"), 2.5) == "(-inf, 2.5]"


def test_check_positive_int():
    assert V.check_positive_int(3, "n") == 3 and type(V.check_positive_int(np.int64(2), "n")) is int
    for bad in (0, -1, True, 2.0, "2", None):
        refuses(lambda: V.check_positive_int(bad, "n"), f"n must be a positive integer, got {bad!r}")


def test_check_real():
    assert V.check_real(2, "x") == 2.0 and V.check_real(np.float32(0.5), "x") == 0.5
    assert V.check_real(np.array(1.25), "x") == 1.25  # a 0-d numeric array is a number
    for bad in (True, "1", None, [1.0], np.array([1.0]), np.array("a")):
        with pytest.raises(ValueError, match="^x must be a finite real number, got "):
            V.check_real(bad, "x")
    refuses(lambda: V.check_real(float("nan"), "x"), "x must be a finite real number, got nan")
    refuses(lambda: V.check_real(float("-inf"), "x"), "x must be a finite real number, got -inf")


def test_as_real_array():
    arr, scalar = V.as_real_array(3, "a")
    assert scalar and arr.dtype == np.float64 and arr == 3.0
    arr, scalar = V.as_real_array([1, 2], "a")
    assert not scalar and arr.tolist() == [1.0, 2.0]
    refuses(lambda: V.as_real_array(True, "a"), "a must be a real number or an array of real numbers, got True")
    refuses(lambda: V.as_real_array(["x"], "a"), "a must be a real number or an array of real numbers, got <class 'list'>")
    refuses(lambda: V.as_real_array([True], "a"), "a must be a real number or an array of real numbers, got <class 'list'>")
    refuses(lambda: V.as_real_array([1.0, float("nan")], "a"), "a must not contain NaN, got nan")
    assert np.isinf(V.as_real_array(float("inf"), "a")[0]), "infinities pass (the caller decides)"


def test_check_in_closed_interval():
    V.check_in_closed_interval(np.array([0.0, 1.0]), "p", 0, 1, "[0, 1]")
    refuses(lambda: V.check_in_closed_interval(np.array([0.5, 1.5, -1.0]), "p", 0, 1, "[0, 1]"), "p must lie in [0, 1], got 1.5")
    refuses(lambda: V.check_in_closed_interval(np.array([np.nan]), "p", 0, 1, "[0, 1]"), "p must lie in [0, 1], got nan")


def test_check_choice():
    assert V.check_choice("b", "kind", ("a", "b")) == "b"
    refuses(lambda: V.check_choice("c", "kind", ("a", "b")), "kind must be one of 'a', 'b', got 'c'")
    refuses(lambda: V.check_choice(1, "kind", ("a",)), "kind must be one of 'a', got 1")


@pytest.mark.parametrize("kw, ok, bad, where", [
    ({}, (0.5, 1e-9), (0, 1, -0.1), "(0, 1)"),
    ({"lo_closed": True}, (0.0, 0.5), (1, -1e-9), "[0, 1)"),
    ({"hi_closed": True}, (1.0,), (0,), "(0, 1]"),
    ({"lo": 0.5, "hi": 2.0, "lo_closed": True, "hi_closed": True}, (0.5, 2.0), (0.49, 2.01), "[0.5, 2]"),
])
def test_check_discount(kw, ok, bad, where):
    for d in ok:
        assert V.check_discount(d, **kw) == d
    for d in bad:
        refuses(lambda: V.check_discount(d, "delta", **kw), f"delta must lie in {where}, got {V.format_number(d)}")


def test_check_vector():
    assert V.check_vector([1, 2], "v").tolist() == [1.0, 2.0]
    refuses(lambda: V.check_vector(["a"], "v"), "v must be a one-dimensional array of real numbers")
    refuses(lambda: V.check_vector([], "v"), "v must be a nonempty one-dimensional array, got shape (0,)")
    refuses(lambda: V.check_vector([[1.0]], "v"), "v must be a nonempty one-dimensional array, got shape (1, 1)")
    refuses(lambda: V.check_vector([1.0, np.inf], "v"), "v must be finite")


def test_as_float_array():
    assert V.as_float_array([1, 2], "x").dtype == np.float64
    assert np.isnan(V.as_float_array([np.nan], "x")).all(), "NaN passes (the caller checks finiteness)"
    for bad in (None, "12", b"12"):
        refuses(lambda: V.as_float_array(bad, "x"), f"x must be an array of real numbers, got {bad!r}")
    with pytest.raises(ValueError, match=r"^x must be an array of real numbers \("):
        V.as_float_array([[1.0], [1.0, 2.0]], "x")


def test_check_bool_and_optional_str():
    assert V.check_bool(np.bool_(True), "strict") is True and V.check_bool(False, "strict") is False
    refuses(lambda: V.check_bool("yes", "strict"), "strict must be True or False, got 'yes'")
    refuses(lambda: V.check_bool(1, "strict"), "strict must be True or False, got 1")
    assert V.check_optional_str(None, "label") is None and V.check_optional_str("a", "label") == "a"
    refuses(lambda: V.check_optional_str(3, "label"), "label must be a string or None, got 3")


def test_make_rng():
    assert V.make_rng(1).random() == np.random.default_rng(1).random()
    with pytest.raises(ValueError, match=r"^seed must be None, a nonnegative integer, a sequence of them or a numpy Generator, got -1 \("):
        V.make_rng(-1)
