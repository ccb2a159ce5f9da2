"""The account objects' components and requests: what each does beyond the shared streams (a nested object lifted, a
date in its own zone, the days of the statistics, a refused stream skipped with one warning, a deleted segment or
journey email skipped), with the published bodies' shapes (fakes.py, createsend-python fixtures)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
import requests_mock as requests_mock_module

from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from source_campaign_monitor.parts.account_objects import (
    DatesInTheirOwnZone,
    LiftNestedObject,
    RecentDaysOfEachClient,
    SkipRefusedStream,
)
from source_campaign_monitor.run import run

from .fakes import API, CLIENT, SANDBOX, api_key_config, client_details, mock_account, page


def test_client_details_lift_basic_details_and_leave_out_the_client_api_key():
    record = {"ApiKey": "639d8cc2", "AccessDetails": {"Username": "clientone", "AccessLevel": 23},
              "BasicDetails": {"ClientID": "4a39", "CompanyName": "2024", "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney"},
              "BillingDetails": {"Credits": 500}}
    LiftNestedObject(config={}, parameters={}, field_name="BasicDetails", drop=["ApiKey"]).transform(record)
    assert record == {"AccessDetails": {"Username": "clientone", "AccessLevel": 23}, "ClientID": "4a39",
                      "CompanyName": "2024", "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney",
                      "BillingDetails": {"Credits": 500}}  # "2024" stays a string


@pytest.mark.parametrize("label, local, utc", [
    ("(GMT+10:00) Canberra, Melbourne, Sydney", "2011-05-25 10:40:00", "2011-05-25T00:40:00+00:00"),  # fixture
    ("(GMT+10:00) Canberra, Melbourne, Sydney", "2024-01-10 10:40:00", "2024-01-09T23:40:00+00:00"),  # summer time
    ("(GMT+09:00) Osaka, Sapporo, Tokyo", "2024-11-25 09:30:00", "2024-11-25T00:30:00+00:00"),
    ("(GMT-05:00) Eastern Time (US & Canada)", "2024-07-04 12:00:00", "2024-07-04T16:00:00+00:00"),
])
def test_date_scheduled_is_converted_from_its_own_scheduled_time_zone(label, local, utc):
    record = {"DateScheduled": local, "ScheduledTimeZone": label, "DateCreated": "2011-05-24T00:37:00+00:00"}
    DatesInTheirOwnZone(config={}, parameters={}, zone_of={"DateScheduled": "ScheduledTimeZone"}).transform(record)
    assert record["DateScheduled"] == utc and record["DateCreated"] == "2011-05-24T00:37:00+00:00"


class _Slices:
    def __init__(self, partitions: list[dict[str, Any]]) -> None:
        self.partitions = partitions

    def stream_slices(self):
        for partition in self.partitions:
            yield StreamSlice(partition=partition, cursor_slice={})


@pytest.mark.parametrize("start_date, first", [(None, "2024-10-22"), ("2024-11-18", "2024-11-18"),
                                               ("2024-11-18T23:00:00Z", "2024-11-18")])
def test_statistics_days_end_at_the_account_date_and_never_start_before_start_date(start_date, first):
    config = {"start_date": start_date} if start_date else {}
    router = RecentDaysOfEachClient(config=config, parameters={}, days=30,
                                    clients=_Slices([{"client_id": "a"}, {"client_id": "b"}]),
                                    today=_Slices([{"system_date": "2024-11-20 11:00:00", "parent_slice": {}}]))
    slices = [dict(s.partition) for s in router.stream_slices()]
    days = sorted({s["day"] for s in slices})
    assert days[0] == first and days[-1] == "2024-11-20"
    assert slices == [{"client_id": c, "day": d} for c in ("a", "b") for d in days]


def _response(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.url = API + "admins.json"
    return response


@pytest.mark.parametrize("status, code, refused", [
    (401, 52, True), (400, 993, True), (400, 994, True), (403, 10, True),
    (401, 50, False), (401, 121, False), (401, 120, False), (404, 404, False), (429, 429, False), (500, 500, False),
])
def test_only_a_refusal_skips_the_stream(status, code, refused):
    handler = SkipRefusedStream(config={}, parameters={"name": "admins"})
    resolution = handler.interpret_response(_response(status, {"Code": code, "Message": "m"}))
    assert (resolution.response_action == ResponseAction.IGNORE) is refused


def test_a_refusal_cut_short_is_asked_again():
    response = _response(400, {})
    response._content = b'{"Code":993,"Message":"You need to set up custom authen'
    resolution = SkipRefusedStream(config={}, parameters={"name": "transactional_messages"}).interpret_response(response)
    assert resolution.response_action == ResponseAction.RETRY


def test_a_refusal_is_one_warning_per_stream_and_sync_however_many_requests(caplog):
    config: dict[str, Any] = {}
    handlers = [SkipRefusedStream(config=config, parameters={"name": name}) for name in ("a", "a", "b")]
    for handler in handlers:
        for _ in range(3):
            handler.interpret_response(_response(400, {"Code": 993, "Message": "no transactional"}))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert [w.split(":")[0] for w in warnings] == ["Skipped a", "Skipped b"]


def _read(tmp_path, capsys, streams: list[str], config: dict[str, Any]) -> list[dict[str, Any]]:
    catalog = {"streams": [{"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for n in streams]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    try:
        run(["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")])
    except SystemExit as exited:
        assert exited.code == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_a_segment_deleted_during_the_sync_is_skipped_with_a_warning(tmp_path, capsys):
    with requests_mock_module.Mocker() as mocker:
        mock_account(mocker)
        mocker.get(API + f"clients/{CLIENT}/segments.json", json=[
            {"ListID": "l1", "SegmentID": "gone", "Title": "Deleted"}, {"ListID": "l1", "SegmentID": "s2", "Title": "Kept"}])
        mocker.get(API + "segments/gone.json", status_code=404, json={"Code": 404, "Message": "Not found"})
        mocker.get(API + "segments/s2.json", json={"ActiveSubscribers": 0, "RuleGroups": [], "ListID": "l1",
                                                   "SegmentID": "s2", "Title": "Kept"})
        messages = _read(tmp_path, capsys, ["segment_details"], api_key_config())
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert [r["SegmentID"] for r in records] == ["s2"]
    logs = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert any("segment_details" in line and "segments/gone.json" in line for line in logs)


def test_journey_reports_ask_by_date_without_orderfield_and_number_same_minute_events(tmp_path, capsys):
    summary = {"JourneyID": "j1", "Name": "New journey", "TriggerType": "On Subscription", "Status": "Active",
               "Emails": [{"EmailID": "e1", "Name": "1", "Bounced": 0, "Clicked": 0, "Opened": 2, "Sent": 1,
                           "UniqueOpened": 1, "Unsubscribed": 0}]}
    open_ = {"EmailAddress": "asdf@example.com", "Date": "2019-08-19 10:23:00", "IPAddress": "198.148.196.144",
             "Latitude": -33.8591, "Longitude": 151.200195, "City": "Sydney", "Region": "New South Wales",
             "CountryCode": "AU", "CountryName": "Australia"}
    with requests_mock_module.Mocker() as mocker:
        mock_account(mocker)
        mocker.get(API + f"clients/{CLIENT}/journeys.json", json=[
            {"ListID": "l1", "JourneyID": "j1", "Name": "New journey", "Status": "Active"},
            {"ListID": "l1", "JourneyID": "j2", "Name": "No emails", "Status": "Not started"}])
        mocker.get(API + "journeys/j1.json", json=summary)
        mocker.get(API + "journeys/j2.json", json={**summary, "JourneyID": "j2", "Emails": []})
        opens = mocker.get(API + "journeys/email/e1/opens.json", json={**page([open_, dict(open_)]), "OrderDirection": "ASC"})
        messages = _read(tmp_path, capsys, ["journey_email_opens"], api_key_config())
        asked = opens.request_history
    records = [m["record"]["data"] for m in messages if m["type"] == "RECORD"]
    assert [(r["EmailID"], r["Date"], r["Occurrence"]) for r in records] == [
        ("e1", "2019-08-19T00:23:00+00:00", 0), ("e1", "2019-08-19T00:23:00+00:00", 1)]  # Sydney, no DST in August
    assert len(asked) == 1
    query = asked[0].qs
    assert "orderfield" not in query and query["orderdirection"] == ["asc"] and query["pagesize"] == ["1000"]
    assert query["date"] == ["2000-01-01 11:00"]
