"""How API errors end: transient ones are retried (bounded), permanent ones fail clearly, deleted children are
skipped with a warning, and no secret is ever printed."""

import base64

import requests

from unit_tests.mailchimp.helpers import API, API_KEY, apikey_config, catalog, invoke, page

PROBLEM = {"Content-Type": "application/problem+json"}


def problem(status, title, detail):
    return {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title, "status": status,
            "detail": detail, "instance": "995c5cb0-3280-4a6e-808b-3b096d0bb219"}


LISTS = {"json": page("lists", [{"id": "L1"}])}


def assert_no_secret(text):
    assert API_KEY not in text
    assert base64.b64encode(f"anystring:{API_KEY}".encode()).decode() not in text


def test_a_200_whose_body_is_not_json_is_retried_instead_of_silently_dropping_the_page(api, capsys, tmp_path, no_sleep):
    api.get(API + "lists", [{"text": '{"lists": [{"id": "L1"}, {"id": "L', "status_code": 200},
                            {"text": "<html>proxy error</html>", "status_code": 200}, LISTS])

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.exit_code == 0, out.text
    assert out.records("lists") == [{"id": "L1"}]
    assert len(api.request_history) == 3
    assert len(no_sleep) >= 2


def test_429_waits_for_retry_after_then_retries(api, capsys, tmp_path, no_sleep):
    api.get(API + "lists", [{"status_code": 429, "headers": {"Retry-After": "7"}, "json": problem(429, "Too Many Requests", "slow down")}, LISTS])

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.records("lists") == [{"id": "L1"}]
    assert no_sleep and no_sleep[0] >= 7


def test_server_errors_connection_errors_timeouts_and_bare_403s_are_retried(api, capsys, tmp_path, no_sleep):
    api.get(API + "lists", [
        {"status_code": 500, "text": "oops"},
        {"exc": requests.exceptions.ConnectionError("reset by peer")},
        {"status_code": 503, "json": problem(503, "Service Unavailable", "try later")},
        {"exc": requests.exceptions.ReadTimeout("stalled")},
        {"status_code": 403, "text": ""},  # the API's answer to bursts
        LISTS,
    ])

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.exit_code == 0, out.text
    assert out.records("lists") == [{"id": "L1"}]
    assert len(api.request_history) == 6


def test_retries_are_bounded_and_then_the_stream_fails_with_a_system_error(api, capsys, tmp_path, no_sleep):
    api.get(API + "lists", status_code=502, text="bad gateway")

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.exit_code == 1
    assert len(api.request_history) == 8  # one try and 7 retries
    assert {e["failure_type"] for e in out.errors()} == {"system_error"}
    assert any("lists" in e["message"] for e in out.errors())
    waits = [w for w in no_sleep if w > 0]
    assert waits[-1] > 8 * waits[0]  # the backoff grows
    assert len({round(w - int(w), 6) for w in waits}) > 1  # with jitter


def test_a_rejected_key_is_a_config_error_that_names_the_cause_without_printing_the_key(api, capsys, tmp_path):
    api.get(API + "lists", status_code=401, headers=PROBLEM,
            json=problem(401, "API Key Invalid", f"Your API key may be invalid: {API_KEY}"))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.exit_code == 1
    config_errors = [e for e in out.errors() if e["failure_type"] == "config_error"]
    assert config_errors and "rejected the API key/token" in config_errors[0]["message"]
    assert len(api.request_history) == 1
    assert_no_secret(out.text)


def test_check_with_a_rejected_key_fails_saying_so(api, capsys, tmp_path):
    api.get(API + "lists", status_code=401, headers=PROBLEM, json=problem(401, "API Key Invalid", "invalid"))

    out = invoke(capsys, tmp_path, "check", apikey_config())

    assert out.status()["status"] == "FAILED"
    assert "401" in out.status()["message"]
    assert_no_secret(out.text)


def test_check_succeeds_with_a_good_key(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "check", apikey_config())

    assert out.status()["status"] == "SUCCEEDED"


def test_a_403_with_a_problem_body_is_a_permission_error_not_retried(api, capsys, tmp_path):
    api.get(API + "lists", status_code=403, headers=PROBLEM, json=problem(403, "User Disabled", "This account is disabled."))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert len(api.request_history) == 1
    assert any(e["failure_type"] == "config_error" and "User Disabled" in e["message"] for e in out.errors())


def test_a_list_deleted_during_the_sync_is_skipped_with_a_warning(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "GONE"}, {"id": "L2"}]))
    api.get(API + "lists/GONE/members", status_code=404, headers=PROBLEM,
            json=problem(404, "Resource Not Found", "The requested resource could not be found."))
    api.get(API + "lists/L2/members", json=page("members", [{"id": "m", "list_id": "L2", "status": "subscribed",
                                                           "last_changed": "2024-01-01T00:00:00+00:00"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"], incremental=True))

    assert out.exit_code == 0, out.text
    assert [r["id"] for r in out.records("list_members")] == ["m", "m"] or [r["id"] for r in out.records("list_members")] == ["m"]
    assert any("no longer exists" in message for message in out.logs("WARN")), out.text
    assert out.errors() == []
