"""mdlib: the computational machinery behind *Dynamic Mechanism Design — an executable textbook*.

Public API
----------
Distributions (:mod:`mdlib.distributions`)
    :func:`virtual_value`, :func:`ironed_virtual_value`, :func:`revenue_curve`,
    :func:`ironed_revenue_curve`, :func:`ironing_intervals`, :func:`is_regular`.
Static auctions (:mod:`mdlib.auctions`)
    :func:`optimal_reserve`, :func:`myerson_revenue`, :func:`second_price_revenue`,
    :func:`posted_price_revenue` (returns a :class:`PostedPrice`).
Figures (:mod:`mdlib.plotting`)
    :func:`set_style`, :func:`label_axes`, :data:`COLORS`, :data:`LINESTYLES`.

Every function accepts any continuous scipy.stats distribution, legacy
(``stats.uniform(0, 1)``) or new-style (``stats.Uniform(a=0, b=1)``), and raises
``ValueError`` with the parameter's name for bad input.
"""

from .auctions import (
    PostedPrice,
    myerson_revenue,
    optimal_reserve,
    posted_price_revenue,
    second_price_revenue,
)
from .distributions import (
    ironed_revenue_curve,
    ironed_virtual_value,
    ironing_intervals,
    is_regular,
    revenue_curve,
    virtual_value,
)
from .plotting import COLORS, LINESTYLES, label_axes, set_style

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "virtual_value",
    "ironed_virtual_value",
    "revenue_curve",
    "ironed_revenue_curve",
    "ironing_intervals",
    "is_regular",
    "optimal_reserve",
    "myerson_revenue",
    "second_price_revenue",
    "posted_price_revenue",
    "PostedPrice",
    "set_style",
    "label_axes",
    "COLORS",
    "LINESTYLES",
]

# Later parts of the book add their public names below, one block per concept.
# --- finite dynamic mechanisms (mdlib.finite)
from .finite import (  # noqa: E402
    Audit,
    Mechanism,
    Revelation,
    audit,
    make_mechanism,
    optimal_mechanism,
    revelation,
    revenue_range,
)

__all__ += ["optimal_mechanism", "audit", "make_mechanism", "revelation", "revenue_range", "Mechanism", "Audit", "Revelation"]
# --- sequential screening (mdlib.screening)
from .screening import (  # noqa: E402
    Menu,
    NotMonotoneError,
    OptionContract,
    HandicapAuction,
    HandicapSimulation,
    dynamic_virtual_value,
    handicap_auction,
    impulse_response,
    informativeness,
    optimal_option_contract,
    value_distribution,
)

__all__ += [
    "handicap_auction",
    "HandicapAuction",
    "HandicapSimulation",
    "optimal_option_contract",
    "OptionContract",
    "Menu",
    "NotMonotoneError",
    "impulse_response",
    "dynamic_virtual_value",
    "value_distribution",
]
# --- Markov decision problems and the dynamic pivot (mdlib.mdp, mdlib.pivot)
from .mdp import MDPSolution, action_values, evaluate_policy, solve_mdp  # noqa: E402
from .pivot import (  # noqa: E402
    DynamicModel,
    PivotAudit,
    PivotResult,
    SchedulingPivot,
    audit_pivot,
    dynamic_pivot,
    scheduling_model,
    scheduling_pivot,
    scheduling_pivot_prices,
)

__all__ += [
    "MDPSolution",
    "solve_mdp",
    "evaluate_policy",
    "action_values",
    "DynamicModel",
    "PivotResult",
    "PivotAudit",
    "SchedulingPivot",
    "dynamic_pivot",
    "audit_pivot",
    "scheduling_model",
    "scheduling_pivot",
    "scheduling_pivot_prices",
]
# --- Gittins indices and bandit auctions (mdlib.gittins, mdlib.bandits)
from .gittins import bernoulli_gittins_index, gittins_index  # noqa: E402
from .bandits import (  # noqa: E402
    Arm,
    DynamicSecondPrice,
    TwoArmedBandit,
    beta_bernoulli_arm,
    dynamic_second_price,
    two_armed_bandit,
)

