r"""Bandit auctions: the dynamic second-price auction, built on the dynamic pivot mechanism.

Each bidder is a Markov **arm** (:class:`Arm`): his private state moves by ``P`` when
he holds the object and is frozen otherwise, and he values the object at ``r[s]`` in
state ``s``. The efficient allocation is a multi-armed bandit, solved by Gittins
indices; :func:`dynamic_second_price` builds this environment as a
:class:`~mdlib.pivot.DynamicModel` (decision ``j`` serves bidder ``j``) and runs
:func:`~mdlib.pivot.dynamic_pivot` on it, so the prices *are* the pivot transfers. In
this frozen-when-idle environment they take the form of Bergemann and Välimäki's
Theorem 2: the winner ``j`` pays :math:`(1 - \delta) W_{-j}`, the losers nothing.

:func:`beta_bernoulli_arm` builds the posterior tree of a Bernoulli bidder with a
Beta prior as a finite arm (frozen beyond a depth), and :func:`two_armed_bandit`
solves the two-armed Beta-Bernoulli bandit exactly by a joint dynamic program over
both posterior trees (the social value without a third bidder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np
from numpy.typing import NDArray

from ._validation import check_discount, check_positive_int, check_real, format_number, make_rng
from .gittins import gittins_index
from .pivot import DynamicModel, PivotResult, dynamic_pivot

__all__ = [
    "Arm",
    "DynamicSecondPrice",
    "TwoArmedBandit",
    "beta_bernoulli_arm",
    "dynamic_second_price",
    "two_armed_bandit",
    "random_arms",
    "virtual_index_auction",
]


class Arm(NamedTuple):
    """A bidder as a Markov arm: kernel when served, value per period in each state."""

    P: NDArray[np.float64]
    """Transition matrix ``(n, n)`` of the bidder's state in a period in which he is served."""
    r: NDArray[np.float64]
    """His flow value ``r[s]`` of the object in state ``s``, shape ``(n,)``."""


@dataclass(frozen=True, eq=False)
class DynamicSecondPrice:
    r"""The dynamic second-price auction in every joint state of the bidders.

    Arrays indexed by bidder have shape ``(n_bidders, n_joint)``; the others ``(n_joint,)``.
    Joint states are numbered as in :class:`~mdlib.pivot.DynamicModel`.
    """

    model: DynamicModel
    """The bidders as a dynamic model: decision ``j`` serves bidder ``j``."""
    pivot: PivotResult
    """The dynamic pivot mechanism of ``model`` (welfare, marginal contributions, transfers)."""
    index: NDArray[np.float64]
    r"""Each bidder's Gittins index :math:`\gamma_j(\theta_j)`, in the units of his values."""
    winner: NDArray[np.int64]
    """The bidder who is served: the efficient decision :math:`x^*(\theta)`."""
    price: NDArray[np.float64]
    r"""The winner's payment :math:`p^*_{x^*}(\theta)`; every loser pays 0."""


class TwoArmedBandit(NamedTuple):
    """The two-armed Beta-Bernoulli bandit solved by a joint dynamic program."""

    value: float
    r"""The social value :math:`W` at the priors (expected discounted successes)."""
    first: NDArray[np.int8]
    """``first[n1, s1, n2, s2]``: the optimal arm (0 or 1) after ``n_i`` trials with ``s_i``
    successes of arm ``i`` (``-1``: both optimal, ``-2``: impossible state), for
    ``n_i <= record``."""


def _check_arm(arm: Any, k: int) -> Arm:
    try:
        P, r = arm
        P = np.array(P, dtype=np.float64)
        r = np.array(r, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"arms[{k}] must be a pair (P, r) of real arrays") from exc
    if P.ndim != 2 or P.shape[0] != P.shape[1] or r.shape != (P.shape[0],):
        raise ValueError(f"arms[{k}] must have P of shape (n, n) and r of shape (n,), got {P.shape} and {r.shape}")
    return Arm(P, r)


