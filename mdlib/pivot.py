r"""Efficient dynamic mechanisms: the dynamic pivot mechanism of Bergemann and Välimäki.

The model (:class:`DynamicModel`) has agents ``i = 0, ..., I - 1`` with finitely many
private states each, a finite set of decisions ``x = 0, ..., K - 1`` taken every
period, flow values ``values[i][x, s]`` (agent ``i``'s value of decision ``x`` in his
private state ``s``) and controlled private kernels ``transitions[i][x, s, s']``,
independent across agents given the decision, and a common discount factor.
A **joint state** lists every agent's private state; joint states are numbered in
C order (agent 0's state is the most significant digit), see
:attr:`DynamicModel.states`.

:func:`dynamic_pivot` computes the social value :math:`W`, the efficient policy
:math:`x^*`, the values :math:`W_{-i}` and policies :math:`x^*_{-i}` of the problems
without each agent, the marginal contributions :math:`M_i = W - W_{-i}`, the flow
marginal contributions :math:`m_i`, the pivot transfers

.. math:: p^*_i(\theta) = W_{-i}(\theta_{-i}) - \Big[\sum_{j \ne i} u_j(x^*(\theta), \theta_j)
          + \delta\, \mathbb{E}\big[W_{-i}(\theta'_{-i}) \mid \theta_{-i}, x^*(\theta)\big]\Big]

and the outside options :math:`O_i` (agent ``i``'s value when the planner runs
:math:`x^*_{-i}`). :func:`audit_pivot` solves each agent's best-response MDP, with
reports as actions, and measures the gain from lying in every joint state.
:func:`scheduling_pivot` and :func:`scheduling_pivot_prices` give the closed forms of
the scheduling example, and :func:`scheduling_model` builds that example as a
:class:`DynamicModel`.

**Weighted (virtual) pivot.** Given frozen affine weights (``PivotWeights``),
:func:`dynamic_pivot` ``(model, weights)`` runs the same mechanism on the weighted
welfare :math:`\sum_i (\hat\alpha_i u_i + \hat\beta_i)` and charges
:math:`p_i = u_i - m_i/\hat\alpha_i`, Kakade, Lobel and Nazerzadeh's virtual-pivot
flow payment. Their two-period ad auction, the worked example of the virtual-pivot
chapter, lives in :mod:`mdlib.virtual`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from ._validation import check_discount, check_positive_int, check_real, check_vector, format_number, make_rng
from ._markov import ROW_SUM_TOL, _action_values, _evaluate
from .mdp import solve_mdp

__all__ = [
    "DynamicModel",
    "PivotResult",
    "PivotAudit",
    "SchedulingPivot",
    "PivotWeights",
    "dynamic_pivot",
    "audit_pivot",
    "scheduling_model",
    "scheduling_pivot",
    "scheduling_pivot_prices",
    "random_model",
]


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False)
class DynamicModel:
    r"""A finite dynamic allocation model with independent private Markov states.

    Parameters
    ----------
    values : sequence of array_like
        ``values[i]`` has shape ``(n_decisions, n_states_i)``: agent ``i``'s flow value
        :math:`u_i(x, \theta_i)` of decision ``x`` in his private state :math:`\theta_i`.
    transitions : sequence of array_like
        ``transitions[i]`` has shape ``(n_decisions, n_states_i, n_states_i)``: the
        probability that agent ``i``'s state moves from ``s`` to ``s'`` under decision
        ``x``. Rows are distributions (nonnegative, summing to one within 1e-9).
    discount : float
        The common discount factor :math:`\delta \in [0, 1)`.

    Raises
    ------
    ValueError
        If ``values`` and ``transitions`` are empty or have different lengths, shapes
        disagree (the number of decisions must be common), entries are not finite,
        transition rows are not distributions, or ``discount`` is outside ``[0, 1)``.

    Examples
    --------
    One agent, one state, two decisions worth 0 and 1:

    >>> from mdlib import DynamicModel
    >>> m = DynamicModel(values=[[[0.0], [1.0]]], transitions=[[[[1.0]], [[1.0]]]], discount=0.5)
    >>> m.n_agents, m.n_decisions, m.n_states, m.n_joint
    (1, 2, (1,), 1)
    """

    values: tuple[NDArray[np.float64], ...]
    transitions: tuple[NDArray[np.float64], ...]
    discount: float
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vals, trans = self.values, self.transitions
        if isinstance(vals, np.ndarray) and vals.ndim == 3:
            vals = list(vals)
        if isinstance(trans, np.ndarray) and trans.ndim == 4:
            trans = list(trans)
        try:
            vals = tuple(np.array(v, dtype=np.float64) for v in vals)
            trans = tuple(np.array(t, dtype=np.float64) for t in trans)
        except (TypeError, ValueError) as exc:
            raise ValueError("values and transitions must be sequences of real arrays, one per agent") from exc
        if len(vals) < 1:
            raise ValueError("values must list at least one agent")
        if len(trans) != len(vals):
            raise ValueError(f"transitions must have one array per agent: got {len(trans)} for {len(vals)} agents")
        K = vals[0].shape[0] if vals[0].ndim == 2 else -1
        for i, (v, t) in enumerate(zip(vals, trans)):
            if v.ndim != 2 or v.shape[0] != K or v.shape[0] < 1 or v.shape[1] < 1:
                raise ValueError(
                    f"values[{i}] must have shape (n_decisions, n_states_{i}) with a common n_decisions, got {v.shape}"
                )
            if not np.isfinite(v).all():
                raise ValueError(f"values[{i}] must be finite")
            n = v.shape[1]
            if t.shape != (K, n, n):
                raise ValueError(f"transitions[{i}] must have shape {(K, n, n)} to match values[{i}], got {t.shape}")
            if not np.isfinite(t).all() or (t < 0).any():
                raise ValueError(f"transitions[{i}] must contain finite nonnegative probabilities")
            sums = t.sum(axis=2)
            if (np.abs(sums - 1.0) > ROW_SUM_TOL).any():
                x, s = (int(a) for a in np.argwhere(np.abs(sums - 1.0) > ROW_SUM_TOL)[0])
                raise ValueError(f"transitions[{i}] rows must sum to 1: row [{x}, {s}, :] sums to {sums[x, s]:.12g}")
            v.setflags(write=False)
            t.setflags(write=False)
        object.__setattr__(self, "values", vals)
        object.__setattr__(self, "transitions", trans)
        object.__setattr__(self, "discount", check_discount(self.discount, lo_closed=True))

    # ----------------------------------------------------------------- sizes
    @property
    def n_agents(self) -> int:
        """The number of agents ``I``."""
        return len(self.values)

    @property
    def n_decisions(self) -> int:
        """The number of decisions ``K``."""
        return int(self.values[0].shape[0])

    @property
    def n_states(self) -> tuple[int, ...]:
        """The number of private states of each agent."""
        return tuple(int(v.shape[1]) for v in self.values)

    @property
    def n_joint(self) -> int:
        """The number of joint states, the product of :attr:`n_states`."""
        return int(np.prod(self.n_states))

    @property
    def states(self) -> NDArray[np.int64]:
        """The joint states, shape ``(n_joint, n_agents)``: row ``k`` lists each agent's private state."""
        return np.array(np.unravel_index(np.arange(self.n_joint), self.n_states)).T

    def state_index(self, private_states: Sequence[int]) -> int:
        """The number of the joint state with the given private states (one per agent)."""
        if len(private_states) != self.n_agents:
            raise ValueError(f"private_states must list {self.n_agents} states, got {len(private_states)}")
        for i, (s, n) in enumerate(zip(private_states, self.n_states)):
            if not 0 <= int(s) < n:
                raise ValueError(f"private_states[{i}] must lie in [0, {n - 1}], got {s}")
        return int(np.ravel_multi_index(tuple(int(s) for s in private_states), self.n_states))

    # ----------------------------------------------------------------- joint objects
    def joint_values(self, agents: Sequence[int] | None = None) -> NDArray[np.float64]:
        r"""Total flow value :math:`\sum_{i \in A} u_i(x, \theta_i)` of a set ``A`` of agents.

        Returns an array of shape ``(n_joint_A, n_decisions)`` over the joint states of
        the agents in ``agents`` (all agents by default; an empty set has one state).
        """
        return self._joint_sum(self.values, agents)

    def _joint_sum(self, flows: Sequence[NDArray[np.float64]], agents: Sequence[int] | None) -> NDArray[np.float64]:
        """Sum per-agent flows ``flows[i]`` of shape ``(n_decisions, n_states_i)`` over joint states."""
        agents = self._agents(agents)
        shape = tuple(self.n_states[i] for i in agents)
        total = np.zeros((self.n_decisions, *shape))
        for pos, i in enumerate(agents):
            expand = [1] * len(agents)
            expand[pos] = shape[pos]
            total = total + flows[i].reshape(self.n_decisions, *expand)
        return total.reshape(self.n_decisions, -1).T.copy()

    def joint_transition(self, agents: Sequence[int] | None = None) -> NDArray[np.float64]:
        """The joint kernel of a set of agents, shape ``(n_joint_A, n_decisions, n_joint_A)``.

        Private states move independently given the decision, so the joint kernel of
        each decision is the Kronecker product of the agents' kernels.
        """
        agents = self._agents(agents)
        key = ("P", agents)
        if key not in self._cache:
            per_x = [reduce(np.kron, [self.transitions[i][x] for i in agents], np.ones((1, 1)))
                     for x in range(self.n_decisions)]
            self._cache[key] = np.ascontiguousarray(np.stack(per_x, axis=1))
        return self._cache[key]

    def project(self, agents: Sequence[int] | None) -> NDArray[np.int64]:
        """For each joint state, the number of its restriction to ``agents``, shape ``(n_joint,)``."""
        agents = self._agents(agents)
        if not agents:
            return np.zeros(self.n_joint, dtype=np.int64)
        sub = self.states[:, list(agents)]
        return np.ravel_multi_index(tuple(sub.T), tuple(self.n_states[i] for i in agents)).astype(np.int64)

    def _agents(self, agents: Sequence[int] | None) -> tuple[int, ...]:
        if agents is None:
            return tuple(range(self.n_agents))
        agents = tuple(int(i) for i in agents)
        if any(not 0 <= i < self.n_agents for i in agents) or len(set(agents)) != len(agents):
            raise ValueError(f"agents must be distinct agent numbers in [0, {self.n_agents - 1}], got {agents}")
        return tuple(sorted(agents))


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class PivotResult:
    r"""The efficient policy and the dynamic pivot mechanism in every joint state.

    Arrays indexed by agent have shape ``(n_agents, n_joint)``; the others ``(n_joint,)``.
    The fields, in the book's symbols:

    - ``model``: the :class:`DynamicModel` solved;
    - ``policy`` and ``welfare``: the efficient decision :math:`x^*(\theta)` and the social
      value :math:`W(\theta)`;
    - ``policy_without`` and ``welfare_without``: the same without agent ``i``,
      :math:`x^*_{-i}(\theta_{-i})` and :math:`W_{-i}(\theta_{-i})`, on joint states;
    - ``marginal_contribution``: :math:`M_i(\theta) = W(\theta) - W_{-i}(\theta_{-i})`, agent
      ``i``'s value of truth-telling;
    - ``flow_marginal_contribution``: :math:`m_i(\theta) = M_i(\theta) - \delta\,\mathbb{E}[M_i(\theta') \mid \theta, x^*(\theta)]`;
    - ``transfers``: the pivot payment :math:`p_i(\theta) = u_i(x^*(\theta), \theta_i) - m_i(\theta)`
      made by agent ``i``;
    - ``flow_value``: agent ``i``'s flow value :math:`u_i(x^*(\theta), \theta_i)` of the efficient decision;
    - ``outside_option``: :math:`O_i(\theta)`, agent ``i``'s discounted value when the planner runs
      :math:`x^*_{-i}`;
    - ``weights``: the frozen weights :math:`(\hat\alpha, \hat\beta)` of a weighted pivot (``None``:
      unweighted). With weights, ``welfare``, ``welfare_without``, ``marginal_contribution`` and
      ``flow_marginal_contribution`` are in weighted units; ``flow_value``, ``outside_option`` and
      ``transfers`` in the agents' own (true) units.
    """

    model: DynamicModel
    policy: NDArray[np.int64]
    welfare: NDArray[np.float64]
    welfare_without: NDArray[np.float64]
    policy_without: NDArray[np.int64]
    marginal_contribution: NDArray[np.float64]
    flow_marginal_contribution: NDArray[np.float64]
    transfers: NDArray[np.float64]
    flow_value: NDArray[np.float64]
    outside_option: NDArray[np.float64]
    weights: "PivotWeights | None" = None

    @property
    def utility(self) -> NDArray[np.float64]:
        r"""Each agent's truthful continuation utility :math:`M_i/\hat\alpha_i`, shape ``(n_agents, n_joint)``.

        Unweighted, this is the marginal contribution :math:`M_i`.
        """
        if self.weights is None:
            return self.marginal_contribution
        return self.marginal_contribution / self.weights.alpha[:, None]


