"""Mailchimp's Python components, one module per concern: what the low-code YAML of airbyte-cdk cannot say.

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


# ---- connector_common/offset_pages.py
import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import parse_qsl, urlsplit

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies import OffsetIncrement
from airbyte_cdk.sources.types import Record, StreamSlice


@dataclass
class OffsetPagesReadAhead(OffsetIncrement):
    """Offset pages that may be requested ahead (see the module). Subclasses say how to count a page's items and
    where its total is; `overlap` and `dedupe_key` as in the module's docstring."""

    overlap: int = 0
    dedupe_key: Optional[str] = None
    pages_can_be_read_ahead = True  # what connector_common.pages_read_ahead looks for

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._parameters = parameters
        self.overlap = int(self.overlap or parameters.get("page_overlap") or 0)
        self.dedupe_key = self.dedupe_key or parameters.get("page_dedupe_key")
        if self.overlap and not self.dedupe_key:
            raise ValueError("An overlap between pages needs a dedupe_key to drop the records read twice.")

    def items_on_page(self, response: requests.Response) -> int:
        """The items the API returned on this page (before any record filter or expansion)."""
        raise NotImplementedError

    def total_items(self, response: requests.Response) -> Optional[int]:
        """The number of items the first page announced for the whole collection, if it did."""
        raise NotImplementedError

    def page_keys(self, response: requests.Response) -> list[Any]:
        """The `dedupe_key` of each item of the page, in order."""
        raise NotImplementedError

    @property
    def stream_name(self) -> str:
        return str(self._parameters.get("name", "this stream"))

    def fixed_page_size(self) -> Optional[int]:
        size = self.get_page_size()
        return int(size) if size else None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        """For the CDK's own loop: the pages one after the other, counted in the page's items, `overlap` items
        before the end of the previous page; the page before again when this one did not join it (see the module)."""
        items = self.items_on_page(response)
        page_size = page_size_override or self.fixed_page_size()
        if items == 0 or (page_size and items < page_size):
            return None
        offset = int(last_page_token_value or 0)
        if not self.overlap or (page_size and page_size <= self.overlap):
            return offset + items
        if getattr(response, PAGE_DOES_NOT_JOIN, False):
            # The first page again is offset "0": the CDK's paginator ends the paging on a token that is falsy.
            return max(offset - (items - self.overlap), 0) or "0"
        return offset + items - self.overlap


PAGE_DOES_NOT_JOIN = "_offset_page_does_not_join_the_previous_one"
# Pages a partition may request again because the one after them did not join them (see the module).
STEPS_BACK = 10
logger = logging.getLogger("airbyte")


def page_request(response: requests.Response) -> tuple[int, Optional[int], str]:
    """The page's offset and size, and what identifies the partition's paging: its URL without them."""
    request = getattr(response, "request", None)
    parts = urlsplit(getattr(request, "url", None) or getattr(response, "url", "") or "")
    query = parse_qsl(parts.query, keep_blank_values=True)
    offset = next((value for name, value in query if name == "offset"), "0")
    count = next((value for name, value in query if name == "count"), "")
    paging = parts.path + "?" + "&".join(sorted(f"{n}={v}" for n, v in query if n not in ("offset", "count")))
    return (int(offset) if offset.isdigit() else 0), (int(count) if count.isdigit() else None), paging