def dynamic_second_price(arms: Sequence[Any], discount: float) -> DynamicSecondPrice:
    r"""The dynamic second-price auction: winner and price in every joint state.

    Parameters
    ----------
    arms : sequence of (P, r)
        One :class:`Arm` (or pair) per bidder: his kernel ``P`` when served (he is
        frozen otherwise) and his flow values ``r``. At least one bidder.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.

    Returns
    -------
    DynamicSecondPrice
        The model, its dynamic pivot result, each bidder's Gittins index, the winner
        and his price in every joint state.

    Raises
    ------
    ValueError
        If an arm is malformed (``P`` not square and stochastic, ``r`` of the wrong
        length or not finite), ``arms`` is empty or ``discount`` is outside ``(0, 1)``.

    Notes
    -----
    The prices are the pivot transfers of :func:`~mdlib.pivot.dynamic_pivot`; the
    model has ``prod(n_j)`` joint states, so keep the arms small. Efficient decisions
    equal the index comparisons (Gittins's theorem), up to ties.

    Examples
    --------
    A bidder with a uniform prior on his success rate (posterior tree cut at depth
    20) against a bidder whose value 0.55 is known, at discount 0.9: the uncertain
    bidder wins although his mean is 0.5, and pays his rival's value.

    >>> from mdlib import beta_bernoulli_arm, dynamic_second_price
    >>> known = ([[1.0]], [0.55])
    >>> auction = dynamic_second_price([beta_bernoulli_arm(1, 1, 20), known], 0.9)
    >>> int(auction.winner[0]), round(float(auction.price[0]), 9)
    (0, 0.55)
    """
    if isinstance(arms, (Arm, str)) or not hasattr(arms, "__len__") or len(arms) < 1:
        raise ValueError(f"arms must be a non-empty sequence of (P, r) pairs, one per bidder, got {arms!r}")
    checked = [_check_arm(arm, k) for k, arm in enumerate(arms)]
    d = check_discount(discount)
    index = []
    for k, arm in enumerate(checked):
        try:
            index.append(gittins_index(arm.P, arm.r, d))  # validates P and r
        except ValueError as exc:
            raise ValueError(f"arms[{k}] is not a valid arm: {exc}") from exc
    n = len(checked)
    values, kernels = [], []
    for j, arm in enumerate(checked):
        m = arm.r.shape[0]
        val = np.zeros((n, m))
        val[j] = arm.r
        F = np.tile(np.eye(m), (n, 1, 1))
        F[j] = arm.P
        values.append(val)
        kernels.append(F)
    model = DynamicModel(values, kernels, d)
    res = dynamic_pivot(model)
    states = model.states
    idx = np.stack([index[j][states[:, j]] for j in range(n)])
    winner = res.policy
    price = res.transfers[winner, np.arange(model.n_joint)]
    return DynamicSecondPrice(model=model, pivot=res, index=idx, winner=winner, price=price)


def beta_bernoulli_arm(a: float, b: float, depth: int) -> Arm:
    r"""A Bernoulli bidder with a Beta(``a``, ``b``) prior as a finite arm.

    The states are the nodes ``(n, s)`` of the posterior tree (``n`` trials, ``s``
    successes), numbered layer by layer: node ``(n, s)`` is state ``n (n + 1) / 2 + s``.
    The value in a node is the posterior mean :math:`(a + s)/(a + b + n)`; a trial
    moves to ``(n + 1, s + 1)`` with that probability and to ``(n + 1, s)`` otherwise.
    At ``depth`` trials the posterior freezes.

    Parameters
    ----------
    a, b : float
        The prior's parameters, both > 0.
    depth : int
        The number of trials after which the posterior freezes, >= 1.

    Returns
    -------
    Arm
        ``P`` of shape ``(n, n)`` and ``r`` of shape ``(n,)``, ``n = (depth + 1)(depth + 2)/2``.

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not positive or ``depth`` is not a positive integer.

    Examples
    --------
    >>> from mdlib import beta_bernoulli_arm
    >>> arm = beta_bernoulli_arm(1, 1, 1)
    >>> arm.r
    array([0.5       , 0.33333333, 0.66666667])
    >>> arm.P[0]
    array([0. , 0.5, 0.5])
    """
    for name, x in (("a", a), ("b", b)):
        if check_real(x, name) <= 0:
            raise ValueError(f"{name} must be positive, got {format_number(x)}")
    N = check_positive_int(depth, "depth")
    n_nodes = (N + 1) * (N + 2) // 2
    n_of = np.repeat(np.arange(N + 1), np.arange(1, N + 2))
    s_of = np.arange(n_nodes) - n_of * (n_of + 1) // 2
    mu = (a + s_of) / (a + b + n_of)
    P = np.zeros((n_nodes, n_nodes))
    inner = n_of < N
    k = np.flatnonzero(inner)
    down = (n_of[k] + 1) * (n_of[k] + 2) // 2 + s_of[k]
    P[k, down + 1] = mu[k]
    P[k, down] = 1 - mu[k]
    last = np.flatnonzero(~inner)
    P[last, last] = 1.0
    return Arm(P, mu)


