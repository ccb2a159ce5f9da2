"""Mailchimp's answers: a bare 403 (its answer to bursts) retried, a page's bytes let go once parsed, backoff with
jitter after the manifest's Retry-After."""

import logging
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, List, Mapping, Optional, Tuple

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from connector_common.http_errors import JsonApiErrorHandler, RateLimitAwareBackoff
from connector_common.parsed_body import PARSED_BODY, parsed_body

logger = logging.getLogger("airbyte")


class ParsedPageResponse(requests.Response):
    """A page whose JSON body has been parsed (connector_common.parsed_body), and whose bytes were then let go.

    A page is several times larger once parsed, and the CDK keeps the response, bytes included, until the page's last
    record is read, while pages requested ahead wait parsed: keeping only the parsed body lowers the sync's memory.
    Nothing on the read path reads the bytes again: the extractor and the paginator take the parsed body. Whoever else
    asks for `content` (an error message, the Connector Builder's request log) gets the body serialized again from
    the parsed one, as it is by then (records already read from it may have been transformed in place). With debug
    logging the bytes are kept: the CDK logs each body as received."""

    @classmethod
    def let_go_of_the_bytes(cls, response: requests.Response) -> None:
        response.__class__ = cls
        response._content = None

    @property
    def content(self) -> Optional[bytes]:  # type: ignore[override]
        if self._content is None:
            body = getattr(self, PARSED_BODY, None)
            if isinstance(body, dict):
                return orjson.dumps(body)
        return super().content


@dataclass
class MailchimpErrorHandler(JsonApiErrorHandler):
    """The shared handler (connector_common.http_errors: a success whose body is not JSON retried, skipped partitions
    logged) with what is Mailchimp's own: every page is a JSON object, a 403 without a JSON body is the API's answer
    to bursts and is retried (a 403 with a problem+json body is a real permission error and goes on to the manifest's
    filters), and a good page's bytes are let go once parsed (ParsedPageResponse).

    Why not YAML: an HttpResponseFilter's predicate sees the decoded body and headers, never the status of a success,
    and cannot tell a 403 without a body from one with."""

    api_name: ClassVar[str] = "Mailchimp"

    def interpret_api_response(self, response: requests.Response) -> Optional[ErrorResolution]:
        status = response.status_code
        if status == 403:
            if not isinstance(parsed_body(response), dict):
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.system_error,
                    error_message="Mailchimp answered a 403 without a JSON body (403); retrying.",
                )
        elif 200 <= status < 300 and status != 204:
            if isinstance(parsed_body(response), dict) and not logger.isEnabledFor(logging.DEBUG):
                ParsedPageResponse.let_go_of_the_bytes(response)
        return None

    def usable_body(self, body: Any) -> bool:
        return isinstance(body, dict)


@dataclass
class JitteredExponentialBackoff(RateLimitAwareBackoff):
    """The shared backoff (connector_common.http_errors) as Mailchimp's manifest sets it: `factor` x 2^attempt
    seconds, +-20%, uncapped; Retry-After is read by the WaitTimeFromHeader before this strategy.

    Why not YAML: the CDK's ExponentialBackoffStrategy has no jitter."""

    factor: float = 1.0
    headers: List[str] = field(default_factory=list)
    max_seconds: float = math.inf
    jitter: Tuple[float, float] = (0.8, 1.2)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.base_seconds = 2 * float(self.factor)