class PagesThatOverlap:
    """The items of the last page read of each partition of one stream, to drop them from the next page and to
    see whether the next page joins it (holds one of them). See the module."""

    def __init__(self, stream_name: str, dedupe_key: str, overlap: int) -> None:
        self.stream_name, self.dedupe_key, self.overlap = stream_name, dedupe_key, overlap
        self._lock = threading.Lock()
        self._last_pages: dict[str, tuple[int, set[Any], int]] = {}  # paging -> (next offset, keys, steps back left)

    def new_items(self, response: requests.Response, items: Iterable[Any]) -> list[Any]:
        """The page's items without those the previous page held; marks the page when it holds none of them."""
        items = list(items)
        keys = [item.get(self.dedupe_key) if isinstance(item, Mapping) else None for item in items]
        offset, page_size, paging = page_request(response)
        with self._lock:
            expected, previous, steps_back = self._last_pages.get(paging, (None, set(), STEPS_BACK))
        fresh = items
        if offset == expected and previous:
            if items and previous.isdisjoint(keys):
                if steps_back > 0:
                    setattr(response, PAGE_DOES_NOT_JOIN, True)
                    steps_back -= 1
                else:
                    logger.warning(
                        f"Stream {self.stream_name}: the collection changed faster than it could be paged through "
                        f"(more than {self.overlap} items moved between two pages); items may have been skipped. "
                        "The next full refresh reads them."
                    )
            fresh = [item for item, key in zip(items, keys) if key not in previous]
        with self._lock:
            if page_size is not None and len(items) < page_size:  # the last page
                self._last_pages.pop(paging, None)
            else:
                self._last_pages[paging] = (offset + len(items) - self.overlap, set(keys), steps_back)
        return fresh


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


# ---- connector_common/empty_dates_to_null.py
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Mapping, Optional

from airbyte_cdk.sources.declarative.extractors.type_transformer import TypeTransformer

DATE_FORMATS = frozenset({"date-time", "date"})

# A compiled schema: for each property that is or holds a date, (name, is_date, plan of its object's properties, plan
# of its array's object items, whether its array's items are dates).
Plan = tuple


def _types(node: Mapping[str, Any]) -> set:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _is_date(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("format") in DATE_FORMATS and "string" in _types(node)


def compile_date_paths(schema: Mapping[str, Any]) -> Plan:
    """The date properties of an object schema, nested objects and arrays of objects (or of dates) included. Only
    branches that hold a date are kept: a record is then walked along those and nothing else."""
    plan = []
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    for name, node in (properties or {}).items():
        if not isinstance(node, Mapping):
            continue
        if _is_date(node):
            plan.append((name, True, None, None, False))
            continue
        types = _types(node)
        fields = compile_date_paths(node) if "object" in types else ()
        items = node.get("items") if "array" in types else None
        item_fields = compile_date_paths(items) if isinstance(items, Mapping) else ()
        item_dates = _is_date(items)
        if fields or item_fields or item_dates:
            plan.append((name, False, fields or None, item_fields or None, item_dates))
    return tuple(plan)


def _nulled(obj: Dict[str, Any], plan: Plan, in_place: bool) -> Dict[str, Any]:
    """`obj` with "" made None at the plan's dates. Nested objects and arrays are copied when something in them
    changes, never modified: they belong to the parsed page, which may be served again."""
    out = obj
    for name, is_date, fields, item_fields, item_dates in plan:
        value = obj.get(name)
        if value is None:
            continue
        new: Any = value
        if is_date:
            if value == "":
                new = None
        elif type(value) is dict:
            if fields:
                new = _nulled(value, fields, False)
        elif type(value) is list:
            copied = None
            for index, item in enumerate(value):
                if item_dates and item == "":
                    changed: Any = None
                elif item_fields and type(item) is dict:
                    changed = _nulled(item, item_fields, False)
                else:
                    continue
                if changed is not item:
                    if copied is None:
                        copied = list(value)
                    copied[index] = changed
            if copied is not None:
                new = copied
        if new is not value:
            if out is obj and not in_place:
                out = dict(obj)
            out[name] = new
    return out


@dataclass
class EmptyDatesToNull(TypeTransformer):
    """A RecordSelector's `schema_normalization` that turns "" into null wherever the stream's schema declares a date
    (`format: date-time` or `date`), at any depth: in nested objects and in arrays of objects. Every other value,
    "" included, is left as the API sent it; a real date is never touched.

    Mailchimp sends "" for a date that is unset (a draft campaign's send_time, a pending member's timestamp_opt, a
    report without opens' last_open); "" is not a date, so a destination typing the column as a timestamp would reject
    or drop the record. YAML cannot express this: the CDK's `Default` normalization only casts values to the schema's
    types (it keeps "" as a string) and walks every field of every record; a RemoveFields with a condition evaluates a
    Jinja template per field per record and removes every "" rather than nulling the dates; AddFields would need each
    date's path written out per stream. Here the schema is compiled once into the paths that hold dates, and each
    record is walked along those only (a few dictionary look-ups per record)."""

    parameters: InitVar[Optional[Mapping[str, Any]]] = None
    _compiled: Dict[int, tuple] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self, parameters: Optional[Mapping[str, Any]]) -> None:
        self._compiled = {}

    def plan_for(self, schema: Mapping[str, Any]) -> Plan:
        # The CDK hands the same (cached) schema object for every record of a stream; kept with its plan so that its
        # id cannot be reused by another schema.
        entry = self._compiled.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = self._compiled[id(schema)] = (schema, compile_date_paths(schema))
        return entry[1]

    def transform(self, record: Dict[str, Any], schema: Mapping[str, Any]) -> None:
        plan = self.plan_for(schema)
        if plan:
            _nulled(record, plan, True)


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


