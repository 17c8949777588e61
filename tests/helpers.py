"""Shared pieces of the test suite: hypothesis strategies and a chapter template."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import strategies as st
from scipy import stats

# The jupytext front matter every chapter of the book starts with.
FRONT_MATTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


@st.composite
def distributions(draw):
    """Random beta, uniform, gamma and lognormal distributions (legacy, some new-style)."""
    kind = draw(st.sampled_from(["beta", "uniform", "gamma", "lognorm", "Uniform"]))
    x = st.floats(0.3, 6.0)
    if kind == "beta":
        return stats.beta(draw(x), draw(x))
    if kind == "uniform":
        return stats.uniform(draw(st.floats(0.0, 3.0)), draw(st.floats(0.1, 5.0)))
    if kind == "Uniform":
        lo = draw(st.floats(0.0, 3.0))
        return stats.Uniform(a=lo, b=lo + draw(st.floats(0.1, 5.0)))
    if kind == "gamma":
        return stats.gamma(draw(st.floats(0.3, 8.0)), scale=draw(st.floats(0.2, 5.0)))
    return stats.lognorm(draw(st.floats(0.2, 2.2)), scale=draw(st.floats(0.2, 5.0)))


# Random small finite type trees for the dynamic-mechanism engine (mdlib.finite):
# T <= max_periods periods with at most max_types types each, independent or correlated.
@st.composite
def instances(draw, max_periods=3, max_types=3, independent=None):
    T = draw(st.integers(1, max_periods))
    m = tuple(draw(st.integers(1, max_types)) for _ in range(T))
    indep = draw(st.booleans()) if independent is None else independent
    if indep:
        probs = np.ones(())
        for k in m:
            w = np.array(draw(st.lists(st.integers(1, 9), min_size=k, max_size=k)), float)
            probs = np.multiply.outer(probs, w / w.sum())
    else:
        n = int(np.prod(m))
        w = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), float)
        if w.sum() == 0:
            w[0] = 1.0
        probs = (w / w.sum()).reshape(m)
    values = [np.array(draw(st.lists(st.integers(0, 6), min_size=k, max_size=k)), float) / 2 for k in m]
    return values, probs


# Sequential screening instances (option contracts, handicap auctions): tau ~ U[0, 1] and
# v = tau + noise, with uniform noise on [-1/2, 1/2] or Gaussian noise of standard deviation SIGMA.
UNIFORM_TAU = stats.uniform(0, 1)
SIGMA = 0.25


def uniform_news(t):
    """v = tau + U[-1/2, 1/2]."""
    return stats.uniform(t - 0.5, 1.0)


def gaussian_news(t):
    """v = tau + N(0, SIGMA^2)."""
    return stats.norm(t, SIGMA)


def dynamic_models(max_discount: float, min_agents: int = 1, max_states: int = 3, max_decisions: int = 4):
    """Random dynamic models (:func:`mdlib.random_model`) with ``min_agents`` to 3 agents, and up to
    ``max_states`` states per agent and ``max_decisions`` decisions."""
    from mdlib import random_model

    return st.builds(
        random_model,
        seed=st.integers(0, 2**32 - 1),
        n_agents=st.integers(min_agents, 3),
        n_states=st.integers(1, max_states),
        n_decisions=st.integers(1, max_decisions),
        discount=st.floats(0.0, max_discount),
    )


def toy_model(discount=0.9):
    """Two agents, two states each: agent 0 moves only when served (he learns by doing), agent 1
    follows an autonomous chain. Decision 0 serves no one, decision ``1 + i`` serves agent ``i``."""
    from mdlib import DynamicModel

    v0 = np.zeros((3, 2))
    v0[1] = [0.3, 1.0]
    F0 = np.tile(np.eye(2), (3, 1, 1))
    F0[1] = [[0.5, 0.5], [0.2, 0.8]]
    v1 = np.zeros((3, 2))
    v1[2] = [0.5, 0.8]
    F1 = np.tile([[0.7, 0.3], [0.3, 0.7]], (3, 1, 1))
    return DynamicModel([v0, v1], [F0, F1], discount)


def load_module(name: str, path):
    """Import the Python file ``path`` as the module ``name`` (tools/ and test files are not packages)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# Hand-built mechanisms on tiny trees and the gain of the best pure reporting strategy, found by
