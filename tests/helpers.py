"""Shared pieces of the test suite: hypothesis strategies and a chapter template."""

from __future__ import annotations

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
