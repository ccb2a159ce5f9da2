"""Each Python component of the Mailchimp source, on its own."""

import logging
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import requests
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.saved_stream_state import SAVED_STATES_KEY
from connector_common.parsed_body import PARSED_BODY
from source_mailchimp.parts.email_activity import CampaignsWithNewActivityPartitionRouter, EmailActivityExtractor
from source_mailchimp.parts.errors import JitteredExponentialBackoff, MailchimpErrorHandler
from source_mailchimp.parts.partitions import AutomationEmailsSentToSomeone, ListAndMemberStatusPartitionRouter
from source_mailchimp.parts.records import AddPartitionIds, MemberStatusPartitionFilter, TopLevelRecordsExtractor
from source_mailchimp.parts.settings import ResolveApiBaseUrl, sandbox_base


def response(status=200, body=b'{"members": []}', headers=None):
    r = requests.Response()
    r.status_code = status
    r._content = body
    r.headers.update(headers or {})
    r.url = "https://us6.api.mailchimp.com/3.0/lists"
    return r


def handler():
    return MailchimpErrorHandler(config={}, parameters={}, response_filters=[], max_retries=3)


# ---- MailchimpErrorHandler

@pytest.mark.parametrize("body", [b'{"members": [{"id": "a"}, {"id"', b"<html>Bad gateway</html>", b"", b"[1, 2]"])
def test_error_handler_retries_a_200_whose_body_is_not_a_json_object(body):
    assert handler().interpret_response(response(200, body)).response_action == ResponseAction.RETRY


def test_error_handler_lets_a_good_200_through_and_keeps_its_parsed_body():
    good = response(200, b'{"members": [{"id": "a"}], "total_items": 1}')

    assert handler().interpret_response(good).response_action == ResponseAction.SUCCESS
    assert getattr(good, PARSED_BODY) == {"members": [{"id": "a"}], "total_items": 1}


def test_error_handler_lets_go_of_a_good_pages_bytes_and_serves_them_again_from_the_parsed_body():
    good = response(200, b'{"members": [{"id": "a", "email_address": "a@example.com"}], "total_items": 1}')

    handler().interpret_response(good)

    assert good._content is None  # 1.1 MB less per page of 1,000 members held while its records are read
    assert orjson.loads(good.content) == good.json() == {"members": [{"id": "a", "email_address": "a@example.com"}], "total_items": 1}
    assert good.text.startswith('{"members":')


def test_error_handler_keeps_the_bytes_of_a_page_it_retries_or_fails_and_of_every_page_under_debug_logging():
    cut_short = response(200, b'{"members": [{"id"')
    problem = response(403, b'{"title": "User Disabled", "status": 403}')
    handler().interpret_response(cut_short)
    handler().interpret_response(problem)

    airbyte_logger = logging.getLogger("airbyte")
    level = airbyte_logger.level
    airbyte_logger.setLevel(logging.DEBUG)  # what --debug does: the CDK then logs each body as received
    try:
        debugged = response(200, b'{"members": [],  "total_items": 0}')
        handler().interpret_response(debugged)
    finally:
        airbyte_logger.setLevel(level)

    assert cut_short.content == b'{"members": [{"id"'
    assert problem.content == b'{"title": "User Disabled", "status": 403}'
    assert debugged.content == b'{"members": [],  "total_items": 0}'


def test_error_handler_retries_a_403_without_a_json_body_but_not_a_403_problem_document():
    bare = response(403, b"<html>Access denied</html>")
    problem = response(403, b'{"title": "User Disabled", "status": 403, "detail": "This account is disabled."}')

    assert handler().interpret_response(bare).response_action == ResponseAction.RETRY
    assert handler().interpret_response(problem).response_action != ResponseAction.RETRY


# ---- JitteredExponentialBackoff

def test_backoff_doubles_with_each_attempt_within_twenty_percent():
    backoff = JitteredExponentialBackoff(parameters={}, config={}, factor=0.5)

    waits = [backoff.backoff_time(None, attempt) for attempt in range(1, 6) for _ in range(20)]

    for attempt in range(1, 6):
        chunk = waits[(attempt - 1) * 20: attempt * 20]
        assert all(0.8 * 0.5 * 2**attempt <= w <= 1.2 * 0.5 * 2**attempt for w in chunk)
    assert len(set(waits)) > 50


