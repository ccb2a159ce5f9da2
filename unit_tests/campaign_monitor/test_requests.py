"""The requests each stream makes (path, parameters, auth) and what it does with the answers, with the HTTP layer
mocked (requests-mock): the manifest and components together, without a server."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests_mock as requests_mock_module

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType, AirbyteStreamState, StreamDescriptor, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from source_campaign_monitor.run import SourceCampaignMonitor

from .fakes import API, CAMPAIGN, CLIENT, LIST, api_key_config, campaign, client_details, mock_account, page

NO_RETRY_WAIT = {"num_workers": 2}


@pytest.fixture
def api():
    with requests_mock_module.Mocker() as mocker:
        mock_account(mocker)
        yield mocker


def run(stream: str, config: dict[str, Any], sync_mode: SyncMode = SyncMode.full_refresh, state: list | None = None):
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    source = SourceCampaignMonitor(catalog=catalog, config=config, state=state)
    return read(source, config, catalog, state)


def requests_to(mocker, suffix: str):
    return [r for r in mocker.request_history if r.path.endswith(suffix)]


def partition_state(stream: str, partition: dict, cursor_field: str, value: str) -> list:
    state = {"use_global_cursor": False, "states": [{"partition": partition, "cursor": {cursor_field: value}}]}
    return [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name=stream), stream_state=AirbyteStateBlob(**state)))]


def test_api_key_requests_use_basic_auth_with_the_key_as_user_name(api):
    output = run("lists", api_key_config())
    assert [r.record.data for r in output.records] == [{"ListID": LIST, "Name": "List One", "ClientID": CLIENT}]
    (request,) = requests_to(api, "/lists.json")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"secret-api-key:x").decode()


def test_an_empty_api_client_id_reads_every_client_of_clients_json(api):
    other = "99bc35084a5739127a8ab81eae5bd305"
    api.get(API + "clients.json", json=[{"ClientID": CLIENT, "Name": "One"}, {"ClientID": other, "Name": "Two"}])
    api.get(API + f"clients/{other}.json", json=client_details(other, "(GMT-05:00) Eastern Time (US & Canada)"))
    api.get(API + f"clients/{other}/lists.json", json=[{"ListID": "l2", "Name": "List Two"}])
    output = run("lists", api_key_config(api_client_id=""))
    assert sorted((r.record.data["ClientID"], r.record.data["ListID"]) for r in output.records) == [
        (CLIENT, LIST), (other, "l2")]


def test_a_configured_api_client_id_does_not_list_the_clients(api):
    run("lists", api_key_config())
    assert not requests_to(api, "/clients.json")


def test_campaigns_are_read_in_pages_of_1000_with_sent_date_in_utc_and_the_client_id(api):
    output = run("campaigns", api_key_config())
    (record,) = [r.record.data for r in output.records]
    assert record["SentDate"] == "2024-04-06T09:00:00+00:00" and record["ClientID"] == CLIENT
    (request,) = requests_to(api, "/campaigns.json")
    assert request.qs["pagesize"] == ["1000"]


def test_incremental_campaigns_send_sentfromdate_as_the_local_day_of_the_cursor(api):
    state = partition_state("campaigns", {"client_id": CLIENT}, "SentDate", "2024-04-06T14:30:00+0000")
    run("campaigns", api_key_config(), SyncMode.incremental, state)
    (request,) = requests_to(api, "/campaigns.json")
    assert request.qs["sentfromdate"] == ["2024-04-07"]  # 00:30 on 7 April in Sydney


def test_campaign_opens_follow_the_pages_the_api_announces_and_stop_at_the_last(api):
    open_ = {"EmailAddress": "a@example.com", "ListID": LIST, "Date": "2024-04-07 10:00:00", "IPAddress": "1.2.3.4",
             "Latitude": 0.0, "Longitude": 0.0, "City": "", "Region": "", "CountryCode": "", "CountryName": ""}
    api.get(API + f"campaigns/{CAMPAIGN}/opens.json", [
        {"json": page([open_], page_number=1, pages=2)},
        {"json": page([{**open_, "EmailAddress": "b@example.com"}], page_number=2, pages=2)},
    ])
    output = run("campaign_opens", api_key_config())
    assert [r.record.data["EmailAddress"] for r in output.records] == ["a@example.com", "b@example.com"]
    assert {r.record.data["CampaignID"] for r in output.records} == {CAMPAIGN}
    assert output.records[0].record.data["Date"] == "2024-04-07T00:00:00+00:00"
    first, second = requests_to(api, "/opens.json")
    assert "page" not in first.qs and second.qs["page"] == ["2"]
    assert first.qs["orderfield"] == ["date"] and first.qs["orderdirection"] == ["asc"]


def test_incremental_campaign_opens_send_the_partition_cursor_as_local_date_filter(api):
    api.get(API + f"campaigns/{CAMPAIGN}/opens.json", json=page([]))
    partition = {"campaign_id": CAMPAIGN, "parent_slice": {"client_id": CLIENT}}
    state = partition_state("campaign_opens", partition, "Date", "2024-04-06T09:38:00+0000")
    run("campaign_opens", api_key_config(lookback_window_minutes=0), SyncMode.incremental, state)
    (request,) = requests_to(api, "/opens.json")
    assert request.qs["date"] == ["2024-04-06 20:38"]  # the boundary minute is read again


def test_by_default_incremental_reads_start_15_minutes_before_the_partition_cursor(api):
    api.get(API + f"campaigns/{CAMPAIGN}/opens.json", json=page([]))
    partition = {"campaign_id": CAMPAIGN, "parent_slice": {"client_id": CLIENT}}
    state = partition_state("campaign_opens", partition, "Date", "2024-04-06T09:38:00+0000")
    run("campaign_opens", api_key_config(), SyncMode.incremental, state)
    (request,) = requests_to(api, "/opens.json")
    assert request.qs["date"] == ["2024-04-06 20:23"]


def test_without_state_or_start_date_the_filter_starts_in_2000_and_with_start_date_at_it(api):
    api.get(API + f"campaigns/{CAMPAIGN}/clicks.json", json=page([]))
    run("campaign_clicks", api_key_config(start_date="2024-01-01T00:00:00Z"), SyncMode.incremental)
    (request,) = requests_to(api, "/clicks.json")
    assert request.qs["date"] == ["2024-01-01 11:00"]


def test_list_subscribers_ask_for_the_tracking_preference_and_convert_both_dates(api):
    subscriber = {"EmailAddress": "subs@example.com", "Name": "Person", "Date": "2024-01-01 11:00:00",
                  "ListJoinedDate": "2023-07-01 10:00:00", "State": "Active", "CustomFields": [],
                  "ReadsEmailWith": "Gmail", "ConsentToTrack": "Yes"}
    api.get(API + f"lists/{LIST}/active.json", json=page([subscriber]))
    output = run("list_active_subscribers", api_key_config())
    (record,) = [r.record.data for r in output.records]
    assert record["Date"] == "2024-01-01T00:00:00+00:00"
    assert record["ListJoinedDate"] == "2023-07-01T00:00:00+00:00"
    assert record["ListID"] == LIST
    (request,) = requests_to(api, "/active.json")
    assert request.qs["includetrackingpreference"] == ["true"]


def test_email_client_usage_is_a_bare_array_keyed_by_campaign(api):
    usage = [{"Client": "iOS Devices", "Version": "iPhone", "Percentage": 19.83, "Subscribers": 7056}]
    api.get(API + f"campaigns/{CAMPAIGN}/emailclientusage.json", json=usage)
    output = run("campaign_email_client_usage", api_key_config())
    assert [r.record.data for r in output.records] == [{**usage[0], "CampaignID": CAMPAIGN}]


def test_campaign_recipients_carry_the_campaign_id_and_its_sent_date(api):
    api.get(API + f"campaigns/{CAMPAIGN}/recipients.json",
            json=page([{"EmailAddress": "a@example.com", "ListID": LIST}], ordered_by="email"))
    output = run("campaign_recipients", api_key_config())
    assert [r.record.data for r in output.records] == [
        {"EmailAddress": "a@example.com", "ListID": LIST, "CampaignID": CAMPAIGN, "SentDate": "2024-04-06T09:00:00+00:00"}]
    (request,) = requests_to(api, "/recipients.json")
    assert request.qs["orderfield"] == ["email"] and "date" not in request.qs


def test_a_campaign_deleted_mid_sync_is_skipped_with_a_warning_and_the_others_are_read(api):
    other = "072472b88c853ae5dedaeaf549a8d607"
    api.get(API + f"clients/{CLIENT}/campaigns.json", json=page(
        [campaign(CAMPAIGN, "2024-04-06 20:00:00"), campaign(other, "2024-04-05 20:00:00")], ordered_by="SentDate"))
    api.get(API + f"campaigns/{CAMPAIGN}/summary.json", status_code=404, json={"Code": 404, "Message": "Not found"})
    api.get(API + f"campaigns/{other}/summary.json", json={"Name": "Two", "Recipients": 1})
    output = run("campaign_summary", api_key_config())
    assert [r.record.data for r in output.records] == [{"Name": "Two", "Recipients": 1, "CampaignID": other}]
    assert any("deleted" in log.log.message for log in output.logs if log.log.level.value == "WARN")
    assert not output.errors


def test_a_200_with_an_html_body_is_retried_not_dropped(api, monkeypatch):
    monkeypatch.setattr("connector_common.http_errors.RateLimitAwareBackoff.backoff_time", lambda *a, **k: 0.01)
    api.get(API + f"clients/{CLIENT}/lists.json", [
        {"status_code": 200, "text": "<html><body>502 Bad Gateway</body></html>"},
        {"status_code": 200, "text": '[{"ListID": "l1", "Name": "Li'},  # truncated
        {"status_code": 200, "json": [{"ListID": LIST, "Name": "List One"}]},
    ])
    output = run("lists", api_key_config())
    assert [r.record.data["ListID"] for r in output.records] == [LIST]
    assert len(requests_to(api, "/lists.json")) == 3


def test_a_wrong_api_key_fails_as_a_config_error_naming_the_field(api):
    api.get(API + f"clients/{CLIENT}.json", status_code=401,
            json={"Code": 50, "Message": "Must supply a valid HTTP Basic Authorization header"})
    output = run("lists", api_key_config())
    errors = [m.trace.error for m in output.errors]
    assert errors and all(e.failure_type.value == "config_error" for e in errors)
    stream_errors = [e for e in errors if e.stream_descriptor and e.stream_descriptor.name == "lists"]
    assert stream_errors and "credentials.api_key" in stream_errors[0].message
