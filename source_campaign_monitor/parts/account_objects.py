"""Account objects: the record shapes of the client, scheduled-campaign and journey streams that YAML cannot make."""

from dataclasses import InitVar, dataclass, field
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_campaign_monitor.parts.time_zones import LocalTimeConverter, zone_for


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