# ---- extractors

def test_top_level_extractor_takes_records_from_the_body_the_error_handler_parsed():
    extractor = TopLevelRecordsExtractor(field_path=["{{ parameters.data_field }}"], config={}, parameters={"data_field": "members"})
    r = response(200, b"this is not read again")
    setattr(r, PARSED_BODY, {"members": [{"id": "a"}, {"id": "b"}], "total_items": 2})

    assert list(extractor.extract_records(r)) == [{"id": "a"}, {"id": "b"}]


def test_top_level_extractor_decodes_the_body_itself_when_nothing_parsed_it():
    extractor = TopLevelRecordsExtractor(field_path=["members"], config={}, parameters={})

    assert list(extractor.extract_records(response(200, b'{"members": [{"id": "a"}]}'))) == [{"id": "a"}]


@pytest.mark.parametrize("body", [{"total_items": 3}, {"members": "x", "total_items": 1}, {"members": [{"id": "a"}, None]}])
def test_top_level_extractor_fails_on_a_page_it_cannot_read_instead_of_reading_it_as_empty(body):
    extractor = TopLevelRecordsExtractor(field_path=["members"], config={}, parameters={"name": "list_members"})
    r = response()
    setattr(r, PARSED_BODY, body)

    with pytest.raises(AirbyteTracedException) as error:
        list(extractor.extract_records(r))
    assert "list_members" in error.value.message


def test_top_level_extractor_reads_an_empty_collection_without_its_list_as_empty():
    extractor = TopLevelRecordsExtractor(field_path=["members"], config={}, parameters={})
    r = response()
    setattr(r, PARSED_BODY, {"total_items": 0})

    assert list(extractor.extract_records(r)) == []


def test_email_activity_extractor_yields_one_flat_record_per_activity_item():
    extractor = EmailActivityExtractor(field_path=["emails"], config={}, parameters={})
    r = response()
    setattr(r, PARSED_BODY, {"emails": [
        {"campaign_id": "c", "email_id": "e1", "activity": [
            {"action": "open", "timestamp": "2024-01-01T00:00:00+00:00"},
            {"action": "click", "timestamp": "2024-01-01T00:01:00+00:00", "url": "https://x"}]},
        {"campaign_id": "c", "email_id": "e2", "activity": []},
    ]})

    assert list(extractor.extract_records(r)) == [
        {"campaign_id": "c", "email_id": "e1", "action": "open", "timestamp": "2024-01-01T00:00:00+00:00"},
        {"campaign_id": "c", "email_id": "e1", "action": "click", "timestamp": "2024-01-01T00:01:00+00:00", "url": "https://x"},
    ]


# ---- AddPartitionIds and MemberStatusPartitionFilter

def test_add_partition_ids_copies_ids_from_the_partition_then_the_extra_fields():
    transformation = AddPartitionIds(parameters={"fields": ["segment_id", "list_id"]})
    record = {"id": "m"}

    transformation.transform(record, stream_slice=StreamSlice(partition={"segment_id": 7}, cursor_slice={}, extra_fields={"list_id": "L"}))

    assert record == {"id": "m", "segment_id": 7, "list_id": "L"}


@pytest.mark.parametrize("partition, kept", [("archived", ["z"]), ("all_but_archived", ["a", "b"])])
def test_member_status_filter_keeps_only_the_partitions_own_members(partition, kept):
    members = [{"id": "a", "status": "subscribed"}, {"id": "z", "status": "archived"}, {"id": "b", "status": "cleaned"}]
    stream_slice = StreamSlice(partition={"list_id": "L", "member_status": partition}, cursor_slice={})

    records = MemberStatusPartitionFilter(config={}, parameters={}).filter_records(members, {}, stream_slice)

    assert [r["id"] for r in records] == kept


# ---- CampaignsWithNewActivityPartitionRouter

SEND = "2024-01-01T00:00:00+00:00"


