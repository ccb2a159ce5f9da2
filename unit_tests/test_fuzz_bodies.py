"""Property test (hypothesis): whatever body an endpoint of either API answers -- random JSON, an envelope with the
wrong types, records with wrong field types, JSON cut short, an HTML page, nothing -- every stream of both connectors
ends cleanly:

- `run()` returns or exits with 0 or 1, never raises;
- stdout holds Airbyte messages only; errors are TRACEs typed config_error or system_error naming the stream, and
  the exit code is 1 exactly when there is one; no bare traceback on stderr;
- records are objects; a body that is not JSON (cut short, HTML, empty) is never read as an empty page: the stream
  fails after its retries (a silent loss is the one outcome that is not clean).

The connectors run in-process against requests-mock with every other endpoint answering a valid one-record body;
retry waits are skipped. Bounded by max_examples so the file runs in well under a minute.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from typing import Any, Callable

# hypothesis keeps a cache under ./.hypothesis unless told otherwise: not in the working tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "hypothesis-email-sources"))

import requests_mock  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import source_campaign_monitor.run as campaign_monitor_run  # noqa: E402
import source_mailchimp.run as mailchimp_run  # noqa: E402

TRACEBACK = "Traceback (most recent call last)"
# Each example is a whole in-process read (about a second): 15 per connector, no shrinking (a failure is reported as
# drawn, instead of minutes of re-runs), the same examples every run, nothing stored in the working tree.
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- malformed bodies --------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
NOT_JSON = "not JSON"  # kinds of body that can never be a valid page


def bodies(valid_body: Callable[[Any], Any], record: dict) -> st.SearchStrategy[tuple[str, str]]:
    """(kind, body text) for an endpoint whose valid answer is `valid_body(records)`."""
    wrong_record = st.fixed_dictionaries({k: json_values for k in record})
    envelope_of = lambda records: json.dumps(valid_body(records))  # noqa: E731
    return st.one_of(
        st.tuples(st.just("random JSON"), json_values.map(json.dumps)),
        st.tuples(st.just("records of random values"), st.lists(json_values, min_size=1, max_size=3).map(envelope_of)),
        st.tuples(st.just("fields of the wrong type"), st.lists(wrong_record, min_size=1, max_size=2).map(envelope_of)),
        st.tuples(st.just(NOT_JSON), st.integers(min_value=1, max_value=10_000).map(
            lambda cut: envelope_of([record, record])[: max(1, cut % len(envelope_of([record, record])))])),
        st.tuples(st.just(NOT_JSON), st.sampled_from([
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            "<!DOCTYPE html><html><head><title>Service Unavailable</title></head></html>",
            "",
            "{",
            "null]",
        ])),
    )


class Run:
    def __init__(self, exit_code: int, out: str, err: str) -> None:
        self.exit_code, self.out, self.err = exit_code, out, err
        # split on "\n" only, as Airbyte does: str.splitlines() also splits inside strings holding \x85 or \u2028
        self.messages = [json.loads(line) for line in out.split("\n") if line.strip()]

    def errors(self) -> list[dict]:
        return [m["trace"]["error"] for m in self.messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]

    def records(self, stream: str) -> list[dict]:
        return [m["record"]["data"] for m in self.messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]


def invoke(main: Callable[[list[str]], None], tmp_path, capfd, config: dict, *streams: str) -> Run:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": [{
        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh", "destination_sync_mode": "append"} for stream in streams]}))
    capfd.readouterr()
    try:
        main(["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")])
        code = 0
    except SystemExit as exited:
        code = exited.code if isinstance(exited.code, int) else 1
    out, err = capfd.readouterr()
    return Run(code, out, err)


def assert_clean(run: Run, stream: str, kind: str) -> None:
    assert TRACEBACK not in run.err, run.err[-2000:]
    assert all(isinstance(m, dict) and "type" in m for m in run.messages)
    errors = run.errors()
    assert {e["failure_type"] for e in errors} <= {"config_error", "system_error"}, errors
    assert run.exit_code == (1 if errors else 0), (run.exit_code, errors)
    if errors:
        assert any(stream in e["message"] for e in errors), [e["message"] for e in errors]
    assert all(isinstance(record, dict) for record in run.records(stream))
    if kind == NOT_JSON:
        assert run.exit_code == 1, f"{stream}: a body that is not JSON was read as a page"


def no_sleep(monkeypatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)


# --- Mailchimp ---------------------------------------------------------------------------------------------------

MAILCHIMP_API = "https://us6.api.mailchimp.com/3.0/"
MAILCHIMP_CONFIG = {"credentials": {"auth_type": "apikey", "apikey": "0123456789abcdef0123456789abcdef-us6"}}
MAILCHIMP = {
    # stream: (path of the endpoint it reads, data field, a valid record)
    "lists": ("lists", "lists", {"id": "L1", "name": "List"}),
    "list_members": ("lists/L1/members", "members",
                     {"id": "m1", "list_id": "L1", "status": "subscribed", "last_changed": "2024-01-01T00:00:00+00:00"}),
    "list_segments": ("lists/L1/segments", "segments",
                      {"id": 5, "list_id": "L1", "updated_at": "2024-01-01T00:00:00+00:00"}),
    "list_segment_members": ("lists/L1/segments/5/members", "members", {"id": "m1", "email_address": "a@b.c"}),
    "campaigns": ("campaigns", "campaigns", {"id": "C1", "create_time": "2024-01-01T00:00:00+00:00"}),
    "automations": ("automations", "automations", {"id": "A1", "create_time": "2024-01-01T00:00:00+00:00"}),
    "reports": ("reports", "reports", {"id": "C1", "send_time": "2024-01-01T00:00:00+00:00", "unsubscribed": 1}),
    "reports_email_activity": ("reports/C1/email-activity", "emails", {
        "campaign_id": "C1", "email_id": "e1", "activity": [{"action": "open", "timestamp": "2024-01-01T00:00:00+00:00"}]}),
    "unsubscribes": ("reports/C1/unsubscribed", "unsubscribes", {"campaign_id": "C1", "email_id": "e1"}),
    "tags": ("lists/L1/tag-search", "tags", {"id": 1, "name": "t"}),
    "interest_categories": ("lists/L1/interest-categories", "categories", {"id": "c1", "list_id": "L1"}),
    "interests": ("lists/L1/interest-categories/c1/interests", "interests", {"id": "i1", "category_id": "c1"}),
}


def mailchimp_page(field: str) -> Callable[[list], dict]:
    return lambda records: {field: records, "total_items": len(records), "_links": []}


mailchimp_cases = st.sampled_from(sorted(MAILCHIMP)).flatmap(
    lambda stream: st.tuples(st.just(stream), bodies(mailchimp_page(MAILCHIMP[stream][1]), MAILCHIMP[stream][2])))


@SETTINGS
@given(case=mailchimp_cases)
def test_every_mailchimp_stream_ends_cleanly_whatever_body_its_endpoint_answers(case, tmp_path, capfd, monkeypatch):
    stream, (kind, body) = case
    no_sleep(monkeypatch)
    with requests_mock.Mocker() as api:
        for path, field, record in MAILCHIMP.values():
            api.get(MAILCHIMP_API + path, json=mailchimp_page(field)([record]))
        api.get(MAILCHIMP_API + MAILCHIMP[stream][0], text=body)
        run = invoke(mailchimp_run.run, tmp_path, capfd, MAILCHIMP_CONFIG, stream)

    assert_clean(run, stream, kind)


# --- Campaign Monitor --------------------------------------------------------------------------------------------

CM_SANDBOX = "http://127.0.0.1:8123"
CM_API = CM_SANDBOX + "/api/v3.3/"
CLIENT = "4a397ccaaa55eb4e6aa1221e1e2d7122"
CM_CONFIG = {"credentials": {"auth_type": "api_key", "api_key": "fuzz-api-key-0123456789"}, "sandbox_url": CM_SANDBOX,
             "api_client_id": CLIENT}
SENT = "2024-01-01 10:00:00"
EVENT = {"EmailAddress": "a@example.com", "ListID": "l1", "Date": "2024-01-02 10:00:00", "IPAddress": "203.0.113.1"}
SUBSCRIBER = {"EmailAddress": "a@example.com", "Name": "A", "Date": "2024-01-02 10:00:00",
              "ListJoinedDate": "2024-01-01 10:00:00", "State": "Active", "CustomFields": []}


def cm_page(records: list) -> dict:
    return {"Results": records, "ResultsOrderedBy": "date", "OrderDirection": "asc", "PageNumber": 1,
            "PageSize": 1000, "RecordsOnThisPage": len(records), "TotalNumberOfRecords": len(records),
            "NumberOfPages": 1}


def cm_array(records: list) -> list:
    return records


def cm_single(records: list) -> Any:
    return records[0] if records else {}


CAMPAIGN_MONITOR = {
    # stream: (path, how a valid body wraps records, a valid record)
    "campaigns": (f"clients/{CLIENT}/campaigns.json", cm_page, {
        "CampaignID": "c1", "Subject": "S", "Name": "N", "SentDate": SENT, "TotalRecipients": 2,
        "WebVersionURL": "https://createsend.com/t/r", "FromName": "F", "FromEmail": "f@example.com",
        "ReplyTo": "f@example.com"}),
    "lists": (f"clients/{CLIENT}/lists.json", cm_array, {"ListID": "l1", "Name": "List"}),
    "campaign_summary": ("campaigns/c1/summary.json", cm_single, {
        "Name": "N", "Recipients": 2, "TotalOpened": 1, "Clicks": 0, "Unsubscribed": 0, "Bounced": 0,
        "UniqueOpened": 1, "SpamComplaints": 0, "WebVersionURL": "", "WebVersionTextURL": "", "WorldviewURL": "",
        "Forwards": 0, "Likes": 0, "Mentions": 0}),
    "campaign_email_client_usage": ("campaigns/c1/emailclientusage.json", cm_array, {
        "Client": "Gmail", "Version": "Gmail", "Percentage": 100.0, "Subscribers": 1}),
    "campaign_recipients": ("campaigns/c1/recipients.json", cm_page, {"EmailAddress": "a@example.com", "ListID": "l1"}),
    **{f"campaign_{name}": (f"campaigns/c1/{endpoint}.json", cm_page, dict(EVENT)) for name, endpoint in (
        ("opens", "opens"), ("bounces", "bounces"), ("unsubscribes", "unsubscribes"), ("spam_complaints", "spam"))},
    "campaign_clicks": ("campaigns/c1/clicks.json", cm_page, {**EVENT, "URL": "https://example.com"}),
    "list_details": ("lists/l1.json", cm_single, {
        "ListID": "l1", "Title": "List", "UnsubscribePage": "", "ConfirmedOptIn": False, "ConfirmationSuccessPage": "",
        "UnsubscribeSetting": "AllClientLists"}),
    **{f"list_{state}_subscribers": (f"lists/l1/{state}.json", cm_page, {**SUBSCRIBER, "State": state.title()})
       for state in ("active", "bounced", "deleted", "unconfirmed", "unsubscribed")},
}
CLIENT_DETAILS = {"ApiKey": "x", "BasicDetails": {"ClientID": CLIENT, "CompanyName": "One", "ContactName": "C",
                                                  "EmailAddress": "c@example.com", "Country": "Australia",
                                                  "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney"}}

campaign_monitor_cases = st.sampled_from(sorted(CAMPAIGN_MONITOR)).flatmap(
    lambda stream: st.tuples(st.just(stream), bodies(CAMPAIGN_MONITOR[stream][1], CAMPAIGN_MONITOR[stream][2])))


@SETTINGS
@given(case=campaign_monitor_cases)
def test_every_campaign_monitor_stream_ends_cleanly_whatever_body_its_endpoint_answers(case, tmp_path, capfd,
                                                                                       monkeypatch):
    stream, (kind, body) = case
    no_sleep(monkeypatch)
    with requests_mock.Mocker() as api:
        api.get(re.compile(re.escape(CM_API) + ".*"), json=cm_page([]))  # anything else: an empty page
        api.get(CM_API + "clients.json", json=[{"ClientID": CLIENT, "Name": "One"}])
        api.get(CM_API + f"clients/{CLIENT}.json", json=CLIENT_DETAILS)
        for path, wrap, record in CAMPAIGN_MONITOR.values():
            api.get(CM_API + path, json=wrap([record]))
        api.get(CM_API + CAMPAIGN_MONITOR[stream][0], text=body)
        run = invoke(campaign_monitor_run.run, tmp_path, capfd, CM_CONFIG, stream)

    assert_clean(run, stream, kind)


# --- the fixtures the properties stand on ----------------------------------------------------------------------


def test_the_valid_bodies_read_one_record_per_stream(tmp_path, capfd, monkeypatch):
    """Without this, a property could pass because every stream fails on its valid world already."""
    no_sleep(monkeypatch)
    with requests_mock.Mocker() as api:
        for path, field, record in MAILCHIMP.values():
            api.get(MAILCHIMP_API + path, json=mailchimp_page(field)([record]))
        run = invoke(mailchimp_run.run, tmp_path, capfd, MAILCHIMP_CONFIG, *MAILCHIMP)
        assert run.exit_code == 0, run.errors()
        assert [stream for stream in MAILCHIMP if not run.records(stream)] == []
    with requests_mock.Mocker() as api:
        api.get(re.compile(re.escape(CM_API) + ".*"), json=cm_page([]))
        api.get(CM_API + "clients.json", json=[{"ClientID": CLIENT, "Name": "One"}])
        api.get(CM_API + f"clients/{CLIENT}.json", json=CLIENT_DETAILS)
        for path, wrap, record in CAMPAIGN_MONITOR.values():
            api.get(CM_API + path, json=wrap([record]))
        run = invoke(campaign_monitor_run.run, tmp_path, capfd, CM_CONFIG, *CAMPAIGN_MONITOR)
        assert run.exit_code == 0, run.errors()
        assert [stream for stream in CAMPAIGN_MONITOR if not run.records(stream)] == []