def two_armed_bandit(priors: Sequence[Any], discount: float, depth: int = 200, record: int = 15) -> TwoArmedBandit:
    r"""The two-armed Beta-Bernoulli bandit, solved exactly on the joint posterior trees.

    Parameters
    ----------
    priors : sequence of two (a, b) pairs
        The Beta priors of the two arms, all parameters > 0.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.
    depth : int, default 200
        Each arm's posterior freezes after ``depth`` trials. Freezing undervalues the
        problem by at most :math:`\delta^N/(4\sqrt{N}(1-\delta))` with ``N = depth``.
    record : int, default 15
        The optimal decision is returned for up to ``record`` trials of each arm.

    Returns
    -------
    TwoArmedBandit
        The value at the priors and the optimal first arm in the recorded states.

    Raises
    ------
    ValueError
        If ``priors`` is not two positive pairs, ``discount`` is outside ``(0, 1)``,
        ``depth`` is not a positive integer or ``record`` not in ``[0, depth]``.

    Notes
    -----
    Backward induction over ``(n1, s1, n2, s2)``: about :math:`N^4/4` steps, compiled
    with numba (about a second for ``N = 200``).

    Examples
    --------
    Two uniform priors at discount 0.9: the per-period value :math:`(1-\delta)W` lies
    between the mean 0.5 and the index 0.7029.

    >>> from mdlib import two_armed_bandit
    >>> res = two_armed_bandit([(1, 1), (1, 1)], 0.9, depth=150)
    >>> round(0.1 * res.value, 6)
    0.609641
    """
    try:
        (a1, b1), (a2, b2) = priors
    except (TypeError, ValueError) as exc:
        raise ValueError("priors must be two (a, b) pairs") from exc
    vals = []
    for name, x in (("a", a1), ("b", b1), ("a", a2), ("b", b2)):
        x = check_real(x, f"priors {name}")
        if x <= 0:
            raise ValueError(f"priors must have positive parameters, got {name} = {format_number(x)}")
        vals.append(x)
    d = check_discount(discount)
    N = check_positive_int(depth, "depth")
    if isinstance(record, bool) or not isinstance(record, (int, np.integer)) or not 0 <= record <= N:
        raise ValueError(f"record must be an integer in [0, depth={N}], got {record!r}")
    first = np.full((record + 1, record + 1, record + 1, record + 1), -2, dtype=np.int8)
    from ._bandit_kernels import _two_arm_dp  # lazy: numba is slow to import

    value = _two_arm_dp(*vals, d, N, int(record), first)
    return TwoArmedBandit(float(value), first)


# --------------------------------------------------------------------------- random instances
def random_arms(seed: Any, n_bidders: int, n_states: int) -> list[Arm]:
    r"""Random Markov arms: Dirichlet kernels and uniform flow values, reproducible from ``seed``.

    Each bidder's kernel has rows drawn from the flat Dirichlet distribution on ``n_states``
    states, and his values ``r[s]`` uniformly from ``[0, 1]`` (kernel, then values, bidder by bidder).

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        Anything ``numpy.random.default_rng`` accepts.
    n_bidders, n_states : int
        The number of arms and of states of each arm, each at least 1.

    Returns
    -------
    list of Arm

    Raises
    ------
    ValueError
        If a count is not a positive integer.

    Examples
    --------
    >>> from mdlib import dynamic_second_price, random_arms
    >>> arms = random_arms(0, n_bidders=3, n_states=2)
    >>> len(arms), arms[0].P.shape
    (3, (2, 2))
    >>> auction = dynamic_second_price(arms, 0.9)
    >>> bool((auction.price >= -1e-12).all())
    True
    """
    n_b = check_positive_int(n_bidders, "n_bidders")
    n_s = check_positive_int(n_states, "n_states")
    rng = make_rng(seed)
    return [Arm(rng.dirichlet(np.ones(n_s), size=n_s), rng.uniform(0, 1, n_s)) for _ in range(n_b)]