def campaign(campaign_id, send_time=SEND, last_open="", last_click="", opens=0, clicks=0, hard=0, soft=0):
    extra = {"send_time": send_time, "unsubscribed": 0, "opens.opens_total": opens, "opens.last_open": last_open,
             "clicks.clicks_total": clicks, "clicks.last_click": last_click, "bounces.hard_bounces": hard,
             "bounces.soft_bounces": soft, "bounces.syntax_errors": 0}
    return StreamSlice(partition={"campaign_id": campaign_id, "parent_slice": {}}, cursor_slice={}, extra_fields=extra)


def route(partitions, monkeypatch, remembered=None, **settings):
    """The campaigns the router yields, and what it leaves in the state, given what the saved state remembers."""
    monkeypatch.setattr(
        "airbyte_cdk.sources.declarative.partition_routers.substream_partition_router.SubstreamPartitionRouter.stream_slices",
        lambda self: iter(partitions),
    )
    config = {"lookback_window_minutes": 15, **settings}
    if remembered is not None:
        saved = {"states": [], "parent_state": {"campaign_reports": remembered}}
        config[SAVED_STATES_KEY] = {"reports_email_activity": saved}
    router = CampaignsWithNewActivityPartitionRouter.__new__(CampaignsWithNewActivityPartitionRouter)
    router.config = config
    router._stream_name = "reports_email_activity"
    yielded = [s.partition["campaign_id"] for s in router.stream_slices()]
    return yielded, router.get_stream_state()["campaign_reports"]


def fingerprint(partition):
    router = CampaignsWithNewActivityPartitionRouter.__new__(CampaignsWithNewActivityPartitionRouter)
    return router._fingerprint(partition.extra_fields)


def ago(minutes):
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_email_activity_router_reads_every_campaign_it_knows_nothing_of_and_remembers_its_report_unsettled(monkeypatch):
    partitions = [campaign("c1", last_open="2024-01-02T00:00:00+00:00", opens=3), campaign("c2")]

    yielded, remembered = route(partitions, monkeypatch)

    assert yielded == ["c1", "c2"]
    assert remembered["c1"]["report"] == fingerprint(partitions[0])
    assert "unsettled_since" in remembered["c1"] and "unsettled_since" in remembered["c2"]


def test_email_activity_router_skips_a_campaign_whose_report_is_unchanged_since_a_settled_read(monkeypatch):
    quiet = campaign("quiet", last_open="2024-01-02T00:00:00+00:00", opens=3)

    yielded, remembered = route([quiet], monkeypatch, {"quiet": {"report": fingerprint(quiet)}})

    assert yielded == []
    assert remembered == {"quiet": {"report": fingerprint(quiet)}}


def test_email_activity_router_reads_a_campaign_whose_only_change_is_a_bounce(monkeypatch):
    # An open at 13:16:07 then a hard bounce at 13:16:11: the bounce moves no time of the report, only its count.
    before = campaign("c", last_open="2024-01-01T13:16:07+00:00", opens=1)
    after = campaign("c", last_open="2024-01-01T13:16:07+00:00", opens=1, hard=1)

    yielded, remembered = route([after], monkeypatch, {"c": {"report": fingerprint(before)}})

    assert yielded == ["c"]
    assert remembered["c"]["report"] == fingerprint(after) and "unsettled_since" in remembered["c"]


def test_email_activity_router_reads_an_unsettled_campaign_again_and_settles_it_once_the_reporting_delay_has_passed(monkeypatch):
    c = campaign("c", opens=2, last_open="2024-01-02T00:00:00+00:00")

    soon, still_unsettled = route([c], monkeypatch, {"c": {"report": fingerprint(c), "unsettled_since": ago(5)}})
    later, settled = route([c], monkeypatch, {"c": {"report": fingerprint(c), "unsettled_since": ago(16)}})

    assert soon == later == ["c"]
    assert "unsettled_since" in still_unsettled["c"]
    assert settled == {"c": {"report": fingerprint(c)}}


def test_email_activity_router_forgets_campaigns_no_longer_listed_and_keeps_those_outside_the_date_window(monkeypatch):
    now = datetime.now(timezone.utc)
    old = campaign("old", send_time=(now - timedelta(days=90)).isoformat())
    remembered = {"deleted": {"report": "[]"}, "old": {"report": fingerprint(old)}}

    yielded, kept = route([old], monkeypatch, remembered, email_activity_date_window=30)

    assert yielded == [] and set(kept) == {"old"}


