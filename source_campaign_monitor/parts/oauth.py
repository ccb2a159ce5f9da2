"""OAuth 2: a bearer token kept fresh, an authorization code exchanged once, new tokens persisted."""

import random
import threading
import time
from dataclasses import InitVar, dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, MutableMapping, Optional, Union

import requests

from airbyte_cdk.config_observation import emit_configuration_as_airbyte_control_message
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.config_problems import CONFIG_PROBLEMS_KEY
from connector_common.dates import parse_datetime_or_none
from connector_common.parsed_body import parsed_body
from connector_common.saved_stream_state import SAVED_STATES_KEY
from connector_common.sync_store import sync_store
from source_campaign_monitor.parts.settings import API_BASE_KEY

class _TokenState:
    """The OAuth tokens of one application in one sync, shared by every authenticator built from the manifest."""

    def __init__(self, credentials: Mapping[str, Any]) -> None:
        self.lock = threading.Lock()
        self.refresh_token: Optional[str] = credentials.get("refresh_token") or None
        self.authorization_code: Optional[str] = credentials.get("authorization_code") or None
        self.access_token: Optional[str] = None
        self.expires_at: float = 0.0
        expiry = _parse_expiry(credentials.get("token_expiry_date"))
        if credentials.get("access_token") and expiry:
            self.access_token = credentials["access_token"]
            self.expires_at = expiry


@dataclass
class CampaignMonitorOAuth(DeclarativeAuthenticator):
    """OAuth 2 for Campaign Monitor: ``Authorization: Bearer <access token>`` with the token kept fresh.

    - With a ``refresh_token`` (Airbyte's OAuth flow): refreshed before it expires and when the API answers Code 121.
    - With an ``authorization_code`` + ``redirect_uri`` (the connect flow): exchanged once for tokens.
    - Every new refresh token (and the access token with its expiry) is written to the config and emitted as an Airbyte
      CONTROL message so the next sync starts from it; the authorization code, spent, is dropped from the config.
    - A refresh or exchange the token endpoint rejects fails as a config error that says to re-authenticate.

    One token state per application and sync, shared by every stream (the manifest builds one authenticator per
    stream; concurrent refreshes with a rotating refresh token would otherwise invalidate one another).

    Why not YAML: the CDK's OAuthAuthenticator cannot exchange an authorization code, and with ``refresh_token_updater``
    it requires the token in the config before the first request."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    token_url: Union[InterpolatedString, str] = ""
    refresh_margin_seconds: float = 300.0
    timeout_seconds: float = 30.0
    attempts: int = 4

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._token_url = InterpolatedString.create(str(self.token_url), parameters=parameters)
        credentials = self.credentials
        key = ("oauth tokens", self._token_url.eval(self.config), credentials.get("client_id"),
               credentials.get("client_secret"))
        self._state = sync_store(self.config).once(key, lambda: _TokenState(credentials))

    @property
    def credentials(self) -> MutableMapping[str, Any]:
        credentials = self.config.get("credentials")
        return credentials if isinstance(credentials, dict) else {}

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self.get_access_token()}"

    def get_access_token(self) -> str:
        state = self._state
        if state.access_token and time.time() < state.expires_at - self.refresh_margin_seconds:
            return state.access_token
        with state.lock:
            if not state.access_token or time.time() >= state.expires_at - self.refresh_margin_seconds:
                self._obtain_tokens()
            return state.access_token  # type: ignore[return-value]

    def refresh_and_set_access_token(self) -> None:
        """Called by the CDK's HttpClient when the API answered Code 121 (REFRESH_TOKEN_THEN_RETRY)."""
        with self._state.lock:
            self._obtain_tokens()

    def _obtain_tokens(self) -> None:
        state = self._state
        credentials = self.credentials
        form = {"client_id": credentials.get("client_id"), "client_secret": credentials.get("client_secret")}
        if state.refresh_token:
            form.update(grant_type="refresh_token", refresh_token=state.refresh_token)
            what = "refresh token (credentials.refresh_token)"
        elif state.authorization_code:
            form.update(
                grant_type="authorization_code",
                code=state.authorization_code,
                redirect_uri=credentials.get("redirect_uri"),
            )
            what = "authorization code (credentials.authorization_code)"
        else:
            raise AirbyteTracedException(
                message="OAuth needs credentials.refresh_token or credentials.authorization_code: re-authenticate the source.",
                failure_type=FailureType.config_error,
            )
        body = self._post_token_request(form, what)
        access_token = body.get("access_token")
        if not access_token or not isinstance(access_token, str):
            raise AirbyteTracedException(
                message="The Campaign Monitor token endpoint answered without an access token.",
                failure_type=FailureType.system_error,
            )
        add_to_secrets(access_token)
        new_refresh = body.get("refresh_token") or None
        if new_refresh:
            add_to_secrets(str(new_refresh))
        try:
            expires_in = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            expires_in = 3600.0
        rotated = bool(new_refresh and new_refresh != state.refresh_token)
        spent_code = state.authorization_code is not None
        state.access_token = access_token
        state.expires_at = time.time() + expires_in
        state.authorization_code = None
        if new_refresh:
            state.refresh_token = new_refresh
        credentials["access_token"] = access_token
        credentials["token_expiry_date"] = datetime.fromtimestamp(state.expires_at, timezone.utc).isoformat()
        if state.refresh_token:
            credentials["refresh_token"] = state.refresh_token
        credentials.pop("authorization_code", None)
        if rotated or spent_code:
            # the settings only: not what the sync keeps beside them in memory (saved states, problems noted)
            private = (SAVED_STATES_KEY, CONFIG_PROBLEMS_KEY, API_BASE_KEY)
            emit_configuration_as_airbyte_control_message(
                {name: value for name, value in self.config.items() if name not in private})

    def _post_token_request(self, form: Mapping[str, Any], what: str) -> Mapping[str, Any]:
        url = self._token_url.eval(self.config)
        last_problem = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(min(10.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))
            try:
                response = requests.post(url, data=form, timeout=self.timeout_seconds)
            except requests.RequestException as error:
                last_problem = type(error).__name__
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last_problem = f"HTTP {response.status_code}"
                continue
            body = parsed_body(response)
            if response.status_code >= 400:
                error_code = body.get("error") if isinstance(body, dict) else None
                raise AirbyteTracedException(
                    message=(
                        f"Campaign Monitor rejected the OAuth {what} ({error_code or response.status_code}): "
                        "it was revoked or has expired. Re-authenticate the source."
                    ),
                    internal_message=f"Token endpoint answered {response.status_code} ({error_code})",
                    failure_type=FailureType.config_error,
                )
            if not isinstance(body, dict):
                last_problem = "an undecodable body"
                continue
            return body
        raise AirbyteTracedException(
            message=f"The Campaign Monitor token endpoint failed {self.attempts} times ({last_problem}).",
            failure_type=FailureType.transient_error,
        )


def _parse_expiry(value: Any) -> Optional[float]:
    expiry = parse_datetime_or_none(str(value)) if value else None
    return expiry.timestamp() if expiry else None