# ---- source_mailchimp/parts/settings.py
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


# ---- source_mailchimp/parts/errors.py
import logging
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, List, Mapping, Optional, Tuple

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction


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


# ---- source_mailchimp/parts/records.py
from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional
from urllib.parse import urlsplit

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors import DpathExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


@dataclass
class TopLevelRecordsExtractor(DpathExtractor):
    """The records are the list under one top-level key of the body (`members`, `campaigns`, ...).

    Why not YAML: the DpathExtractor walks the whole body through dpath for that one key, on the hot path, and
    decodes the JSON a second time after the error handler. This takes the body the error handler already parsed
    (connector_common.parsed_body), and indexes it.

    A body without the list, or with something else than objects in it, is an error rather than an empty page: a
    page silently read as empty is a silent loss.
    """

    # Pages that overlap (connector_common.offset_pages): the items the previous page held are dropped here.
    overlap: int = 0
    dedupe_key: Optional[str] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream = parameters.get("name", "this stream")
        overlap = int(self.overlap or 0)
        self._pages = PagesThatOverlap(self._stream, self.dedupe_key or "id", overlap) if overlap else None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        records = self._records(response)
        if self._pages is not None:
            records = self._pages.new_items(response, records)
        yield from records

    def _records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        if len(self._field_path) != 1:
            raise self._malformed(response, "a body that is not a JSON object")
        yield from records_under_key(
            parsed_body(response), self._field_path[0].eval(self.config), strict=True,
            malformed=lambda what: self._malformed(response, what),
            empty_page=lambda body: body.get("total_items") == 0,  # an empty page may leave the list out
        )

    def _malformed(self, response: requests.Response, what: str) -> AirbyteTracedException:
        path = urlsplit(getattr(response, "url", "") or "").path
        message = f"Mailchimp answered {self._stream} with {what} ({path}): the page cannot be read."
        return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)


