"""Test-wide settings.

No test may depend on how fast the machine is (DESIGN.md; issue #12): Hypothesis's
per-example deadline and its "too slow" health check are wall-clock checks, so they are
off for every property test. Speed is measured by ``hemosim benchmark`` instead.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("hemosim", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hemosim")
