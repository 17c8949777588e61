"""Shared pieces of the test suite: hypothesis strategies and a chapter template."""

from __future__ import annotations

import numpy as np
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


def dynamic_models(max_discount: float):
    """Random dynamic models (:func:`mdlib.random_model`) with up to 3 agents, 3 states and 4 decisions."""
    from mdlib import random_model

    return st.builds(
        random_model,
        seed=st.integers(0, 2**32 - 1),
        n_agents=st.integers(1, 3),
        n_states=st.integers(1, 3),
        n_decisions=st.integers(1, 4),
        discount=st.floats(0.0, max_discount),
    )
