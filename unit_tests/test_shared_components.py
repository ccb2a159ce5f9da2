"""The components both connectors share (connector_common): the sandbox URL check, date-times, the body parsed once,
the error handler's common rules, backoff, parent listings read once per sync."""

import logging
import re
import threading
from datetime import datetime, timezone

import pytest
import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import HttpResponseFilter
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import StreamSlice
from connector_common.dates import format_datetime, parse_datetime, parse_datetime_or_none
from connector_common.http_errors import JsonApiErrorHandler, RateLimitAwareBackoff
from connector_common.parsed_body import NOT_JSON, parsed_body, records_under_key
from connector_common.partitions import SharedParentPartitions, shared_listing
from connector_common.sandbox_url import is_loopback_http_url
from connector_common.sync_store import refusal_of


def response(status: int, body: bytes | str, headers: dict | None = None, url: str = "http://127.0.0.1/x?key=1"):
    r = requests.Response()
    r.status_code = status
    r._content = body.encode() if isinstance(body, str) else body
    r.headers.update(headers or {})
    r.url = url
    return r


# --- sandbox_url ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, accepted", [
    ("http://127.0.0.1:8000", True), ("http://localhost:1", True), ("http://[::1]:8080/", True),
    ("http://127.1.2.3", True), ("http://LOCALHOST:8080", True), ("https://127.0.0.1:8000", False),
    ("http://10.0.0.1", False), ("http://example.com", False), ("http://192.168.1.1", False),
    ("http://user:pw@127.0.0.1", False), ("http://user@127.0.0.1", False), ("ftp://127.0.0.1", False),
    ("http://127.0.0.1:notaport", False), ("http://127.0.0.1/?x=1", False), ("http://127.0.0.1/#top", False),
    (42, False), (None, False), ("", False),
])
def test_the_sandbox_url_accepts_only_plain_http_on_a_loopback_host(url, accepted):
    assert is_loopback_http_url(url) is accepted


# --- dates ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "2024-01-15T02:00:00+02:00", "2024-01-15T00:00:00Z", "2024-01-15T00:00:00+0000", "2024-01-15 00:00:00",
    "2024-01-15T00:00:00", " 2024-01-15T00:00:00.000000+00:00 ", "2024-01-15",
])
def test_date_times_are_read_as_aware_utc(text):
    assert parse_datetime(text) == datetime(2024, 1, 15, tzinfo=timezone.utc)
    assert parse_datetime(text).tzinfo == timezone.utc


