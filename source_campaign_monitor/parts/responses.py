"""Responses: the body parsed once, undecodable bodies retried, the API's error codes, backoff on rate limits.

Expired OAuth tokens are answered `401 {"Code": 121}`, a bad API key `401 {"Code": 50}`, an id the credentials do not
own `400 {"Code": 102}`; rate limiting is `429` with `X-RateLimit-Reset` (seconds) and no `Retry-After`."""

import logging
import random
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, Mapping, MutableMapping, Optional, Union

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.json_body import json_loads
from source_campaign_monitor.parts.time_zones import local_minute

logger = logging.getLogger("airbyte")

_PARSED = "_campaign_monitor_json"
_LAST_RESULT_MINUTE = "_campaign_monitor_last_result_minute"
_UNDECODABLE = object()


def parsed_json(response: requests.Response) -> Any:
    """The body of ``response`` parsed once and kept on the response (the error handler and the decoder both need it).

    A page's last ``Results`` item's local minute is kept beside it (see last_result_minute)."""
    cached = getattr(response, _PARSED, None)
    if cached is None:
        try:
            if response.content:
                cached = json_loads(response.content)
            else:  # every GET of the API answers JSON: an empty 200 is a cut-off response, not an empty page
                cached = _UNDECODABLE if response.status_code == 200 else {}
        except (ValueError, UnicodeDecodeError):
            cached = _UNDECODABLE
        setattr(response, _PARSED, cached)
        results = cached.get("Results") if isinstance(cached, dict) else None
        if isinstance(results, list) and results:
            setattr(response, _LAST_RESULT_MINUTE, local_minute(results[-1]))
    return cached


def last_result_minute(response: requests.Response) -> Optional[str]:
    """The local minute of the page's last result as the API sent it: read when the page was parsed, before
    AddParentIdsAndUtcDates turned the records' dates into UTC in place."""
    parsed_json(response)
    return getattr(response, _LAST_RESULT_MINUTE, None)


class ParsedJsonDecoder(JsonDecoder):
    """Yields the JSON body that :class:`CampaignMonitorErrorHandler` already parsed and validated.

    Why not YAML: the CDK's JsonDecoder turns an undecodable body into ``{}`` (a silently empty page). Here the error
    handler has already retried such a response; this decoder only avoids parsing the body a second time. An error
    response that a filter chose to IGNORE (a deleted campaign's 404) yields no record at all."""

    def __init__(self, parameters: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(parameters=parameters or {})

    def is_stream_response(self) -> bool:
        return False

    def decode(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        if response.status_code >= 400:
            yield {}
            return
        body = parsed_json(response)
        if body is _UNDECODABLE:
            raise AirbyteTracedException(
                message="Campaign Monitor answered with a body that is not JSON.",
                internal_message=f"Undecodable body from {_safe_url(response)}",
                failure_type=FailureType.system_error,
            )
        yield body


def _safe_url(response: requests.Response) -> str:
    return (response.url or "").split("?")[0]


@dataclass
class CampaignMonitorErrorHandler(DefaultErrorHandler):
    """The DefaultErrorHandler (response filters from the manifest, then the CDK's status mapping) plus what only code
    can see:

    - a 200 whose body is not decodable JSON (truncated, or an HTML page from a proxy) is retried, never dropped;
    - ``401 {"Code": 121}`` (expired OAuth token) or ``Code 120`` (unknown token) refreshes the token and retries once;
    - ``401 {"Code": 50}`` (invalid API key) fails as a config error naming the credentials; the other 401 codes
      (102 client, 101 list, 301 campaign: an id the credentials do not own) go to the manifest's filters;
    - a response a filter IGNOREs (a partition deleted mid-sync) is logged as a warning.

    Why not YAML: an HttpResponseFilter only sees bodies that decode; a 200 with an undecodable body is 'success' to it."""

    def interpret_response(
        self, response_or_exception: Optional[Union[requests.Response, Exception]]
    ) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            response = response_or_exception
            status = response.status_code
            if status == 200:
                if parsed_json(response) is _UNDECODABLE:
                    return ErrorResolution(
                        response_action=ResponseAction.RETRY,
                        failure_type=FailureType.transient_error,
                        error_message=f"Campaign Monitor answered 200 with a body that is not JSON ({_safe_url(response)}).",
                    )
                return ErrorResolution(response_action=ResponseAction.SUCCESS)
            if status == 401:
                body = parsed_json(response)
                code = body.get("Code") if isinstance(body, dict) else None
                if code in (120, 121):
                    return ErrorResolution(
                        response_action=ResponseAction.REFRESH_TOKEN_THEN_RETRY,
                        failure_type=FailureType.transient_error,
                        error_message=f"The OAuth access token was rejected (Code {code}): refreshing it.",
                    )
                if code == 50 or code is None:
                    return ErrorResolution(
                        response_action=ResponseAction.FAIL,
                        failure_type=FailureType.config_error,
                        error_message="Campaign Monitor rejected the credentials (401 Code 50): check credentials.api_key"
                        " (or the OAuth credentials).",
                    )
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE:
            where = _safe_url(response_or_exception) if isinstance(response_or_exception, requests.Response) else ""
            logger.warning(f"{resolution.error_message} ({where})")
        return resolution


@dataclass
class RateLimitAwareBackoff(BackoffStrategy):
    """How long to wait before a retry: ``Retry-After`` when sent (proxies, gateways), else Campaign Monitor's own
    ``X-RateLimit-Reset`` (seconds until the quota resets), else a bounded exponential backoff with jitter.

    Why not YAML: WaitTimeFromHeader reads one header and ExponentialBackoffStrategy has no jitter and no cap; chaining
    them cannot put jitter on the fallback."""

    parameters: InitVar[Mapping[str, Any]]
    config: Config = field(default_factory=dict)
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    max_header_wait_seconds: float = 900.0

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException]],
        attempt_count: int,
    ) -> Optional[float]:
        response = (
            response_or_exception
            if isinstance(response_or_exception, requests.Response)
            else getattr(response_or_exception, "response", None)
        )
        if response is not None:
            for header in ("Retry-After", "X-RateLimit-Reset"):
                value = response.headers.get(header)
                if value:
                    try:
                        wait = float(value)
                    except ValueError:
                        continue
                    return min(max(wait, 0.5), self.max_header_wait_seconds)
        exponential = min(self.max_seconds, self.base_seconds * (2 ** max(attempt_count - 1, 0)))
        return exponential * random.uniform(0.5, 1.0)

