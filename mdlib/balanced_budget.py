r"""Efficient dynamic mechanisms with a balanced budget: Athey and Segal's team and AGV mechanisms.

The model is the finite one of :class:`~mdlib.pivot.DynamicModel`: agents with private
Markov states, independent across agents given the decision, and a decision taken
every period by the efficient policy :math:`x^*` of :func:`~mdlib.pivot.dynamic_pivot`.
Payments here may depend on the reported joint state of the **previous** period as
well as on the current one, so every transfer array has shape
``(n_agents, n_joint, n_joint)``: ``transfers[i, k_prev, k]`` is what agent ``i``
pays when the reported joint state was ``k_prev`` last period and is ``k`` now
(a negative entry is a payment *to* the agent). Joint states are numbered as in
:class:`~mdlib.pivot.DynamicModel`.

- :func:`team_mechanism`: each agent is paid the others' reported flow values, so
  that his utility is the whole social welfare; periodic ex post incentive
  compatible, with a deficit of :math:`(n - 1)` times welfare.
- :func:`agv_mechanism`: the dynamic AGV (balanced team) mechanism. Agent ``i``
  is paid his **incentive term** :math:`\eta_i`, the change in the others'
  expected discounted welfare that his report causes, and pays an equal share of
  every other agent's incentive term; transfers sum to zero in every state.
- :func:`audit_mechanism`: each agent's best-response problem against any
  transfers of this shape, with reports as actions (so multi-period deviations are
  searched), either knowing the others' current states (``"ex_post"``) or only
  the public history (``"interim"``).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._validation import check_real, format_number
from ._markov import _action_values, _evaluate
from .pivot import DynamicModel, PivotResult, dynamic_pivot

__all__ = [
    "BudgetMechanism",
    "MechanismAudit",
    "team_mechanism",
    "agv_mechanism",
    "audit_mechanism",
]


class BudgetMechanism(NamedTuple):
    r"""An efficient mechanism whose transfers may depend on last period's reports.

    Arrays indexed by agent come first; ``k_prev`` (last period's reported joint
    state) and ``k`` (this period's) follow, as in the module docstring.
    """

    policy: NDArray[np.int64]
    r"""The efficient decision :math:`x^*(\theta)`, shape ``(n_joint,)``."""
    others_value: NDArray[np.float64]
    r""":math:`V_{-i}(\theta)`: the others' expected discounted welfare under :math:`x^*`
    (agent ``i`` present), shape ``(n_agents, n_joint)``."""
    incentive_term: NDArray[np.float64]
    r""":math:`\eta_i(\theta_{\mathrm{prev}}, \theta)`, shape ``(n_agents, n_joint, n_joint)``;
    for the team mechanism, the others' flow values (what agent ``i`` is paid)."""
    transfers: NDArray[np.float64]
    r"""What agent ``i`` pays, :math:`p_i(\theta_{\mathrm{prev}}, \theta)`, shape ``(n_agents, n_joint, n_joint)``."""
    utility: NDArray[np.float64]
    r"""Agent ``i``'s expected discounted utility from this period on when everyone is
    truthful, given ``(k_prev, k)``, shape ``(n_agents, n_joint, n_joint)``."""
    own_value: NDArray[np.float64]
    r""":math:`V_i(\theta)`: agent ``i``'s expected discounted flow value under :math:`x^*`, ``(n_agents, n_joint)``."""
    outside_option: NDArray[np.float64]
    r""":math:`O_i(\theta)`: agent ``i``'s value when the planner runs :math:`x^*_{-i}`, ``(n_agents, n_joint)``."""

    @property
    def budget(self) -> NDArray[np.float64]:
        r"""The planner's net revenue :math:`\sum_i p_i(\theta_{\mathrm{prev}}, \theta)` in every pair of states, ``(n_joint, n_joint)``."""
        return self.transfers.sum(axis=0)


class MechanismAudit(NamedTuple):
    """Each agent's best-response problem against a mechanism's transfers."""

    information: str
    """``"ex_post"`` (the agent knows the others' current states) or ``"interim"`` (only the public history)."""
    value: tuple[NDArray[np.float64], ...]
    """Agent ``i``'s optimal value in each state of his problem: shape ``(n_joint, n_joint)``
    over ``(k_prev, true k)`` ex post; ``(n_joint, n_states_i)`` over ``(k_prev, own state)`` interim."""
    gain: tuple[NDArray[np.float64], ...]
    """The most agent ``i`` gains by a report other than the truth now (and optimal play later), same shapes as ``value``."""
    max_gain: float
    """The largest entry of ``gain`` over all agents (0 up to rounding when truth-telling is optimal)."""
    truthful: bool
    """Whether ``max_gain <= tol``."""


# --------------------------------------------------------------------------- validation
def _check_model(model: Any) -> DynamicModel:
    if not isinstance(model, DynamicModel):
        raise ValueError(f"model must be a DynamicModel, got {type(model).__name__}")
    return model


def _check_result(model: DynamicModel, result: Any) -> PivotResult:
    if result is None:
        return dynamic_pivot(model)
    if not isinstance(result, PivotResult) or result.policy.shape != (model.n_joint,) or result.model.n_states != model.n_states:
        raise ValueError("result must be the PivotResult of dynamic_pivot(model) for this model")
    if result.weights is not None:
        raise ValueError("result must be an unweighted dynamic_pivot result (weights=None): the mechanisms here are efficient")
    return result


# --------------------------------------------------------------------------- helpers
def _policy_kernel(model: DynamicModel, policy: NDArray[np.int64]) -> NDArray[np.float64]:
    """The joint kernel under ``policy``, shape ``(S, S)``."""
    S = model.n_joint
    return model.joint_transition()[np.arange(S), policy]


def _flows_under(model: DynamicModel, policy: NDArray[np.int64]) -> NDArray[np.float64]:
    """Each agent's flow value :math:`u_i(x(\\theta), \\theta_i)`, shape ``(I, S)``."""
    st = model.states
    return np.stack([model.values[i][policy, st[:, i]] for i in range(model.n_agents)])


def _replace_own(model: DynamicModel, i: int) -> NDArray[np.int64]:
    """``out[k, r]``: the joint state ``k`` with agent ``i``'s entry replaced by ``r``, shape ``(S, n_i)``."""
    st = model.states
    rep = np.repeat(st[:, None, :], model.n_states[i], axis=1)
    rep[:, :, i] = np.arange(model.n_states[i])[None, :]
    return np.ravel_multi_index(tuple(np.moveaxis(rep, 2, 0)), model.n_states)


def _others_kernel(model: DynamicModel, i: int, policy: NDArray[np.int64]) -> NDArray[np.float64]:
    r"""``out[k_prev, k]``: the probability of the others' part of ``k`` given ``k_prev`` and :math:`x^*(k_{\mathrm{prev}})`.

    It does not depend on agent ``i``'s entry of ``k``: the others' states move
    independently of agent ``i``'s given the decision.
    """
    others = [j for j in range(model.n_agents) if j != i]
    if not others:
        return np.ones((model.n_joint, model.n_joint))
    k_o = model.project(others)
    P_o = model.joint_transition(others)                       # (S_o, K, S_o)
    return P_o[k_o[:, None], policy[:, None], k_o[None, :]]


def _best_response(R: NDArray[np.float64], Q: NDArray[np.float64], d: float, truth: NDArray[np.int64]) -> NDArray[np.float64]:
    """The optimal value of a finite MDP by policy iteration started at the truthful policy.

    A state switches action only when it gains more than ``1e-12`` times the reward
    scale, so the iteration cannot cycle on ties; when truth-telling is optimal one
    evaluation suffices.
    """
    idx = np.arange(R.shape[0])
    scale = 1.0 + np.abs(R[R > -np.inf]).max() / (1.0 - d)   # -inf marks an action no report takes
    pol = truth.copy()
    while True:
        V = _evaluate(R, Q, d, pol)
        q = _action_values(R, Q, d, V)
        better = q.max(axis=1) > q[idx, pol] + 1e-12 * scale
        if not better.any():
            return V
        pol = np.where(better, q.argmax(axis=1), pol)


def _utility(model: DynamicModel, policy: NDArray[np.int64], transfers: NDArray[np.float64]) -> NDArray[np.float64]:
    """Truthful expected discounted utility given ``(k_prev, k)``, by one linear solve per agent."""
    d, S = model.discount, model.n_joint
    P = _policy_kernel(model, policy)
    u = _flows_under(model, policy)
    out = np.empty_like(transfers)
    for i in range(model.n_agents):
        # C(k) = sum_k' P[k, k'] (u(k') - p(k, k') + d C(k'))
        c = np.linalg.solve(np.eye(S) - d * P, P @ u[i] - (P * transfers[i]).sum(axis=1))
        out[i] = u[i][None, :] - transfers[i] + d * c[None, :]
    return out


# --------------------------------------------------------------------------- mechanisms
def team_mechanism(model: DynamicModel, result: PivotResult | None = None) -> BudgetMechanism:
    r"""Athey and Segal's team mechanism: each agent is paid the others' reported flow values.

    In every period agent ``i`` receives :math:`\sum_{j \ne i} u_j(x^*(\hat\theta), \hat\theta_j)`,
    so he pays :math:`p_i = -\sum_{j \ne i} u_j(x^*, \hat\theta_j)`. His utility is then the
    whole social welfare, truth-telling is periodic ex post incentive compatible, and
    the planner pays out :math:`(n - 1)` times the welfare of every period.

    Parameters
    ----------
    model : DynamicModel
        The model.
    result : PivotResult, optional
        ``dynamic_pivot(model)``, to reuse its efficient policy (computed if omitted).

    Returns
    -------
    BudgetMechanism
        Transfers that do not depend on ``k_prev``; ``incentive_term`` holds the
        others' flow values (what agent ``i`` is paid), and ``utility`` equals the
        social value :math:`W(\theta)` for every agent.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`~mdlib.pivot.DynamicModel` or ``result`` is not an
        unweighted ``dynamic_pivot`` result for it.

    Examples
    --------
    Scheduling with values 10 and 6, discount 0.9: agent 0 is served first and is
    paid nothing now (agent 1 gets nothing this period); agent 1 is paid 10.

    >>> from mdlib import scheduling_model, team_mechanism
    >>> team = team_mechanism(scheduling_model([10.0, 6.0], 0.9))
    >>> team.transfers[:, 0, 0].round(6) + 0.0, team.utility[:, 0, 0].round(6)
    (array([  0., -10.]), array([15.4, 15.4]))
    """
    model = _check_model(model)
    res = _check_result(model, result)
    I, S = model.n_agents, model.n_joint
    u = _flows_under(model, res.policy)
    paid = u.sum(axis=0)[None, :] - u                          # the others' flow values
    eta = np.broadcast_to(paid[:, None, :], (I, S, S)).copy()
    transfers = -eta
    P = _policy_kernel(model, res.policy)
    V_others = np.stack([np.linalg.solve(np.eye(S) - model.discount * P, paid[i]) for i in range(I)])
    V_own = np.stack([np.linalg.solve(np.eye(S) - model.discount * P, u[i]) for i in range(I)])
    return BudgetMechanism(
        policy=res.policy,
        others_value=V_others,
        incentive_term=eta,
        transfers=transfers,
        utility=_utility(model, res.policy, transfers),
        own_value=V_own,
        outside_option=res.outside_option,
    )


def agv_mechanism(model: DynamicModel, result: PivotResult | None = None) -> BudgetMechanism:
    r"""The dynamic AGV (balanced team) mechanism of Athey and Segal, on every pair of states.

    Let :math:`V_{-i}(\theta)` be the others' expected discounted welfare from state
    :math:`\theta` when the planner runs :math:`x^*` with agent ``i`` present. Given
    last period's reports :math:`\theta_{\mathrm{prev}}` (and so the decision
    :math:`x^*(\theta_{\mathrm{prev}})`), agent ``i``'s **incentive term** is

    .. math:: \eta_i(\theta_{\mathrm{prev}}, \hat\theta_i)
              = \mathbb{E}\big[V_{-i}(\hat\theta_i, \tilde\theta_{-i}) \mid \theta_{\mathrm{prev}}\big]
              - \mathbb{E}\big[V_{-i}(\tilde\theta) \mid \theta_{\mathrm{prev}}\big],

    the change in the others' expected welfare caused by his report, with the
    others' current states drawn from their kernels. Agent ``i`` receives
    :math:`\eta_i` and pays :math:`\frac{1}{n-1}\sum_{j \ne i} \eta_j`:

    .. math:: p_i = -\eta_i + \frac{1}{n - 1} \sum_{j \ne i} \eta_j,

    so that :math:`\sum_i p_i = 0` in every state.

    Parameters
    ----------
    model : DynamicModel
        The model; it needs at least two agents.
    result : PivotResult, optional
        ``dynamic_pivot(model)``, to reuse its efficient policy (computed if omitted).

    Returns
    -------
    BudgetMechanism
        ``incentive_term`` :math:`\eta_i`, ``transfers`` :math:`p_i`, the truthful
        ``utility``, ``others_value`` :math:`V_{-i}`, ``own_value`` :math:`V_i` and
        ``outside_option`` :math:`O_i`.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`~mdlib.pivot.DynamicModel`, has fewer than two
        agents, or ``result`` is not an unweighted ``dynamic_pivot`` result for it.

    Notes
    -----
    Truth-telling is a best response for an agent who knows the public history and
    his own state but not the others' current states (a Bayesian, within-period
    interim property); :func:`audit_mechanism` checks it with
    ``information="interim"``. Under truth-telling the others' future incentive
    terms have mean zero, so agent ``i``'s utility from ``(k_prev, k)`` is
    ``own_value[i, k] - transfers[i, k_prev, k]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mdlib import agv_mechanism, audit_mechanism, scheduling_model
    >>> model = scheduling_model([10.0, 6.0, 3.0], 0.9)
    >>> agv = agv_mechanism(model)
    >>> bool(np.abs(agv.budget).max() < 1e-12)
    True
    >>> audit_mechanism(model, agv.policy, agv.transfers, information="interim").truthful
    True
    """
    model = _check_model(model)
    if model.n_agents < 2:
        raise ValueError(f"model must have at least two agents for the AGV mechanism, got {model.n_agents}")
    res = _check_result(model, result)
    I, S, d = model.n_agents, model.n_joint, model.discount
    x = res.policy
    u = _flows_under(model, x)
    P = _policy_kernel(model, x)
    A = np.eye(S) - d * P
    V_others = np.stack([np.linalg.solve(A, u.sum(axis=0) - u[i]) for i in range(I)])
    V_own = np.stack([np.linalg.solve(A, u[i]) for i in range(I)])
    st = model.states
    eta = np.empty((I, S, S))
    for i in range(I):
        pi_o = _others_kernel(model, i, x)                        # (k_prev, k): prob. of k's others' part
        n_i = model.n_states[i]
        # E[V_{-i}(r, θ_{-i}) | k_prev] for each report r: sum over k with i's entry r
        by_report = np.zeros((S, n_i))
        for r in range(n_i):
            ks = np.flatnonzero(st[:, i] == r)
            by_report[:, r] = pi_o[:, ks] @ V_others[i, ks]
        baseline = P @ V_others[i]                                # E[V_{-i}(θ̃) | k_prev]
        eta[i] = by_report[:, st[:, i]] - baseline[:, None]
    transfers = -eta + (eta.sum(axis=0)[None] - eta) / (I - 1)
    return BudgetMechanism(
        policy=x,
        others_value=V_others,
        incentive_term=eta,
        transfers=transfers,
        utility=_utility(model, x, transfers),
        own_value=V_own,
        outside_option=res.outside_option,
    )


# --------------------------------------------------------------------------- audit
def _check_transfers(model: DynamicModel, policy: Any, transfers: Any) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    I, S, K = model.n_agents, model.n_joint, model.n_decisions
    pol = np.asarray(policy)
    if pol.shape != (S,) or not np.issubdtype(pol.dtype, np.integer) or (pol < 0).any() or (pol >= K).any():
        raise ValueError(f"policy must be an integer array of shape ({S},) with decisions in [0, {K - 1}]")
    try:
        p = np.asarray(transfers, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("transfers must be an array of real numbers") from exc
    if p.shape not in ((I, S), (I, S, S)):
        raise ValueError(f"transfers must have shape ({I}, {S}) or ({I}, {S}, {S}) (agent, [previous state,] state), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError("transfers must be finite")
    return pol.astype(np.int64), p


def audit_mechanism(
    model: DynamicModel,
    policy: Any,
    transfers: Any,
    information: Literal["ex_post", "interim"] = "ex_post",
    tol: float = 1e-9,
) -> MechanismAudit:
    r"""Solve each agent's best-response problem against a mechanism, with reports as actions.

    The others report truthfully; the mechanism takes ``policy`` at the reported joint
    state and charges ``transfers[i, k_prev, k]``. Agent ``i`` chooses a report every
    period, so the search covers lies in every state and every sequence of lies
    (a Markov decision problem solved exactly, as in :func:`~mdlib.pivot.audit_pivot`).

    - ``"ex_post"``: the agent's state is (last period's reported joint state, the
      true joint state now): he knows the others' current states. Zero gain everywhere
      is periodic ex post incentive compatibility.
    - ``"interim"``: the agent's state is (last period's reported joint state, his own
      state now); the others' current states are drawn from their kernels given last
      period's reports and decision. Zero gain everywhere is Bayesian incentive
      compatibility after every history, the agent's own past lies included.

    Parameters
    ----------
    model : DynamicModel
        The model.
    policy : array_like of int, shape (n_joint,)
        The decision taken at each reported joint state.
    transfers : array_like, shape (n_agents, n_joint) or (n_agents, n_joint, n_joint)
        What agent ``i`` pays at the reported joint state (and last period's).
    information : {"ex_post", "interim"}, default "ex_post"
        What the deviating agent knows when he reports.
    tol : float, default 1e-9
        The gain below which truth-telling counts as optimal.

    Returns
    -------
    MechanismAudit
        Per agent: the best-response value and the gain from the best report over the
        truth in every state of his problem; the largest gain and ``truthful``.

    Raises
    ------
    ValueError
        If ``model`` is not a :class:`~mdlib.pivot.DynamicModel`, ``policy`` or
        ``transfers`` has the wrong shape or entries, ``information`` is not
        ``"ex_post"`` or ``"interim"``, or ``tol`` is negative.

    Examples
    --------
    Agent 0 is worth 0.2 (state 0) or 1 (state 1) when served, agent 1 is worth 0.5.
    Against the pivot transfers nobody lies; without transfers the low type of agent 0
    claims to be high; lying now rather than from the next period on gains 0.2:

    >>> import numpy as np
    >>> from mdlib import DynamicModel, audit_mechanism, dynamic_pivot
    >>> model = DynamicModel([[[0, 0], [0.2, 1.0], [0, 0]], [[0.0], [0.0], [0.5]]],
    ...                      [np.tile(np.eye(2), (3, 1, 1)), np.ones((3, 1, 1))], 0.5)
    >>> res = dynamic_pivot(model)
    >>> audit_mechanism(model, res.policy, res.transfers).truthful
    True
    >>> check = audit_mechanism(model, res.policy, np.zeros((2, model.n_joint)))
    >>> check.truthful, round(float(check.gain[0][0, 0]), 6)
    (False, 0.2)
    """
    model = _check_model(model)
    pol, p = _check_transfers(model, policy, transfers)
    if information not in ("ex_post", "interim"):
        raise ValueError(f"information must be 'ex_post' or 'interim', got {information!r}")
    tol = check_real(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be nonnegative, got {format_number(tol)}")
    I, S, d = model.n_agents, model.n_joint, model.discount
    P = model.joint_transition()
    st = model.states
    values, gains = [], []
    for i in range(I):
        n_i = model.n_states[i]
        own = _replace_own(model, i)                               # (S, n_i): report r in true state k
        if information == "ex_post" and p.ndim == 2:
            # transfers of the current reports only: the state is the true joint state k. A report moves the
            # state only through the decision it induces, so i's problem is an MDP whose actions are the
            # decisions, each worth the best report inducing it (-inf: none does), on P itself
            x_rep = pol[own]
            R = model.values[i][x_rep, st[:, i][:, None]] - p[i][own]
            rows = np.broadcast_to(np.arange(S)[:, None], x_rep.shape)
            R_x = np.full((S, model.n_decisions), -np.inf)
            np.maximum.at(R_x, (rows, x_rep), R)
            V = _best_response(R_x, P, d, pol)
            q = R + d * (P @ V)[rows, x_rep]                       # every report, then the best play
            g = q.max(axis=1) - q[np.arange(S), st[:, i]]
            values.append(np.tile(V, (S, 1)))                      # the same for every k_prev
            gains.append(np.tile(g, (S, 1)))
            continue
        elif information == "ex_post":
            # state (k_prev, k) -> index k_prev * S + k; action r
            x_rep = pol[own]                                       # (S, n_i)
            flow = model.values[i][x_rep, st[:, i][:, None]]       # (S, n_i) true value of the decision
            R = flow[None, :, :] - p[i][:, own]                    # (S_prev, S, n_i)
            R = R.reshape(S * S, n_i)
            Q = np.zeros((S, S, n_i, S, S))
            # next state: (reported k_hat = own[k, r], true k') with prob P[k, x_rep, k']
            kk, rr = np.meshgrid(np.arange(S), np.arange(n_i), indexing="ij")
            Q[:, kk, rr, own[kk, rr], :] = P[kk, x_rep[kk, rr], :][None]
            Q = Q.reshape(S * S, n_i, S * S)
            truth = np.tile(st[:, i], S)
        else:
            # state (k_prev, s_i) -> index k_prev * n_i + s_i; action r
            p_i = p[i] if p.ndim == 3 else np.broadcast_to(p[i][None, :], (S, S))
            pi_o = _others_kernel(model, i, pol)                   # (k_prev, k)
            F_i = model.transitions[i]                             # (K, n_i, n_i)
            R = np.zeros((S, n_i, n_i))
            Q = np.zeros((S, n_i, n_i, S, n_i))
            for r in range(n_i):
                ks = np.flatnonzero(st[:, i] == r)                 # reported profiles (r, θ_{-i})
                w = pi_o[:, ks]                                    # (S_prev, |ks|)
                x_k = pol[ks]
                for s in range(n_i):
                    R[:, s, r] = w @ model.values[i][x_k, s] - (w * p_i[:, ks]).sum(axis=1)
                    # next: (k_hat, s') with prob w[k_prev, k_hat] F_i[x(k_hat), s, s']
                    Q[:, s, r][:, ks, :] = w[:, :, None] * F_i[x_k, s, :][None]
            R = R.reshape(S * n_i, n_i)
            Q = Q.reshape(S * n_i, n_i, S * n_i)
            truth = np.tile(np.arange(n_i), S)
        V = _best_response(R, Q, d, truth)
        q = _action_values(R, Q, d, V)
        g = q.max(axis=1) - q[np.arange(len(truth)), truth]
        shape = (S, S) if information == "ex_post" else (S, n_i)
        values.append(V.reshape(shape))
        gains.append(g.reshape(shape))
    max_gain = float(max(g.max() for g in gains))
    return MechanismAudit(
        information=information,
        value=tuple(values),
        gain=tuple(gains),
        max_gain=max_gain,
        truthful=bool(max_gain <= tol),
    )
