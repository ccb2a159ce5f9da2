"""What an incremental sync of the campaign event streams skips (campaigns whose summary counts are unchanged) and
what the streams of one sync share (client details, campaign and list listings), with the HTTP layer mocked."""

from __future__ import annotations

from typing import Any

import pytest
import requests_mock as requests_mock_module

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType, AirbyteStreamState, StreamDescriptor, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from source_campaign_monitor.parts.unchanged_parents import fingerprint_of
from source_campaign_monitor.run import SourceCampaignMonitor

from .fakes import API, CAMPAIGN, CLIENT, LIST, api_key_config, campaign, mock_account, page, summary

OTHER = "0b1c2d3e4f5a69788796a5b4c3d2e1f0"
FIELDS = ["Recipients", "TotalOpened", "UniqueOpened", "Clicks", "Unsubscribed", "Bounced", "SpamComplaints"]
PARTITION = {"campaign_id": CAMPAIGN, "parent_slice": {"client_id": CLIENT}}
OPEN = {"EmailAddress": "a@example.com", "ListID": LIST, "Date": "2024-04-07 10:00:00", "IPAddress": "1.2.3.4",
        "Latitude": 0, "Longitude": 0, "City": "", "Region": "", "CountryCode": "", "CountryName": ""}


@pytest.fixture
def api():
    with requests_mock_module.Mocker() as mocker:
        mock_account(mocker)
        for endpoint in ("opens", "clicks", "bounces", "spam", "unsubscribes"):
            mocker.get(API + f"campaigns/{CAMPAIGN}/{endpoint}.json", json=page([OPEN] if endpoint == "opens" else []))
        yield mocker


def run(streams: list[str], sync_mode: SyncMode, state: list | None = None):
    builder = CatalogBuilder()
    for stream in streams:
        builder = builder.with_stream(stream, sync_mode)
    catalog = builder.build()
    config = api_key_config()
    return read(SourceCampaignMonitor(catalog=catalog, config=config, state=state), config, catalog, state)


def requests_to(mocker, suffix: str):
    return [r for r in mocker.request_history if r.path.endswith(suffix)]


def opens_state(fingerprints: dict[str, str] | None) -> list:
    state: dict[str, Any] = {"use_global_cursor": False,
                             "states": [{"partition": PARTITION, "cursor": {"Date": "2024-04-07T00:00:00+0000"}}]}
    if fingerprints is not None:
        state["parent_state"] = {"campaign_activity": fingerprints}
    return [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name="campaign_opens"), stream_state=AirbyteStateBlob(**state)))]


def final_state(output) -> dict:
    return output.state_messages[-1].state.stream.stream_state.__dict__


def test_fingerprint_names_each_count_and_is_none_when_a_count_is_missing_or_not_an_integer():
    assert fingerprint_of({"TotalOpened": 4, "Clicks": 2}, ["TotalOpened", "Clicks"]) == "TotalOpened=4;Clicks=2"
    assert fingerprint_of({"TotalOpened": 4}, ["TotalOpened", "Clicks"]) is None
    assert fingerprint_of({"TotalOpened": "4", "Clicks": 2}, ["TotalOpened", "Clicks"]) is None
    assert fingerprint_of({"TotalOpened": True, "Clicks": 2}, ["TotalOpened", "Clicks"]) is None
    assert fingerprint_of([], ["TotalOpened"]) is None


def test_campaign_opens_incremental_sync_skips_a_campaign_whose_summary_is_unchanged_and_keeps_its_state(api):
    unchanged = fingerprint_of(summary(), FIELDS)
    output = run(["campaign_opens"], SyncMode.incremental, opens_state({CAMPAIGN: unchanged}))
    assert requests_to(api, "/opens.json") == []
    assert len(requests_to(api, "/summary.json")) == 1
    assert output.records == []
    state = final_state(output)
    assert state["parent_state"] == {"campaign_activity": {CAMPAIGN: unchanged}}
    assert state["states"] == [{"partition": PARTITION, "cursor": {"Date": "2024-04-07T00:00:00+0000"}}]


