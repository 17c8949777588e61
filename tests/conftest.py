"""Shared test configuration: a deterministic hypothesis profile.

Property tests run the same examples on every run (``derandomize=True``), with a
modest number of examples, no per-example deadline (quadratures vary in time) and
no example database.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mdlib",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
    database=None,
)
settings.load_profile("mdlib")


# Under mutation testing (make mutation sets MUTANT_UNDER_TEST in each forked run), a table that the parent
# process memoised would hide a mutant in the code that builds it: each test starts with empty caches.
import os  # noqa: E402

import pytest  # noqa: E402

if os.environ.get("MUTANT_UNDER_TEST"):
    @pytest.fixture(autouse=True)
    def _fresh_mdlib_caches():
        import mdlib.virtual

        mdlib.virtual._AD_CACHE.clear()
        yield


def pytest_collection_modifyitems(config, items):
    """Under mutation testing, skip the doctests of mutmut's copies of each function (``x_f__mutmut_7``, ...):
    every copy carries the docstring, so the module's doctests would run once per mutant; the doctest of
    the public function itself (which calls whichever mutant is active) stays."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    copies = [item for item in items if "__mutmut_" in item.name]
    if copies:
        config.hook.pytest_deselected(items=copies)
        items[:] = [item for item in items if "__mutmut_" not in item.name]
