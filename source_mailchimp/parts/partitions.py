"""Partitions over the parent listings shared once per sync (connector_common.partitions): only the parents that have
something to read, and each list twice, for its archived members and the others."""

from dataclasses import dataclass
from typing import Iterable

from airbyte_cdk.sources.types import StreamSlice

from connector_common.partitions import SharedParentPartitionRouter

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
