"""Account objects: the record shapes and partitions of the client, scheduled-campaign and transactional streams that
YAML cannot make."""

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

from connector_common.dates import parse_datetime
from connector_common.parsed_body import NOT_JSON, safe_url
from connector_common.partitions import PartitionsWithoutRequestOptions
from connector_common.sync_store import sync_store
from source_campaign_monitor.parts.responses import CampaignMonitorErrorHandler, page_body
from source_campaign_monitor.parts.time_zones import LocalTimeConverter, zone_for

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
