"""Problems found in the config while it is normalised, reported by `check` as FAILED with their message.

A config transformation runs while the source is built, for every verb, spec included (with an empty config). On
Airbyte's stock runtime an exception there is not a failed check but an "Error starting the sync ... contact Support"
trace with a stack trace. So transformations never raise for bad input: they note the problem in the config (in
memory, under a private key) with `note_config_problem`, and the manifest's config validation, which the CDK runs
when the streams are built (by `check`, `discover` and `read`, never by `spec`), raises the first one as a
config_error with `ConfigHasNoProblems`:

    validations:
      - type: DpathValidator
        field_path: ["__config_problems"]
        validation_strategy: {type: CustomValidationStrategy, class_name: ...ConfigHasNoProblems}

`check` then answers FAILED with the message; `read` and `discover` end with a config_error trace naming it.
"""

from __future__ import annotations

from typing import Any, Mapping, MutableMapping

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.validators.validation_strategy import ValidationStrategy
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

CONFIG_PROBLEMS_KEY = "__config_problems"


def note_config_problem(config: MutableMapping[str, Any], error: AirbyteTracedException) -> None:
    """Keeps `error` (its message and failure type) for the validation to raise."""
    failure_type = error.failure_type or FailureType.config_error
    config.setdefault(CONFIG_PROBLEMS_KEY, []).append(
        {"message": error.message or str(error), "failure_type": failure_type.value}
    )


def config_problem(config: Mapping[str, Any]) -> AirbyteTracedException | None:
    """The first problem noted in `config`, as the exception to raise; None when there is none."""
    problems = config.get(CONFIG_PROBLEMS_KEY) if isinstance(config, Mapping) else None
    return problem_as_exception(problems) if problems else None


def problem_as_exception(problems: Any) -> AirbyteTracedException:
    first = problems[0] if isinstance(problems, list) and problems and isinstance(problems[0], Mapping) else {}
    message = str(first.get("message") or "The config is not valid.")
    try:
        failure_type = FailureType(first.get("failure_type"))
    except ValueError:
        failure_type = FailureType.config_error
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)


class ConfigHasNoProblems(ValidationStrategy):
    """Raises the first problem a config transformation noted.

    Why not YAML: the CDK's validation strategies check a value against a JSON schema, which can say that a value
    is wrong but not why in the user's terms, nor carry a problem found by a request (an OAuth token refused)."""

    def validate(self, value: Any) -> None:
        if value:
            raise problem_as_exception(value)
