"""Every test of test_campaign_monitor.py once more with our speed-ups off (EMAIL_SOURCES_SPEEDUPS=off): the CDK's own code,
as the stock runtime runs it, must read the same records and save the same states as our packaged command."""

import pytest

from integration_tests.test_campaign_monitor import *  # noqa: F401,F403  the same tests and fixtures, collected in this module


@pytest.fixture(scope="module", autouse=True)
def speedups_off():
    """Autouse and module-scoped, so set before this module's sandbox and reads start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMAIL_SOURCES_SPEEDUPS", "off")
        yield


def test_the_reads_of_this_module_run_the_cdks_own_code(full_read):
    assert "Speed-ups off (EMAIL_SOURCES_SPEEDUPS=off): the CDK's own code runs." in full_read.output
