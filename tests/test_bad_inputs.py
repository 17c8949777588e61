"""Every bad input to every public function of mdlib is refused, quickly, by name.

One table row per public function (a test fails when a new public function has no row):
a valid call, taken from the function's documented example, and for each parameter the
kind of value it takes.  Each kind has its bad values (NaN, infinities, wrong types, wrong
shapes, empty arrays, out-of-range numbers, probabilities that do not sum to one or are
negative, distributions without a finite mean where one is needed, conditional families
that return garbage).  Each test replaces one argument of the valid call by one bad
value and requires a ``ValueError`` or ``TypeError`` whose message names the parameter,
within 5 seconds.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
from functools import cache
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest
from scipy import stats

import mdlib

NAN, INF = float("nan"), float("inf")
DEADLINE = 5.0  # seconds per call


# --------------------------------------------------------------------------- kinds of bad values
def _with(valid: Any, value: float) -> np.ndarray:
    """``valid`` as a float array with its first entry replaced by ``value``."""
    a = np.array(valid, dtype=float, copy=True)
    a.flat[0] = value
    return a


def scalar(valid: Any) -> dict[str, Any]:
    """A real number that must be a scalar."""
    return {"None": None, "str": "abc", "nan": NAN, "inf": INF, "-inf": -INF, "list": [1.0, 2.0]}


def real(valid: Any) -> dict[str, Any]:
    """A real number or an array of real numbers."""
    return {"None": None, "str": "abc", "nan": NAN, "inf": INF, "-inf": -INF, "strings": ["a", "b"]}


def count(valid: Any) -> dict[str, Any]:
    """A positive integer."""
    return {"None": None, "str": "3", "float": 2.5, "nan": NAN, "zero": 0, "negative": -1, "bool": True}


def discount(lo_closed: bool = False, hi_closed: bool = False) -> Callable[[Any], dict[str, Any]]:
    """A discount factor in the interval from 0 to 1 (ends as given)."""

    def bads(valid: Any) -> dict[str, Any]:
        out = {"None": None, "str": "0.9", "nan": NAN, "inf": INF, "-inf": -INF, "negative": -0.5, "above": 1.5}
        out["list"] = [0.5, 0.6]
        if not lo_closed:
            out["zero"] = 0.0
        if not hi_closed:
            out["one"] = 1.0
        return out

    return bads


def dist(mean: bool) -> Callable[[Any], dict[str, Any]]:
    """A continuous scipy.stats distribution (with a finite mean if ``mean``)."""

    def bads(valid: Any) -> dict[str, Any]:
        out = {
            "None": None,
            "str": "uniform",
            "number": 1.5,
            "discrete": stats.poisson(3),
            "nan-params": stats.norm(NAN, 1),
        }
        if mean:
            out["cauchy"] = stats.cauchy()
            out["halfcauchy"] = stats.halfcauchy()
        return out

    return bads


def family(mean: bool) -> Callable[[Any], dict[str, Any]]:
    """A conditional family ``tau -> distribution`` (with finite means if ``mean``)."""

    def bads(valid: Any) -> dict[str, Any]:
        out = {
            "None": None,
            "str": "norm",
            "number": 1.5,
            "returns-None": lambda t: None,
            "returns-number": lambda t: 1.0,
            "returns-str": lambda t: "norm",
            "returns-nan-params": lambda t: stats.norm(NAN, 1),
        }
        if mean:
            out["returns-cauchy"] = lambda t: stats.cauchy(t)
        return out

    return bads


def vector(valid: Any) -> dict[str, Any]:
    """A nonempty vector (or array) of finite real numbers with a given shape."""
    a = np.asarray(valid, dtype=float)
    out = {
        "None": None,
        "str": "abc",
        "strings": np.full(a.shape, "a").tolist(),
        "nan": _with(a, NAN),
        "inf": _with(a, INF),
        "empty": [],
        "shape": np.stack([a, a, a]) if a.ndim == 1 else a[..., :-1] if a.shape[-1] > 1 else a[..., None][..., [0, 0]],
    }
    return out


def free_vector(valid: Any) -> dict[str, Any]:
    """A vector whose length is free: a wrong shape is a 2-d or 0-d array."""
    out = vector(valid)
    out["shape"] = np.stack([np.asarray(valid, float)] * 2) if np.ndim(valid) == 1 else 1.0
    return out


def probs(valid: Any) -> dict[str, Any]:
    """Probabilities: a vector/array of the given shape, nonnegative, summing to one."""
    a = np.asarray(valid, dtype=float)
    out = vector(valid)
    out["sum-not-one"] = a * 1.1 if a.sum() > 0 else a + 0.1
    neg = a.copy()
    neg.flat[0] -= 0.5 + a.flat[0]
    neg.flat[1 if a.size > 1 else 0] += 0.5 + a.flat[0] if a.size > 1 else 0.0
    out["negative"] = neg
    return out


def choice(valid: Any) -> dict[str, Any]:
    return {"None": None, "number": 3, "unknown": "no-such-option"}


def boolean(valid: Any) -> dict[str, Any]:
    return {"None": None, "str": "yes", "int": 2, "nan": NAN}


def obj(valid: Any) -> dict[str, Any]:
    """An object of a library type (a model, an auction, a mechanism)."""
    return {"None": None, "str": "abc", "number": 1.5, "list": [1.0, 2.0]}


def label(valid: Any) -> dict[str, Any]:
    return {"None": None, "number": 3, "list": ["a"]}


def optional_label(valid: Any) -> dict[str, Any]:
    return {"number": 3, "list": ["a"]}


def function(valid: Any) -> dict[str, Any]:
    """An optional vectorised callable ``array -> array``."""
    return {
        "str": "abc",
        "number": 1.5,
        "returns-None": lambda s: None,
        "returns-nan": lambda s: np.full(np.shape(s), NAN),
        "returns-str": lambda s: "abc",
    }


def extra(**values: Any) -> Callable[[Any], dict[str, Any]]:
    """Bad values specific to one parameter (out of range, mismatched, inconsistent)."""
    return lambda valid: dict(values)


def both(*kinds: Callable[[Any], dict[str, Any]], skip: tuple[str, ...] = ()) -> Callable[[Any], dict[str, Any]]:
    """The union of several kinds, less the labels in ``skip``."""

    def bads(valid: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in kinds:
            out.update(k(valid))
        for s in skip:
            out.pop(s)
        return out

    return bads


# --------------------------------------------------------------------------- valid calls
U01 = stats.uniform(0, 1)
MIX = stats.Mixture([stats.Uniform(a=0, b=1), stats.Uniform(a=2, b=3)], weights=[0.9, 0.1])


def _news(t: float) -> Any:
    return stats.norm(t, 0.25)


def _uniform_news(t: float) -> Any:
    return stats.uniform(t - 0.5, 1)


@cache
def _scheduling() -> Any:
    return mdlib.scheduling_model([10.0, 6.0], 0.9)


@cache
def _pivot() -> Any:
    return mdlib.dynamic_pivot(_scheduling())


@cache
def _arrival() -> Any:
    return mdlib.arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 0.5, 0.9, 3)


@cache
def _learning() -> Any:
    return mdlib.learning_arrival_auction([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], [0.2, 0.8], [0.5, 0.5], 0.9, 3)


@cache
def _mechanism() -> Any:
    return mdlib.make_mechanism([[0, 0], [1, 2]], np.full((2, 2), 0.25), [np.zeros(2), np.ones((2, 2))], np.ones((2, 2)))


@cache
def _offers() -> Any:
    return mdlib.equilibrium_offers([1.0, 2.0, 3.0], [0.3, 0.4, 0.3], 2)


@cache
def _axes() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    return ax


class Row(NamedTuple):
    valid: Callable[[], dict[str, Any]]
    """The keyword arguments of a valid call (a function, so that objects are built lazily)."""
    kinds: dict[str, Callable[[Any], dict[str, Any]]]
    """For each parameter, the bad values it must refuse (a function of its valid value)."""


def _law() -> dict[str, Any]:
    return {"values": [1.0, 2.0, 3.0], "probs": [0.3, 0.4, 0.3]}


LAW = {
    "values": both(vector, extra(decreasing=[3.0, 2.0, 1.0], negative=[-1.0, 2.0, 3.0])),
    "probs": both(probs, extra(length=[0.5, 0.5])),
}
# a finite law of the commitment module: support points in any order
FINITE_LAW = {
    "values": both(vector, extra(negative=[-1.0, 2.0, 3.0])),
    "probs": both(probs, extra(length=[0.5, 0.5])),
}

TABLE: dict[str, Row] = {
    # ---- distributions
    "virtual_value": Row(
        lambda: {"dist": U01, "v": 0.75},
        {"dist": dist(False), "v": both(real, extra(outside=1.5))},
    ),
    "ironed_virtual_value": Row(
        lambda: {"dist": U01, "v": 0.75},
        {"dist": dist(True), "v": both(real, extra(outside=1.5))},
    ),
    "revenue_curve": Row(
        lambda: {"dist": U01, "q": [0.0, 0.5, 1.0]},
        {"dist": dist(True), "q": both(real, extra(outside=1.5, negative=-0.1))},
    ),
    "ironed_revenue_curve": Row(
        lambda: {"dist": MIX, "q": 0.25},
        {"dist": dist(True), "q": both(real, extra(outside=1.5, negative=-0.1))},
    ),
    "ironing_intervals": Row(lambda: {"dist": U01}, {"dist": dist(True)}),
    "is_regular": Row(lambda: {"dist": U01}, {"dist": dist(False)}),
    # ---- auctions
    "optimal_reserve": Row(lambda: {"dist": U01}, {"dist": dist(True)}),
    "myerson_revenue": Row(lambda: {"dist": U01, "n_bidders": 2}, {"dist": dist(True), "n_bidders": count}),
    "second_price_revenue": Row(
        lambda: {"dist": U01, "n_bidders": 2, "reserve": 0.5},
        {"dist": dist(True), "n_bidders": count, "reserve": scalar},
    ),
    "posted_price_revenue": Row(lambda: {"dist": U01}, {"dist": dist(True)}),
    # ---- finite type trees
    "make_mechanism": Row(
        lambda: {
            "values": [[0, 0], [1, 2]],
            "probs": np.full((2, 2), 0.25),
            "allocation": [np.zeros(2), np.ones((2, 2))],
            "payment": np.ones((2, 2)),
            "kind": "separable",
            "ir": "ex-post",
            "observed": (),
        },
        {
            "values": both(obj, extra(nan=[[0, 0], [NAN, 2]], inf=[[0, 0], [1, INF]], empty=[])),
            "probs": probs,
            "allocation": both(obj, extra(nan=[np.zeros(2), np.full((2, 2), NAN)], shape=[np.zeros(2), np.ones(3)])),
            "payment": vector,
            "kind": choice,
            "ir": choice,
            "observed": both(obj, extra(out_of_range=(5,), negative=(-1,)), skip=("None",)),
        },
    ),
    "optimal_mechanism": Row(
        lambda: {"values": [[1.0, 2.0]], "probs": [0.5, 0.5], "ir": "ex-post", "kind": "separable", "observed": ()},
        {
            "values": both(obj, extra(nan=[[NAN, 2.0]], inf=[[1.0, INF]], empty=[])),
            "probs": probs,
            "ir": choice,
            "kind": choice,
            "observed": both(obj, extra(out_of_range=(5,), negative=(-1,)), skip=("None",)),
        },
    ),
    "audit": Row(
        lambda: {"mechanism": _mechanism(), "observed": (0,)},
        {"mechanism": obj, "observed": both(obj, extra(out_of_range=(5,)), skip=("None",))},
    ),
    "revelation": Row(
        lambda: {
            "values": [[0, 0], [1, 2]],
            "probs": np.array([[0.4, 0.1], [0.1, 0.4]]),
            "allocation": [np.zeros(2), np.array([[0.0, 1.0], [0.0, 1.0]])],
            "payment": np.array([[0.0, 1.9], [0.5, 1.5]]),
            "ir": "ex-post",
        },
        {
            "values": both(obj, extra(nan=[[0, 0], [NAN, 2]], empty=[])),
            "probs": probs,
            "allocation": both(obj, extra(nan=[np.zeros(2), np.full((2, 2), NAN)])),
            "payment": vector,
            "ir": choice,
        },
    ),
    "revenue_range": Row(
        lambda: {"values": [[1.0, 2.0]], "probs": [0.5, 0.5], "allocation": [[0.0, 1.0]]},
        {
            "values": both(obj, extra(nan=[[NAN, 2.0]], empty=[])),
            "probs": probs,
            "allocation": both(obj, extra(nan=[[NAN, 1.0]], shape=[[0.0, 1.0, 1.0]])),
        },
    ),
    "uniform_noise_tree": Row(lambda: {"n": 4}, {"n": count}),
    # ---- envelope
    "envelope_payments": Row(
        lambda: {
            "tau": np.linspace(0, 1, 11),
            "v": np.linspace(-0.5, 1.5, 21),
            "x": (np.linspace(-0.5, 1.5, 21)[None, :] >= 0.5) * np.ones((11, 1)),
            "cdf": np.clip(np.linspace(-0.5, 1.5, 21)[None, :] - np.linspace(0, 1, 11)[:, None] + 0.5, 0, 1),
            "utility_low": 0.0,
        },
        {"tau": vector, "v": vector, "x": vector, "cdf": vector, "utility_low": scalar},
    ),
    # ---- options
    "optimal_option_contract": Row(
        lambda: {"first": U01, "second_given_first": _news, "n_grid": 11, "strict": False},
        {"first": dist(True), "second_given_first": family(True), "n_grid": both(count, extra(small=3)), "strict": boolean},
    ),
    "impulse_response": Row(
        lambda: {"second_given_first": _news, "tau": 0.3, "v": 1.7, "first": U01},
        {
            "second_given_first": family(False),
            "tau": both(real, extra(outside=1.5)),
            "v": real,
            "first": both(dist(False), skip=("None",)),
        },
    ),
    "dynamic_virtual_value": Row(
        lambda: {"first": U01, "second_given_first": _uniform_news, "tau": 0.25, "v": 0.6},
        {"first": dist(False), "second_given_first": family(False), "tau": both(real, extra(outside=1.5)), "v": real},
    ),
    "value_distribution": Row(
        lambda: {"first": U01, "second_given_first": _news, "n_nodes": 16},
        {"first": dist(True), "second_given_first": family(True), "n_nodes": both(count, extra(small=8))},
    ),
    # ---- handicap
    "handicap_auction": Row(
        lambda: {"first": U01, "second_given_first": _news, "n_bidders": 2, "n_grid": 11},
        {
            "first": dist(True),
            "second_given_first": family(True),
            "n_bidders": count,
            "n_grid": both(count, extra(small=3)),
        },
    ),
    # ---- mdp
    "solve_mdp": Row(
        lambda: {"R": np.array([[1.0], [0.0]]), "Q": np.array([[[0.0, 1.0]], [[1.0, 0.0]]]), "discount": 0.9},
        {"R": both(vector, skip=("inf",)), "Q": probs, "discount": discount(lo_closed=True)},
    ),
    "evaluate_policy": Row(
        lambda: {"R": np.array([[1.0], [0.0]]), "Q": np.array([[[0.0, 1.0]], [[1.0, 0.0]]]), "discount": 0.5, "policy": [0, 0]},
        {
            "R": both(vector, skip=("inf",)),
            "Q": probs,
            "discount": discount(lo_closed=True),
            "policy": both(vector, extra(out_of_range=[0, 3], float=[0.5, 0])),
        },
    ),
    "action_values": Row(
        lambda: {"R": np.array([[1.0, 0.0]]), "Q": np.ones((1, 2, 1)), "discount": 0.9, "v": [10.0]},
        {"R": both(vector, skip=("inf",)), "Q": probs, "discount": discount(lo_closed=True), "v": vector},
    ),
    # ---- pivot
    "dynamic_pivot": Row(
        lambda: {"model": _scheduling(), "weights": [0.5, 1.0]},
        {"model": obj, "weights": both(vector, extra(negative=[-0.5, 1.0], zero=[0.0, 1.0]), skip=("None",))},
    ),
    "audit_pivot": Row(
        lambda: {"model": _scheduling(), "result": None, "tol": 1e-9, "weights": [0.5, 1.0]},
        {
            "model": obj,
            "result": both(obj, skip=("None",)),
            "tol": both(scalar, extra(negative=-1.0)),
            "weights": both(vector, extra(negative=[-0.5, 1.0]), skip=("None",)),
        },
    ),
    "scheduling_model": Row(
        lambda: {"values": [10.0, 6.0], "discount": 0.9}, {"values": free_vector, "discount": discount(lo_closed=True)}
    ),
    "scheduling_pivot": Row(
        lambda: {"values": [6.0, 10.0, 3.0], "discount": 0.9}, {"values": free_vector, "discount": discount(lo_closed=True)}
    ),
    "scheduling_pivot_prices": Row(
        lambda: {"values": [10.0, 6.0, 3.0], "discount": 0.9}, {"values": free_vector, "discount": discount(lo_closed=True)}
    ),
    "random_model": Row(
        lambda: {"seed": 0, "n_agents": 2, "n_states": 2, "n_decisions": 2, "discount": 0.8},
        {
            "seed": extra(str="abc", float=1.5, negative=-1),
            "n_agents": count,
            "n_states": count,
            "n_decisions": count,
            "discount": discount(lo_closed=True),
        },
    ),
    # ---- balanced budget
    "team_mechanism": Row(
        lambda: {"model": _scheduling(), "result": _pivot()}, {"model": obj, "result": both(obj, skip=("None",))}
    ),
    "agv_mechanism": Row(
        lambda: {"model": _scheduling(), "result": _pivot()}, {"model": obj, "result": both(obj, skip=("None",))}
    ),
    "audit_mechanism": Row(
        lambda: {
            "model": _scheduling(),
            "policy": _pivot().policy,
            "transfers": _pivot().transfers,
            "information": "ex_post",
            "tol": 1e-9,
        },
        {
            "model": obj,
            "policy": both(vector, extra(out_of_range=np.full(4, 99), float=np.full(4, 0.5))),
            "transfers": vector,
            "information": choice,
            "tol": both(scalar, extra(negative=-1.0)),
        },
    ),
    # ---- gittins
    "gittins_index": Row(
        lambda: {"P": [[0.5, 0.5], [0.0, 1.0]], "r": [1.0, 0.0], "discount": 0.9},
        {"P": probs, "r": vector, "discount": discount()},
    ),
    "bernoulli_gittins_index": Row(
        lambda: {"a": [1, 2], "b": [2, 2], "discount": 0.9, "tol": 1e-3},
        {
            "a": both(real, extra(zero=0.0, negative=[-1, 2], shape=[1, 2, 3])),
            "b": both(real, extra(zero=0.0, negative=[-1, 2])),
            "discount": discount(),
            "tol": both(scalar, extra(zero=0.0, negative=-1e-3, large=0.5)),
        },
    ),
    "beta_stopping_value": Row(
        lambda: {"a": 2, "b": 3, "retirement": 0.0, "discount": 0.9, "depth": 20},
        {
            "a": both(scalar, extra(zero=0.0)),
            "b": both(scalar, extra(zero=0.0)),
            "retirement": scalar,
            "discount": discount(),
            "depth": count,
        },
    ),
    # ---- bandits
    "beta_bernoulli_arm": Row(
        lambda: {"a": 1, "b": 1, "depth": 3},
        {"a": both(scalar, extra(zero=0.0)), "b": both(scalar, extra(zero=0.0)), "depth": count},
    ),
    "dynamic_second_price": Row(
        lambda: {"arms": [mdlib.beta_bernoulli_arm(1, 1, 3), ([[1.0]], [0.55])], "discount": 0.9},
        {
            "arms": both(
                obj,
                extra(
                    empty=[],
                    nan=[([[1.0]], [NAN])],
                    not_stochastic=[([[0.5]], [1.0])],
                    shape=[([[1.0]], [1.0, 2.0])],
                    not_a_pair=[1.0],
                ),
            ),
            "discount": discount(),
        },
    ),
    "two_armed_bandit": Row(
        lambda: {"priors": [(1, 1), (1, 1)], "discount": 0.9, "depth": 10, "record": 3},
        {
            "priors": both(obj, extra(nan=[(NAN, 1), (1, 1)], negative=[(-1, 1), (1, 1)], three=[(1, 1)] * 3)),
            "discount": discount(),
            "depth": count,
            "record": both(count, extra(large=11), skip=("zero",)),
        },
    ),
    "virtual_index_auction": Row(
        lambda: {"arms": [([[1.0]], [0.9]), ([[1.0]], [0.6])], "discount": 0.9, "alpha": [1.0, 1.0], "beta": [-0.5, 0.0]},
        {
            "arms": both(
                obj,
                extra(
                    empty=[],
                    nan=[([[1.0]], [NAN]), ([[1.0]], [0.6])],
                    not_stochastic=[([[0.5]], [1.0]), ([[1.0]], [0.6])],
                    str_pair="ab",
                ),
            ),
            "discount": discount(),
            "alpha": both(vector, extra(negative=[-1.0, 1.0], zero=[0.0, 1.0], length=[1.0, 1.0, 1.0]), skip=("None",)),
            "beta": both(vector, extra(length=[0.0, 0.0, 0.0]), skip=("None",)),
        },
    ),
    "random_arms": Row(
        lambda: {"seed": 0, "n_bidders": 2, "n_states": 2},
        {"seed": extra(str="abc", float=1.5, negative=-1), "n_bidders": count, "n_states": count},
    ),
    # ---- optimal auctions
    "ar1_stopping": Row(
        lambda: {
            "theta0": [0.0],
            "rho": 0.5,
            "mean": 1.0,
            "shocks": ([[1.0]], [0.0]),
            "discount": 0.8,
            "horizon": 4,
            "handicap": [0.0],
            "start": 0,
            "paths": False,
        },
        {
            "theta0": both(vector, skip=("shape",)),  # a 2-d theta0 is a batch of profiles
            "rho": both(scalar, extra(above=1.5, negative=-0.5)),
            "mean": scalar,
            "shocks": both(obj, extra(nan=([[1.0]], [NAN]), not_stochastic=([[0.5]], [0.0]), shape=([[1.0]], [0.0, 1.0]))),
            "discount": discount(hi_closed=True),
            "horizon": count,
            "handicap": both(vector, skip=("None",)),
            "start": both(count, extra(out_of_range=5), skip=("None", "zero")),
            "paths": boolean,
        },
    ),
    "arrival_auction": Row(
        lambda: {"values": [1.0, 2.0], "pmf": [0.5, 0.5], "rate": 1.0, "discount": 0.9, "horizon": 2, "objective": "revenue"},
        {
            "values": both(vector, extra(decreasing=[2.0, 1.0])),
            "pmf": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "rate": both(real, extra(zero=0.0, negative=-1.0, length=[1.0, 1.0, 1.0])),
            "discount": discount(hi_closed=True),
            "horizon": count,
            "objective": choice,
        },
    ),
    "arrival_deviation_gain": Row(lambda: {"auction": _arrival()}, {"auction": obj}),
    "ar1_sale_mechanism": Row(
        lambda: {
            "theta0": [0.0, 1.0],
            "pmf0": [0.5, 0.5],
            "shocks": [-0.5, 0.5],
            "shock_pmf": [0.5, 0.5],
            "rho": 0.5,
            "mu": 1.0,
            "discount": 0.9,
            "periods": 2,
        },
        {
            "theta0": both(vector, extra(decreasing=[1.0, 0.0])),
            "pmf0": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "shocks": both(vector, extra(decreasing=[0.5, -0.5])),
            "shock_pmf": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "rho": both(scalar, extra(above=1.5, negative=-0.5)),
            "mu": scalar,
            "discount": discount(hi_closed=True),
            "periods": count,
        },
    ),
    "learning_arrival_auction": Row(
        lambda: {"values": [1.0, 2.0], "pmf": [0.5, 0.5], "rates": [0.5, 0.9], "prior": [0.5, 0.5], "discount": 0.9, "horizon": 2},
        {
            "values": both(vector, extra(decreasing=[2.0, 1.0])),
            "pmf": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "rates": both(vector, extra(above=[0.5, 1.5], zero=[0.0, 0.5])),
            "prior": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "discount": discount(hi_closed=True),
            "horizon": count,
        },
    ),
    "learning_deviation_gain": Row(
        lambda: {"auction": _learning(), "payment": _learning().payment, "reports": "any", "stay_away": True},
        {"auction": obj, "payment": both(vector, skip=("None",)), "reports": choice, "stay_away": boolean},
    ),
    "certainty_equivalent_payment": Row(lambda: {"auction": _learning()}, {"auction": obj}),
    "progressive_tree": Row(
        lambda: {"rates": [1.0, 2.0], "prior": [0.5, 0.5], "shocks": [1.0], "shock_pmf": [1.0], "periods": 2, "discount": 1.0},
        {
            "rates": both(vector, extra(decreasing=[2.0, 1.0], negative=[-1.0, 2.0])),
            "prior": both(probs, extra(length=[0.2, 0.3, 0.5])),
            "shocks": both(vector, extra(negative=[-1.0])),
            "shock_pmf": both(probs, extra(length=[0.5, 0.5])),
            "periods": count,
            "discount": discount(hi_closed=True),
        },
    ),
    # ---- virtual
    "virtual_weights": Row(
        lambda: {"first": U01, "s0": [0.5, 0.8, 1.0], "A": np.sqrt, "dA": lambda s: 0.5 / np.sqrt(s), "form": "multiplicative"},
        {
            "first": dist(False),
            "s0": both(real, extra(outside=[0.5, 1.5])),
            "A": function,
            "dA": function,
            "form": choice,
        },
    ),
    "single_buyer_menu": Row(
        lambda: {"first": U01, "shock": U01, "cost": 0.2, "discount": 0.9},
        {
            "first": both(dist(True), extra(unbounded=stats.expon())),
            "shock": both(dist(True), extra(negative=stats.uniform(-1, 2)), skip=("discrete",)),
            "cost": both(scalar, extra(negative=-0.1)),
            "discount": discount(),
        },
    ),
    "ad_auction_model": Row(
        lambda: {"margins": [0.8, 0.6], "discount": 0.9}, {"margins": free_vector, "discount": discount()}
    ),
    "ad_auction": Row(
        lambda: {"scales": [0.6, 0.6], "discount": 0.9},
        {"scales": both(vector, extra(last_axis=[0.6, 0.6, 0.6]), skip=("shape",)), "discount": discount()},
    ),
    "ad_auction_breakpoints": Row(lambda: {"discount": 0.9}, {"discount": discount()}),
    "ad_auction_relaxed": Row(
        lambda: {"margins": [1.0, 0.9], "discount": 0.9},
        {
            "margins": both(vector, extra(outside=[1.5, 0.9], last_axis=[0.5, 0.5, 0.5]), skip=("shape",)),
            "discount": discount(),
        },
    ),
    # ---- sequential
    "continuation_revenue": Row(
        lambda: {**_law(), "promised_utility": 0.4}, {**LAW, "promised_utility": both(real, extra(negative=-0.1))}
    ),
    "price_points": Row(_law, LAW),
    "two_value_revenues": Row(
        lambda: {"q1": 1 / 3, "q2": 0.5, "lo": 1.0, "hi": 2.0},
        {
            "q1": both(scalar, extra(above=1.5, negative=-0.1)),
            "q2": both(scalar, extra(above=1.5, negative=-0.1)),
            "lo": both(scalar, extra(negative=-1.0, above_hi=3.0)),
            "hi": both(scalar, extra(below_lo=0.5)),
        },
    ),
    "continuation_revenue_lp": Row(
        lambda: {**_law(), "promised_utility": 0.4}, {**LAW, "promised_utility": both(scalar, extra(negative=-0.1))}
    ),
    "two_good_continuation_revenue": Row(
        lambda: {"values": [[1, 2], [1, 2]], "probs": [[0.7, 0.3], [0.4, 0.6]], "promised_utility": 0.1},
        {
            "values": both(vector, extra(decreasing=[[2, 1], [1, 2]], three=[[1, 2], [1, 2], [1, 2]])),
            "probs": probs,
            "promised_utility": both(scalar, extra(negative=-0.1), skip=("None",)),
        },
    ),
    "two_by_two_lp": Row(
        lambda: {"values": [[1, 2], [1, 2]], "probs": [[0.25, 0.25], [0.25, 0.25]], "kind": "separable"},
        {"values": vector, "probs": both(probs, extra(zero_path=[[0.5, 0.0], [0.25, 0.25]])), "kind": choice},
    ),
    "two_by_two_revenue": Row(
        lambda: {"values": [[1, 2], [1, 2]], "probs": [[0.01, 0.49], [0.49, 0.01]], "kind": "general"},
        {"values": vector, "probs": both(probs, extra(zero_path=[[0.5, 0.0], [0.25, 0.25]])), "kind": choice},
    ),
    "optimal_face": Row(
        lambda: {"values": [[1, 2], [1, 2]], "probs": [[0.21, 0.49], [0.09, 0.21]], "kind": "separable", "slack": 1e-9},
        {
            "values": vector,
            "probs": both(probs, extra(zero_path=[[0.5, 0.0], [0.25, 0.25]])),
            "kind": choice,
            "slack": both(scalar, extra(zero=0.0, large=0.5)),
        },
    ),
    # ---- commitment
    "positive_commitment": Row(
        lambda: {"dist": U01},
        {
            "dist": both(
                dist(True),
                extra(law_nan=([NAN, 2.0], [0.5, 0.5]), law_sum=([1.0, 2.0], [0.5, 0.6]), law_negative=([1.0, 2.0], [-0.5, 1.5])),
            )
        },
    ),
    "commitment_game": Row(
        lambda: {**_law(), "horizon": 2}, {**FINITE_LAW, "horizon": both(count, extra(large=7))}
    ),
    "equilibrium_offers": Row(
        lambda: {**_law(), "horizon": 2, "kind": "day-before", "contract_price": 1.7, "spot_price": 2.0},
        {
            **FINITE_LAW,
            "horizon": both(count, extra(large=7)),
            "kind": choice,
            "contract_price": both(scalar, extra(negative=-1.0), skip=("None",)),
            "spot_price": both(scalar, extra(negative=-1.0), skip=("None",)),
        },
    ),
    "best_responses": Row(
        lambda: {**_law(), "horizon": 2, "offers": _offers(), "rent": 0.6},
        {
            **FINITE_LAW,
            "horizon": both(count, extra(large=7)),
            "offers": both(obj, extra(empty={})),
            "rent": both(scalar, skip=("None",)),
        },
    ),
    # ---- plotting
    "set_style": Row(lambda: {}, {}),
    "label_axes": Row(
        lambda: {"ax": _axes(), "xlabel": "value $v$", "ylabel": "revenue", "title": None},
        {"ax": obj, "xlabel": label, "ylabel": label, "title": optional_label},
    ),
}


# --------------------------------------------------------------------------- the tests
def _public_functions() -> list[str]:
    return [name for name in mdlib.__all__ if inspect.isfunction(getattr(mdlib, name))]


def _cases() -> list[Any]:
    cases = []
    for name in sorted(TABLE):
        row = TABLE[name]
        sig = inspect.signature(getattr(mdlib, name))
        for param, kind in row.kinds.items():
            assert param in sig.parameters, (name, param)
            # the bad values are built from the valid value lazily, in the test
            for label in kind(_placeholder(name, param)):
                cases.append(pytest.param(name, param, label, id=f"{name}-{param}-{label}"))
    return cases


@cache
def _placeholder(name: str, param: str) -> Any:
    """The valid value of ``param`` when it does not need a built object (for the labels only)."""
    try:
        return TABLE[name].valid()[param]
    except Exception:  # pragma: no cover - objects built at collection time should not fail
        return None


def _run(fn: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[Any, BaseException | None, float]:
    """Call ``fn(**kwargs)`` in a daemon thread; give up after DEADLINE seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["out"] = fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            box["exc"] = exc

    start = time.perf_counter()
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(DEADLINE)
    elapsed = time.perf_counter() - start
    if t.is_alive():
        pytest.fail(f"no answer within {DEADLINE:g} s")
    return box.get("out"), box.get("exc"), elapsed


