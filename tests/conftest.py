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