__all__ += [
    "gittins_index",
    "bernoulli_gittins_index",
    "dynamic_second_price",
    "beta_bernoulli_arm",
    "two_armed_bandit",
    "Arm",
    "DynamicSecondPrice",
    "TwoArmedBandit",
]
# --- Sequential mechanisms and positive commitment (mdlib.sequential, mdlib.commitment)
from .sequential import TwoValueRevenues, continuation_revenue, price_points, two_value_revenues  # noqa: E402
from .commitment import CommitmentGame, PositiveCommitment, commitment_game, positive_commitment  # noqa: E402

__all__ += ["continuation_revenue", "price_points", "two_value_revenues", "TwoValueRevenues"]
__all__ += ["positive_commitment", "commitment_game", "PositiveCommitment", "CommitmentGame"]
# --- virtual weights and the single-buyer menu (mdlib.virtual)
from .virtual import SingleBuyerMenu, VirtualWeights, single_buyer_menu, virtual_weights  # noqa: E402

__all__ += ["virtual_weights", "VirtualWeights", "single_buyer_menu", "SingleBuyerMenu"]
# --- weighted (virtual) pivot (mdlib.pivot)
from .pivot import (  # noqa: E402
    AdAuction,
    AdRelaxed,
    PivotWeights,
    ad_auction,
    ad_auction_breakpoints,
    ad_auction_model,
    ad_auction_relaxed,
)

__all__ += ["PivotWeights", "ad_auction_model", "ad_auction", "ad_auction_breakpoints", "ad_auction_relaxed", "AdAuction", "AdRelaxed"]
# --- bandit auctions, revenue-optimal (mdlib.bandits)
from .bandits import AR1Stopping, ArrivalAuction, ar1_stopping, arrival_auction, arrival_deviation_gain  # noqa: E402

__all__ += ["ar1_stopping", "arrival_auction", "arrival_deviation_gain", "AR1Stopping", "ArrivalAuction"]
# --- linear programmes of the sequential-mechanisms chapter (mdlib.sequential)
from .sequential import (  # noqa: E402
    OptimalFace,
    TwoByTwoLP,
    continuation_revenue_lp,
    optimal_face,
    two_by_two_lp,
    two_by_two_revenue,
    two_good_continuation_revenue,
)

__all__ += ["continuation_revenue_lp", "two_good_continuation_revenue", "two_by_two_lp", "two_by_two_revenue", "optimal_face", "TwoByTwoLP", "OptimalFace"]
# --- efficient mechanisms with a balanced budget (mdlib.balanced_budget)
from .balanced_budget import BudgetMechanism, MechanismAudit, agv_mechanism, audit_mechanism, team_mechanism  # noqa: E402

__all__ += ["team_mechanism", "agv_mechanism", "audit_mechanism", "BudgetMechanism", "MechanismAudit"]
# --- envelope payments of the two-stage model (mdlib.envelope)
from .envelope import EnvelopePayments, envelope_payments  # noqa: E402

__all__ += ["envelope_payments", "EnvelopePayments"]
from .commitment import BestResponses, best_responses, equilibrium_offers  # noqa: E402

__all__ += ["equilibrium_offers", "best_responses", "BestResponses"]
# --- optimal dynamic auctions on finite models (mdlib.dynamic_auctions)
from .dynamic_auctions import AR1Sale, LearningArrivalAuction, ar1_sale_mechanism, certainty_equivalent_payment, learning_arrival_auction, learning_deviation_gain, progressive_tree  # noqa: E402

__all__ += ["ar1_sale_mechanism", "learning_arrival_auction", "learning_deviation_gain", "certainty_equivalent_payment", "progressive_tree", "AR1Sale", "LearningArrivalAuction"]
