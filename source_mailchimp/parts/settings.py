"""The settings: checked, the account's data centre found (from the API key, or from the login server for an OAuth
token), a one-time OAuth authorization code exchanged for a token."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.config_problems import note_config_problem
from connector_common.dates import format_datetime, parse_datetime
from connector_common.sandbox_url import is_loopback_http_url

REAL_LOGIN_BASE = "https://login.mailchimp.com/oauth2"

DATA_CENTER = re.compile(r"^[a-z]{2}\d{1,3}$")

HTTP_TIMEOUT = (15, 60)

# Keys the connector adds to the in-memory config; never written back, never shown.
API_BASE_KEY = "api_base_url"
START_DATE_KEY = "start_date_normalized"
LOOKBACK_KEY = "lookback_window_minutes"
# The real API's since_* filters are exclusive, and email activity appears minutes after it happened: incremental
# streams read again from their saved cursor minus this.
DEFAULT_LOOKBACK_MINUTES = 15


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def sandbox_base(config: Mapping[str, Any]) -> Optional[str]:
    """The validated `sandbox_url` without a trailing slash, or None when absent (connector_common.sandbox_url)."""
    url = config.get("sandbox_url")
    if url in (None, ""):
        return None
    if not isinstance(url, str):
        raise config_error("`sandbox_url` must be a string.")
    if not is_loopback_http_url(url):
        raise config_error("`sandbox_url` must be an http:// URL on a loopback host (127.0.0.0/8, localhost, [::1]).")
    return url.rstrip("/")


def login_base(config: Mapping[str, Any]) -> str:
    base = sandbox_base(config)
    return f"{base}/oauth2" if base else REAL_LOGIN_BASE


def login_request(config: Mapping[str, Any], method: str, path: str, purpose: str, **kwargs: Any) -> requests.Response:
    """A request to Mailchimp's login server; an unreachable server is a system error saying what it was for."""
    try:
        return requests.request(method, f"{login_base(config)}/{path}", timeout=HTTP_TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise AirbyteTracedException(
            message=f"Could not reach Mailchimp's login server to {purpose}.",
            internal_message=type(error).__name__,
            failure_type=FailureType.system_error,
        ) from None


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass
class ExchangeAuthorizationCode(ConfigTransformation):
    """Exchanges a one-time OAuth `authorization_code` for an access token and drops the code from the config.

    YAML cannot say it: it is a POST whose answer rewrites the config. It runs as a config *migration*, so the CDK
    writes the updated config back and emits a CONTROL message holding it: the code is never used twice."""

    def transform(self, config: MutableMapping[str, Any]) -> None:
        try:
            self._exchange(config)
        except AirbyteTracedException as problem:  # raised by the config validation (connector_common.config_problems)
            note_config_problem(config, problem)

    @staticmethod
    def _exchange(config: MutableMapping[str, Any]) -> None:
        credentials = config.get("credentials")
        if not isinstance(credentials, MutableMapping) or credentials.get("auth_type") != "oauth2.0":
            return
        code = credentials.get("authorization_code")
        if not code or credentials.get("access_token"):
            return
        missing = [name for name in ("client_id", "client_secret", "redirect_uri") if not credentials.get(name)]
        if missing:
            raise config_error(
                f"`credentials.{missing[0]}` is required to exchange `credentials.authorization_code` for a token."
            )
        response = login_request(
            config,
            "POST",
            "token",
            "exchange the authorization code",
            data={
                "grant_type": "authorization_code",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "redirect_uri": credentials["redirect_uri"],
                "code": code,
            },
        )
        body = _json_or_empty(response)
        token = body.get("access_token") if response.status_code == 200 else None
        if not token:
            reason = body.get("error") or f"HTTP {response.status_code}"
            raise config_error(
                f"Mailchimp refused to exchange `credentials.authorization_code` ({reason}): "
                "the code may have been used already or expired; authorize again."
            )
        # A new mapping, not an update in place: the CDK compares the migrated config with a shallow copy of the
        # original to decide whether to save it and emit the CONTROL message.
        updated = {key: value for key, value in credentials.items() if key != "authorization_code"}
        updated["access_token"] = token
        config["credentials"] = updated


@dataclass
class ResolveApiBaseUrl(ConfigTransformation):
    """Validates the settings and resolves, once per run, the API base URL of the account's data center.

    YAML cannot say it: the data center comes from the API key's suffix or, for OAuth, from a call to the
    metadata endpoint, and a bad setting must fail naming its field. The result lives only in memory."""

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if "credentials" not in config:
            return  # `spec`: nothing to resolve (the CDK's spec validation requires credentials elsewhere)
        try:
            self._validate_settings(config)
            sandbox = sandbox_base(config)
            data_center = self._data_center(config)
        except AirbyteTracedException as problem:  # raised by the config validation (connector_common.config_problems)
            note_config_problem(config, problem)
            return
        config[API_BASE_KEY] = f"{sandbox}/3.0/" if sandbox else f"https://{data_center}.api.mailchimp.com/3.0/"

    @staticmethod
    def _validate_settings(config: MutableMapping[str, Any]) -> None:
        level = config.get("num_workers")
        if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10):
            del config["num_workers"]  # read while the source is built, before the validation can report it
            raise config_error("`num_workers` must be a whole number from 1 to 10 (Mailchimp's limit).")
        start_date = config.get("start_date")
        if start_date not in (None, ""):
            try:
                if not isinstance(start_date, str):
                    raise ValueError
                parsed = parse_datetime(start_date)
            except ValueError:
                raise config_error(
                    "`start_date` must be an ISO 8601 date or date-time, e.g. 2024-01-01 or 2024-01-01T00:00:00Z."
                ) from None
            if parsed > datetime.now(timezone.utc):
                raise config_error("`start_date` is in the future: nothing would be read.")
            # The API's since_* filters are exclusive: one second earlier, a record exactly at start_date is read.
            config[START_DATE_KEY] = format_datetime(parsed - timedelta(seconds=1))
        window = config.get("email_activity_date_window")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 0):
            raise config_error("`email_activity_date_window` must be a whole number of days, 0 or more.")
        lookback = config.get(LOOKBACK_KEY)
        if lookback is None:
            config[LOOKBACK_KEY] = DEFAULT_LOOKBACK_MINUTES
        elif isinstance(lookback, bool) or not isinstance(lookback, int) or not 1 <= lookback <= 10080:
            raise config_error(
                f"`{LOOKBACK_KEY}` must be a whole number of minutes from 1 to 10080 (a week): the API's date "
                "filters are exclusive and its activity appears late, so at least a minute is read again."
            )

    @staticmethod
    def _data_center(config: Mapping[str, Any]) -> str:
        credentials = config.get("credentials")
        if not isinstance(credentials, Mapping):
            raise config_error("`credentials` is required: an API key or an OAuth access token.")
        auth_type = credentials.get("auth_type")
        if auth_type == "apikey":
            key = credentials.get("apikey")
            if not isinstance(key, str) or not key:
                raise config_error("`credentials.apikey` is required.")
            _, _, suffix = key.rpartition("-")
            if "-" not in key or not DATA_CENTER.match(suffix):
                raise config_error(
                    "`credentials.apikey` does not end with a data center suffix such as -us6: copy the whole key."
                )
            return suffix
        if auth_type == "oauth2.0":
            token = credentials.get("access_token")
            if not isinstance(token, str) or not token:
                raise config_error(
                    "`credentials.access_token` is required for OAuth (or `credentials.authorization_code`)."
                )
            return ResolveApiBaseUrl._data_center_of_token(config, token)
        raise config_error("`credentials.auth_type` must be `apikey` or `oauth2.0`.")

    @staticmethod
    def _data_center_of_token(config: Mapping[str, Any], token: str) -> str:
        response = login_request(
            config,
            "GET",
            "metadata",
            "find the account's data center",
            headers={"Authorization": f"OAuth {token}", "Accept": "application/json"},
        )
        body = _json_or_empty(response)
        # A bad token gets a 200 with {"error": "invalid_token"}.
        if response.status_code in (401, 403) or body.get("error"):
            raise config_error(
                "Mailchimp rejected the OAuth token in `credentials.access_token` (invalid_token): authorize again."
            )
        data_center = body.get("dc")
        if response.status_code != 200 or not isinstance(data_center, str) or not DATA_CENTER.match(data_center):
            raise AirbyteTracedException(
                message="Mailchimp's metadata endpoint did not name the account's data center.",
                internal_message=f"HTTP {response.status_code}",
                failure_type=FailureType.system_error,
            )
        return data_center


def lookback_window(config: Mapping[str, Any]) -> timedelta:
    """How far before its saved cursor an incremental stream reads again (the manifest's `lookback_window`)."""
    minutes = config.get(LOOKBACK_KEY)
    valid = isinstance(minutes, int) and not isinstance(minutes, bool)
    return timedelta(minutes=minutes if valid else DEFAULT_LOOKBACK_MINUTES)