class PivotWeights(NamedTuple):
    r"""Frozen affine weights of the weighted (virtual) pivot.

    The weighted flow of agent ``i`` is :math:`\hat\alpha_i u_i(x, \theta_i) + \hat\beta_i(x, \theta_i)`.
    """

    alpha: NDArray[np.float64]
    r""":math:`\hat\alpha`, shape ``(n_agents,)``, every entry positive."""
    beta: tuple[NDArray[np.float64], ...]
    r""":math:`\hat\beta_i`, one array per agent of shape ``(n_decisions, n_states_i)`` (zeros if not given)."""


class PivotAudit(NamedTuple):
    """Each agent's best-response problem against the dynamic pivot mechanism."""

    value: NDArray[np.float64]
    """The optimal value of agent ``i``'s best-response MDP in each true joint state, ``(n_agents, n_joint)``."""
    gain: NDArray[np.float64]
    """The most agent ``i`` gains in each joint state by a report other than the truth, ``(n_agents, n_joint)``."""
    max_gain: float
    """The largest entry of ``gain`` (0 up to rounding when truth-telling is optimal)."""
    max_value_error: float
    r"""The largest ``|value - utility|``: the marginal contribution :math:`M_i`, divided by
    :math:`\hat\alpha_i` for a weighted pivot."""
    truthful: bool
    """Whether ``max_gain <= tol``: truth-telling is optimal for every agent in every state."""


