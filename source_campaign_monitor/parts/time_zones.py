"""Client time zones: the API dates records and takes date filters in the client's local time, without an offset.

The client's zone is a Windows-style display name ("(GMT+10:00) Canberra, Melbourne, Sydney") in
`GET /clients/{id}.json` (`BasicDetails.TimeZone`); the 97 names the API knows are mapped to IANA zones
(timezones.json), and an unknown name falls back to the fixed offset it names, with a warning."""

import json
import logging
import re
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Mapping, Optional
from zoneinfo import ZoneInfo

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.sync_store import sync_store

logger = logging.getLogger("airbyte")

# Written as a dict literal into the bundled components.py, which has no file beside it.
TIMEZONE_NAMES: dict = json.loads((Path(__file__).resolve().parents[1] / "timezones.json").read_text(encoding="utf-8"))
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
