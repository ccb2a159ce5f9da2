"""Records: the page's results, the parent ids the API omits, dates in UTC, events numbered within their minute."""

from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import requests

from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from connector_common.parsed_body import records_under_key
from source_campaign_monitor.parts.responses import ParsedJsonDecoder
from source_campaign_monitor.parts.time_zones import ClientTimeZones, LocalTimeConverter, client_id_of, partition_of


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