class SchedulingPivot(NamedTuple):
    """The scheduling example in closed form; arrays are aligned with the input order."""

    order: NDArray[np.int64]
    """The agents served, in the order of service (highest value first; ties by index)."""
    period: NDArray[np.int64]
    """The period in which each agent is served (``-1`` if never: a value <= 0)."""
    price: NDArray[np.float64]
    """The pivot payment each agent makes in his service period (0 if never served)."""
    marginal_contribution: NDArray[np.float64]
    r"""Each agent's marginal contribution :math:`M_i = W - W_{-i}` at the start."""
    welfare: float
    """The social value :math:`W` at the start."""


# --------------------------------------------------------------------------- the mechanism
def _check_weights(weights: Any, model: DynamicModel) -> PivotWeights:
    """Validate ``weights`` for ``model``: a vector alpha, or a pair (alpha, beta)."""
    I, K = model.n_agents, model.n_decisions
    if isinstance(weights, PivotWeights) or (
        isinstance(weights, (tuple, list)) and len(weights) == 2 and np.ndim(weights[0]) == 1
    ):
        alpha_in, beta_in = weights
    else:
        alpha_in, beta_in = weights, None
    try:
        alpha = np.array(alpha_in, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("weights must give alpha as a vector of real numbers, one per agent") from exc
    if alpha.shape != (I,):
        raise ValueError(f"weights: alpha must have shape ({I},), one entry per agent, got shape {alpha.shape}")
    if not np.isfinite(alpha).all():
        raise ValueError("weights: alpha must be finite")
    if (alpha <= 0).any():
        i = int(np.flatnonzero(alpha <= 0)[0])
        raise ValueError(
            f"weights: alpha must be positive, got alpha[{i}] = {format_number(alpha[i])}; "
            "an agent with a nonpositive weight must be excluded (dropped from the model) before pivoting"
        )
    if beta_in is None:
        beta_in = [None] * I
    if isinstance(beta_in, np.ndarray) and beta_in.ndim <= 1 or len(beta_in) != I:
        raise ValueError(f"weights: beta must list one array (or None) per agent, {I} in all")
    beta = []
    for i, b in enumerate(beta_in):
        shape = (K, model.n_states[i])
        if b is None:
            beta.append(np.zeros(shape))
            continue
        try:
            arr = np.broadcast_to(np.asarray(b, dtype=np.float64), shape).copy()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weights: beta[{i}] must be real and broadcastable to {shape}") from exc
        if not np.isfinite(arr).all():
            raise ValueError(f"weights: beta[{i}] must be finite")
        beta.append(arr)
    alpha.setflags(write=False)
    for arr in beta:
        arr.setflags(write=False)
    return PivotWeights(alpha=alpha, beta=tuple(beta))


def dynamic_pivot(model: DynamicModel, weights: Any = None) -> PivotResult:
    r"""The efficient (or weighted) policy, marginal contributions and pivot transfers in every state.

    Parameters
    ----------
    model : DynamicModel
        The agents' values, kernels and the discount factor.
    weights : array_like or (alpha, beta) or PivotWeights, optional
        Frozen affine weights. ``alpha``, shape ``(n_agents,)``, all positive; ``beta``,
        ``None`` or one entry per agent (``None`` or an array broadcastable to
        ``(n_decisions, n_states_i)``). The mechanism then pivots on the weighted
        welfare :math:`\sum_i (\hat\alpha_i u_i + \hat\beta_i)` and agent ``i`` pays
        :math:`u_i - m_i/\hat\alpha_i`. A bare vector is ``alpha`` with ``beta = 0``.
        ``None`` (default) is the unweighted pivot.

    Returns
    -------
    PivotResult
        ``policy`` :math:`x^*`, ``welfare`` :math:`W`, ``welfare_without``
        :math:`W_{-i}`, ``policy_without`` :math:`x^*_{-i}`, ``marginal_contribution``
        :math:`M_i`, ``flow_marginal_contribution`` :math:`m_i`, ``transfers``
        :math:`p^*_i`, ``flow_value`` :math:`u_i(x^*, \theta_i)` and ``outside_option``
        :math:`O_i`, on every joint state, and the validated ``weights``. Ties among
        the best decisions go to the smallest decision number.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`DynamicModel`, or ``weights`` has the wrong
        shape, a non-finite entry or a nonpositive ``alpha`` (such agents must be
        excluded from the model: the payment divides by :math:`\hat\alpha_i`).

    Notes
    -----
    ``I + 1`` MDPs are solved by :func:`~mdlib.mdp.solve_mdp`: the social problem on
    the joint states and, for each agent, the problem of the others on their joint
    states. The payment uses the compact form of Bergemann and Välimäki's eqs. (14)–(15):
    the others' best value minus what they get when :math:`x^*(\theta)` is taken today
    and they are served optimally afterwards. It is nonnegative by the optimality of
    :math:`x^*_{-i}`.

    With weights, the same algebra in weighted units gives
    :math:`p_i = u_i - m_i/\hat\alpha_i = \big(E_i - \hat\beta_i(x^*, \theta_i)\big)/\hat\alpha_i`,
    :math:`E_i` the weighted externality, and agent ``i``'s truthful continuation
    utility is :math:`(W - W_{-i})/\hat\alpha_i` (:attr:`PivotResult.utility`).
    Truth-telling is a best response when :math:`\hat\beta_i` does not vary with
    agent ``i``'s *private* state (it may vary with the decision and with public
    parts of the state, such as the period); check with :func:`audit_pivot`.

    Examples
    --------
    Scheduling with values 10, 6, 3 and discount 0.9; at the start agent 0 is served
    and pays :math:`(1 - \delta)(6 + 0.9 \cdot 3) = 0.87`:

    >>> from mdlib import scheduling_model, dynamic_pivot
    >>> res = dynamic_pivot(scheduling_model([10.0, 6.0, 3.0], 0.9))
    >>> int(res.policy[0]), res.transfers[:, 0].round(6), res.marginal_contribution[:, 0].round(6)
    (1, array([0.87, 0.  , 0.  ]), array([9.13, 5.13, 2.43]))

    One period (discount 0) and weights 0.5 and 1: agent 1 (value 6) now beats agent
    0 (weighted value 5) and pays the weighted second price :math:`0.5 \cdot 10/1 = 5`:

    >>> res = dynamic_pivot(scheduling_model([10.0, 6.0], 0.0), weights=[0.5, 1.0])
    >>> int(res.policy[0]), res.transfers[:, 0].round(6)
    (2, array([0., 5.]))
    """
    if not isinstance(model, DynamicModel):
        raise ValueError(f"model must be a DynamicModel, got {type(model).__name__}")
    w = None if weights is None else _check_weights(weights, model)
    d, I, S = model.discount, model.n_agents, model.n_joint
    rows = np.arange(S)
    P = model.joint_transition()
    if w is None:
        flows = model.values
    else:
        flows = tuple(w.alpha[i] * model.values[i] + w.beta[i] for i in range(I))
    R = model._joint_sum(flows, None)
    W, x_star = solve_mdp(R, P, d)

    W_minus = np.empty((I, S))
    x_minus = np.empty((I, S), dtype=np.int64)
    p = np.empty((I, S))
    O = np.empty((I, S))
    for i in range(I):
        others = [j for j in range(I) if j != i]
        R_o, P_o = model._joint_sum(flows, others), model.joint_transition(others)
        W_o, x_o = solve_mdp(R_o, P_o, d)
        k = model.project(others)
        q_o = _action_values(R_o, P_o, d, W_o)           # the others' value of each decision today
        W_minus[i] = W_o[k]
        x_minus[i] = x_o[k]
        p[i] = W_o[k] - q_o[k, x_star]
        if w is not None:                                # (E_i - β_i(x*, θ_i)) / α_i
            p[i] = (p[i] - w.beta[i][x_star, model.states[:, i]]) / w.alpha[i]
        # i's own value when the planner runs x*_{-i}: a policy evaluation on the joint states
        R_i = model.values[i][:, model.states[:, i]].T   # (S, K)
        O[i] = _evaluate(R_i, P, d, x_minus[i])

    M = W[None, :] - W_minus
    EM = np.einsum("ks,is->ik", P[rows, x_star, :], M)
    m = M - d * EM
    u = np.stack([model.values[i][x_star, model.states[:, i]] for i in range(I)])
    return PivotResult(
        model=model,
        policy=x_star,
        welfare=W,
        welfare_without=W_minus,
        policy_without=x_minus,
        marginal_contribution=M,
        flow_marginal_contribution=m,
        transfers=p,
        flow_value=u,
        outside_option=O,
        weights=w,
    )


def audit_pivot(
    model: DynamicModel, result: PivotResult | None = None, tol: float = 1e-9, weights: Any = None
) -> PivotAudit:
    r"""Solve each agent's best-response MDP against the dynamic pivot mechanism.

    Agent ``i`` knows the true joint state :math:`\theta` (so the check is *periodic ex
    post*: it holds whatever the others' current states) and reports any private state
    :math:`r`; the others report truthfully. The mechanism takes
    :math:`x^*(r, \theta_{-i})`, charges :math:`p^*_i(r, \theta_{-i})`, and the true
    state moves under the decision taken. The agent's best-response problem is an MDP
    with reports as actions, solved exactly; its value should equal
    :math:`M_i(\theta)`, and the truthful report should be optimal in every state.
    Because a report moves the state only through the decision it induces, the MDP
    is solved with the decisions as actions (each worth the best report inducing it),
    which has the same value; the gain of every report is then read off that value.

    The agent's rewards are his **true**, unweighted utilities :math:`u_i - p_i`, so a
    weighted (virtual) pivot is audited exactly like the efficient one: the weights
    enter only through the mechanism's decisions and payments, and the truthful value
    should be :math:`M_i(\theta)/\hat\alpha_i`.

    Parameters
    ----------
    model : DynamicModel
        The model.
    result : PivotResult, optional
        The output of :func:`dynamic_pivot` for ``model`` (computed if omitted). A
        mechanism with other transfers can be audited by passing a result whose
        ``transfers`` were replaced (``dataclasses.replace``), and a mechanism that
        believes other values by passing the result for another model of the same shape.
    tol : float, default 1e-9
        The gain below which truth-telling counts as optimal.
    weights : optional
        Used only when ``result`` is omitted: the weights passed to :func:`dynamic_pivot`.

    Returns
    -------
    PivotAudit
        The best-response values, the gain from the best lie in every joint state,
        their maxima, and ``truthful`` (``max_gain <= tol``).

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`DynamicModel`, ``result`` does not have its
        shape, or ``tol`` is negative.

    Examples
    --------
    >>> from mdlib import scheduling_model, audit_pivot
    >>> check = audit_pivot(scheduling_model([10.0, 6.0, 3.0], 0.9))
    >>> check.truthful, check.max_gain < 1e-12, check.max_value_error < 1e-12
    (True, True, True)
    >>> check = audit_pivot(scheduling_model([10.0, 6.0, 3.0], 0.9), weights=[0.5, 1.0, 2.0])
    >>> check.truthful, check.max_value_error < 1e-12
    (True, True)
    """
    if not isinstance(model, DynamicModel):
        raise ValueError(f"model must be a DynamicModel, got {type(model).__name__}")
    tol = check_real(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be nonnegative, got {format_number(tol)}")
    if result is None:
        result = dynamic_pivot(model, weights)
    elif not isinstance(result, PivotResult) or result.transfers.shape != (model.n_agents, model.n_joint):
        raise ValueError("result must be a PivotResult of dynamic_pivot for a model of the same shape")
    d, I, S = model.discount, model.n_agents, model.n_joint
    P = model.joint_transition()
    states = model.states
    value = np.empty((I, S))
    gain = np.empty((I, S))
    for i in range(I):
        n_i = model.n_states[i]
        reported = np.repeat(states[:, None, :], n_i, axis=1)   # (S, n_i, I): the report replaces i's state
        reported[:, :, i] = np.arange(n_i)[None, :]
        k_rep = np.ravel_multi_index(tuple(np.moveaxis(reported, 2, 0)), model.n_states)   # (S, n_i)
        x_rep = result.policy[k_rep]
        R = model.values[i][x_rep, states[:, i][:, None]] - result.transfers[i][k_rep]   # (S, n_i)
        # A report moves the state only through the decision it induces, so i's problem is an MDP whose
        # actions are the decisions, each worth the best report inducing it today (-inf: no report does);
        # its transitions are P itself, never an (S, n_i, S) array.
        R_x = np.full((S, model.n_decisions), -np.inf)
        np.maximum.at(R_x, (np.broadcast_to(np.arange(S)[:, None], x_rep.shape), x_rep), R)
        V, _ = solve_mdp(R_x, P, d)
        q = R + d * (P @ V)[np.arange(S)[:, None], x_rep]         # every report, then the best play
        truth = q[np.arange(S), states[:, i]]
        value[i] = V
        gain[i] = q.max(axis=1) - truth
    max_gain = float(gain.max())
    return PivotAudit(
        value=value,
        gain=gain,
        max_gain=max_gain,
        max_value_error=float(np.abs(value - result.utility).max()),
        truthful=bool(max_gain <= tol),
    )


# --------------------------------------------------------------------------- scheduling
def scheduling_model(values: Any, discount: float) -> DynamicModel:
    r"""The scheduling example as a :class:`DynamicModel`.

    One facility serves one task per period. Agent ``i`` has one task worth
    ``values[i]``; his private state is 0 while the task waits and 1 once it is done
    (absorbing). Decision 0 leaves the facility idle and decision ``i + 1`` serves
    agent ``i``, worth ``values[i]`` to him if his task waits and 0 otherwise. The
    starting joint state, everyone waiting, is state 0.

    Parameters
    ----------
    values, discount
        The agents' values of their tasks and the discount factor, checked as in
        :func:`scheduling_pivot`.

    Returns
    -------
    DynamicModel
        ``I`` agents with 2 states each and ``I + 1`` decisions.

    Raises
    ------
    ValueError
        For bad ``values`` or ``discount``, with the messages of :func:`scheduling_pivot`.

    Examples
    --------
    >>> from mdlib import scheduling_model
    >>> m = scheduling_model([10.0, 6.0], 0.9)
    >>> m.n_decisions, m.n_joint, m.values[0].tolist()
    (3, 4, [[0.0, 0.0], [10.0, 0.0], [0.0, 0.0]])
    """
    v = check_vector(values, "values")
    I = v.size
    vals, trans = [], []
    for i in range(I):
        val = np.zeros((I + 1, 2))
        val[i + 1, 0] = v[i]
        t = np.tile(np.eye(2), (I + 1, 1, 1))
        t[i + 1, 0] = [0.0, 1.0]
        vals.append(val)
        trans.append(t)
    return DynamicModel(values=vals, transitions=trans, discount=discount)


def scheduling_pivot(values: Any, discount: float) -> SchedulingPivot:
    r"""Efficient order, pivot prices and marginal contributions of the scheduling example.

    Sort the positive values in decreasing order, :math:`v_{(1)} \ge v_{(2)} \ge \dots
    \ge v_{(n)} > 0` (ties by input position), and set :math:`v_{(n+1)} = 0`. The agent
    of rank ``k`` is served in period ``k - 1`` and then pays

    .. math:: p_{(k)} = (1 - \delta) \sum_{t \ge k} \delta^{t-k} v_{(t+1)}
              = v_{(k+1)} - \sum_{t = k+1}^{n} \delta^{t-k} (v_{(t)} - v_{(t+1)}),

    and his marginal contribution at the start is
    :math:`M_{(k)} = \sum_{t \ge k} \delta^{t-1}(v_{(t)} - v_{(t+1)})`.
    Agents with values :math:`\le 0` are never served, pay nothing and contribute nothing.

    Parameters
    ----------
    values : array_like, shape (I,)
        The agents' values, in any order.
    discount : float
        The discount factor :math:`\delta \in [0, 1)`.

    Returns
    -------
    SchedulingPivot
        ``order``, ``period``, ``price``, ``marginal_contribution`` and ``welfare``;
        arrays are aligned with the input order.

    Raises
    ------
    ValueError
        If ``values`` is not a nonempty finite vector or ``discount`` is outside ``[0, 1)``.

    Examples
    --------
    >>> from mdlib import scheduling_pivot
    >>> s = scheduling_pivot([6.0, 10.0, 3.0], 0.9)
    >>> s.order.tolist(), s.period.tolist(), s.price.round(6).tolist(), round(s.welfare, 6)
    ([1, 0, 2], [1, 0, 2], [0.3, 0.87, 0.0], 17.83)
    """
    v = check_vector(values, "values")
    d = check_discount(discount, lo_closed=True)
    order = np.argsort(-v, kind="stable")
    order = order[v[order] > 0]
    n = order.size
    sorted_v = np.append(v[order], 0.0)
    ranks = np.arange(n)
    # p_(k) = (1 - δ) Σ_{t ≥ k} δ^{t-k} v_(t+1), with ranks from 0: p[k] = (1 - δ) Σ_{s > k} δ^{s-k-1} v[s]
    powers = np.where(ranks[None, :] > ranks[:, None], d ** np.clip(ranks[None, :] - ranks[:, None] - 1, 0, None), 0.0)
    price_sorted = (1.0 - d) * powers @ sorted_v[:n] if n else np.zeros(0)
    gaps = sorted_v[:n] - sorted_v[1:]
    disc = d ** ranks.astype(float)
    M_sorted = np.cumsum((disc * gaps)[::-1])[::-1]
    price = np.zeros(v.size)
    M = np.zeros(v.size)
    period = np.full(v.size, -1, dtype=np.int64)
    price[order] = price_sorted
    M[order] = M_sorted
    period[order] = ranks
    welfare = float(disc @ sorted_v[:n])
    return SchedulingPivot(order=order.astype(np.int64), period=period, price=price, marginal_contribution=M, welfare=welfare)


def scheduling_pivot_prices(values: Any, discount: float) -> NDArray[np.float64]:
    r"""The payment each agent makes in the period he is served, in the scheduling example.

    See :func:`scheduling_pivot` for the formula; the prices are aligned with the
    input order, and an agent who is never served (value :math:`\le 0`) pays 0.
    At ``discount = 0`` each price is the next-highest value (Vickrey); as the
    discount tends to 1 every price tends to 0.

    Parameters
    ----------
    values, discount
        The agents' values and the discount factor, as :func:`scheduling_pivot` takes them.

    Returns
    -------
    numpy.ndarray
        Shape ``(I,)``: ``scheduling_pivot(values, discount).price``.

    Raises
    ------
    ValueError
        As :func:`scheduling_pivot` does.

    Examples
    --------
    >>> from mdlib import scheduling_pivot_prices
    >>> scheduling_pivot_prices([10.0, 6.0, 3.0, 1.0], 0.9).round(6)
    array([0.951, 0.39 , 0.1  , 0.   ])
    >>> scheduling_pivot_prices([10.0, 6.0, 3.0], 0.0)     # static Vickrey prices
    array([6., 3., 0.])
    """
    return scheduling_pivot(values, discount).price


# --------------------------------------------------------------------------- random instances
def random_model(seed: Any, n_agents: int, n_states: int, n_decisions: int, discount: float) -> DynamicModel:
    r"""A random :class:`DynamicModel`: uniform flow values and Dirichlet kernels, reproducible from ``seed``.

    Every agent's flow values ``values[i][x, s]`` are drawn uniformly from ``[0, 1]`` and every row
    of his kernels ``transitions[i][x, s, :]`` from the flat Dirichlet distribution; all values are
    drawn before all kernels. Chapters and tests use it for sweeps over random environments.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        Anything ``numpy.random.default_rng`` accepts (a generator is used as it is, so
        successive calls with one generator give different models).
    n_agents, n_states, n_decisions : int
        The number of agents, of private states per agent and of decisions, each at least 1.
    discount : float
        The discount factor in ``[0, 1)``.

    Returns
    -------
    DynamicModel

    Raises
    ------
    ValueError
        If a count is not a positive integer or ``discount`` is outside ``[0, 1)``.

    Examples
    --------
    >>> from mdlib import audit_pivot, dynamic_pivot, random_model
    >>> model = random_model(0, n_agents=3, n_states=2, n_decisions=3, discount=0.8)
    >>> model.n_states, model.n_decisions
    ((2, 2, 2), 3)
    >>> bool(audit_pivot(model, dynamic_pivot(model)).max_gain < 1e-9)   # periodic ex-post IC
    True
    """
    n_a = check_positive_int(n_agents, "n_agents")
    n_s = check_positive_int(n_states, "n_states")
    n_x = check_positive_int(n_decisions, "n_decisions")
    d = check_discount(discount, lo_closed=True)
    rng = make_rng(seed)
    values = [rng.uniform(0, 1, (n_x, n_s)) for _ in range(n_a)]
    transitions = [rng.dirichlet(np.ones(n_s), size=(n_x, n_s)) for _ in range(n_a)]
    return DynamicModel(values, transitions, d)
