"""mdlib: the computational machinery behind *Dynamic Mechanism Design — an executable textbook*.

One module per concept, in the order of the book:

Part I, the static benchmark
    :mod:`mdlib.distributions` (virtual values, revenue curves, ironing) and
    :mod:`mdlib.auctions` (Myerson's optimal auction, second-price auctions, posted prices).
Part II, a buyer who learns over time
    :mod:`mdlib.finite` (finite type trees: optimal mechanisms by linear programming,
    deviation audits, the revelation principle, revenue ranges), :mod:`mdlib.envelope`
    (payments of the two-stage model from the envelope formula), :mod:`mdlib.options`
    (impulse responses, dynamic virtual values, menus of option contracts) and
    :mod:`mdlib.handicap` (handicap auctions for several buyers).
Part III, efficient and optimal dynamic allocation
    :mod:`mdlib.mdp` (finite Markov decision problems), :mod:`mdlib.pivot` (the dynamic
    pivot mechanism), :mod:`mdlib.balanced_budget` (the team and dynamic AGV mechanisms:
    efficient with a balanced budget), :mod:`mdlib.gittins` (Gittins indices),
    :mod:`mdlib.bandits` (the efficient dynamic second-price auction) and
    :mod:`mdlib.optimal_auctions` (revenue-maximising dynamic auctions: AR(1) bidders with
    private shocks, arrivals at a known or learned rate, progressive screening).
Part IV, the research frontier
    :mod:`mdlib.virtual` (virtual weights, the single-buyer menu, the ad auction of the
    virtual pivot), :mod:`mdlib.sequential` (ex-post participation and separable mechanisms)
    and :mod:`mdlib.commitment` (selling with positive commitment).
Figures
    :mod:`mdlib.plotting` (one style for every figure).

Every public name of a module (its ``__all__``) is also available from the package, e.g.
``mdlib.myerson_revenue``. Functions accept any continuous scipy.stats distribution, legacy
(``stats.uniform(0, 1)``) or new-style (``stats.Uniform(a=0, b=1)``), and raise
``ValueError`` with the parameter's name for bad input.
"""

from . import (
    auctions,
    balanced_budget,
    bandits,
    commitment,
    distributions,
    envelope,
    finite,
    gittins,
    handicap,
    mdp,
    optimal_auctions,
    options,
    pivot,
    plotting,
    sequential,
    virtual,
)
from .auctions import *
from .balanced_budget import *
from .bandits import *
from .commitment import *
from .distributions import *
from .envelope import *
from .finite import *
from .gittins import *
from .handicap import *
from .mdp import *
from .optimal_auctions import *
from .options import *
from .options import informativeness  # deprecated alias of impulse_response, not in __all__
from .pivot import *
from .plotting import *
from .sequential import *
from .virtual import *

__version__ = "0.1.0"

#: The modules whose ``__all__`` make up the public names, in the order of the book.
MODULES = (
    distributions,
    auctions,
    finite,
    envelope,
    options,
    handicap,
    mdp,
    pivot,
    balanced_budget,
    gittins,
    bandits,
    optimal_auctions,
    virtual,
    sequential,
    commitment,
    plotting,
)

__all__ = ["__version__", *(name for module in MODULES for name in module.__all__)]
