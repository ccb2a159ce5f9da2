"""Records: the list under a page's key, ids of the partition added, each member in one partition of its list."""

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

from connector_common.offset_pages import PagesThatOverlap
from connector_common.parsed_body import parsed_body, records_under_key

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
