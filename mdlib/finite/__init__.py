"""Finite dynamic mechanisms: optimal mechanisms by linear programming, and deviation audits.

**The model.**

A buyer lives for periods ``t = 1, ..., T``. In period ``t`` he privately learns his type
``theta_t`` from a finite set ``{0, ..., m_t - 1}``; ``probs`` is the joint probability array
of the type path, of shape ``(m_1, ..., m_T)`` (any correlation allowed). In period ``t`` one
unit of good ``t`` can be allocated to him with probability ``x_t in [0, 1]``; it is worth
``values[t-1][theta_t]`` to him (a period whose values are all 0 only brings information).
Utility is additive: the sum of the values of the goods received minus the payments.

**Values that depend on the type history.** ``values[t-1]`` may instead be an array of shape
``(m_1, ..., m_t)``: the value of good ``t`` on every type history ``(theta_1, ..., theta_t)``
(a vector is the special case of a value that depends on ``theta_t`` only). This is how to
write a value such as ``v(s_0, s_1)`` of Kakade, Lobel and Nazerzadeh's nonseparable example
without folding ``s_0`` into the type of period 2: folding it would make observing period 2
reveal ``s_0``. A deviator's continuation then depends on his true history through its
*belief class*, which with history values also requires equal values of the future goods on
every future path (see below).

**Observed periods.** ``optimal_mechanism(..., observed=(t, ...))`` (0-based period indices)
lets the mechanism see the true type of those periods: the buyer sends no report there, so a
reporting strategy can only misreport the other periods, and there is no incentive constraint
for lying about an observed type. The resulting :class:`Mechanism` records ``observed``, and
:func:`audit` searches exactly those deviations by default (``audit(mech, observed=())``
searches them all, as if every type were private). With ``observed=(1, ..., T-1)`` only the
first type is private: the *relaxed environment*, whose optimal revenue bounds the dynamic one.
The mechanism's arrays are still indexed by the type history it sees (reports and observed
types). When an observed type has probability zero after the reports so far (the observation
contradicts the reports), the mechanism reads it by the off-path convention below, as an
impossible report, rather than punishing the detected lie; with observed types that have
positive probability after every report history (independent ones, say) this never arises.
Observed periods are supported for the ``separable`` kind only; ``static`` and
``general`` raise a ``ValueError`` (their single or final allocation has no notion of a
period whose report is forced).

**Mechanisms and reports.**

``kind="separable"`` (the default)
    Ashlagi, Daskalakis and Haghpanah's *separable* class: the buyer reports a type in every
    period and good ``t`` is allocated in period ``t`` by the reports up to period ``t``, so
    ``allocation[t-1]`` has shape ``(m_1, ..., m_t)``. Payments may fall at any history;
    since utility is additive and there is no discounting, only the total payment on each
    report path matters, and it is stored as ``payment`` of shape ``(m_1, ..., m_T)``.
``kind="static"``
    One report of the whole type path after all types are known; every ``allocation[t-1]``
    has shape ``(m_1, ..., m_T)`` (the goods are delivered at the end; with additive values
    the delivery date does not matter).
``kind="general"``
    Ashlagi, Daskalakis and Haghpanah's *general* class: the buyer reports a type in every
    period, as in ``separable``, but every good is allocated after the last report, by the
    whole report path, so every ``allocation[t-1]`` has shape ``(m_1, ..., m_T)`` and the
    seller may bundle goods across periods. It contains both ``separable`` (an allocation that
    ignores later reports) and ``static`` (a menu that is incentive compatible on whole paths
    is so against every reporting strategy), so its optimum is at least both of theirs; with
    independent types it equals the ``separable`` optimum (their Proposition 1). Asking the buyer
    to re-report his whole history each period, as they do, gives him more ways to lie and
    the seller nothing she could not get with these direct reports (revelation principle).

**Off-path reports.**

The arrays of a mechanism cover *every* report history, so that a deviator always gets a
defined outcome. Optimal mechanisms are computed on the reachable histories only (a report
with probability zero after the reports so far needs no allocation and no constraint); the
other entries are then filled by the convention "a report outside the support, given the
reports so far, is read as the lowest type in that support", i.e. they copy the outcome of a
reachable history. This keeps the deviator's options exactly those the linear programme
constrains, so :func:`audit` of an optimum, which tries *every* report at every history,
finds no profitable deviation. (Filling them with "no good, no payment" would not be sound:
a buyer who received goods could then escape the final payment by an impossible report.)

**Participation (ir).**

``"ex-ante"``: expected utility before period 1 is non-negative; ``"interim"``: expected
utility after learning ``theta_1`` is non-negative for every ``theta_1``; ``"ex-post"``:
realised utility is non-negative on every type path.
"""

from ._audit import Audit, audit
from ._design import optimal_mechanism, revenue_range
from ._mechanism import Mechanism, make_mechanism
from ._revelation import Revelation, revelation
from ._tree import IR_KINDS, MECHANISM_KINDS
from ._uniform_noise import UniformNoiseTree, uniform_noise_tree

__all__ = [
    "Mechanism",
    "Audit",
    "Revelation",
    "IR_KINDS",
    "MECHANISM_KINDS",
    "make_mechanism",
    "optimal_mechanism",
    "audit",
    "revelation",
    "revenue_range",
    "UniformNoiseTree",
    "uniform_noise_tree",
]
