"""A problem a config transformation finds is raised by the manifest's config validation, not by the transformation
(connector_common.config_problems)."""

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.validators.dpath_validator import DpathValidator
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.config_problems import (
    CONFIG_PROBLEMS_KEY, ConfigHasNoProblems, config_problem, note_config_problem,
)


def validation() -> DpathValidator:
    """What the manifest declares: a DpathValidator on the private key, with ConfigHasNoProblems."""
    return DpathValidator(field_path=[CONFIG_PROBLEMS_KEY], strategy=ConfigHasNoProblems())


def test_a_config_without_problems_passes_the_validation():
    config = {"credentials": {"auth_type": "apikey", "apikey": "k-us6"}}
    validation().validate(config)
    assert config_problem(config) is None


def test_the_first_noted_problem_is_raised_with_its_message_and_failure_type():
    config: dict = {}
    note_config_problem(config, AirbyteTracedException(message="`start_date` is in the future.",
                                                       failure_type=FailureType.config_error))
    note_config_problem(config, AirbyteTracedException(message="the metadata endpoint failed",
                                                       failure_type=FailureType.system_error))
    with pytest.raises(AirbyteTracedException) as raised:
        validation().validate(config)
    assert raised.value.message == "`start_date` is in the future."
    assert raised.value.failure_type == FailureType.config_error
    assert config_problem(config).message == "`start_date` is in the future."


def test_a_system_error_noted_stays_a_system_error():
    config: dict = {}
    note_config_problem(config, AirbyteTracedException(message="no data center", failure_type=FailureType.system_error))
    with pytest.raises(AirbyteTracedException) as raised:
        validation().validate(config)
    assert raised.value.failure_type == FailureType.system_error
