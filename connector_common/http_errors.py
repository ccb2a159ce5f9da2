"""What both connectors' error handlers and backoff strategies do alike, around the CDK's DefaultErrorHandler: an
answer whose body is not JSON is retried, never read as an empty page; skipped partitions are logged; waits follow
the API's rate-limit headers, else grow exponentially with jitter."""

import logging
import random
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar, List, Mapping, Optional, Tuple, Union

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config

from connector_common.parsed_body import NOT_JSON, parsed_body, safe_url
from connector_common.sync_store import note_refused_stream

logger = logging.getLogger("airbyte")
# The status of an answer an IGNORE filter skips because the account's plan or role may not read the stream (a 401 or
# 404 skipped is a partition gone, logged each time).
REFUSED = (403,)


@dataclass
class JsonApiErrorHandler(DefaultErrorHandler):
    """The manifest's error handler (its response filters, then the CDK's status mapping), after what only code can
    see: a subclass's `interpret_api_response` first (the API's own error codes), then a success whose body is not
    JSON (cut short, or an HTML page from a proxy), which the CDK's decoder would log and drop while the sync ends
    successfully: it is retried like a 5xx. A success with a readable body is a success, whatever the filters' predicates
    (they are written for error bodies). A partition a filter IGNOREs is logged as a warning.

    Why not YAML: an HttpResponseFilter only sees bodies that decode, and never the status of a success."""

    api_name: ClassVar[str] = "The API"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream_name = str(parameters.get("name") or "")

    def interpret_response(
        self, response_or_exception: Optional[Union[requests.Response, Exception]]
    ) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            resolution = self.interpret_api_response(response_or_exception)
            if resolution is not None:
                return resolution
            status = response_or_exception.status_code
            if 200 <= status < 300 and status != 204:
                if self.usable_body(parsed_body(response_or_exception)):
                    return ErrorResolution(response_action=ResponseAction.SUCCESS)
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.system_error,
                    error_message=f"{self.api_name} answered {status} with a body that is not valid JSON "
                                  f"({safe_url(response_or_exception)}); retrying.",
                )
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE:
            status = getattr(response_or_exception, "status_code", None)
            if status in REFUSED:  # a stream refused to the account: one warning for it, however many requests
                if note_refused_stream(self.config, self._stream_name, resolution.error_message or ""):
                    logger.warning(resolution.error_message)
                return resolution
            where = safe_url(response_or_exception) if isinstance(response_or_exception, requests.Response) else ""
            logger.warning(f"{resolution.error_message} ({where})" if where else resolution.error_message)
        return resolution

    def interpret_api_response(self, response: requests.Response) -> Optional[ErrorResolution]:
        """The resolution of an answer only this API's code can read, or None to go on with the common rules."""
        return None

    def usable_body(self, body: Any) -> bool:
        """Whether a success's parsed body can be read: any JSON here."""
        return body is not NOT_JSON


@dataclass
class RateLimitAwareBackoff(BackoffStrategy):
    """How long to wait before a retry: the first of `headers` the answer sends (seconds; `Retry-After` from proxies and
    gateways, an API's own reset header), else `base_seconds` doubled at each attempt up to `max_seconds`, times a
    random factor within `jitter` so that the workers hit by one burst do not all retry in the same instant.

    Why not YAML: WaitTimeFromHeader reads one header and ExponentialBackoffStrategy has no jitter and no cap; chaining
    them cannot put jitter on the fallback."""

    parameters: InitVar[Mapping[str, Any]]
    config: Config = field(default_factory=dict)
    headers: List[str] = field(default_factory=lambda: ["Retry-After", "X-RateLimit-Reset"])
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    max_header_wait_seconds: float = 900.0
    jitter: Tuple[float, float] = (0.5, 1.0)

    def backoff_time(
        self,
        response_or_exception: Optional[Union[requests.Response, requests.RequestException, Exception]],
        attempt_count: int,
    ) -> Optional[float]:
        response = (
            response_or_exception
            if isinstance(response_or_exception, requests.Response)
            else getattr(response_or_exception, "response", None)
        )
        if response is not None:
            for header in self.headers:
                value = response.headers.get(header)
                if value:
                    try:
                        wait = float(value)
                    except ValueError:
                        continue
                    return min(max(wait, 0.5), self.max_header_wait_seconds)
        exponential = min(float(self.max_seconds), float(self.base_seconds) * (2 ** max(attempt_count - 1, 0)))
        return exponential * random.uniform(*self.jitter)