@dataclass
class AddPartitionIds(RecordTransformation):
    """Copies ids of the partition (`segment_id`, `list_id`) into each record.

    `fields` names the keys, looked up in the partition, then in the slice's extra fields. Why not YAML: AddFields
    would evaluate a Jinja template per record per field; this is a dict lookup."""

    parameters: InitVar[Mapping[str, Any]]
    fields: List[str] = field(default_factory=list)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.fields = list(self.fields or parameters.get("fields", []))

    def transform(
        self,
        record: dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        if stream_slice is None:
            return
        partition = stream_slice.partition
        extra = stream_slice.extra_fields
        for name in self.fields:
            if name in partition:
                record[name] = partition[name]
            elif name in extra:
                record[name] = extra[name]


class MemberStatusPartitionFilter(RecordFilter):
    """Each partition of a list keeps only its own members: archived ones in the `archived` partition (read with
    `status=archived`), all others in the `all_but_archived` partition.

    Whether or not the API's default listing includes archived members, each member is then emitted exactly once.
    Why not YAML: a RecordFilter's Jinja condition would cost a template evaluation per member; this is one
    comparison."""

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        want_archived = stream_slice is not None and stream_slice.partition.get("member_status") == "archived"
        for record in records:
            if (record.get("status") == "archived") is want_archived:
                yield record


# ---- source_mailchimp/parts/pages.py
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests


@dataclass
class MailchimpOffsetPages(OffsetPagesReadAhead):
    """Mailchimp's `offset`/`count` pages, requested ahead of the page being read once the first page has told
    `total_items` (see connector_common.pages_read_ahead).

    A page is counted in the items the API returned under the stream's data field, not in the records made of them:
    the email-activity endpoint pages by emails, each holding an `activity` list that becomes several records (or
    none). Counted in records, a page of emails holding more activity items than emails asked for too high an offset
    and skipped emails, and a page with little activity looked short and ended the paging.

    Why not YAML: OffsetIncrement counts records, and requests one page at a time."""

    data_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.data_field = self.data_field or parameters["data_field"]

    def _items(self, response: requests.Response) -> list[Any]:
        body = parsed_body(response)
        items = body.get(self.data_field) if isinstance(body, dict) else None
        return items if isinstance(items, list) else []

    def items_on_page(self, response: requests.Response) -> int:
        return len(self._items(response))

    def page_keys(self, response: requests.Response) -> list[Any]:
        return [item.get(self.dedupe_key) if isinstance(item, dict) else None for item in self._items(response)]

    def total_items(self, response: requests.Response) -> Optional[int]:
        body = parsed_body(response)
        total = body.get("total_items") if isinstance(body, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None


# ---- source_mailchimp/parts/partitions.py
from dataclasses import dataclass
from typing import Iterable

from airbyte_cdk.sources.types import StreamSlice


@dataclass
class CampaignsWithUnsubscribesPartitionRouter(SharedParentPartitionRouter):
    """The sent campaigns whose report counts unsubscribes (`unsubscribed`, an extra field of the partition): the
    others have nothing at /reports/{id}/unsubscribed and are not requested.

    Why not YAML: a RecordFilter on the parent would do the same, but then this parent would differ from reports_email_activity's
    and the sent campaigns would be listed twice a sync (see SharedParentPartitionRouter)."""

    def stream_slices(self) -> Iterable[StreamSlice]:
        for stream_slice in super().stream_slices():
            if stream_slice.extra_fields.get("unsubscribed") != 0:
                yield stream_slice


@dataclass
class AutomationEmailsSentToSomeone(SharedParentPartitionRouter):
    """The automation emails sent at least once (`emails_sent`, an extra field of the partition): one not sent yet
    has no recipients nor activity in its report, and is not requested.

    Why not YAML: a RecordFilter on the parent would make this parent differ from automation_email_queue's, which needs every
    email, and the automations' emails would be listed twice a sync (see SharedParentPartitionRouter)."""

    def stream_slices(self) -> Iterable[StreamSlice]:
        for stream_slice in super().stream_slices():
            if stream_slice.extra_fields.get("emails_sent") != 0:
                yield stream_slice


@dataclass
class ListAndMemberStatusPartitionRouter(SharedParentPartitionRouter):
    """Each list twice: {list_id, member_status: "all_but_archived"} and {list_id, member_status: "archived"}.

    The API lists archived members only when asked with `status=archived` (one status per request). YAML can say
    this as a cartesian product of the lists and a ListPartitionRouter, but the CDK then warns on every run that it
    cannot keep parent state for such a product; this yields the same partitions (and so the same state keys)."""

    STATUSES = ("all_but_archived", "archived")

    def stream_slices(self) -> Iterable[StreamSlice]:
        for list_slice in super().stream_slices():
            for status in self.STATUSES:
                yield StreamSlice(
                    partition={**list_slice.partition, "member_status": status},
                    cursor_slice=list_slice.cursor_slice,
                    extra_fields=list_slice.extra_fields,
                )


# ---- source_mailchimp/parts/email_activity.py
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import orjson
import requests

from airbyte_cdk.sources.types import StreamSlice, StreamState


logger = logging.getLogger("airbyte")

@dataclass
class EmailActivityExtractor(TopLevelRecordsExtractor):
    """One record per activity item (open, click, bounce) with the email's fields beside it, as flat columns.

    YAML has no way to explode a nested array into records while keeping the parent's fields."""

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for email in super().extract_records(response):
            activity = email.pop("activity", None)
            if activity is None:
                activity = []
            if not isinstance(activity, list) or not all(isinstance(item, dict) for item in activity):
                raise self._malformed(response, "an `activity` that is not a list of objects")
            for item in activity:
                record = dict(email)
                record.update(item)
                yield record


@dataclass
class CampaignsWithNewActivityPartitionRouter(SharedParentPartitionRouter):
    """Campaign partitions for reports_email_activity: only sent campaigns (the parent is /reports), only those sent
    within `email_activity_date_window` days, and, on an incremental sync, only those whose report may hold activity
    that the previous syncs have not read.

    The report is the campaign's change signal: every open, click and bounce moves one of its counts (and opens and
    clicks its `last_open` / `last_click`). The fingerprint of those values is kept per campaign in the stream's state
    (`parent_state.campaign_reports`, which the CDK commits only once the partitions read before it are closed). A
    campaign is skipped when its report still has the fingerprint of a read that happened at least the reporting delay
    (the lookback window) after that fingerprint was first seen: every event it counts was visible to that read. A
    read sooner than that (the first one after a change) leaves the campaign unsettled, and the next sync reads it
    again, from its saved cursor minus the lookback window.

    YAML cannot compare a parent's fields with what the stream's own saved state remembers of them; the saved state
    comes from `KeepSavedStateForPartitionRouter` (connector_common.saved_stream_state)."""

    STATE_KEY = "campaign_reports"
    FINGERPRINT_FIELDS = (
        "send_time",
        "opens.opens_total",
        "opens.last_open",
        "clicks.clicks_total",
        "clicks.last_click",
        "bounces.hard_bounces",
        "bounces.soft_bounces",
        "bounces.syntax_errors",
    )

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream_name = str(parameters.get("name") or "reports_email_activity")
        self._campaigns: dict[str, dict[str, str]] = {}

    def stream_slices(self) -> Iterable[StreamSlice]:
        window = self.config.get("email_activity_date_window") or 0
        now = datetime.now(timezone.utc)
        sent_after = now - timedelta(days=window) if window else None
        settle_before = now - lookback_window(self.config)
        saved = saved_stream_state(self.config, self._stream_name)
        stored = (saved.get("parent_state") or {}).get(self.STATE_KEY) if isinstance(saved, Mapping) else None
        self._campaigns = {
            str(campaign_id): dict(entry)
            for campaign_id, entry in (stored.items() if isinstance(stored, Mapping) else [])
            if isinstance(entry, Mapping) and isinstance(entry.get("report"), str)
        }
        skipped = 0
        listed: set[str] = set()
        for stream_slice in super().stream_slices():
            extra = stream_slice.extra_fields
            campaign_id = str(stream_slice.partition.get("campaign_id"))
            listed.add(campaign_id)
            send_time = parse_datetime_or_none(extra.get("send_time"))
            if sent_after is not None and (send_time is None or send_time < sent_after):
                continue
            report = self._fingerprint(extra)
            known = self._campaigns.get(campaign_id)
            if known is None or known["report"] != report:
                self._campaigns[campaign_id] = {"report": report, "unsettled_since": format_datetime(now)}
            elif "unsettled_since" not in known:
                skipped += 1
                continue
            else:
                first_seen = parse_datetime_or_none(known["unsettled_since"])
                if first_seen is not None and first_seen <= settle_before:
                    self._campaigns[campaign_id] = {"report": report}
            yield stream_slice
        # Campaigns deleted since: nothing left to remember.
        for campaign_id in set(self._campaigns) - listed:
            del self._campaigns[campaign_id]
        if skipped:
            logger.info(f"{self._stream_name}: {skipped} campaign(s) whose report has not changed since they were read skipped.")

    def _fingerprint(self, extra: Mapping[str, Any]) -> str:
        # "" and null are the same unset time (the parent's records may or may not have been normalized)
        return orjson.dumps([extra.get(name) if extra.get(name) != "" else None for name in self.FINGERPRINT_FIELDS]).decode()

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        return {self.STATE_KEY: {campaign_id: dict(entry) for campaign_id, entry in self._campaigns.items()}}
