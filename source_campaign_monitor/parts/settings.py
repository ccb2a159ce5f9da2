"""The settings: a flat config moved under `credentials`, every setting checked, the API's base URL derived."""

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Mapping, MutableMapping

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.config_problems import note_config_problem
from connector_common.dates import parse_datetime_or_none
from connector_common.sandbox_url import is_loopback_http_url

logger = logging.getLogger("airbyte")


REAL_API = "https://api.createsend.com"
API_BASE_KEY = "api_base_url"  # derived from `sandbox_url` at start-up: the base of every request's url


@dataclass
class NormalizeAndCheckSettings(ConfigTransformation):
    """Moves a flat config (the Singer tap's ``client_id``, ``client_secret``, ``refresh_token``, ``redirect_uri``, or an
    ``api_key`` / ``username`` at the top) under ``credentials``, then checks every setting, noting what is wrong,
    each part naming its field, for the manifest's validation (ConfigHasNoProblems) to raise: ``check`` answers
    FAILED with "Invalid settings: ...", ``read`` and ``discover`` end with a config_error, before any request.

    Why not YAML: the spec's JSON schema can reject a value but not say which field, in the user's terms, nor move
    fields; and a transformation that raised would be reported by the stock runtime as a crash, not a failed check."""

    def transform(self, config: MutableMapping[str, Any]) -> None:
        self._move_flat_credentials(config)
        sandbox = config.get("sandbox_url")
        config[API_BASE_KEY] = (
            f"{sandbox.rstrip('/')}/api/v3.3/" if isinstance(sandbox, str) and sandbox else f"{REAL_API}/api/v3.3/"
        )
        problems = settings_problems(config)
        if problems:
            num_workers = config.get("num_workers")
            if num_workers is not None and not _is_int_between(num_workers, 1, 20):
                del config["num_workers"]  # read while the source is built, before the validation can report it
            message = "Invalid settings: " + "; ".join(problems)
            note_config_problem(config, AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.config_error))

    @staticmethod
    def _move_flat_credentials(config: MutableMapping[str, Any]) -> None:
        if isinstance(config.get("credentials"), dict):
            return
        if config.get("api_key") or config.get("username"):
            config["credentials"] = {"auth_type": "api_key", "api_key": config.get("api_key") or config.get("username")}
        elif config.get("client_id") or config.get("refresh_token") or config.get("authorization_code"):
            names = ("client_id", "client_secret", "refresh_token", "authorization_code", "redirect_uri", "access_token")
            config["credentials"] = {"auth_type": "oauth2.0", **{k: config[k] for k in names if config.get(k)}}


def settings_problems(config: Mapping[str, Any]) -> List[str]:
    """What is wrong with the settings, each message naming its field. Empty when the config is usable."""
    problems: List[str] = []
    credentials = config.get("credentials")
    if not isinstance(credentials, dict):
        return ["credentials: missing; give credentials.api_key, or credentials.client_id, client_secret and refresh_token"]
    auth_type = credentials.get("auth_type")
    if auth_type == "api_key":
        if not isinstance(credentials.get("api_key"), str) or not credentials["api_key"].strip():
            problems.append("credentials.api_key: must be a non-empty string")
    elif auth_type == "oauth2.0":
        for name in ("client_id", "client_secret"):
            value = credentials.get(name)
            if not isinstance(value, (str, int)) or not str(value).strip():
                problems.append(f"credentials.{name}: required for OAuth")
        if not credentials.get("refresh_token") and not credentials.get("authorization_code"):
            problems.append("credentials.refresh_token: required for OAuth (or credentials.authorization_code)")
        if credentials.get("authorization_code") and not credentials.get("refresh_token") and not credentials.get("redirect_uri"):
            problems.append("credentials.redirect_uri: required to exchange credentials.authorization_code")
        for name in ("refresh_token", "authorization_code", "redirect_uri"):
            if credentials.get(name) is not None and not isinstance(credentials.get(name), str):
                problems.append(f"credentials.{name}: must be a string")
    else:
        problems.append(f"credentials.auth_type: must be 'api_key' or 'oauth2.0', not {auth_type!r}")
    api_client_id = config.get("api_client_id")
    if api_client_id is not None and not isinstance(api_client_id, str):
        problems.append("api_client_id: must be a string (a Campaign Monitor client id) or empty")
    start_date = config.get("start_date")
    if start_date not in (None, ""):
        parsed = parse_datetime_or_none(start_date) if isinstance(start_date, str) else None
        if parsed is None:
            problems.append(f"start_date: {start_date!r} is not a date-time such as 2024-01-01T00:00:00Z")
        elif parsed > datetime.now(timezone.utc):
            problems.append(f"start_date: {start_date!r} is in the future")
    if config.get("num_workers") is not None and not _is_int_between(config["num_workers"], 1, 20):
        problems.append("num_workers: must be an integer from 1 to 20")
    lookback = config.get("lookback_window_minutes")
    if lookback is not None and not _is_int_between(lookback, 0, 1440):
        problems.append("lookback_window_minutes: must be an integer from 0 to 1440")
    sandbox_url = config.get("sandbox_url")
    if sandbox_url not in (None, "") and not is_loopback_http_url(sandbox_url):
        problems.append("sandbox_url: only an http:// URL on a loopback host (127.0.0.0/8, localhost, [::1]) is accepted")
    return problems


def _is_int_between(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


