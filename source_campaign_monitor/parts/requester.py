"""Requests: the incremental interval's start sent as the API's date filter, in the client's local time."""

from dataclasses import dataclass
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.types import StreamSlice, StreamState

from connector_common.adaptive_concurrency import AdaptiveConcurrencyRequester
from connector_common.dates import parse_datetime
from source_campaign_monitor.parts.time_zones import ClientTimeZones, client_id_of, partition_of


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


