"""What every test starts from."""

import pytest
from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets


@pytest.fixture(autouse=True)
def no_secrets_left_by_an_earlier_test():
    """The CDK keeps the secrets it masks in a process-wide list, which every in-process run of a connector extends:
    a short value registered by an earlier test in the same worker (a test key such as "x") would mask the text of
    later tests' messages."""
    update_secrets([])
    yield
