"""Email activity: one record per open, click or bounce, and only the campaigns whose report says there may be
activity the previous syncs have not read."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, MutableMapping, Optional

import orjson
import requests

from airbyte_cdk.sources.types import StreamSlice, StreamState

from connector_common.dates import format_datetime, parse_datetime_or_none
from connector_common.partitions import SharedParentPartitionRouter
from connector_common.saved_stream_state import saved_stream_state
from source_mailchimp.parts.records import TopLevelRecordsExtractor
from source_mailchimp.parts.settings import lookback_window

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
