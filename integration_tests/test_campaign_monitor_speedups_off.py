"""Every test of test_campaign_monitor.py once more with our speed-ups off (integration_tests/speedups_off.py)."""

from integration_tests.test_campaign_monitor import *  # noqa: F401,F403  the same tests and fixtures, collected in this module
from integration_tests.speedups_off import *  # noqa: F401,F403