def test_a_datetime_is_taken_as_it_is_naive_ones_as_utc():
    assert parse_datetime(datetime(2024, 1, 15)) == datetime(2024, 1, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", [None, "", "yesterday", 42, "2024-13-01"])
def test_what_is_not_a_date_time_is_none(value):
    assert parse_datetime_or_none(value) is None


def test_date_times_are_written_in_utc_to_the_second():
    assert format_datetime(parse_datetime("2024-01-15T02:00:00.5+02:00")) == "2024-01-15T00:00:00+00:00"


# --- the body, parsed once --------------------------------------------------------------------------------------------


def test_the_body_is_parsed_once_and_kept_on_the_response():
    page = response(200, '{"a": 1}')
    body = parsed_body(page)
    page._content = b"not parsed again"
    assert parsed_body(page) is body == {"a": 1}


@pytest.mark.parametrize("status", [200, 401, 404, 500])
@pytest.mark.parametrize("content", [b"", b"<html>", b'{"cut', b"\xff\xfe"])
def test_an_empty_or_undecodable_body_is_not_json_whatever_the_status(status, content):
    assert parsed_body(response(status, content)) is NOT_JSON


def test_a_json_null_is_a_body_and_is_not_parsed_again():
    page = response(200, "null")
    assert parsed_body(page) is None
    page._content = b"{}"
    assert parsed_body(page) is None


# --- the error handler ------------------------------------------------------------------------------------------------


def handler(**kwargs) -> JsonApiErrorHandler:
    return JsonApiErrorHandler(config={}, parameters={}, **kwargs)


@pytest.mark.parametrize("status", [200, 201, 206])
@pytest.mark.parametrize("content", [b"", b"<html><body>502 Bad Gateway</body></html>", b'{"members": [{"id'])
def test_a_success_whose_body_is_not_json_is_retried_as_a_system_error(status, content):
    resolution = handler().interpret_response(response(status, content))
    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.failure_type.value == "system_error"
    assert "key=1" not in resolution.error_message  # the query is left out of messages


def test_a_success_with_json_and_a_204_succeed():
    assert handler().interpret_response(response(200, "[]")).response_action == ResponseAction.SUCCESS
    assert handler().interpret_response(response(204, b"")).response_action == ResponseAction.SUCCESS


def test_a_subclass_answers_its_apis_codes_first_and_says_which_bodies_it_can_read():
    class ObjectsOnly(JsonApiErrorHandler):
        def usable_body(self, body):
            return isinstance(body, dict)

        def interpret_api_response(self, answer):
            return ErrorResolution(response_action=ResponseAction.IGNORE) if answer.status_code == 202 else None

    objects_only = ObjectsOnly(config={}, parameters={})
    assert objects_only.interpret_response(response(200, "[]")).response_action == ResponseAction.RETRY
    assert objects_only.interpret_response(response(200, "{}")).response_action == ResponseAction.SUCCESS
    assert objects_only.interpret_response(response(202, "")).response_action == ResponseAction.IGNORE


def test_a_partition_a_filter_ignores_is_logged_with_its_path(caplog):
    ignore = HttpResponseFilter(action="IGNORE", http_codes={404}, error_message="Skipped a partition",
                                config={}, parameters={})
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        resolution = handler(response_filters=[ignore]).interpret_response(response(404, "{}"))
    assert resolution.response_action == ResponseAction.IGNORE
    assert "Skipped a partition (http://127.0.0.1/x)" in caplog.text


def test_a_stream_refused_to_the_account_is_logged_once_a_sync_however_many_requests_it_makes(caplog):
    config: dict = {}
    refused = HttpResponseFilter(action="IGNORE", http_codes={403}, error_message="Skipped ecommerce_stores: refused",
                                 config=config, parameters={})
    stores = JsonApiErrorHandler(config=config, parameters={"name": "ecommerce_stores"}, response_filters=[refused])
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        for _ in range(3):
            assert stores.interpret_response(response(403, "{}")).response_action == ResponseAction.IGNORE
    assert caplog.text.count("Skipped ecommerce_stores: refused") == 1
    assert refusal_of(config, "ecommerce_stores") == "Skipped ecommerce_stores: refused"
    assert refusal_of({}, "ecommerce_stores") is None  # another sync knows nothing of it


# --- backoff ----------------------------------------------------------------------------------------------------------


def test_backoff_waits_the_seconds_of_x_ratelimit_reset_when_there_is_no_retry_after():
    backoff = RateLimitAwareBackoff(parameters={})
    assert backoff.backoff_time(response(429, "{}", {"X-RateLimit-Reset": "7"}), 1) == 7.0


def test_backoff_prefers_retry_after():
    backoff = RateLimitAwareBackoff(parameters={})
    assert backoff.backoff_time(response(429, "{}", {"Retry-After": "3", "X-RateLimit-Reset": "30"}), 1) == 3.0


def test_backoff_is_exponential_with_jitter_and_bounded():
    backoff = RateLimitAwareBackoff(parameters={}, base_seconds=1.0, max_seconds=8.0)
    waits = [backoff.backoff_time(response(500, "{}"), attempt) for attempt in range(1, 8)]
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0 and 2.0 <= waits[2] <= 4.0
    assert all(w <= 8.0 for w in waits)
    assert len({round(backoff.backoff_time(requests.ConnectionError(), 3), 6) for _ in range(20)}) > 1


def test_the_jitter_range_and_the_headers_are_settings():
    backoff = RateLimitAwareBackoff(parameters={}, headers=[], base_seconds=2.0, max_seconds=1000, jitter=(0.8, 1.2))
    assert 0.8 * 8 <= backoff.backoff_time(response(429, "{}", {"Retry-After": "1"}), 3) <= 1.2 * 8


def test_an_absurd_rate_limit_reset_is_capped():
    backoff = RateLimitAwareBackoff(parameters={}, max_header_wait_seconds=900)
    assert backoff.backoff_time(response(429, "{}", {"X-RateLimit-Reset": "86400"}), 1) == 900


# --- parent listings read once per sync -------------------------------------------------------------------------------


class Listing:
    def __init__(self, ids, fail_first=False):
        self.ids, self.reads, self.fail_first = ids, 0, fail_first

    def stream_slices(self):
        self.reads += 1
        if self.fail_first and self.reads == 1:
            yield StreamSlice(partition={"id": self.ids[0]}, cursor_slice={})
            raise ConnectionError("cut short")
        for parent_id in self.ids:
            yield StreamSlice(partition={"id": parent_id}, cursor_slice={}, extra_fields={"n": parent_id})


def test_a_parent_listing_is_read_once_a_sync_by_the_streams_that_share_its_key():
    config: dict = {}
    listing = Listing(["a", "b"])
    routers = [SharedParentPartitions(config=config, parameters={}, partitions=listing, key="lists") for _ in range(3)]
    threads = [threading.Thread(target=lambda r=r: list(r.stream_slices())) for r in routers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s.partition for s in routers[0].stream_slices()] == [{"id": "a"}, {"id": "b"}]
    assert listing.reads == 1


def test_each_stream_gets_its_own_copies_of_the_partitions():
    config: dict = {}
    first = list(shared_listing(config, "k", Listing(["a"]).stream_slices))
    first[0].partition["id"] = "changed"  # StreamSlice.partition is a copy of the stored dict
    assert [s.partition for s in shared_listing(config, "k", Listing(["z"]).stream_slices)] == [{"id": "a"}]


def test_another_sync_or_another_key_reads_again():
    listing = Listing(["a"])
    list(shared_listing({}, "k", listing.stream_slices))
    list(shared_listing({}, "k", listing.stream_slices))
    config: dict = {}
    list(shared_listing(config, "k", listing.stream_slices))
    list(shared_listing(config, "other", listing.stream_slices))
    assert listing.reads == 4


def test_a_failed_read_keeps_nothing_and_the_next_stream_reads_again():
    config: dict = {}
    listing = Listing(["a", "b"], fail_first=True)
    with pytest.raises(ConnectionError):
        list(shared_listing(config, "k", listing.stream_slices))
    assert [s.partition["id"] for s in shared_listing(config, "k", listing.stream_slices)] == ["a", "b"]
    assert listing.reads == 2


class Malformed(Exception):
    pass


def test_the_records_are_the_list_under_the_key_in_both_modes():
    body = {"members": [{"id": 1}, {"id": 2}], "total_items": 2}
    for strict in (True, False):
        assert list(records_under_key(body, "members", strict=strict, malformed=Malformed)) == [{"id": 1}, {"id": 2}]


@pytest.mark.parametrize("body, what", [
    ([{"id": 1}], "a body that is not a JSON object"),
    (NOT_JSON, "a body that is not a JSON object"),
    ({"total_items": 3}, "no `members` list"),
    ({"members": {"id": 1}}, "no `members` list"),
    ({"members": [{"id": 1}, "x"]}, "`members` items that are not objects"),
])
def test_strict_refuses_a_page_it_cannot_read_naming_what_is_wrong(body, what):
    with pytest.raises(Malformed, match=re.escape(what)):
        list(records_under_key(body, "members", strict=True, malformed=Malformed))


def test_strict_reads_a_page_without_the_list_as_empty_only_where_the_api_says_it_is_empty():
    empty = lambda body: body.get("total_items") == 0  # noqa: E731
    assert list(records_under_key({"total_items": 0}, "members", strict=True, malformed=Malformed, empty_page=empty)) == []
    with pytest.raises(Malformed):
        list(records_under_key({"total_items": 0, "members": "x"}, "members", strict=True, malformed=Malformed,
                               empty_page=empty))


@pytest.mark.parametrize("body", [[{"id": 1}], NOT_JSON, {}, {"Results": None}, {"Results": {"id": 1}}])
def test_lenient_reads_a_body_without_the_list_as_no_record(body):
    assert list(records_under_key(body, "Results", strict=False, malformed=Malformed)) == []


def test_lenient_passes_the_lists_items_on_as_sent():
    assert list(records_under_key({"Results": [{"a": 1}, [2], "x"]}, "Results", strict=False, malformed=Malformed)) == [
        {"a": 1}, [2], "x"]