# --------------------------------------------------------------------------- the virtual-index auction
def virtual_index_auction(arms: Sequence[Any], discount: float, alpha: Any = None, beta: Any = None) -> DynamicSecondPrice:
    r"""The virtual-index auction: the weighted (virtual) pivot for frozen-when-idle bidders.

    Bidder ``j``'s weighted flow when he is served in state ``s`` is
    :math:`\hat\alpha_j r_j(s) + \hat\beta_j`, with weights frozen at contracting (Kakade,
    Lobel and Nazerzadeh's virtual pivot, additive or multiplicative). The allocation serves
    the highest **virtual index** (the Gittins index of the weighted flows) and the winner
    pays :math:`\big((1 - \delta) W_{-j} - \hat\beta_j\big)/\hat\alpha_j` in money, their
    Corollary 5.3; the losers pay nothing. A bidder who should be able to keep the object
    unsold is modelled by a dummy arm worth 0, e.g. ``([[1.0]], [0.0])``.

    Parameters
    ----------
    arms : sequence of (P, r)
        One arm per bidder, as in :func:`dynamic_second_price`.
    discount : float
        The discount factor :math:`\delta \in (0, 1)`.
    alpha : array_like, optional
        The weights :math:`\hat\alpha_j > 0`, one per bidder (default 1).
    beta : array_like, optional
        The flow weights :math:`\hat\beta_j`, one number per bidder, added to his weighted
        flow in each period in which he is served (default 0; the additive case has
        :math:`\hat\beta_j = -h(\hat s_{j,0}) \le 0`).

    Returns
    -------
    DynamicSecondPrice
        ``index`` holds the virtual indices (in weighted units), ``winner`` the bidder served,
        ``price`` his payment in money; ``pivot`` is the weighted pivot result, whose
        ``transfers`` are every bidder's flow payments.

    Raises
    ------
    ValueError
        For malformed arms or discount (as :func:`dynamic_second_price`), or if ``alpha`` or
        ``beta`` does not have one finite entry per bidder, or an ``alpha`` is not positive.

    Examples
    --------
    Two bidders with known values 0.9 and 0.6 and additive handicaps 0.5 and 0: the second
    has the higher virtual value (0.6 > 0.4), and pays the first's virtual value 0.4.

    >>> from mdlib import virtual_index_auction
    >>> auction = virtual_index_auction([([[1.0]], [0.9]), ([[1.0]], [0.6])], 0.9, beta=[-0.5, 0.0])
    >>> int(auction.winner[0]), round(float(auction.price[0]), 9), auction.index[:, 0].round(9).tolist()
    (1, 0.4, [0.4, 0.6])
    """
    if isinstance(arms, (Arm, str)) or not hasattr(arms, "__len__") or len(arms) < 1:
        raise ValueError(f"arms must be a non-empty sequence of (P, r) pairs, one per bidder, got {arms!r}")
    n = len(arms)
    weights = []
    for name, x, default in (("alpha", alpha, 1.0), ("beta", beta, 0.0)):
        try:
            w = np.full(n, default) if x is None else np.array(x, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a vector of real numbers, one per bidder") from exc
        if w.shape != (n,) or not np.isfinite(w).all():
            raise ValueError(f"{name} must have one finite entry per bidder ({n}), got {np.shape(x)}")
        weights.append(w)
    a, b = weights
    if (a <= 0).any():
        raise ValueError(f"alpha must be positive, got alpha[{int(np.flatnonzero(a <= 0)[0])}] <= 0; exclude that bidder instead")
    auction = dynamic_second_price(arms, discount)               # validates the arms and the model
    model = auction.model
    beta_flows = []
    for j in range(n):
        flows = np.zeros((n, model.n_states[j]))
        flows[j] = b[j]                                          # added only when j is served
        beta_flows.append(flows)
    res = dynamic_pivot(model, weights=(a, beta_flows))
    states = model.states
    index = np.stack([gittins_index(model.transitions[j][j], a[j] * model.values[j][j] + b[j], model.discount)[states[:, j]]
                      for j in range(n)])
    winner = res.policy
    price = res.transfers[winner, np.arange(model.n_joint)]
    return DynamicSecondPrice(model=model, pivot=res, index=index, winner=winner, price=price)