def test_campaign_opens_incremental_sync_rereads_a_campaign_whose_summary_changed_from_its_cursor(api):
    before = fingerprint_of(summary(opened=39), FIELDS)
    output = run(["campaign_opens"], SyncMode.incremental, opens_state({CAMPAIGN: before}))
    (request,) = requests_to(api, "/opens.json")
    assert request.qs["date"] == ["2024-04-07 09:45"]  # the stored cursor less the 15-minute lookback, Sydney time
    assert [r.record.data["EmailAddress"] for r in output.records] == ["a@example.com"]
    assert final_state(output)["parent_state"] == {"campaign_activity": {CAMPAIGN: fingerprint_of(summary(), FIELDS)}}


def test_a_state_without_fingerprints_reads_every_campaign_and_saves_their_fingerprints(api):
    output = run(["campaign_opens"], SyncMode.incremental, opens_state(None))
    assert len(requests_to(api, "/opens.json")) == 1
    assert final_state(output)["parent_state"] == {"campaign_activity": {CAMPAIGN: fingerprint_of(summary(), FIELDS)}}


def test_a_summary_that_cannot_be_read_reads_the_campaign_and_saves_no_fingerprint_for_it(api):
    api.get(API + f"campaigns/{CAMPAIGN}/summary.json", json={"Recipients": 100})  # counts missing
    output = run(["campaign_opens"], SyncMode.incremental, opens_state({CAMPAIGN: fingerprint_of(summary(), FIELDS)}))
    assert len(requests_to(api, "/opens.json")) == 1
    assert final_state(output)["parent_state"] == {"campaign_activity": {}}


def test_a_full_refresh_reads_every_campaign_and_saves_the_fingerprints_for_a_next_sync(api):
    # A router is not told the sync mode; a full refresh starts without a saved state, as a first sync does.
    output = run(["campaign_opens", "campaign_clicks"], SyncMode.full_refresh)
    assert len(requests_to(api, "/opens.json")) == 1 and len(requests_to(api, "/clicks.json")) == 1
    assert len(requests_to(api, "/summary.json")) == 1  # one summary per campaign and sync, shared by the streams
    opens = [m.state.stream.stream_state.__dict__ for m in output.state_messages
             if m.state.stream.stream_descriptor.name == "campaign_opens"][-1]
    assert opens["parent_state"] == {"campaign_activity": {CAMPAIGN: fingerprint_of(summary(), FIELDS)}}


def test_a_state_given_to_a_full_refresh_is_resumed_from_by_the_cdk_and_so_by_the_router(api):
    # airbyte-cdk 7 reads from the state it is given whatever the sync mode (Airbyte gives a full refresh no state,
    # except to resume its own interrupted attempt): the event requests start at the saved cursor
    unchanged = fingerprint_of(summary(), FIELDS)
    run(["campaign_opens"], SyncMode.full_refresh, opens_state(None))
    (request,) = requests_to(api, "/opens.json")
    assert request.qs["date"] == ["2024-04-07 09:45"]
    api.reset_mock()
    run(["campaign_opens"], SyncMode.full_refresh, opens_state({CAMPAIGN: unchanged}))
    assert requests_to(api, "/opens.json") == []


def test_the_five_event_streams_of_one_sync_share_one_summary_one_campaign_listing_and_one_client_details_read(api):
    streams = ["campaign_opens", "campaign_clicks", "campaign_bounces", "campaign_spam_complaints", "campaign_unsubscribes"]
    run(streams, SyncMode.incremental)
    assert len(requests_to(api, "/summary.json")) == 1
    assert len(requests_to(api, f"/clients/{CLIENT}/campaigns.json")) == 1
    assert len(requests_to(api, f"/clients/{CLIENT}.json")) == 1
    for endpoint in ("opens", "clicks", "bounces", "spam", "unsubscribes"):
        assert len(requests_to(api, f"/{endpoint}.json")) == 1


def test_a_new_campaign_is_read_while_an_unchanged_one_is_skipped(api):
    api.get(API + f"clients/{CLIENT}/campaigns.json", json=page(
        [campaign(CAMPAIGN, "2024-04-06 20:00:00"), campaign(OTHER, "2024-04-08 20:00:00")], ordered_by="SentDate"))
    api.get(API + f"campaigns/{OTHER}/summary.json", json=summary(opened=1))
    api.get(API + f"campaigns/{OTHER}/opens.json", json=page([]))
    output = run(["campaign_opens"], SyncMode.incremental, opens_state({CAMPAIGN: fingerprint_of(summary(), FIELDS)}))
    assert requests_to(api, f"/{CAMPAIGN}/opens.json") == []
    (request,) = requests_to(api, f"/{OTHER}/opens.json")
    assert request.qs["date"] == ["2000-01-01 11:00"]  # a new campaign starts from the start date, not another's cursor
    assert final_state(output)["parent_state"]["campaign_activity"] == {
        CAMPAIGN: fingerprint_of(summary(), FIELDS), OTHER: fingerprint_of(summary(opened=1), FIELDS)}


