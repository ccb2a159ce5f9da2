"""Responses: a page's body read once, undecodable bodies refused, the API's own error codes.

Expired OAuth tokens are answered `401 {"Code": 121}`, a bad API key `401 {"Code": 50}`, an id the credentials do not
own `400 {"Code": 102}`; rate limiting is `429` with `X-RateLimit-Reset` (seconds), which the shared
RateLimitAwareBackoff reads."""

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.http_errors import JsonApiErrorHandler
from connector_common.parsed_body import NOT_JSON, parsed_body, safe_url
from source_campaign_monitor.parts.time_zones import local_minute

_LAST_RESULT_MINUTE = "_campaign_monitor_last_result_minute"


def page_body(response: requests.Response) -> Any:
    """The response's parsed body (connector_common.parsed_body), with the local minute of a page's last `Results`
    item noted the first time it is read (see last_result_minute)."""
    body = parsed_body(response)
    if not hasattr(response, _LAST_RESULT_MINUTE):
        results = body.get("Results") if isinstance(body, dict) else None
        setattr(response, _LAST_RESULT_MINUTE, local_minute(results[-1]) if isinstance(results, list) and results else None)
    return body


def last_result_minute(response: requests.Response) -> Optional[str]:
    """The local minute of the page's last result as the API sent it: noted when the error handler first read the page,
    before AddParentIdsAndUtcDates turned the records' dates into UTC in place."""
    page_body(response)
    return getattr(response, _LAST_RESULT_MINUTE, None)


class ParsedJsonDecoder(JsonDecoder):
    """Yields the JSON body that CampaignMonitorErrorHandler already parsed and validated.

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
        body = page_body(response)
        if body is NOT_JSON:
            raise AirbyteTracedException(
                message="Campaign Monitor answered with a body that is not JSON.",
                internal_message=f"Undecodable body from {safe_url(response)}",
                failure_type=FailureType.system_error,
            )
        yield body


@dataclass
class CampaignMonitorErrorHandler(JsonApiErrorHandler):
    """The shared handler (connector_common.http_errors: undecodable successes retried, skipped partitions logged)
    with Campaign Monitor's own codes:

    - ``401 {"Code": 121}`` (expired OAuth token) or ``Code 120`` (unknown token) refreshes the token and retries once;
    - ``401 {"Code": 50}`` (invalid API key) fails as a config error naming the credentials; the other 401 codes
      (102 client, 101 list, 301 campaign: an id the credentials do not own) go to the manifest's filters.

    Why not YAML: a filter cannot ask for a token refresh, and it only sees bodies that decode."""

    api_name: ClassVar[str] = "Campaign Monitor"

    def interpret_api_response(self, response: requests.Response) -> Optional[ErrorResolution]:
        status = response.status_code
        if 200 <= status < 300:
            page_body(response)  # notes the page's last local minute before its records are transformed
            return None
        if status != 401:
            return None
        body = page_body(response)
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
        return None
