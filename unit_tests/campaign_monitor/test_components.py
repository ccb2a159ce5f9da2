"""Behaviour of the small Python components: error handling, backoff, OAuth, transformation, partitions."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import datetime, timedelta, timezone

import pytest
import requests
import requests_mock as requests_mock_module

from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from source_campaign_monitor.parts.date_pages import NextPagesFromTheLastDateRead, SkipRecordsReadTwiceAtPageBoundaries
from source_campaign_monitor.parts.oauth import CampaignMonitorOAuth
from source_campaign_monitor.parts.partitions import ConfiguredOrAllClients
from source_campaign_monitor.parts.records import AddParentIdsAndUtcDates, NumberEventsWithinTheirMinute
from source_campaign_monitor.parts.responses import CampaignMonitorErrorHandler, ParsedJsonDecoder, page_body
from source_campaign_monitor.parts.time_zones import ClientTimeZones, client_id_of

from .fakes import SANDBOX, SYDNEY

TOKEN_URL = SANDBOX + "/oauth/token"


def response(status: int, body: bytes | str, headers: dict | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body.encode() if isinstance(body, str) else body
    r.headers.update(headers or {})
    r.url = "http://127.0.0.1/api/v3.3/lists/x/active.json?page=2"
    return r


def handler() -> CampaignMonitorErrorHandler:
    return CampaignMonitorErrorHandler(config={}, parameters={})


# --- error handler ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["<html><body>502 Bad Gateway</body></html>", '{"Results": [{"Email', ""])
def test_a_200_whose_body_is_not_json_is_retried(body):
    resolution = handler().interpret_response(response(200, body or b"\xff\xfe"))
    assert resolution.response_action == ResponseAction.RETRY


def test_a_200_with_json_succeeds_and_the_decoder_reuses_the_parsed_body():
    ok = response(200, '{"Results": [1], "NumberOfPages": 1}')
    assert handler().interpret_response(ok).response_action == ResponseAction.SUCCESS
    setattr(ok, "_content", b"overwritten")  # the decoder must not parse again
    assert list(ParsedJsonDecoder().decode(ok)) == [{"Results": [1], "NumberOfPages": 1}]


def test_an_ignored_error_response_yields_no_record():
    assert list(ParsedJsonDecoder().decode(response(404, '{"Code": 404, "Message": "gone"}'))) == [{}]


@pytest.mark.parametrize("code", [120, 121])
def test_an_expired_or_unknown_oauth_token_is_refreshed_then_retried(code):
    resolution = handler().interpret_response(response(401, json.dumps({"Code": code, "Message": "Expired OAuth Token"})))
    assert resolution.response_action == ResponseAction.REFRESH_TOKEN_THEN_RETRY


def test_an_invalid_api_key_fails_as_a_config_error_naming_the_field():
    resolution = handler().interpret_response(response(401, '{"Code": 50, "Message": "Must supply a valid key"}'))
    assert resolution.response_action == ResponseAction.FAIL
    assert resolution.failure_type.value == "config_error"
    assert "credentials.api_key" in resolution.error_message


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_rate_limits_are_retried(status):
    assert handler().interpret_response(response(status, '{"Code": 500}')).response_action in (
        ResponseAction.RETRY, ResponseAction.RATE_LIMITED)


def test_connection_errors_and_read_timeouts_are_retried():
    for error in (requests.ConnectionError("reset"), requests.ReadTimeout("stalled")):
        assert handler().interpret_response(error).response_action == ResponseAction.RETRY


# --- transformation and partitions -----------------------------------------------------------------------------------


def test_records_get_their_parent_ids_and_utc_dates_from_the_partition():
    config: dict = {}
    ClientTimeZones.of(config).remember("client", SYDNEY)
    transformation = AddParentIdsAndUtcDates(config=config, parameters={}, date_fields=["Date", "ListJoinedDate"],
                                             parent_ids={"ListID": "list_id"})
    record = {"EmailAddress": "a@example.com", "Date": "2024-01-01 11:00:00", "ListJoinedDate": ""}
    partition = {"list_id": "L1", "parent_slice": {"client_id": "client"}}
    transformation.transform(record, stream_slice=StreamSlice(partition=partition, cursor_slice={}))
    assert record == {"EmailAddress": "a@example.com", "Date": "2024-01-01T00:00:00+00:00", "ListJoinedDate": None,
                      "ListID": "L1"}


def test_values_of_the_parent_record_are_copied_from_the_slice_extra_fields():
    transformation = AddParentIdsAndUtcDates(config={}, parameters={}, parent_values={"SentDate": "SentDate"})
    record = {"EmailAddress": "a@example.com"}
    transformation.transform(record, stream_slice=StreamSlice(partition={}, cursor_slice={},
                                                              extra_fields={"SentDate": "2024-01-01T00:00:00+00:00"}))
    assert record["SentDate"] == "2024-01-01T00:00:00+00:00"


def test_each_slice_gives_its_own_parent_ids_and_zone_to_every_record_of_it():
    config: dict = {}
    ClientTimeZones.of(config).remember("sydney", SYDNEY)
    ClientTimeZones.of(config).remember("utc", "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London")
    transformation = AddParentIdsAndUtcDates(config=config, parameters={}, date_fields=["Date"],
                                             parent_ids={"CampaignID": "campaign_id"})
    first = StreamSlice(partition={"campaign_id": "c1", "parent_slice": {"client_id": "sydney"}}, cursor_slice={})
    second = StreamSlice(partition={"campaign_id": "c2", "parent_slice": {"client_id": "utc"}}, cursor_slice={})
    records = []
    for stream_slice in (first, second, first, second):
        record = {"Date": "2024-01-10 11:00:00"}
        transformation.transform(record, stream_slice=stream_slice)
        records.append(record)
    sydney = {"Date": "2024-01-10T00:00:00+00:00", "CampaignID": "c1"}
    london = {"Date": "2024-01-10T11:00:00+00:00", "CampaignID": "c2"}
    assert records == [sydney, london, sydney, london]


def test_the_client_of_a_partition_is_found_through_its_parent_slices():
    assert client_id_of({"campaign_id": "c", "parent_slice": {"client_id": "x", "parent_slice": {}}}) == "x"
    assert client_id_of({"campaign_id": "c"}) is None


class _AllClients:
    def __init__(self):
        self.called = False

    def stream_slices(self):
        self.called = True
        yield StreamSlice(partition={"client_id": "a", "parent_slice": {}}, cursor_slice={})
        yield StreamSlice(partition={"client_id": "b", "parent_slice": {}}, cursor_slice={})


def test_a_configured_client_is_the_only_partition_and_clients_are_not_listed():
    all_clients = _AllClients()
    router = ConfiguredOrAllClients(config={"api_client_id": "x"}, parameters={}, all_clients=all_clients)
    assert [s.partition for s in router.stream_slices()] == [{"client_id": "x"}]
    assert not all_clients.called


def test_without_a_configured_client_every_listed_client_is_a_partition():
    router = ConfiguredOrAllClients(config={"api_client_id": ""}, parameters={}, all_clients=_AllClients())
    assert [s.partition for s in router.stream_slices()] == [{"client_id": "a"}, {"client_id": "b"}]


# --- OAuth -----------------------------------------------------------------------------------------------------------


def oauth(config) -> CampaignMonitorOAuth:
    return CampaignMonitorOAuth(config=config, parameters={}, token_url=TOKEN_URL)


def oauth_config(**credentials):
    return {"credentials": {"auth_type": "oauth2.0", "client_id": "123", "client_secret": "app-secret", **credentials}}


def control_messages(output: str) -> list[dict]:
    return [json.loads(line)["control"] for line in output.splitlines() if '"CONTROL"' in line]


def test_a_refresh_token_is_exchanged_for_a_bearer_token_once_for_every_stream():
    config = oauth_config(refresh_token="refresh-1")
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "access-1", "expires_in": 1209600, "refresh_token": "refresh-1"})
        first, second = oauth(config), oauth(config)
        out = io.StringIO()
        with redirect_stdout(out):
            assert first.get_auth_header() == {"Authorization": "Bearer access-1"}
            assert second.get_auth_header() == {"Authorization": "Bearer access-1"}
        assert mocker.call_count == 1
        form = dict(pair.split("=") for pair in mocker.last_request.text.split("&"))
        assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "refresh-1"
    assert control_messages(out.getvalue()) == []  # same refresh token: nothing to persist


def test_a_rotated_refresh_token_is_persisted_with_a_control_message():
    config = oauth_config(refresh_token="refresh-1")
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "access-2", "expires_in": 3600, "refresh_token": "refresh-2"})
        out = io.StringIO()
        with redirect_stdout(out):
            oauth(config).get_auth_header()
    (control,) = control_messages(out.getvalue())
    assert control["connectorConfig"]["config"]["credentials"]["refresh_token"] == "refresh-2"
    assert config["credentials"]["refresh_token"] == "refresh-2"


def test_the_persisted_config_holds_the_settings_only_not_what_the_sync_keeps_beside_them():
    config = oauth_config(refresh_token="refresh-1")
    config["__saved_stream_states"] = {"campaign_opens": {"states": []}}  # KeepSavedStateForPartitionRouter's
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "access-2", "expires_in": 3600, "refresh_token": "refresh-2"})
        out = io.StringIO()
        with redirect_stdout(out):
            oauth(config).get_auth_header()
    (control,) = control_messages(out.getvalue())
    assert set(control["connectorConfig"]["config"]) == {"credentials"}


def test_two_syncs_in_one_process_do_not_share_tokens():
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, [{"json": {"access_token": f"access-{n}", "expires_in": 3600}} for n in (1, 2)])
        with redirect_stdout(io.StringIO()):
            assert oauth(oauth_config(refresh_token="r")).get_auth_header() == {"Authorization": "Bearer access-1"}
            assert oauth(oauth_config(refresh_token="r")).get_auth_header() == {"Authorization": "Bearer access-2"}


def test_an_authorization_code_is_exchanged_once_and_dropped_from_the_persisted_config():
    config = oauth_config(authorization_code="code-1", redirect_uri="https://app.example.com/cb")
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "access-1", "expires_in": 3600, "refresh_token": "refresh-1"})
        out = io.StringIO()
        with redirect_stdout(out):
            authenticator = oauth(config)
            authenticator.get_auth_header()
            authenticator.get_auth_header()
        assert mocker.call_count == 1
        form = dict(pair.split("=", 1) for pair in mocker.last_request.text.split("&"))
        assert form["grant_type"] == "authorization_code" and form["code"] == "code-1"
        assert form["client_secret"] == "app-secret" and "redirect_uri" in form
    (control,) = control_messages(out.getvalue())
    persisted = control["connectorConfig"]["config"]["credentials"]
    assert persisted["refresh_token"] == "refresh-1" and "authorization_code" not in persisted


def test_the_token_is_refreshed_before_it_expires():
    config = oauth_config(refresh_token="refresh-1", access_token="old",
                          token_expiry_date=(datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat())
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "new", "expires_in": 3600, "refresh_token": "refresh-1"})
        assert oauth(config).get_auth_header() == {"Authorization": "Bearer new"}


def test_a_valid_access_token_in_the_config_is_used_without_a_refresh():
    config = oauth_config(refresh_token="refresh-1", access_token="still-good",
                          token_expiry_date=(datetime.now(timezone.utc) + timedelta(days=3)).isoformat())
    with requests_mock_module.Mocker() as mocker:
        assert oauth(config).get_auth_header() == {"Authorization": "Bearer still-good"}
        assert mocker.call_count == 0


def test_a_forced_refresh_replaces_the_token_after_code_121():
    config = oauth_config(refresh_token="refresh-1", access_token="expired",
                          token_expiry_date=(datetime.now(timezone.utc) + timedelta(days=3)).isoformat())
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, json={"access_token": "fresh", "expires_in": 3600, "refresh_token": "refresh-1"})
        authenticator = oauth(config)
        authenticator.refresh_and_set_access_token()
        assert authenticator.get_auth_header() == {"Authorization": "Bearer fresh"}


def test_a_revoked_refresh_token_is_a_config_error_that_says_to_reauthenticate():
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, status_code=400,
                    json={"error": "invalid_grant", "error_description": "Specified refresh_token was invalid or expired"})
        with pytest.raises(AirbyteTracedException) as raised:
            oauth(oauth_config(refresh_token="rt-123-secret")).get_auth_header()
    assert raised.value.failure_type.value == "config_error"
    assert "Re-authenticate" in raised.value.message and "rt-123-secret" not in raised.value.message


def test_a_failing_token_endpoint_is_retried_then_reported_as_transient(monkeypatch):
    monkeypatch.setattr("source_campaign_monitor.parts.oauth.time.sleep", lambda seconds: None)
    with requests_mock_module.Mocker() as mocker:
        mocker.post(TOKEN_URL, [{"status_code": 503}, {"status_code": 200, "text": "<html>"},
                                {"json": {"access_token": "a", "expires_in": 60, "refresh_token": "r"}}])
        assert oauth(oauth_config(refresh_token="r")).token == "Bearer a"
        assert mocker.call_count == 3


def subscriber_page(dates: list[str], page: int, pages: int) -> requests.Response:
    results = [{"EmailAddress": f"{n}@example.com", "Date": date} for n, date in enumerate(dates)]
    return response(200, json.dumps({"Results": results, "PageNumber": page, "NumberOfPages": pages}))


def next_token(page: requests.Response, previous=None):
    strategy = NextPagesFromTheLastDateRead(config={}, parameters={}, page_size=3)
    return strategy.next_page_token(page, 3, None, previous)


def test_the_next_subscriber_page_starts_at_the_last_minute_read_not_at_a_page_number():
    page = subscriber_page(["2024-03-01 09:00:00", "2024-03-01 10:05:10", "2024-03-01 10:05:40"], 1, 5)
    assert next_token(page) == {"date": "2024-03-01 10:05", "page": 1}
    later = subscriber_page(["2024-03-01 10:05:10", "2024-03-01 10:05:40", "2024-03-02 08:00:00"], 1, 4)
    assert next_token(later, {"date": "2024-03-01 10:05", "page": 1}) == {"date": "2024-03-02 08:00", "page": 1}


def test_the_next_subscriber_page_starts_at_the_apis_local_minute_though_the_records_read_are_in_utc_by_then():
    page = subscriber_page(["2024-03-01 09:00:00", "2024-03-01 10:05:40"], 1, 5)
    for record in page_body(page)["Results"]:  # what AddParentIdsAndUtcDates does to the parsed page, in place
        record["Date"] = "2024-03-01T15:05:40+00:00"
    page._content = b"not parsed a second time"

    assert next_token(page) == {"date": "2024-03-01 10:05", "page": 1}


def test_a_page_all_within_the_boundary_minute_is_followed_by_the_next_page_number_of_that_minute():
    bulk = subscriber_page(["2024-03-01 10:05:00"] * 3, 1, 3)
    assert next_token(bulk, {"date": "2024-03-01 10:05", "page": 1}) == {"date": "2024-03-01 10:05", "page": 2}


def test_subscriber_paging_stops_at_the_last_page():
    assert next_token(subscriber_page(["2024-03-01 10:05:00"], 1, 1)) is None
    assert next_token(subscriber_page([], 1, 0)) is None


def test_records_of_the_boundary_minute_read_again_by_the_next_page_are_dropped_once_per_partition():
    skip = SkipRecordsReadTwiceAtPageBoundaries(config={}, parameters={})
    list_a, list_b = StreamSlice(partition={"list_id": "a"}, cursor_slice={}), StreamSlice(partition={"list_id": "b"}, cursor_slice={})
    first = [{"EmailAddress": "x@e.com", "Date": "2024-03-01 09:00:00"}, {"EmailAddress": "y@e.com", "Date": "2024-03-01 10:05:10"}]
    second = [{"EmailAddress": "y@e.com", "Date": "2024-03-01 10:05:10"}, {"EmailAddress": "z@e.com", "Date": "2024-03-01 10:05:50"},
              {"EmailAddress": "y@e.com", "Date": "2024-03-02 11:00:00"}]  # y again later: changed and back, kept

    emails = lambda records, at: [r["EmailAddress"] for r in skip.filter_records(records, {}, at)]  # noqa: E731
    assert emails(first, list_a) == ["x@e.com", "y@e.com"]
    assert emails(second, list_a) == ["z@e.com", "y@e.com"]
    assert emails(second, list_b) == ["y@e.com", "z@e.com", "y@e.com"]  # another partition remembers nothing of a



def test_events_of_one_subscriber_in_one_minute_are_numbered_and_keep_distinct_keys():
    from airbyte_cdk.sources.types import StreamSlice


    number = NumberEventsWithinTheirMinute(config={}, parameters={"occurrence_group": ["EmailAddress", "ListID", "URL"]})
    partition = StreamSlice(partition={"campaign_id": "c"}, cursor_slice={})
    click = {"EmailAddress": "a@example.com", "ListID": "l", "URL": "https://example.com", "Date": "2024-01-01T00:00:00+00:00"}
    records = [dict(click), dict(click), {**click, "URL": "https://example.com/other"}, dict(click),
               {**click, "Date": "2024-01-01T00:01:00+00:00"}]
    for record in records:
        number.transform(record, stream_slice=partition)
    assert [r["Occurrence"] for r in records] == [0, 1, 0, 2, 0]
    keys = {(r["EmailAddress"], r["ListID"], r["Date"], r["URL"], r["Occurrence"]) for r in records}
    assert len(keys) == len(records)
    # a later read of the same minute (the next sync's lookback) numbers it again from 0, in the same order
    again, next_read = [dict(click), dict(click)], StreamSlice(partition={"campaign_id": "c"}, cursor_slice={})
    for record in again:
        number.transform(record, stream_slice=next_read)
    assert [r["Occurrence"] for r in again] == [0, 1]