def test_the_list_streams_of_one_sync_share_one_list_listing(api):
    for endpoint in ("active", "bounced"):
        api.get(API + f"lists/{LIST}/{endpoint}.json", json=page([]))
    api.get(API + f"lists/{LIST}.json", json={"ListID": LIST, "Title": "List One"})
    run(["lists", "list_details", "list_active_subscribers", "list_bounced_subscribers"], SyncMode.full_refresh)
    # the lists stream's own read, and one listing shared by its three child streams (four without sharing)
    assert len(requests_to(api, f"/clients/{CLIENT}/lists.json")) == 2
    assert len(requests_to(api, f"/clients/{CLIENT}.json")) == 1


RECIPIENT = {"EmailAddress": "a@example.com", "ListID": LIST}


def recipients_state(state: dict[str, Any]) -> list:
    return [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name="campaign_recipients"), stream_state=AirbyteStateBlob(**state)))]


@pytest.fixture
def two_campaigns(api):
    """CAMPAIGN, sent 2024-04-06 09:00 UTC (20:00 in Sydney, summer time), and OTHER, sent two hours later."""
    api.get(API + f"clients/{CLIENT}/campaigns.json", json=page(
        [campaign(CAMPAIGN, "2024-04-06 20:00:00"), campaign(OTHER, "2024-04-06 22:00:00")], ordered_by="SentDate"))
    for campaign_id in (CAMPAIGN, OTHER):
        api.get(API + f"campaigns/{campaign_id}/recipients.json", json=page([RECIPIENT], ordered_by="email"))
    return api


def test_campaign_recipients_incremental_sync_does_not_request_a_campaign_read_before_even_on_its_send_day(two_campaigns):
    state = {"use_global_cursor": False,
             "states": [{"partition": PARTITION, "cursor": {"SentDate": "2024-04-06T09:00:00+0000"}}]}
    output = run(["campaign_recipients"], SyncMode.incremental, recipients_state(state))
    assert requests_to(two_campaigns, f"/{CAMPAIGN}/recipients.json") == []
    assert len(requests_to(two_campaigns, f"/{OTHER}/recipients.json")) == 1
    assert [(r.record.data["CampaignID"], r.record.data["SentDate"]) for r in output.records] == [
        (OTHER, "2024-04-06T11:00:00+00:00")]
    saved = {entry["partition"]["campaign_id"] for entry in final_state(output)["states"]}
    assert saved == {CAMPAIGN, OTHER}  # the skipped campaign keeps its cursor: it stays skipped next time


def test_campaign_recipients_with_a_global_cursor_skips_only_campaigns_sent_before_it(two_campaigns):
    state = {"use_global_cursor": True, "state": {"SentDate": "2024-04-06T10:00:00+0000"}}
    run(["campaign_recipients"], SyncMode.incremental, recipients_state(state))
    assert requests_to(two_campaigns, f"/{CAMPAIGN}/recipients.json") == []
    assert len(requests_to(two_campaigns, f"/{OTHER}/recipients.json")) == 1


@pytest.mark.parametrize("sync_mode", [SyncMode.full_refresh, SyncMode.incremental])
def test_campaign_recipients_without_a_saved_state_reads_every_campaign(two_campaigns, sync_mode):
    output = run(["campaign_recipients"], sync_mode)
    assert {r.record.data["CampaignID"] for r in output.records} == {CAMPAIGN, OTHER}


def test_campaign_recipients_a_campaign_whose_saved_cursor_is_below_its_send_date_is_read_again_in_full(two_campaigns):
    # the CDK saves a started partition at its lower bound; only a closed one carries the campaign's SentDate
    state = {"use_global_cursor": False,
             "states": [{"partition": PARTITION, "cursor": {"SentDate": "2000-01-01T00:00:00+0000"}}]}
    output = run(["campaign_recipients"], SyncMode.incremental, recipients_state(state))
    assert len(requests_to(two_campaigns, f"/{CAMPAIGN}/recipients.json")) == 1
    assert {r.record.data["CampaignID"] for r in output.records} == {CAMPAIGN, OTHER}
