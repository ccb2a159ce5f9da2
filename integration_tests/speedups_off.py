"""What a test module needs to run its tests once more with our speed-ups off: `from integration_tests.speedups_off
import *` after the tests it repeats. Those tests' reads must then give the same records and states with the CDK's own
code, as the stock runtime runs it."""

import pytest

from connector_common.speedups import SWITCH

__all__ = ["speedups_off", "test_the_reads_of_this_module_run_the_cdks_own_code"]


@pytest.fixture(scope="module", autouse=True)
def speedups_off():
    """Autouse and module-scoped, so set before the module's sandbox and reads start."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SWITCH, "off")
        yield


def test_the_reads_of_this_module_run_the_cdks_own_code(full_read):
    assert f"Speed-ups off ({SWITCH}=off): the CDK's own code runs." in full_read.output
