"""Fewer requests in flight while the API answers 429, more again when it stops: for accounts shared with other clients.

An API's limit of simultaneous requests counts per user or key (Mailchimp: 10), not per connection. Another app on
the same account, or a second connection of this connector, holds part of it, and a sync keeping `num_workers`
requests in flight then meets 429s, and so does the other app. So each request of a sync, every attempt of it,
passes the sync's one `RequestsInFlight` gate (AIMD, as TCP's congestion window):

- at most `limit` requests in flight, never more than the ceiling, `num_workers` (the worker pool's size);
- `limit` starts at 2 and doubles with each round of answers until the first 429 (TCP's slow start: a sync does not
  open with `num_workers` requests at once into an account another app is using; at 50 ms a request, 10 are reached
  in about 0.2 s);
- a 429 to a request sent at the current limit lowers it (x `decrease_factor`, floor 1), once per burst: the other
  429s of the same burst were sent under the previous limit and lower nothing;
- every `limit` answers that are not 429, to requests in flight while the limit was filled, raise it by one, up to
  the ceiling (answers while the sync keeps fewer in flight prove nothing about more); up to the limit that was
  refused last, that is: going back to it takes 4 times as many answers, so that an account shared for the whole
  sync refuses a probe every few seconds rather than several a second (once it is passed without a 429, the other
  client has left and the usual pace resumes);
- leaving the ceiling and coming back to it are logged, once each; the 429 itself is retried by the error handler as
  before, so no record is lost.

Why a requester: the gate must see each attempt before it is sent and once it is answered, retries included, and only
the requester owns the HTTP session its attempts go through (a retry's backoff sleeps outside the gate). The gate is
the sync's, kept in its sync_store: every requester of the sync shares it.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Tuple, Union

import requests

from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_options.interpolated_request_options_provider import (
    InterpolatedRequestOptionsProvider,
)
from connector_common.sync_store import sync_store

_gate_logger = logging.getLogger("airbyte")
TOO_MANY_REQUESTS = 429
CAUTION = 4  # times more answers to raise the limit back to the one last refused


class RequestsInFlight:
    """An AIMD limit of simultaneous requests, shared by threads. `acquire` before sending, `release` with the answer's
    status (None: no answer) once the answer is read. `adaptive=False` keeps the limit at the ceiling (counting only)."""

    def __init__(self, ceiling: int, *, adaptive: bool = True, initial: int = 2, decrease_factor: float = 0.5,
                 api: str = "The API") -> None:
        self.ceiling = max(1, int(ceiling))
        self.adaptive = adaptive
        self.decrease_factor = min(max(float(decrease_factor), 0.0), 1.0)
        self.api = api
        self.limit = min(self.ceiling, max(1, int(initial))) if adaptive else self.ceiling
        self.in_flight = 0
        self.max_in_flight = 0
        self.throttled = 0  # 429s answered
        self.decreases = 0
        self._starting = adaptive  # doubling until the first 429, as TCP's slow start
        self._lowered = False  # below the ceiling because of 429s (logged)
        self._burst = 0  # counts the decreases: a request carries the value at its sending
        self._answers = 0  # answers at the limit since the last change
        self._refused_at: Optional[int] = None  # the limit at the last decrease, until passed again
        self._fills = 0  # times the limit was filled
        self._condition = threading.Condition()

    def acquire(self) -> Tuple[int, int]:
        """Waits for a slot; returns what `release` needs: the burst the request is sent in, and how many times the
        limit had been filled before."""
        with self._condition:
            while self.in_flight >= self.limit:
                self._condition.wait()
            fills = self._fills
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.in_flight >= self.limit:
                self._fills += 1
            return self._burst, fills

    def release(self, sent: Tuple[int, int], status: Optional[int]) -> None:
        sent_in_burst, fills = sent
        message = None
        with self._condition:
            self.in_flight -= 1
            at_the_limit = self._fills > fills  # the limit was filled while this request was in flight
            if status == TOO_MANY_REQUESTS:
                self.throttled += 1
                if self.adaptive and sent_in_burst == self._burst:
                    message = self._decrease()
            elif status is not None and at_the_limit and self.limit < self.ceiling:
                self._answers += 1
                cautious = self.limit + 1 == self._refused_at
                if self._answers >= self.limit * (CAUTION if cautious else 1):
                    message = self._increase()
            self._condition.notify_all()
        if message:
            _gate_logger.info(message)

    def _decrease(self) -> Optional[str]:
        before = self._refused_at = self.limit
        self.limit = max(1, int(self.limit * self.decrease_factor))
        self._burst += 1
        self._answers = 0
        self._starting = False
        self.decreases += 1
        if self._lowered:
            return None
        self._lowered = True
        return (f"{self.api} answered 429 (too many requests) with {self.in_flight + 1} requests of this sync in "
                f"flight: another client seems to share the account's allowance. Keeping at most {self.limit} "
                f"requests in flight (from {before}), more again while no 429 comes, never more than num_workers "
                f"({self.ceiling}); the refused requests are retried.")

    def _increase(self) -> Optional[str]:
        self.limit = min(self.ceiling, self.limit * 2 if self._starting else self.limit + 1)
        self._answers = 0
        if self._refused_at is not None and self.limit > self._refused_at:
            self._refused_at = None
        if self.limit < self.ceiling or not self._lowered:
            return None
        self._lowered = False
        return (f"No 429 from {self.api} for a while: back to {self.ceiling} requests in flight (num_workers); "
                f"{self.throttled} requests were refused with 429 and retried so far.")


def requests_in_flight(config: Mapping[str, Any], ceiling: int, adaptive: bool = True, api: str = "The API") -> RequestsInFlight:
    """The gate of the sync whose config this is (the first requester built sets it up)."""
    return sync_store(config).once(
        ("requests_in_flight",), lambda: RequestsInFlight(ceiling, adaptive=adaptive, api=api)
    )


class _GatedAdapter(requests.adapters.BaseAdapter):
    """Sends through `adapter`, each attempt inside the gate: the body is read before the slot is given back, since
    the API counts a connection until its answer is complete."""

    def __init__(self, adapter: requests.adapters.BaseAdapter, gate: RequestsInFlight) -> None:
        super().__init__()
        self.adapter = adapter
        self.gate = gate

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent = self.gate.acquire()
        status = None
        try:
            response = self.adapter.send(request, **kwargs)
            if not kwargs.get("stream"):
                response.content  # noqa: B018 - reads the body inside the gate
            status = response.status_code
            return response
        finally:
            self.gate.release(sent, status)

    def close(self) -> None:
        self.adapter.close()


@dataclass
class AdaptiveConcurrencyRequester(HttpRequester):
    """An HttpRequester whose every attempt passes the sync's RequestsInFlight gate (see the module's docstring).

    `max_requests_in_flight`: the ceiling, `num_workers`; `adaptive`: false keeps it fixed (for measurements).
    A custom requester gets no request options from the CDK's factory: `request_parameters`, `request_headers` and
    `request_body_json` are read here as an HttpRequester's are."""

    request_parameters: Optional[Union[str, Mapping[str, Any]]] = None
    request_headers: Optional[Union[str, Mapping[str, Any]]] = None
    request_body_json: Optional[Union[str, Mapping[str, Any]]] = None
    max_requests_in_flight: Union[int, str] = 10
    adaptive: Union[bool, str] = True
    api_name: str = "The API"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.request_options_provider is None:
            self.request_options_provider = InterpolatedRequestOptionsProvider(
                request_parameters=self.request_parameters or {},
                request_headers=self.request_headers or {},
                request_body_json=self.request_body_json,
                config=self.config,
                parameters=parameters,
            )
        super().__post_init__(parameters)
        ceiling = int(InterpolatedString.create(str(self.max_requests_in_flight), parameters=parameters).eval(self.config))
        adaptive = InterpolatedString.create(str(self.adaptive), parameters=parameters).eval(self.config)
        gate = requests_in_flight(self.config, ceiling, str(adaptive).strip().lower() not in ("false", "0", "no", "off"),
                                  self.api_name)
        session = self._http_client._session
        for prefix in ("https://", "http://"):
            session.mount(prefix, _GatedAdapter(session.get_adapter(prefix), gate))