def test_router_applies_the_date_window_to_the_send_time(monkeypatch):
    now = datetime.now(timezone.utc)
    partitions = [campaign("recent", (now - timedelta(days=3)).isoformat()), campaign("old", (now - timedelta(days=90)).isoformat()),
                  campaign("no_send_time", "")]

    assert route(partitions, monkeypatch, email_activity_date_window=30)[0] == ["recent"]
    assert route(partitions, monkeypatch, email_activity_date_window=0)[0] == ["recent", "old", "no_send_time"]


# ---- ResolveApiBaseUrl and the sandbox override

@pytest.mark.parametrize("key, base", [("abc-us6", "https://us6.api.mailchimp.com/3.0/"), ("abc-us21", "https://us21.api.mailchimp.com/3.0/")])
def test_the_api_base_comes_from_the_key_suffix(key, base):
    config = {"credentials": {"auth_type": "apikey", "apikey": key}}

    ResolveApiBaseUrl().transform(config)

    assert config["api_base_url"] == base


def test_the_sandbox_url_replaces_both_hosts():
    config = {"credentials": {"auth_type": "apikey", "apikey": "abc-us6"}, "sandbox_url": "http://127.0.0.1:9999/"}

    ResolveApiBaseUrl().transform(config)

    assert config["api_base_url"] == "http://127.0.0.1:9999/3.0/"


@pytest.mark.parametrize("url", ["https://127.0.0.1", "http://example.com", "ftp://127.0.0.1", "http://192.168.1.1", "http://127.0.0.1/?x=1"])
def test_the_sandbox_url_must_be_plain_http_on_loopback(url):
    with pytest.raises(AirbyteTracedException) as error:
        sandbox_base({"sandbox_url": url})
    assert "`sandbox_url`" in error.value.message


def test_start_date_is_normalized_to_the_apis_utc_format_one_second_early():
    config = {"credentials": {"auth_type": "apikey", "apikey": "abc-us6"}, "start_date": "2024-01-15T02:00:00+02:00"}

    ResolveApiBaseUrl().transform(config)

    assert config["start_date_normalized"] == "2024-01-14T23:59:59+00:00"  # since_* filters are exclusive


def test_member_status_router_yields_each_list_twice_keeping_the_partition_keys_of_earlier_states(monkeypatch):

    monkeypatch.setattr(
        "airbyte_cdk.sources.declarative.partition_routers.substream_partition_router.SubstreamPartitionRouter.stream_slices",
        lambda self: iter([StreamSlice(partition={"list_id": "L1", "parent_slice": {}}, cursor_slice={}),
                           StreamSlice(partition={"list_id": "L2", "parent_slice": {}}, cursor_slice={})]),
    )
    router = ListAndMemberStatusPartitionRouter.__new__(ListAndMemberStatusPartitionRouter)

    assert [dict(s.partition) for s in router.stream_slices()] == [
        {"list_id": "L1", "parent_slice": {}, "member_status": "all_but_archived"},
        {"list_id": "L1", "parent_slice": {}, "member_status": "archived"},
        {"list_id": "L2", "parent_slice": {}, "member_status": "all_but_archived"},
        {"list_id": "L2", "parent_slice": {}, "member_status": "archived"},
    ]


def test_automation_email_router_yields_only_the_emails_sent_to_someone(monkeypatch):

    def email(email_id, emails_sent):
        return StreamSlice(partition={"automation_email_id": email_id, "parent_slice": {"workflow_id": "W1"}},
                           cursor_slice={}, extra_fields={"workflow_id": "W1", "emails_sent": emails_sent})

    monkeypatch.setattr(
        "airbyte_cdk.sources.declarative.partition_routers.substream_partition_router.SubstreamPartitionRouter.stream_slices",
        lambda self: iter([email("sent", 12), email("unsent", 0), email("unknown", None)]),
    )
    router = AutomationEmailsSentToSomeone.__new__(AutomationEmailsSentToSomeone)

    # an email whose count the listing did not give is read rather than skipped
    assert [s.partition["automation_email_id"] for s in router.stream_slices()] == ["sent", "unknown"]