def _names(message: str, param: str) -> bool:
    """Whether ``message`` names ``param`` (a short name must be followed by its complaint)."""
    if len(param) > 2:
        return re.search(rf"(?<![\w.]){re.escape(param)}(?!\w)", message) is not None
    complaint = "must|has|have|is|are|should|contains|does|needs|of shape|rows|entries|and|=|:"
    pattern = rf"(?<![\w.]){re.escape(param)}(\[[^\]]*\]|\(s0\))?\s*({complaint})"
    return re.search(pattern, message) is not None


def test_every_public_function_has_a_row() -> None:
    missing = sorted(set(_public_functions()) - set(TABLE))
    assert not missing, f"public functions without a row in TABLE: {missing}"
    stale = sorted(set(TABLE) - set(_public_functions()))
    assert not stale, f"rows for names that are not public functions: {stale}"


def test_every_parameter_has_a_kind() -> None:
    """Each parameter of each public function is in its row (so its bad values are tried)."""
    missing = [
        f"{name}({p})"
        for name, row in TABLE.items()
        for p in inspect.signature(getattr(mdlib, name)).parameters
        if p not in row.kinds
    ]
    assert not missing, f"parameters without bad values: {missing}"


@pytest.mark.parametrize("name", sorted(TABLE))
def test_valid_call_succeeds(name: str) -> None:
    """The base of each row is a valid call (so each perturbation tests one argument)."""
    _, exc, elapsed = _run(getattr(mdlib, name), TABLE[name].valid())
    assert exc is None, f"{name}: the valid call raised {exc!r}"


