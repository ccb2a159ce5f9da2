"""Malformed API bodies, fed to every stream (a seeded fuzz: hypothesis is not a dependency of this project): the
connector either reads what is readable or fails cleanly -- Airbyte messages only, errors typed config_error or
system_error and naming the stream, never a bare traceback and never a hang."""

import json
import random

import pytest

from unit_tests.mailchimp.helpers import API, apikey_config, catalog, invoke, page

ENDPOINTS = {
    # stream: (path, data field, a valid record)
    "lists": ("lists", "lists", {"id": "L1"}),
    "list_members": ("lists/L1/members", "members", {"id": "m", "list_id": "L1", "status": "subscribed", "last_changed": "2024-01-01T00:00:00+00:00"}),
    "list_segments": ("lists/L1/segments", "segments", {"id": 5, "list_id": "L1", "updated_at": "2024-01-01T00:00:00+00:00"}),
    "list_segment_members": ("lists/L1/segments/5/members", "members", {"id": "m"}),
    "campaigns": ("campaigns", "campaigns", {"id": "C1", "create_time": "2024-01-01T00:00:00+00:00"}),
    "automations": ("automations", "automations", {"id": "A1", "create_time": "2024-01-01T00:00:00+00:00"}),
    "reports": ("reports", "reports", {"id": "C1", "send_time": "2024-01-01T00:00:00+00:00", "unsubscribed": 1}),
    "reports_email_activity": ("reports/C1/email-activity", "emails", {"campaign_id": "C1", "email_id": "e", "activity": [{"action": "open", "timestamp": "2024-01-01T00:00:00+00:00"}]}),
    "unsubscribes": ("reports/C1/unsubscribed", "unsubscribes", {"campaign_id": "C1", "email_id": "e"}),
    "tags": ("lists/L1/tag-search", "tags", {"id": 1, "name": "t"}),
    "interest_categories": ("lists/L1/interest-categories", "categories", {"id": "c1", "list_id": "L1"}),
    "interests": ("lists/L1/interest-categories/c1/interests", "interests", {"id": "i1", "category_id": "c1"}),
}


def malformations(field, record):
    cursor = next((k for k in ("last_changed", "updated_at", "create_time", "timestamp") if k in json.dumps(record)), None)
    bodies = [
        ("records not a list", json.dumps({field: "not a list", "total_items": 1})),
        ("records of the wrong type", json.dumps({field: [1, "two", None], "total_items": 3})),
        ("no data field", json.dumps({"total_items": 5})),
        ("a JSON array", json.dumps([record])),
        ("a JSON string", json.dumps("members")),
        ("deeply wrong nesting", json.dumps({field: [{"id": {"nested": [record]}}], "total_items": 1})),
        ("cut short", json.dumps({field: [record] * 3, "total_items": 3})[:-7]),
        ("a null record", json.dumps({field: [None, record], "total_items": 2})),
    ]
    if cursor:
        broken = json.loads(json.dumps(record).replace(f'"{cursor}": "2024-01-01T00:00:00+00:00"', f'"{cursor}": "last tuesday"'))
        bodies.append(("an unparsable cursor", json.dumps({field: [broken], "total_items": 1})))
    return bodies


CASES = [
    (stream, name, body)
    for stream, (path, field, record) in ENDPOINTS.items()
    for name, body in random.Random(f"mailchimp-{stream}").sample(malformations(field, record), 3)
]


# A page that cannot be read must fail the stream: read as empty, it would be a silent loss.
MUST_FAIL = {"records not a list", "records of the wrong type", "no data field", "a JSON array", "a JSON string",
             "cut short", "a null record"}


def valid_world(api):
    for stream, (path, field, record) in ENDPOINTS.items():
        api.get(API + path, json=page(field, [record]))


@pytest.mark.parametrize("stream, malformation, body", CASES, ids=[f"{s}-{n}" for s, n, _ in CASES])
def test_a_malformed_body_ends_in_records_or_a_clean_failure(api, capsys, tmp_path, no_sleep, stream, malformation, body):
    valid_world(api)
    api.get(API + ENDPOINTS[stream][0], text=body)

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog([stream], incremental=True))

    assert out.exit_code in (0, 1)
    assert all(line.startswith("{") for line in out.text.splitlines()), "only Airbyte messages"
    assert all(m["type"] in ("RECORD", "STATE", "LOG", "TRACE") for m in out.messages)
    for error in out.errors():
        assert error["failure_type"] in ("config_error", "system_error")
    if malformation in MUST_FAIL:
        assert out.exit_code == 1
    if out.exit_code == 1:
        assert any(stream in e["message"] for e in out.errors()), [e["message"] for e in out.errors()]
    assert not [line for line in out.logs("FATAL")]
