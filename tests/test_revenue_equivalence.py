"""Tests of mdlib.envelope: the payments that the envelope formula assigns to an allocation.

Closed forms first (the mixture model of the revenue-equivalence chapter), then hypothesis
properties over random models and monotone allocations: incentive compatibility by deviation
search (single and double deviations), revenue = expected dynamic virtual surplus, the role of
the one free constant, and the input checks.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdlib

GRID_TAU, GRID_V = 101, 401


def power_mixture(power: float, n: int = GRID_TAU, m: int = GRID_V):
    """F(v | tau) = tau v^power + (1 - tau) v on [0, 1]: FOSD in tau for power > 1."""
    tau = np.linspace(0, 1, n)
    v = np.linspace(0, 1, m)
    T, V = np.meshgrid(tau, v, indexing="ij")
    cdf = T * V**power + (1 - T) * V
    pdf = T * power * V ** (power - 1) + (1 - T)
    dF = V**power - V                                   # ∂F/∂tau
    return tau, v, T, V, cdf, pdf, dF


def ex_ante_gains(tau, v, x, pay, pdf):
    """Largest gain over all (true tau, report), with the best value report after each tau-report."""
    u_report = v[None, :] * x - pay                                          # [report, v] truthful in v
    u_double = np.max(v[None, :, None] * x[:, None, :] - pay[:, None, :], axis=2)   # [report, true v]
    single = np.trapezoid(u_report[None, :, :] * pdf[:, None, :], v, axis=2)         # [true tau, report]
    double = np.trapezoid(u_double[None, :, :] * pdf[:, None, :], v, axis=2)
    truthful = np.diag(single)
    return np.max(single - truthful[:, None]), np.max(double - truthful[:, None]), truthful


def test_mixture_payment_closed_form():
    """x_A of the chapter: p_A = (18 + tau^2 + 36 tau v^2)/120 and U = tau/20 + tau^2/120."""
    tau, v, T, V, cdf, pdf, _ = power_mixture(2.0)
    x_A = 0.3 + 0.1 * T + 0.6 * T * (V - 0.5)
    env = mdlib.envelope_payments(tau, v, x_A, cdf)
    assert np.max(np.abs(env.payment - (18 + T**2 + 36 * T * V**2) / 120)) < 1e-5
    assert np.max(np.abs(env.utility - (tau / 20 + tau**2 / 120))) < 1e-6


def test_falling_average_is_not_incentive_compatible():
    """x_B of the chapter: envelope payments exist, but the lowest type gains 1/120 by claiming the top."""
    tau, v, T, V, cdf, pdf, _ = power_mixture(2.0)
    x_B = 0.5 - 0.1 * T + 0.6 * T * (V - 0.5)
    env = mdlib.envelope_payments(tau, v, x_B, cdf)
    gain, _, _ = ex_ante_gains(tau, v, x_B, env.payment, pdf)
    assert abs(gain - 1 / 120) < 1e-5


monotone_rules = st.tuples(*(st.floats(0.0, 1.0) for _ in range(4)))


@given(power=st.floats(1.2, 4.0), coefficients=monotone_rules, cutoff=st.floats(0.0, 0.9))
def test_monotone_allocations_are_incentive_compatible(power, coefficients, cutoff):
    """Allocations rising in tau and v, with envelope payments: no profitable lie, single or double."""
    tau, v, T, V, cdf, pdf, _ = power_mixture(power)
    a, b, c, d = coefficients
    raw = a + b * T + c * V + d * T * V + (V >= cutoff * (1 - T))
    x = raw / raw.max() if raw.max() > 0 else raw
    env = mdlib.envelope_payments(tau, v, x, cdf)
    ex_post = v[None, :, None] * x[:, None, :] - env.payment[:, None, :]         # [tau, true v, report]
    assert np.max(ex_post - np.diagonal(ex_post, axis1=1, axis2=2)[:, :, None]) < 1e-12
    single, double, truthful = ex_ante_gains(tau, v, x, env.payment, pdf)
    assert single < 2e-4 and double < 2e-4
    assert np.max(np.abs(truthful - env.utility)) < 2e-4                         # E[v x - p | tau] = U(tau)


@given(power=st.floats(1.2, 4.0), coefficients=monotone_rules, utility_low=st.floats(0.0, 0.5))
def test_revenue_is_expected_virtual_surplus(power, coefficients, utility_low):
    """tau uniform: E[p] = E[psi x] - U(0), with psi = v - (1 - tau) I and I = -∂F/∂tau / f."""
    tau, v, T, V, cdf, pdf, dF = power_mixture(power)
    a, b, c, d = coefficients
    x = (a + b * T + c * V + d * T * V) / (1 + a + b + c + d)
    env = mdlib.envelope_payments(tau, v, x, cdf, utility_low=utility_low)
    revenue = np.trapezoid(np.trapezoid(env.payment * pdf, v, axis=1), tau)
    virtual_surplus = np.trapezoid(np.trapezoid((V * pdf + (1 - T) * dF) * x, v, axis=1), tau)
    assert abs(revenue - (virtual_surplus - utility_low)) < 2e-4


@given(shift=st.floats(-1.0, 1.0))
def test_free_constant_shifts_every_payment(shift):
    tau, v, T, V, cdf, _, _ = power_mixture(2.0, n=21, m=41)
    x = 0.2 + 0.5 * T * V
    base = mdlib.envelope_payments(tau, v, x, cdf)
    moved = mdlib.envelope_payments(tau, v, x, cdf, utility_low=shift)
    assert np.allclose(moved.payment, base.payment - shift, atol=1e-12)
    assert np.allclose(moved.utility, base.utility + shift, atol=1e-12)


def test_uninformative_first_type_earns_no_rent():
    """F independent of tau: U is constant, so every first type pays his expected surplus."""
    tau, v = np.linspace(0, 1, 11), np.linspace(0, 1, 51)
    cdf = np.tile(v**2, (tau.size, 1))
    x = np.tile((v >= 0.4).astype(float), (tau.size, 1)) * (0.5 + 0.5 * tau[:, None])
    env = mdlib.envelope_payments(tau, v, x, cdf)
    assert np.max(np.abs(env.utility)) < 1e-15
    pdf = 2 * v
    surplus = np.trapezoid(v * x * pdf, v, axis=1)
    assert np.max(np.abs(np.trapezoid(env.payment * pdf, v, axis=1) - surplus)) < 1e-3   # trapezoid error, 51 points


def _model():
    tau, v, T, V, cdf, _, _ = power_mixture(2.0, n=11, m=21)
    return tau, v, 0.5 * np.ones_like(cdf), cdf


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t, v, x, F: (t[::-1], v, x, F), "tau must be finite and strictly increasing"),
        (lambda t, v, x, F: (t, v[:2], x, F), "v must be a one-dimensional grid"),
        (lambda t, v, x, F: (t, v, x[:, :-1], F), "x must have shape"),
        (lambda t, v, x, F: (t, v, x, F[:-1]), "cdf must have shape"),
        (lambda t, v, x, F: (t, v, x + 1, F), r"x must have entries in \[0, 1\]"),
        (lambda t, v, x, F: (t, v, x, F[:, ::-1]), "non-decreasing in v"),
        (lambda t, v, x, F: (t, v, x, 0.5 * F), "cover the support"),
    ],
)
def test_bad_input_names_the_parameter(change, message):
    with pytest.raises(ValueError, match=message):
        mdlib.envelope_payments(*change(*_model()))


def test_bad_utility_low():
    with pytest.raises(ValueError, match="utility_low"):
        mdlib.envelope_payments(*_model(), utility_low=float("nan"))