# enumerating every strategy table: the reference for mdlib.audit (separable and general kinds).
@st.composite
def hand_built(draw, full_path=False):
    """Random values, probs, allocation and payment; allocations by report history, or by whole path."""
    T = draw(st.integers(1, 3))
    m = (2,) * T if T == 3 else tuple(draw(st.integers(1, 3)) for _ in range(T))
    n = int(np.prod(m))
    w = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), float)
    w[0] += 1
    probs = (w / w.sum()).reshape(m)
    values = [np.array(draw(st.lists(st.integers(0, 4), min_size=k, max_size=k)), float) for k in m]
    shapes = [m if full_path else m[: t + 1] for t in range(T)]
    alloc = [np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=int(np.prod(s)), max_size=int(np.prod(s)))))
             .reshape(s) for s in shapes]
    pay = np.array(draw(st.lists(st.integers(0, 8), min_size=n, max_size=n)), float).reshape(m) / 2
    return values, probs, alloc, pay


def brute_force_gain(values, probs, alloc, pay, full_path=False):
    """Largest conditional gain of any pure strategy, by enumerating strategy tables (tiny trees only)."""
    m, T = probs.shape, probs.ndim
    hists = [h for t in range(1, T + 1) for h in itertools.product(*[range(k) for k in m[:t]])]
    col = {h: i for i, h in enumerate(hists)}
    paths = list(itertools.product(*[range(k) for k in m]))
    dims = [m[len(h) - 1] for h in hists]                    # a report at each history
    S = np.stack(np.unravel_index(np.arange(int(np.prod(dims))), dims), axis=1)  # strategies x histories
    U = np.zeros((len(S), len(paths)))
    for j, path in enumerate(paths):
        reports = tuple(S[:, col[path[: t + 1]]] for t in range(T))
        for t in range(T):
            U[:, j] += values[t][path[t]] * alloc[t][reports if full_path else reports[: t + 1]]
        U[:, j] -= pay[reports]
    truth = np.array([[h[-1] for h in hists]])
    gain = U - U[np.flatnonzero((S == truth).all(axis=1))[0]]
    best = 0.0
    for h in hists:  # information set h: truthful at the earlier periods of h
        ok = np.all([S[:, col[h[:s]]] == h[s - 1] for s in range(1, len(h))], axis=0) if len(h) > 1 else np.ones(len(S), bool)
        w = np.array([probs[p] if p[: len(h)] == h else 0.0 for p in paths])
        if w.sum() > 0:
            best = max(best, float((gain[ok] @ w).max() / w.sum()))
    return best


def report_mdp_by_value_iteration(model, policy, transfers, i):
    """Agent i's best response to a mechanism (``policy``, ``transfers`` of the current reports) of a
    DynamicModel, with the reports themselves as actions (an (S, n_i, S) kernel), by value iteration to
    1e-13: an independent route to the audits, which solve it with the decisions as actions.
    Returns the value and the gain of the best lie in every true joint state."""
    S, d, states = model.n_joint, model.discount, model.states
    P = model.joint_transition()
    reported = np.repeat(states[:, None, :], model.n_states[i], axis=1)
    reported[:, :, i] = np.arange(model.n_states[i])
    k_rep = np.ravel_multi_index(tuple(np.moveaxis(reported, 2, 0)), model.n_states)   # (S, n_i)
    x_rep = policy[k_rep]
    R = model.values[i][x_rep, states[:, i][:, None]] - transfers[i][k_rep]
    Q = P[np.arange(S)[:, None], x_rep, :]
    V = np.zeros(S)
    while True:
        q = R + d * Q @ V
        V_next = q.max(axis=1)
        if np.abs(V_next - V).max() <= 1e-13 * (1 - d):
            q = R + d * Q @ V_next
            return V_next, q.max(axis=1) - q[np.arange(S), states[:, i]]
        V = V_next


def refuses(call, message: str) -> None:
    """``call()`` raises a ``ValueError`` whose message is exactly ``message``."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
