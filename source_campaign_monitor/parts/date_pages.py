"""Paging a subscriber list that changes while it is read: by its dates, not by page numbers."""

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping, Optional

import requests

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_campaign_monitor.parts.responses import last_result_minute, page_body
from source_campaign_monitor.parts.time_zones import local_minute



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

