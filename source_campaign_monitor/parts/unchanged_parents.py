"""What a sync need not read again: campaigns whose activity counts are unchanged since the last sync (their summary's
fingerprint), campaigns whose recipients were read completely."""

import logging
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from connector_common.dates import parse_datetime_or_none
from connector_common.partitions import PartitionsWithoutRequestOptions
from connector_common.saved_stream_state import saved_stream_state
from connector_common.sync_store import sync_store
from source_campaign_monitor.parts.responses import page_body

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
