"""Campaign Monitor's Python components, one module per concern: what the low-code YAML of airbyte-cdk cannot say.

Each class says why YAML could not express it; the manifest wires them. Airbyte's stock runtime runs a connector from
manifest.yaml and one components.py, which imports only the CDK and its dependencies: scripts/build_manifest_only.py
writes components.py from the modules below, in this order (each after those it imports). Our packaged command
imports the modules themselves (connector_common.packaged_manifest finds each class the manifest names).

Made by scripts/build_manifest_only.py from the modules named below: edit them there."""


# ---- connector_common/json_body.py
import json
from typing import Any

import orjson


def json_loads(body: bytes) -> Any:
    """A response body parsed with orjson (half the CPU of json on these pages), or with json for what orjson refuses
    but JSON allows: a lone surrogate escape such as "\\ud83d" (half an emoji, as some web forms cut it), which would
    otherwise make a whole page undecodable. Raises ValueError for a body that is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


# ---- connector_common/parsed_body.py
from typing import Any, Callable, Iterable

import requests


PARSED_BODY = "_parsed_json_body"


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()  # the parsed body of a response whose body is not JSON


def parsed_body(response: requests.Response) -> Any:
    """The response's body parsed as JSON, or NOT_JSON. An empty body is NOT_JSON too, whatever the status: both APIs
    answer JSON to every request, so an empty body is a cut-off answer, not an empty page."""
    body = getattr(response, PARSED_BODY, NOT_JSON)
    if body is NOT_JSON and not hasattr(response, PARSED_BODY):
        try:
            content = response.content
            body = json_loads(content) if content else NOT_JSON
        except (ValueError, TypeError, UnicodeDecodeError):
            body = NOT_JSON
        setattr(response, PARSED_BODY, body)
    return body


def safe_url(response: requests.Response) -> str:
    """The response's URL without its query (which may hold a key or an e-mail address), for messages."""
    return (getattr(response, "url", None) or "").split("?")[0]


def records_under_key(
    body: Any,
    key: str,
    strict: bool,
    malformed: Callable[[str], Exception],
    empty_page: Callable[[dict], bool] = lambda body: False,
) -> Iterable[Any]:
    """The records of a page: the list under one top-level key of its parsed body, found by a key lookup.

    `strict`, for an API that always sends the list: a body that is not an object, a page without the list (unless
    `empty_page(body)` says the API left it out of an empty page) or with items that are not objects raises
    `malformed(what)`, since a page silently read as empty is a silent loss. Otherwise such a body reads as no record
    and the list's items are passed on as sent."""
    if not isinstance(body, dict):
        if strict:
            raise malformed("a body that is not a JSON object")
        return ()
    records = body.get(key)
    if isinstance(records, list):
        if strict and not all(isinstance(record, dict) for record in records):
            raise malformed(f"`{key}` items that are not objects")
        return records
    if not strict or (records is None and empty_page(body)):
        return ()
    raise malformed(f"no `{key}` list")


# ---- connector_common/dates.py
from datetime import datetime, timezone
from typing import Any, Optional, Union


def parse_datetime(value: Union[str, datetime]) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (UTC assumed without an offset; `Z`, `+0000` and a space
    before the time accepted). Raises ValueError for anything else."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip().replace(" ", "T")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:  # +0000 -> +00:00
            text = text[:-2] + ":" + text[-2:]
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_datetime_or_none(value: Any) -> Optional[datetime]:
    """parse_datetime, or None for an empty value or one that is not a date-time."""
    if not value or not isinstance(value, (str, datetime)):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def format_datetime(value: datetime) -> str:
    """UTC with a numeric offset, to the second, e.g. 2015-10-21T15:41:36+00:00."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


# ---- connector_common/sandbox_url.py
import ipaddress
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost"}


def is_loopback_http_url(value: Any) -> bool:
    """An http:// URL on a loopback host, without credentials, query or fragment: the only place `sandbox_url` may send
    the API's credentials over plain http (user:password@ would be sent as basic auth in their place)."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a malformed port raises here rather than at the first request
    except ValueError:
        return False
    if parts.scheme != "http" or not host or parts.username is not None or parts.password is not None:
        return False
    if parts.query or parts.fragment:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- connector_common/saved_stream_state.py
import copy
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration

SAVED_STATES_KEY = "__saved_stream_states"


def saved_stream_state(config: Mapping[str, Any], stream_name: str) -> Mapping[str, Any]:
    """The state the sync started from for `stream_name` ({} on a first sync, or when the stream has no such
    migration)."""
    states = config.get(SAVED_STATES_KEY) if isinstance(config, Mapping) else None
    state = states.get(stream_name) if isinstance(states, Mapping) else None
    return state if isinstance(state, Mapping) else {}


@dataclass
class KeepSavedStateForPartitionRouter(StateMigration):
    """Keeps the stream's saved state, unchanged, where its partition router reads it (`saved_stream_state`).

    Why not YAML: a declarative partition router is never given the stream's state; a state migration is, and runs
    first. It migrates nothing: `should_migrate` keeps a copy and answers False, so the state reaches the cursor as it
    was saved."""

    config: MutableMapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if isinstance(self.config, MutableMapping) and self._stream_name:
            states = self.config.setdefault(SAVED_STATES_KEY, {})
            states[self._stream_name] = copy.deepcopy(dict(stream_state or {}))
        return False

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        return stream_state


def drop_global_fallback(stream_state: MutableMapping[str, Any]) -> None:
    """Removes the CDK's global fallback (`state`: the newest cursor over all partitions) from a per-partition state.

    The CDK starts a partition the previous sync did not see (a new list, a new campaign) from that fallback, which
    would skip the new partition's records dated before it (a list imported with older subscribers). Without it, such
    a partition starts from start_date, as on a first sync; partitions already seen keep their own cursor. A state
    that the CDK switched to one global cursor (`use_global_cursor`) is left as it is."""
    if "states" in stream_state and not stream_state.get("use_global_cursor"):
        stream_state.pop("state", None)
        stream_state.pop("lookback_window", None)