@pytest.mark.parametrize(("name", "param", "label"), _cases())
def test_bad_value_is_refused_by_name(name: str, param: str, label: str) -> None:
    kwargs = TABLE[name].valid()
    bad = TABLE[name].kinds[param](kwargs[param])[label]
    kwargs[param] = bad
    out, exc, elapsed = _run(getattr(mdlib, name), kwargs)
    assert exc is not None, f"{name}({param}={label}) returned {out!r} instead of raising"
    assert isinstance(exc, (ValueError, TypeError)), f"{name}({param}={label}) raised {exc!r}"
    assert _names(str(exc), param), f"{name}({param}={label}): the message does not name {param!r}: {exc}"


# --------------------------------------------------------------------------- no answer without its accuracy
def test_handicap_auction_refuses_a_revenue_beyond_its_error_tolerance() -> None:
    """Student-t news with 2.5 degrees of freedom has a finite mean, but its tail defeats the bid quadrature."""
    with pytest.raises(ValueError, match="tolerance"):
        mdlib.handicap_auction(U01, lambda t: stats.t(2.5, loc=t), 2, n_grid=11)


def test_single_buyer_menu_refuses_an_answer_beyond_its_error_tolerance() -> None:
    """A Pareto shock with tail index 1.05 has a finite mean, but the quadratures do not converge."""
    with pytest.raises(ValueError, match="tolerance"):
        mdlib.single_buyer_menu(U01, stats.pareto(1.05), cost=0.2, discount=0.9)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: mdlib.optimal_option_contract(stats.cauchy(), _news, n_grid=11), "first"),
        (lambda: mdlib.optimal_option_contract(U01, lambda t: stats.cauchy(t), n_grid=41), "second_given_first"),
        (lambda: mdlib.handicap_auction(U01, lambda t: stats.cauchy(t), 2, n_grid=41), "second_given_first"),
        (lambda: mdlib.value_distribution(stats.halfcauchy(), _news), "first"),
        (lambda: mdlib.single_buyer_menu(U01, stats.halfcauchy(), cost=0.2, discount=0.9), "shock"),
    ],
)
def test_methods_that_need_a_finite_mean_say_so(call: Callable[[], Any], name: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError, match=rf"{name}.*finite mean"):
        call()
    assert time.perf_counter() - start < DEADLINE