@dataclass
class StartNewPartitionsFromTheStartDate(StateMigration):
    """A per-partition state without the CDK's global fallback cursor (see drop_global_fallback).

    Why not YAML: the CDK offers no setting for where a partition the state does not know starts."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return "states" in stream_state and not stream_state.get("use_global_cursor") and (
            "state" in stream_state or "lookback_window" in stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        migrated = dict(stream_state)
        drop_global_fallback(migrated)
        return migrated


# ---- connector_common/config_problems.py
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


# ---- connector_common/sync_store.py
import threading
from collections import OrderedDict
from typing import Any, Callable, Mapping


class SyncStore:
    """Values computed once per sync, by key. The first caller of `once` computes while the others wait for it; a
    computation that raises stores nothing, so the next caller tries again."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._guard = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}
        self._values: dict[Any, Any] = {}

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._guard:
            if key in self._values:
                return self._values[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._guard:
                self._values[key] = value
            return value

    def first(self, key: Any) -> bool:
        """True for the first caller with this key in the sync, False for every later one."""
        firsts: list = []
        self.once(key, lambda: firsts.append(True))
        return bool(firsts)

    def get(self, key: Any, default: Any = None) -> Any:
        with self._guard:
            return self._values.get(key, default)


MAX_STORES = 8
_STORES: "OrderedDict[int, SyncStore]" = OrderedDict()
_STORES_GUARD = threading.Lock()


def sync_store(config: Mapping[str, Any]) -> SyncStore:
    """The store of the sync whose config this is."""
    with _STORES_GUARD:
        store = _STORES.get(id(config))
        if store is None or store.config is not config:
            store = _STORES[id(config)] = SyncStore(config)
        _STORES.move_to_end(id(config))
        while len(_STORES) > MAX_STORES:
            _STORES.popitem(last=False)
        return store


def note_refused_stream(config: Mapping[str, Any], stream_name: str, reason: str) -> bool:
    """Notes that the API refused to let this sync read `stream_name` (403 for the account's plan or role); True
    the first time in the sync, so that the refusal is logged once per stream."""
    store = sync_store(config)
    store.once(("refused", stream_name), lambda: reason)
    return store.first(("refusal logged", stream_name))


def refusal_of(config: Mapping[str, Any], stream_name: str) -> Any:
    """Why the API refused `stream_name` in this sync, or None."""
    return sync_store(config).get(("refused", stream_name))


# ---- connector_common/http_errors.py
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


# ---- connector_common/partitions.py
import logging
from dataclasses import InitVar, dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


logger = logging.getLogger("airbyte")


class PartitionsWithoutRequestOptions(PartitionRouter):
    """A partition router whose partitions add nothing to the request (the partition is in the path), and which keeps
    no state unless a subclass says otherwise."""

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Union[Mapping[str, Any], str]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def set_initial_state(self, stream_state: StreamState) -> None:
        pass

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        return None


def shared_listing(config: Mapping[str, Any], key: Any, read: Callable[[], Iterable[StreamSlice]]) -> Iterable[StreamSlice]:
    """The partitions `read` lists, read once per sync for every router that gives the same `key`: the first to ask
    reads while the others wait, and each gets its own copies. Only the partitions are kept (ids and a few extra
    fields), in the sync's store (connector_common.sync_store): nothing across syncs, and a failed or cut-short read
    keeps nothing, so the next stream reads the parent itself (unlike the CDK's HTTP cache, which kept a cut-short 200
    and replayed it on retries)."""
    for stream_slice in sync_store(config).once(("parent listing", key), lambda: list(read())):
        yield StreamSlice(
            partition=dict(stream_slice.partition),
            cursor_slice=dict(stream_slice.cursor_slice),
            extra_fields=dict(stream_slice.extra_fields or {}),
        )


@dataclass
class SharedParentPartitions(PartitionsWithoutRequestOptions):
    """The partitions of the nested router `partitions`, listed once per sync and handed to every stream whose router
    names the same `key` (shared_listing). Only full listings are shared: a parent read from a child's saved state
    (`incremental_dependency`) is never routed through here.

    Why not YAML: the CDK has no way to share one parent stream's partitions between several child streams; each
    stream's router owns its own parent stream instance."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    partitions: PartitionRouter
    key: str = ""

    def stream_slices(self) -> Iterable[StreamSlice]:
        yield from shared_listing(self.config, self.key or "default", self.partitions.stream_slices)


@dataclass
class SharedParentPartitionRouter(SubstreamPartitionRouter):
    """A SubstreamPartitionRouter whose parent listing is read once per sync and shared by every router with the same
    parents (shared_listing): the same parent stream name, parent key, partition field and extra fields. A parent with
    `incremental_dependency` or a lazy read pointer is read by the router itself, as the CDK does.

    Why not YAML: each stream's router owns its own parent stream instance, and the CDK's HTTP cache is off."""

    def _listing_key(self) -> Optional[tuple[Any, ...]]:
        parents = getattr(self, "parent_stream_configs", None)
        if not parents:
            return None
        key: list[Any] = []
        for parent in parents:
            if parent.incremental_dependency or parent.lazy_read_pointer:
                return None
            extra = tuple(
                tuple(str(part.eval(self.config)) for part in path) for path in (parent.extra_fields or [])
            )
            key.append(
                (parent.stream.name, str(parent.parent_key.eval(self.config)),
                 str(parent.partition_field.eval(self.config)), extra)
            )
        return tuple(key)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream_name = str(parameters.get("name") or "")

    def stream_slices(self) -> Iterable[StreamSlice]:
        key = self._listing_key()
        listing = super().stream_slices() if key is None else shared_listing(self.config, key, super().stream_slices)
        listed = False
        for stream_slice in listing:
            listed = True
            yield stream_slice
        if not listed:
            self._say_if_skipped_for_a_refused_parent()

    def _say_if_skipped_for_a_refused_parent(self) -> None:
        """A stream whose parent the API refused to the account (403) reads nothing: said once, naming the stream,
        and noted for the streams below it."""
        for parent in self.parent_stream_configs:
            reason = refusal_of(self.config, parent.stream.name)
            if reason is not None and self._stream_name:
                if note_refused_stream(self.config, self._stream_name, reason):
                    logger.warning(f"Skipped {self._stream_name}: it is read for each record of {parent.stream.name}, "
                                   f"which the API refused to this account. {reason}")
                return


# ---- connector_common/adaptive_concurrency.py
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


# ---- connector_common/shared_answers.py
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests



@dataclass
class OneAnswerPerSyncRequester(AdaptiveConcurrencyRequester):
    """A requester whose requests for the same URL and query within one sync are sent once, their answer shared.

    Why not YAML: the CDK's HTTP cache is per stream (one cache per requester name) and keeps answers across retries;
    no declarative option shares one answer between two components of a sync."""

    def send_request(
        self,
        stream_state: Optional[Mapping[str, Any]] = None,
        stream_slice: Optional[Any] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
        path: Optional[str] = None,
        request_headers: Optional[Mapping[str, Any]] = None,
        request_params: Optional[Mapping[str, Any]] = None,
        **kwargs: Any,
    ) -> Optional[requests.Response]:
        url = self._get_url(path=path, stream_state=stream_state, stream_slice=stream_slice,
                            next_page_token=next_page_token)
        params = self._request_params(stream_state, stream_slice, next_page_token, request_params)
        key = ("answer", self.get_method().value, url, tuple(sorted((str(k), str(v)) for k, v in params.items())))

        def send() -> Optional[requests.Response]:
            return super(OneAnswerPerSyncRequester, self).send_request(
                stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token, path=path,
                request_headers=request_headers, request_params=request_params, **kwargs)

        return sync_store(self.config).once(key, send)


# ---- connector_common/airbyte_migrations.py
import copy
import logging
from dataclasses import InitVar, dataclass, field
from typing import Any, List, Mapping, MutableMapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

migration_logger = logging.getLogger("airbyte")

# What a full-refresh stream saves (CDK): nothing to resume, nothing to say.
NO_CURSOR_STATE = {"__ab_no_cursor_state_message": True}


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass
class MailchimpConfigFromAirbytes(ConfigTransformation):
    """Airbyte's source-mailchimp configs in our shape.

    Its current shape (`credentials` with `auth_type` apikey / oauth2.0, `data_center`, `start_date` such as
    2024-01-01T00:00:00.000Z) is ours already (`data_center` is derived again from the key or token, so it is left
    as it is). Its older flat shape, an `apikey` at the top, which Airbyte's connector still reads, is moved under
    `credentials`: our spec marks only `credentials.apikey` as a secret."""

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if isinstance(config.get("credentials"), Mapping) or not _filled(config.get("apikey")):
            return
        config["credentials"] = {"auth_type": "apikey", "apikey": config.pop("apikey")}


@dataclass
class CampaignMonitorConfigFromAirbytes(ConfigTransformation):
    """Airbyte's source-campaign-monitor config in our shape: `username` is the API key (`password` is any text,
    unused), a top-level `client_id` the Campaign Monitor client to read (our `api_client_id`), so that only the
    client the user chose is synced. A flat `api_key` (the Singer tap's) is moved under `credentials` likewise.
    A top-level `client_id` that comes with OAuth settings (`client_secret`, `refresh_token`) is an OAuth
    application's, and is left to the settings normalisation."""

    OAUTH_KEYS = ("client_secret", "refresh_token", "authorization_code")

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if not isinstance(config.get("credentials"), Mapping):
            key = config.get("username") if _filled(config.get("username")) else config.get("api_key")
            if not _filled(key):
                return
            config["credentials"] = {"auth_type": "api_key", "api_key": key}
            for name in ("username", "password", "api_key"):
                config.pop(name, None)
        credentials = config["credentials"]
        if (
            credentials.get("auth_type") == "api_key"
            and _filled(config.get("client_id"))
            and not any(name in config for name in self.OAUTH_KEYS)
        ):
            client_id = config.pop("client_id")
            if not _filled(config.get("api_client_id")):
                config["api_client_id"] = client_id


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass
class ResumeAirbytesPerListState(StateMigration):
    """A per-list state saved by Airbyte's connector, resumed by ours.

    Airbyte's partitions are the lists, `{"id": <list id>, "parent_slice": {}}` (or, older, `{<list id>: {cursor}}`);
    ours add what else splits a list (`resumed_partitions`, e.g. list_members' `member_status`). Each list's saved
    cursor resumes the partitions of ours that read what Airbyte's read; a partition of ours that Airbyte never read
    (list_members' archived members: Airbyte's requests leave them out) is not in the state, so it starts from
    start_date. The global fallback cursor is dropped (see StartNewPartitionsFromTheStartDate) and so are Airbyte's
    partitions: nothing of theirs is carried forward. One cursor for every list (the oldest layout) cannot be split
    per list: refused, naming the stream.

    Why not YAML: the CDK's LegacyToPerPartitionStateMigration keeps the partition's key (`id`), which is not ours."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None
    cursor_field: str = ""
    partition_field: str = "list_id"
    resumed_partitions: List[Mapping[str, Any]] = field(default_factory=lambda: [{}])

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")
        self.cursor_field = self.cursor_field or str(parameters.get("cursor_field") or "")

    def _airbytes_entries(self, stream_state: Mapping[str, Any]) -> Optional[list]:
        """[(list id, cursor)] when the state is Airbyte's per-list layout, else None."""
        states = stream_state.get("states")
        if isinstance(states, list):
            entries = []
            for entry in states:
                partition = entry.get("partition") if isinstance(entry, Mapping) else None
                if not isinstance(partition, Mapping) or self.partition_field in partition or "id" not in partition:
                    return None
                entries.append((partition["id"], entry.get("cursor")))
            return entries or None
        if stream_state and all(
            isinstance(value, Mapping) and self.cursor_field in value for value in stream_state.values()
        ) and self.cursor_field not in stream_state:
            return list(stream_state.items())
        return None

    def _one_cursor_for_every_list(self, stream_state: Mapping[str, Any]) -> bool:
        return set(stream_state) == {self.cursor_field}

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if not isinstance(stream_state, Mapping) or not stream_state:
            return False
        return self._one_cursor_for_every_list(stream_state) or self._airbytes_entries(stream_state) is not None

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._one_cursor_for_every_list(stream_state):
            raise _config_error(
                f"The saved state of stream `{self._stream_name}` is one `{self.cursor_field}` cursor for every list "
                "(Airbyte's source-mailchimp before its per-list state): it cannot be resumed per list without "
                f"skipping members. Reset the stream `{self._stream_name}` to read it again in full."
            )
        entries = self._airbytes_entries(stream_state) or []
        states = [
            {
                "partition": {self.partition_field: list_id, **dict(extra), "parent_slice": {}},
                "cursor": copy.deepcopy(dict(cursor)),
            }
            for list_id, cursor in entries
            if isinstance(cursor, Mapping) and cursor.get(self.cursor_field)
            for extra in self.resumed_partitions
        ]
        migration_logger.info(
            f"`{self._stream_name}`: resumed from the saved state of Airbyte's connector for {len(entries)} lists"
            + (
                f" ({', '.join(f'{k}={v}' for extra in self.resumed_partitions for k, v in extra.items())}); "
                "what it never read starts from start_date."
                if any(self.resumed_partitions)
                else "."
            )
        )
        return {"use_global_cursor": False, "states": states}


@dataclass
class ReadInFullDespiteSavedCursor(StateMigration):
    """A saved cursor for a stream that this connector reads in full every sync (Airbyte's connector read it
    incrementally): said once in the log, naming the stream and why, then dropped, so that no cursor of theirs is
    carried forward in the states this stream saves.

    Why not YAML: the CDK ignores such a state without a word."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None
    reason: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return isinstance(stream_state, Mapping) and bool(stream_state) and dict(stream_state) != NO_CURSOR_STATE

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        migration_logger.warning(
            f"`{self._stream_name}` is read in full every sync: the saved incremental state (cursor "
            f"{', '.join(f'`{name}`' for name in _cursor_fields(stream_state)) or 'unknown'}) is not used. "
            f"{self.reason}".rstrip()
        )
        return {}


def _cursor_fields(stream_state: Mapping[str, Any]) -> List[str]:
    """The cursor fields of a saved state, whole-stream (`{field: value}`) or per partition."""
    if "states" in stream_state or "state" in stream_state:
        entries = stream_state.get("states") if isinstance(stream_state.get("states"), list) else []
        inner = stream_state.get("state") or next(
            (entry.get("cursor") for entry in entries if isinstance(entry, Mapping)), None)
        return sorted(inner) if isinstance(inner, Mapping) else []
    return sorted(name for name in stream_state if name not in ("parent_state", "lookback_window", "use_global_cursor"))


# ---- source_campaign_monitor/parts/settings.py
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Mapping, MutableMapping

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


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


# ---- source_campaign_monitor/parts/time_zones.py
import json
import logging
import re
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


logger = logging.getLogger("airbyte")

# Written as a dict literal into the bundled components.py, which has no file beside it.
TIMEZONE_NAMES: dict = {
    "(GMT) Casablanca": "Atlantic/Canary",
    "(GMT) Coordinated Universal Time": "Etc/UTC",
    "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London": "Europe/London",
    "(GMT) Monrovia, Reykjavik": "Atlantic/Reykjavik",
    "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "Europe/Berlin",
    "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Europe/Budapest",
    "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris": "Europe/Paris",
    "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb": "Europe/Warsaw",
    "(GMT+01:00) West Central Africa": "Africa/Lagos",
    "(GMT+02:00) Amman": "Asia/Beirut",
    "(GMT+02:00) Athens, Bucharest, Istanbul": "Europe/Bucharest",
    "(GMT+02:00) Beirut": "Asia/Beirut",
    "(GMT+02:00) Cairo": "Africa/Cairo",
    "(GMT+02:00) Damascus": "Asia/Beirut",
    "(GMT+02:00) Harare, Pretoria": "Africa/Johannesburg",
    "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "Europe/Kiev",
    "(GMT+02:00) Jerusalem": "Asia/Jerusalem",
    "(GMT+02:00) Minsk": "Europe/Chisinau",
    "(GMT+02:00) Windhoek": "Africa/Windhoek",
    "(GMT+03:00) Baghdad": "Asia/Baghdad",
    "(GMT+03:00) Kuwait, Riyadh": "Asia/Riyadh",
    "(GMT+03:00) Moscow, St. Petersburg, Volgograd": "Europe/Moscow",
    "(GMT+03:00) Nairobi": "Africa/Nairobi",
    "(GMT+03:30) Tehran": "Asia/Tehran",
    "(GMT+04:00) Abu Dhabi, Muscat": "Asia/Dubai",
    "(GMT+04:00) Baku": "Asia/Baku",
    "(GMT+04:00) Port Louis": "Indian/Mauritius",
    "(GMT+04:00) Tbilisi": "Asia/Tbilisi",
    "(GMT+04:00) Yerevan": "Asia/Yerevan",
    "(GMT+04:30) Kabul": "Asia/Kabul",
    "(GMT+05:00) Ekaterinburg": "Asia/Yekaterinburg",
    "(GMT+05:00) Islamabad, Karachi": "Asia/Karachi",
    "(GMT+05:00) Tashkent": "Asia/Tashkent",
    "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi": "Asia/Kolkata",
    "(GMT+05:30) Sri Jayawardenepura": "Asia/Colombo",
    "(GMT+05:45) Kathmandu": "Asia/Kathmandu",
    "(GMT+06:00) Astana": "Asia/Bishkek",
    "(GMT+06:00) Dhaka": "Asia/Dhaka",
    "(GMT+06:00) Novosibirsk": "Asia/Omsk",
    "(GMT+06:30) Yangon (Rangoon)": "Asia/Yangon",
    "(GMT+07:00) Bangkok, Hanoi, Jakarta": "Asia/Bangkok",
    "(GMT+07:00) Krasnoyarsk": "Asia/Krasnoyarsk",
    "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi": "Asia/Shanghai",
    "(GMT+08:00) Irkutsk": "Asia/Irkutsk",
    "(GMT+08:00) Kuala Lumpur, Singapore": "Asia/Singapore",
    "(GMT+08:00) Perth": "Australia/Perth",
    "(GMT+08:00) Taipei": "Asia/Taipei",
    "(GMT+08:00) Ulaanbaatar": "Asia/Ulaanbaatar",
    "(GMT+09:00) Osaka, Sapporo, Tokyo": "Asia/Tokyo",
    "(GMT+09:00) Seoul": "Asia/Seoul",
    "(GMT+09:00) Yakutsk": "Asia/Yakutsk",
    "(GMT+09:30) Adelaide": "Australia/Adelaide",
    "(GMT+09:30) Darwin": "Australia/Darwin",
    "(GMT+10:00) Brisbane": "Australia/Brisbane",
    "(GMT+10:00) Canberra, Melbourne, Sydney": "Australia/Sydney",
    "(GMT+10:00) Guam, Port Moresby": "Pacific/Port_Moresby",
    "(GMT+10:00) Hobart": "Australia/Hobart",
    "(GMT+10:00) Vladivostok": "Asia/Vladivostok",
    "(GMT+11:00) Magadan, Solomon Is., New Caledonia": "Pacific/Guadalcanal",
    "(GMT+12:00) Auckland, Wellington": "Pacific/Auckland",
    "(GMT+12:00) Coordinated Universal Time+12": "Etc/GMT-12",
    "(GMT+12:00) Fiji": "Pacific/Fiji",
    "(GMT+12:00) Petropavlovsk-Kamchatsky - Old": "Asia/Kamchatka",
    "(GMT+13:00) Nuku'alofa": "Pacific/Tongatapu",
    "(GMT-01:00) Azores": "Atlantic/Azores",
    "(GMT-01:00) Cape Verde Is.": "Atlantic/Cape_Verde",
    "(GMT-02:00) Coordinated Universal Time-02": "Etc/GMT+2",
    "(GMT-02:00) Mid-Atlantic": "Atlantic/South_Georgia",
    "(GMT-03:00) Brasilia": "America/Sao_Paulo",
    "(GMT-03:00) Buenos Aires": "America/Argentina/Buenos_Aires",
    "(GMT-03:00) Cayenne, Fortaleza": "America/Cayenne",
    "(GMT-03:00) Greenland": "America/Miquelon",
    "(GMT-03:00) Montevideo": "America/Montevideo",
    "(GMT-03:30) Newfoundland": "America/St_Johns",
    "(GMT-04:00) Asuncion": "America/Santiago",
    "(GMT-04:00) Atlantic Time (Canada)": "America/Halifax",
    "(GMT-04:00) Cuiaba": "America/Cuiaba",
    "(GMT-04:00) Georgetown, La Paz, Manaus, San Juan": "America/La_Paz",
    "(GMT-04:00) Santiago": "America/Santiago",
    "(GMT-04:30) Caracas": "UTC-04:30",
    "(GMT-05:00) Bogota, Lima, Quito": "America/Bogota",
    "(GMT-05:00) Eastern Time (US & Canada)": "America/New_York",
    "(GMT-05:00) Indiana (East)": "America/Indiana/Indianapolis",
    "(GMT-06:00) Central America": "America/Guatemala",
    "(GMT-06:00) Central Time (US & Canada)": "America/Chicago",
    "(GMT-06:00) Guadalajara, Mexico City, Monterrey": "America/Mexico_City",
    "(GMT-06:00) Saskatchewan": "America/Regina",
    "(GMT-07:00) Arizona": "America/Phoenix",
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": "America/Mazatlan",
    "(GMT-07:00) Mountain Time (US & Canada)": "America/Denver",
    "(GMT-08:00) Baja California": "America/Tijuana",
    "(GMT-08:00) Pacific Time (US & Canada)": "America/Los_Angeles",
    "(GMT-09:00) Alaska": "America/Anchorage",
    "(GMT-10:00) Hawaii": "Pacific/Honolulu",
    "(GMT-11:00) Coordinated Universal Time-11": "Etc/GMT+11",
    "(GMT-11:00) Samoa": "Pacific/Pago_Pago",
    "(GMT-12:00) International Date Line West": "Etc/GMT+12"
}
_GMT_OFFSET = re.compile(r"^\(GMT(?:([+-])(\d{1,2}):(\d{2}))?\)")
# A mapped value for an offset no IANA region zone keeps today: "(GMT-04:30) Caracas" -> "UTC-04:30"
_FIXED_OFFSET = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")


def zone_for(time_zone_name: Optional[str]) -> tzinfo:
    """The zone of a Campaign Monitor time-zone name: the zone mapped to it (an IANA zone, daylight saving included, or
    a fixed "UTC-04:30") when the name is one of the API's 97, else the fixed offset written in the name, with a
    warning; UTC (with a warning) when there is none."""
    name = (time_zone_name or "").strip()
    iana = TIMEZONE_NAMES.get(name)
    if iana:
        fixed = _FIXED_OFFSET.match(iana)
        if fixed:
            sign, hours, minutes = fixed.groups()
            offset = timedelta(hours=int(hours), minutes=int(minutes))
            return timezone(-offset if sign == "-" else offset, iana)
        return ZoneInfo(iana)
    match = _GMT_OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
        logger.warning(
            f"Unknown Campaign Monitor time zone {name!r}: using the fixed offset it names, without daylight saving."
        )
        return timezone(-offset if sign == "-" else offset)
    logger.warning(f"Unreadable Campaign Monitor time zone {name!r}: dates are taken as UTC.")
    return timezone.utc


class LocalTimeConverter:
    """Converts the API's local ``YYYY-MM-DD HH:MM:SS`` to ISO 8601 UTC and back, for one zone.

    Per record this is the hot path (hundreds of thousands of dates a sync), so the UTC offset is cached per local hour:
    every zone the API lists changes offset on a whole hour. A wall time repeated when clocks go back is read as the
    first (daylight-saving) one; a wall time skipped when clocks go forward is read with the offset before the change.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._offsets: dict[str, timedelta] = {}

    def _offset(self, hour_key: str, local: datetime) -> timedelta:
        offset = self._offsets.get(hour_key)
        if offset is None:
            offset = local.replace(tzinfo=self.zone, fold=0).utcoffset() or timedelta(0)
            if len(self._offsets) > 100_000:
                self._offsets.clear()
            self._offsets[hour_key] = offset
        return offset

    def to_utc(self, value: Any) -> Any:
        """``"2010-10-25 10:28:00"`` in the zone -> ``"2010-10-24T23:28:00+00:00"``. Empty -> None; other types and
        strings already carrying an offset are returned as they are."""
        if not value:
            return None
        if not isinstance(value, str):
            return value
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            return value
        if local.tzinfo is not None:
            return local.astimezone(timezone.utc).isoformat()
        utc = local - self._offset(value[:13], local)
        return utc.isoformat() + "+00:00"

    def to_local(self, instant: datetime) -> datetime:
        """The wall time of the zone at ``instant`` (aware or UTC-naive), stepped back out of a repeated hour so that
        the API, whichever of the two readings it takes, filters from no later than ``instant``."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=timezone.utc)
        local = instant.astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        while (
            wall.replace(tzinfo=self.zone, fold=0).utcoffset() != wall.replace(tzinfo=self.zone, fold=1).utcoffset()
        ):
            wall -= timedelta(hours=1)
        return wall


class ClientTimeZones:
    """``ClientID -> LocalTimeConverter`` for one sync (``ClientTimeZones.of(config)``), filled when the client's details
    are read (always before its campaigns and lists, which are their children) and read by the transformations and
    requesters of every stream below it. YAML has no way to carry a value from a grand-parent stream to a
    grand-child's records."""

    def __init__(self) -> None:
        self._converters: dict[str, LocalTimeConverter] = {}

    @staticmethod
    def of(config: Mapping[str, Any]) -> "ClientTimeZones":
        return sync_store(config).once("client time zones", ClientTimeZones)

    def remember(self, client_id: str, time_zone_name: Optional[str]) -> LocalTimeConverter:
        converter = LocalTimeConverter(zone_for(time_zone_name))
        self._converters[client_id] = converter
        return converter

    def converter(self, client_id: Optional[str]) -> LocalTimeConverter:
        converter = self._converters.get(client_id or "")
        if converter is None:
            raise AirbyteTracedException(
                message="The time zone of a Campaign Monitor client is unknown: its details could not be read.",
                internal_message=f"No time zone known for client {client_id!r} in this sync",
                failure_type=FailureType.system_error,
            )
        return converter


def client_id_of(partition: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The ``client_id`` of a stream partition, looked up through its ``parent_slice`` chain."""
    while partition:
        client_id = partition.get("client_id")
        if client_id:
            return str(client_id)
        partition = partition.get("parent_slice")
    return None


def partition_of(stream_slice: Any) -> Mapping[str, Any]:
    if stream_slice is None:
        return {}
    return getattr(stream_slice, "partition", None) or stream_slice



def local_minute(record: Any) -> Optional[str]:
    """A record's local `Date` as the API gives it, to the minute, as the `date` filter takes it
    ("2024-03-01 10:05:00" -> "2024-03-01 10:05")."""
    date = record.get("Date") if isinstance(record, Mapping) else None
    return date[:16] if isinstance(date, str) and len(date) >= 16 and date[10] == " " else None


# ---- source_campaign_monitor/parts/responses.py
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.json_decoder import JsonDecoder
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


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


# ---- source_campaign_monitor/parts/partitions.py
from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice



@dataclass
class ClientPartitionRouter(PartitionsWithoutRequestOptions):
    """One partition ``{"client_id": ...}`` per Campaign Monitor client: the configured ``api_client_id``, or, when it is
    empty, every client of ``GET /clients.json``. Each client's time zone (read from ``GET /clients/{id}.json`` by the
    nested ``client_details`` router) is kept in the sync's :class:`ClientTimeZones` before its partition is handed
    out.

    Why not YAML: choosing between a configured value and a parent stream, and flattening the partition to the client id
    alone (so that state keys stay short and stable), are not expressible with the declarative partition routers."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    client_details: PartitionRouter  # SubstreamPartitionRouter over the client_details stream
    time_zone_field: str = "BasicDetails.TimeZone"

    def stream_slices(self) -> Iterable[StreamSlice]:
        for parent in self.client_details.stream_slices():
            client_id = str(parent.partition["client_id"])
            ClientTimeZones.of(self.config).remember(client_id, (parent.extra_fields or {}).get(self.time_zone_field))
            yield StreamSlice(partition={"client_id": client_id}, cursor_slice={})


@dataclass
class ConfiguredOrAllClients(PartitionsWithoutRequestOptions):
    """Partitions ``{"client_id": ...}`` for the client_details stream: the configured ``api_client_id`` without any
    request, or every client of the nested ``all_clients`` router (``GET /clients.json``) when it is empty.

    Why not YAML: the declarative routers cannot choose between a config value and a parent stream at run time."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    all_clients: PartitionRouter

    def stream_slices(self) -> Iterable[StreamSlice]:
        configured = str(self.config.get("api_client_id") or "").strip()
        if configured:
            yield StreamSlice(partition={"client_id": configured}, cursor_slice={})
            return
        for parent in self.all_clients.stream_slices():
            yield StreamSlice(partition={"client_id": str(parent.partition["client_id"])}, cursor_slice={})


# ---- source_campaign_monitor/parts/records.py
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState



@dataclass
class AddParentIdsAndUtcDates(RecordTransformation):
    """Adds the parent ids the API omits (``CampaignID``, ``ListID``, ``ClientID``, from the partition) and converts the
    record's local date-times to ISO 8601 UTC with the client's zone.

    Why not YAML: AddFields cannot convert between time zones, and it renders one Jinja template per field per record
    on the hot path, where this looks values up once per slice."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    date_fields: list[str] = field(default_factory=list)
    # record field -> partition key, e.g. {"CampaignID": "campaign_id"}
    parent_ids: Mapping[str, str] = field(default_factory=dict)
    # record field -> extra field of the slice (a value of the parent record), e.g. {"SentDate": "SentDate"}
    parent_values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        # id(slice) -> (slice, plan): what to write into every record of that slice, worked out once per slice (the
        # slice is kept alive with its plan, so that its id is never reused for another slice)
        self._plans: dict[int, tuple[Any, tuple[tuple[tuple[str, Any], ...], Optional[LocalTimeConverter]]]] = {}

    def _plan(self, stream_slice: Any) -> tuple[tuple[tuple[str, Any], ...], Optional[LocalTimeConverter]]:
        """The (field, value) pairs taken from the partition and the slice's extra fields, and the converter of the
        partition's client (None when there are no date fields)."""
        partition = partition_of(stream_slice)
        values = []
        for record_field, partition_key in self.parent_ids.items():
            value = partition.get(partition_key)
            if value is not None:
                values.append((record_field, value))
        if self.parent_values:
            extra = getattr(stream_slice, "extra_fields", None) or {}
            for record_field, extra_key in self.parent_values.items():
                values.append((record_field, extra.get(extra_key)))
        converter = ClientTimeZones.of(self.config).converter(client_id_of(partition)) if self.date_fields else None
        return tuple(values), converter

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        if isinstance(stream_slice, StreamSlice):
            entry = self._plans.get(id(stream_slice))
            if entry is None or entry[0] is not stream_slice:
                if len(self._plans) > 10_000:
                    self._plans.clear()
                entry = (stream_slice, self._plan(stream_slice))
                self._plans[id(stream_slice)] = entry
            values, converter = entry[1]
        else:
            values, converter = self._plan(stream_slice)
        for record_field, value in values:
            record[record_field] = value
        if converter is not None:
            to_utc = converter.to_utc
            for date_field in self.date_fields:
                if date_field in record:
                    record[date_field] = to_utc(record[date_field])


@dataclass
class NumberEventsWithinTheirMinute(RecordTransformation):
    """Sets ``Occurrence``: 0 for a subscriber's first event of a campaign in a minute, 1 for a second one in the same
    minute, and so on (per URL for clicks), so that two opens (clicks, bounces...) the API dates alike keep two primary
    keys. Dates are to the minute and a re-open within it can repeat every field.

    Stable across syncs: a read starts on a minute boundary (the ``date`` filter) at or before the event, so every read
    that returns an event returns all the events of its minute, numbered again from 0 in the API's order (``date``
    ascending). Were two same-minute events returned in the other order, their rows would swap values, never merge.

    Per partition (slice), on records ordered by date: only the current minute's counts are kept. Why not YAML: a
    transformation cannot count earlier records."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    group_fields: list[str] = field(default_factory=lambda: ["EmailAddress", "ListID"])
    field_name: str = "Occurrence"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.group_fields = list(parameters.get("occurrence_group") or self.group_fields)
        # id(slice) -> (slice, date of the minute being counted, count per group within it)
        self._minutes: dict[int, tuple[Any, Any, dict[tuple, int]]] = {}

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        entry = self._minutes.get(id(stream_slice))
        date = record.get("Date")
        if entry is None or entry[0] is not stream_slice or entry[1] != date:
            if entry is None and len(self._minutes) > 10_000:
                self._minutes.clear()
            entry = (stream_slice, date, {})
            self._minutes[id(stream_slice)] = entry
        counts = entry[2]
        group = tuple(record.get(name) for name in self.group_fields)
        occurrence = counts.get(group, 0)
        counts[group] = occurrence + 1
        record[self.field_name] = occurrence


@dataclass
class PageResultsExtractor(RecordExtractor):
    """The records of a Campaign Monitor page: its ``Results`` list.

    Why not YAML: DpathExtractor(field_path: [Results]) is equivalent but ``dpath.get`` folds over the whole body, every
    value of every record, before returning the list; a key lookup is enough."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    decoder: Decoder = field(default_factory=lambda: ParsedJsonDecoder())
    field_name: str = "Results"

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self.decoder.decode(response):
            # lenient: an ignored error's answer, or a page without the list, reads as no record
            yield from records_under_key(body, self.field_name, strict=False, malformed=ValueError)


# ---- source_campaign_monitor/parts/account_objects.py
from dataclasses import InitVar, dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import logging

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


logger = logging.getLogger("airbyte")


@dataclass
class LiftNestedObject(RecordTransformation):
    """Moves the fields of one nested object to the top of the record (``BasicDetails`` of a client's details) and
    drops the fields named in ``drop`` (the client's own ``ApiKey``, a credential).

    Why not YAML: AddFields renders each value through Jinja and literal_eval, so a company named "2024" would become
    an integer and a missing value the string "None"; a plain move keeps every value as the API sent it."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    field_name: str = "BasicDetails"
    drop: list[str] = field(default_factory=list)

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        nested = record.pop(self.field_name, None)
        for name in self.drop:
            record.pop(name, None)
        if isinstance(nested, Mapping):
            for key, value in nested.items():
                record.setdefault(key, value)


@dataclass
class DatesInTheirOwnZone(RecordTransformation):
    """Converts to ISO 8601 UTC a local date-time that the API prints in a time zone named beside it, not in the
    client's: a scheduled campaign's ``DateScheduled`` is in its ``ScheduledTimeZone`` (one of the labels of
    ``GET /timezones.json``), which need not be the client's zone.

    Why not YAML: Jinja has no time zones; AddParentIdsAndUtcDates converts with the client's zone only."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    # date field -> the field naming its zone, e.g. {"DateScheduled": "ScheduledTimeZone"}
    zone_of: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._converters: dict[str, LocalTimeConverter] = {}

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        for date_field, zone_field in self.zone_of.items():
            value = record.get(date_field)
            if not value:
                continue
            name = str(record.get(zone_field) or "")
            converter = self._converters.get(name)
            if converter is None:
                converter = self._converters[name] = LocalTimeConverter(zone_for(name))
            record[date_field] = converter.to_utc(value)


@dataclass
class RecentDaysOfEachClient(PartitionsWithoutRequestOptions):
    """One partition per client (of ``clients``) and per day of the last ``days`` days up to the account's current
    date (``today``, from ``GET /systemdate.json``, the API's clock, not ours), never before ``start_date``:
    ``{"client_id": ..., "day": "YYYY-MM-DD"}``. For figures the API totals over a date range (transactional
    statistics), asked one day at a time.

    Why not YAML: a DatetimeBasedCursor would make the stream incremental and keep a state for figures that change
    after the fact (today's, and late bounces); ListPartitionRouter takes a fixed list; neither crosses clients with
    days counted from another request's answer."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    clients: PartitionRouter
    today: PartitionRouter  # a SubstreamPartitionRouter over GET /systemdate.json: partition field system_date
    days: int = 30

    def _days(self) -> list[str]:
        system_dates = [str(s.partition.get("system_date") or "") for s in self.today.stream_slices()]
        if not system_dates or not system_dates[0][:10]:
            return []
        last = date.fromisoformat(system_dates[0][:10])
        first = last - timedelta(days=self.days - 1)
        start = self.config.get("start_date")
        if start:
            first = max(first, parse_datetime(str(start)).date())
        return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def stream_slices(self) -> Iterable[StreamSlice]:
        days = self._days()
        for client in self.clients.stream_slices():
            for day in days:
                yield StreamSlice(partition={"client_id": client.partition["client_id"], "day": day}, cursor_slice={})


# API error codes of a valid credential that may not read an endpoint are below 400 (401 Code 52 in the sandbox:
# nothing published shows the real one) or 993/994 (transactional email not set up); these are the credentials' own
# problems and stay errors: a bad API key (50, 100) and OAuth tokens (120 invalid, 121 expired, 122 revoked).
CREDENTIAL_CODES = (50, 100, 120, 121, 122)
TRANSACTIONAL_REFUSALS = (993, 994)


@dataclass
class SkipRefusedStream(CampaignMonitorErrorHandler):
    """CampaignMonitorErrorHandler for the streams an account may not be allowed to read (admins with a client-level
    API key, transactional email without a transactional plan): a 400/401/403 refusal is ignored, and the stream is
    named in ONE warning per sync, however many clients or days it is asked for. A 400/401/403 whose body is not JSON
    (cut short) is asked again, since it cannot be told from a refusal.

    Why not YAML: an HttpResponseFilter logs every response it ignores (transactional_statistics asks once per client
    and day: 30 warnings for one refusal), and matches on its status codes OR its predicate, never both."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # the stream the handler belongs to; a hidden parent names the stream its records feed (stream_label)
        self.stream_label = str(parameters.get("stream_label") or parameters.get("name") or "a stream")

    def interpret_api_response(self, response: requests.Response) -> Optional[ErrorResolution]:
        resolution = super().interpret_api_response(response)
        if resolution is not None or response.status_code not in (400, 401, 403):
            return resolution
        body = page_body(response)
        if body is NOT_JSON:  # a refusal cut short (or a proxy's page) cannot be told from any other error: ask again
            return ErrorResolution(response_action=ResponseAction.RETRY, failure_type=FailureType.transient_error,
                                   error_message=f"Campaign Monitor answered {response.status_code} with a body that "
                                                 f"is not JSON ({safe_url(response)}); retrying.")
        code = body.get("Code") if isinstance(body, dict) else None
        if not isinstance(code, int) or code in CREDENTIAL_CODES or not (code < 400 or code in TRANSACTIONAL_REFUSALS):
            return None
        label = self.stream_label
        message = (f"Skipped {label}: Campaign Monitor refuses it to these credentials ({response.status_code} Code "
                   f"{code}: {body.get('Message', '')}): a client-level API key, or an account without this feature.")

        def warn() -> bool:
            logger.warning(message)
            return True

        sync_store(self.config).once(("refused stream", label), warn)
        return ErrorResolution(response_action=ResponseAction.IGNORE, failure_type=FailureType.config_error,
                               error_message=message)


# ---- source_campaign_monitor/parts/date_pages.py
from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, Optional

import requests

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState




@dataclass
class NextPagesFromTheLastDateRead(PaginationStrategy):
    """Pages a date-ordered subscriber list by its dates instead of by page numbers: the next page is the first page
    of the records on or after the last minute read (the ``date`` filter's granularity); the records of that minute
    read twice are dropped by SkipRecordsReadTwiceAtPageBoundaries.

    Page numbers are positions in a list that changes while it is read: a subscriber who unsubscribes from a page
    already read leaves the active list, every later subscriber moves up one place, and the one that moved onto
    the read page was never read, nor read again by an incremental sync, its Date being older than the cursor. A date
    boundary does not move when earlier records leave.

    When a whole page falls within the boundary minute (a bulk import), the date cannot advance: the next pages of
    that minute are read by number, as before. The token is {"date": "YYYY-MM-DD HH:MM" (local), "page": n}.
    Why not YAML: CursorPagination's token is one value injected as one parameter; this one sets two, and the minute
    must be read from the API's own local dates, which AddParentIdsAndUtcDates has turned into UTC by then."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: int = 1000

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Any],
        last_page_token_value: Optional[Any] = None,
    ) -> Optional[Any]:
        body = page_body(response)
        if not isinstance(body, dict) or not body.get("Results") or not body.get("NumberOfPages") \
                or body.get("PageNumber", 0) >= body["NumberOfPages"]:
            return None
        boundary = last_page_token_value.get("date") if isinstance(last_page_token_value, Mapping) else None
        last_minute = last_result_minute(response)  # the parsed page's records have UTC dates by now
        if last_minute is None or (boundary is not None and last_minute <= boundary):
            return {"date": boundary, "page": body["PageNumber"] + 1}
        return {"date": last_minute, "page": 1}

    def get_page_size(self) -> Optional[int]:
        return self.page_size


@dataclass
class SkipRecordsReadTwiceAtPageBoundaries(RecordFilter):
    """With NextPagesFromTheLastDateRead, each page starts at the minute where the previous one ended, so the records
    of that minute already emitted come again: a record whose minute is the last one emitted in its partition, with
    an e-mail address already emitted in that minute, is dropped (an address is in a list once).

    Remembered per partition (slice) on this instance, which the CDK builds anew for every read; partitions are read
    on different threads, each its own entry. Why not YAML: a filter condition cannot remember earlier records."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._last_minute: dict[Any, tuple[str, set[str]]] = {}

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        minute, emails = self._last_minute.get(stream_slice, ("", set()))
        for record in records:
            record_minute, email = local_minute(record), record.get("EmailAddress")
            if record_minute is None or record_minute < minute:
                yield record
                continue
            if record_minute > minute:
                minute, emails = record_minute, set()
            elif email in emails:
                continue
            emails.add(email)
            yield record
        self._last_minute[stream_slice] = (minute, emails)


# ---- source_campaign_monitor/parts/requester.py
from dataclasses import dataclass
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.types import StreamSlice, StreamState



@dataclass
class LocalTimeDateFilterRequester(AdaptiveConcurrencyRequester):
    """A requester (through the sync's gate of requests in flight) that sends the start of the incremental interval
    as the API's date filter, in the client's local time (``date=YYYY-MM-DD HH:MM`` for reports and subscribers, ``sentfromdate=YYYY-MM-DD`` for campaigns).

    The filter keeps records on or after the minute (day) sent, so truncating the cursor re-reads the boundary minute
    (day): a record sharing the last timestamp read is read again, never lost.

    Why not YAML: a DatetimeBasedCursor's ``start_time_option`` formats the interval in UTC, and Jinja has no time zones."""

    date_parameter: str = "date"
    date_format: str = "%Y-%m-%d %H:%M"

    def get_request_params(
        self,
        *,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> MutableMapping[str, Any]:
        params = dict(
            super().get_request_params(
                stream_state=stream_state, stream_slice=stream_slice, next_page_token=next_page_token
            )
        )
        start = (getattr(stream_slice, "cursor_slice", None) or {}).get("start_time")
        if start:
            converter = ClientTimeZones.of(self.config).converter(client_id_of(partition_of(stream_slice)))
            params[self.date_parameter] = converter.to_local(parse_datetime(start)).strftime(self.date_format)
        token = (next_page_token or {}).get("next_page_token")
        if isinstance(token, Mapping):  # NextPagesFromTheLastDateRead: later than the slice's start, in local time
            if token.get("date"):
                params[self.date_parameter] = token["date"]
            params["page"] = token["page"]
        return params


# ---- source_campaign_monitor/parts/oauth.py
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


# ---- source_campaign_monitor/parts/unchanged_parents.py
import logging
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


logger = logging.getLogger("airbyte")


def fingerprint_of(body: Any, fields: Iterable[str]) -> Optional[str]:
    """``"Recipients=10;TotalOpened=5;..."`` from the named count fields of a summary, or None when the body is not an
    object holding all of them as integers (then nothing can be concluded and the parent is read)."""
    if not isinstance(body, dict):
        return None
    parts = []
    for name in fields:
        value = body.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        parts.append(f"{name}={value}")
    return ";".join(parts)


@dataclass
class SkipUnchangedParents(PartitionsWithoutRequestOptions):
    """On an incremental sync, leaves out the partitions of parents whose activity counts are unchanged since the last
    sync: a campaign whose summary (total opens, clicks, unsubscribes, bounces, spam complaints, recipients) is the
    same has no new open, click, unsubscribe, bounce or spam event to read, so its five event streams need no request.

    Lossless because every event of these streams increments its summary count (the API documents TotalOpened and
    Clicks as totals, not unique counts; Unsubscribed, Bounced and SpamComplaints count one event per subscriber of a
    campaign, who receives it once) and events are never removed. The summary is read *before* the events, so an event
    that arrives during the sync changes the count seen by the next one. A campaign is skipped only when the stored
    fingerprint (``parent_state`` of the stream's state, written by this router) equals the current one; a summary that
    cannot be read, or a sync without saved fingerprints (a full refresh, a first sync), reads the partition.

    The fingerprints live in the stream's state under ``parent_state.<state_key>``; the CDK commits that value only once
    every partition generated before it is closed, so a fingerprint is never saved ahead of the records it vouches for.
    They come back through ``saved_stream_state``: the stream's state migration KeepSavedStateForPartitionRouter keeps
    them where this router finds them. Every sync reads the summaries and saves fingerprints, a full refresh too: a
    router is not told the sync mode, and the first incremental sync, which starts from no state like a full refresh,
    must save them for the next one to skip anything. A summary is read once per campaign and sync, whatever the
    number of event streams (the sync's store).

    Why not YAML: no declarative router can skip a partition on the strength of another endpoint's answer."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    partitions: PartitionRouter
    fingerprint_requester: Any  # an HttpRequester whose path reads ``stream_partition.<id_field>``
    fingerprint_fields: list[str] = field(default_factory=list)
    id_field: str = "campaign_id"
    state_key: str = "campaign_activity"
    stream_name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.stream_name = self.stream_name or str(parameters.get("name") or "")
        self._seen: Optional[dict[str, str]] = None  # the saved fingerprints, updated as the campaigns are listed

    def _saved_fingerprints(self) -> dict[str, str]:
        saved = saved_stream_state(self.config, self.stream_name)
        stored = (saved.get("parent_state") or {}).get(self.state_key)
        return {str(key): value for key, value in stored.items()} if isinstance(stored, Mapping) else {}

    def _fingerprint(self, parent_id: str) -> Optional[str]:
        def read() -> Optional[str]:
            response = self.fingerprint_requester.send_request(
                stream_slice=StreamSlice(partition={self.id_field: parent_id}, cursor_slice={})
            )
            if response is None or response.status_code != 200:
                return None
            return fingerprint_of(page_body(response), self.fingerprint_fields)

        return sync_store(self.config).once(("fingerprint", self.state_key, parent_id), read)

    def stream_slices(self) -> Iterable[StreamSlice]:
        stored = self._saved_fingerprints()
        self._seen = dict(stored)
        skipped = 0
        for partition in self.partitions.stream_slices():
            parent_id = str(partition.partition.get(self.id_field))
            current = self._fingerprint(parent_id)
            if current is not None and stored.get(parent_id) == current:
                skipped += 1
                continue
            if current is not None:
                self._seen[parent_id] = current
            else:
                self._seen.pop(parent_id, None)
            yield partition
        if skipped:
            logger.info(f"{self.stream_name}: {skipped} parents unchanged since the last sync were not re-read.")

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        seen = self._seen if self._seen is not None else self._saved_fingerprints()
        return {self.state_key: dict(seen)}


@dataclass
class SkipPartitionsAlreadyRead(PartitionsWithoutRequestOptions):
    """Leaves out the parents the stream has already read completely, as its saved state says: a sent campaign's
    recipients never change, so a campaign whose saved cursor has reached its own ``SentDate`` is not requested again.
    A sync without a saved state (a full refresh, a first sync) reads every campaign.

    The old way, a parent listing filtered by the parent's own cursor (``sentfromdate``, a day), re-read every campaign
    of the newest send day on every sync until a later campaign was sent: for a weekly sender, the whole recipient list
    of its last campaign, six nights a week.

    Why the cursor must reach the parent's value, not merely exist: the CDK's state lists every partition it has
    started, at its lower bound (the start date), and moves a partition's cursor to its records' value (the campaign's
    ``SentDate``) only when the partition is closed, after its last record. A sync killed mid-campaign thus leaves a
    cursor below ``SentDate``, and the campaign is read again in full. When the CDK has switched the stream to one
    global cursor (more than 10,000 partitions), it saved that cursor at the end of a complete sync: parents older than
    it were read.

    Why not YAML: a partition router is not given the stream's state; the stream's state migration
    KeepSavedStateForPartitionRouter keeps it where this router finds it (``saved_stream_state``)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    partitions: PartitionRouter
    id_field: str = "campaign_id"
    cursor_field: str = "SentDate"  # the cursor of the stream, and the extra field of the parent it copies
    stream_name: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.stream_name = self.stream_name or str(parameters.get("name") or "")

    def _cursors(self) -> tuple[dict[str, datetime], Optional[datetime]]:
        """The saved cursor of each partition, and the global cursor when the CDK has switched to one."""
        state = saved_stream_state(self.config, self.stream_name)
        cursors: dict[str, datetime] = {}
        for entry in state.get("states") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("partition"), Mapping):
                cursor = parse_datetime_or_none((entry.get("cursor") or {}).get(self.cursor_field))
                if cursor is not None:
                    cursors[str(entry["partition"].get(self.id_field))] = cursor
        global_cursor = (state.get("state") or {}).get(self.cursor_field) if state.get("use_global_cursor") else None
        return cursors, parse_datetime_or_none(global_cursor)

    def _already_read(self, stream_slice: StreamSlice, cursors: Mapping[str, datetime],
                      global_cursor: Optional[datetime]) -> bool:
        parent_value = parse_datetime_or_none((stream_slice.extra_fields or {}).get(self.cursor_field))
        if parent_value is None:
            return False
        cursor = cursors.get(str(stream_slice.partition.get(self.id_field)))
        try:
            return (cursor is not None and cursor >= parent_value) or (
                global_cursor is not None and global_cursor > parent_value
            )
        except TypeError:  # one of them without a time zone: nothing can be concluded
            return False

    def stream_slices(self) -> Iterable[StreamSlice]:
        cursors, global_cursor = self._cursors()
        skipped = 0
        for stream_slice in self.partitions.stream_slices():
            if self._already_read(stream_slice, cursors, global_cursor):
                skipped += 1
                continue
            yield stream_slice
        if skipped:
            logger.info(f"{self.stream_name}: {skipped} parents read completely by an earlier sync were not re-read.")
