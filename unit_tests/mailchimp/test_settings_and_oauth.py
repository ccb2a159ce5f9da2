"""Settings are validated before anything is read, each failure naming its field; OAuth tokens and codes."""

import json

import pytest

from unit_tests.mailchimp.helpers import API, API_KEY, SANDBOX, SANDBOX_API, apikey_config, catalog, invoke, oauth_config, page


def check_message(capsys, tmp_path, config):
    out = invoke(capsys, tmp_path, "check", config)
    status = out.status()
    assert status["status"] == "FAILED"
    assert "Traceback" not in out.text
    return status["message"]


@pytest.mark.parametrize(
    "config, field",
    [
        ({"credentials": {"auth_type": "apikey", "apikey": "0123456789abcdef"}}, "credentials.apikey"),
        ({"credentials": {"auth_type": "apikey", "apikey": "0123456789abcdef-"}}, "credentials.apikey"),
        ({"credentials": {"auth_type": "apikey", "apikey": "0123456789abcdef-moon"}}, "credentials.apikey"),
        ({"credentials": {"auth_type": "apikey", "apikey": ""}}, "credentials.apikey"),
        ({"credentials": {"auth_type": "oauth2.0"}}, "credentials.access_token"),
        ({"credentials": {"auth_type": "password"}}, "credentials.auth_type"),
        (apikey_config(start_date="yesterday"), "start_date"),
        (apikey_config(start_date="2024-13-45"), "start_date"),
        (apikey_config(start_date="2999-01-01"), "start_date"),
        (apikey_config(email_activity_date_window=-1), "email_activity_date_window"),
        (apikey_config(email_activity_date_window="30"), "email_activity_date_window"),
        (apikey_config(num_workers=11), "num_workers"),
        (apikey_config(lookback_window_minutes=0), "lookback_window_minutes"),
        (apikey_config(lookback_window_minutes="15"), "lookback_window_minutes"),
        (apikey_config(sandbox_url="https://127.0.0.1:8000"), "sandbox_url"),
        (apikey_config(sandbox_url="http://example.com"), "sandbox_url"),
        (apikey_config(sandbox_url="http://10.1.2.3:80"), "sandbox_url"),
        (apikey_config(sandbox_url="http://127.0.0.1.evil.com"), "sandbox_url"),
    ],
)
def test_check_fails_naming_the_bad_setting(capsys, tmp_path, api, config, field):
    message = check_message(capsys, tmp_path, config)

    assert f"`{field}`" in message
    assert api.request_history == []


def test_check_fails_without_credentials(capsys, tmp_path):
    message = check_message(capsys, tmp_path, {})

    assert "credentials" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8123", "http://localhost:8123/", "http://[::1]:8123", "http://127.5.5.5"])
def test_loopback_sandbox_urls_are_accepted(capsys, tmp_path, api, url):
    api.get(url.rstrip("/") + "/3.0/lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "check", apikey_config(sandbox_url=url))

    assert out.status()["status"] == "SUCCEEDED"


@pytest.mark.parametrize("start_date", ["2024-01-15", "2024-01-15T00:00:00Z", "2024-01-15T01:00:00+01:00", "2024-01-15 00:00:00"])
def test_start_date_accepts_dates_and_date_times_in_any_offset(capsys, tmp_path, api, start_date):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/members", json=page("members", []))

    invoke(capsys, tmp_path, "read", apikey_config(start_date=start_date), catalog(["list_members"], incremental=True))

    since = {r.qs["since_last_changed"][0] for r in api.request_history if r.path.endswith("/members")}
    # since_* is exclusive: one second before start_date, so that a record exactly at it is read
    assert since == {"2024-01-14t23:59:59+00:00"}  # requests-mock lower-cases query strings


def test_a_bad_oauth_token_answered_with_200_invalid_token_fails_check_as_a_config_error(capsys, tmp_path, api):
    api.get("https://login.mailchimp.com/oauth2/metadata", json={"error": "invalid_token", "error_description": "Invalid token"})

    message = check_message(capsys, tmp_path, oauth_config())

    assert "invalid_token" in message and "`credentials.access_token`" in message


def test_a_good_oauth_token_passes_check(capsys, tmp_path, api):
    api.get("https://login.mailchimp.com/oauth2/metadata", json={"dc": "us6", "api_endpoint": "https://us6.api.mailchimp.com"})
    api.get(API + "lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "check", oauth_config())

    assert out.status()["status"] == "SUCCEEDED"


def code_config():
    return {
        "credentials": {"auth_type": "oauth2.0", "client_id": "cid-123456", "client_secret": "csecret-123456",
                        "authorization_code": "code-abcdef", "redirect_uri": "https://app.example.com/callback"},
        "sandbox_url": SANDBOX,
    }


def test_an_authorization_code_is_exchanged_once_and_the_token_saved_through_a_control_message(capsys, tmp_path, api):
    api.post(SANDBOX + "/oauth2/token", json={"access_token": "fresh-token-999", "expires_in": 0, "scope": None})
    api.get(SANDBOX + "/oauth2/metadata", json={"dc": "us6"})
    api.get(SANDBOX_API + "lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "check", code_config())

    assert out.status()["status"] == "SUCCEEDED"
    exchange = api.request_history[0]
    assert dict(pair.split("=") for pair in exchange.text.split("&")) == {
        "grant_type": "authorization_code", "client_id": "cid-123456", "client_secret": "csecret-123456",
        "redirect_uri": "https%3A%2F%2Fapp.example.com%2Fcallback", "code": "code-abcdef"}
    (control,) = out.of_type("CONTROL")
    saved = control["control"]["connectorConfig"]["config"]
    assert saved["credentials"]["access_token"] == "fresh-token-999"
    assert "authorization_code" not in saved["credentials"]
    assert json.loads((tmp_path / "config.json").read_text()) == saved
    # the CONTROL message carries the config to save; nothing else shows a secret
    others = "\n".join(line for line in out.text.splitlines() if not line.startswith('{"type":"CONTROL"'))
    assert not [s for s in ("fresh-token-999", "code-abcdef", "csecret-123456") if s in others]


def test_a_used_or_expired_authorization_code_fails_check_saying_to_authorize_again(capsys, tmp_path, api):
    api.post(SANDBOX + "/oauth2/token", status_code=400, json={"error": "invalid_grant"})

    message = check_message(capsys, tmp_path, code_config())

    assert "`credentials.authorization_code`" in message and "invalid_grant" in message


def test_an_authorization_code_without_client_secret_fails_naming_it(capsys, tmp_path, api):
    config = code_config()
    del config["credentials"]["client_secret"]

    message = check_message(capsys, tmp_path, config)

    assert "`credentials.client_secret`" in message
    assert api.request_history == []


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"config": "{not json"}, "not valid JSON"),
        ({"config": "[1, 2]"}, "JSON object"),
    ],
)
def test_a_malformed_config_file_is_a_clean_config_error(capsys, tmp_path, raw, expected):
    out = invoke(capsys, tmp_path, "read", None, catalog(["lists"]), raw=raw)

    assert out.exit_code == 1
    (error,) = out.errors()
    assert error["failure_type"] == "config_error" and expected in error["message"]
    assert all(line.startswith("{") for line in out.text.splitlines())  # only Airbyte messages, no bare traceback


def test_a_missing_config_file_is_a_clean_config_error(capsys, tmp_path):
    from source_mailchimp.run import run

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit:
        run(["discover", "--config", str(tmp_path / "nowhere.json")])

    assert exit.value.code == 1
    (line,) = capsys.readouterr().out.splitlines()
    error = json.loads(line)["trace"]["error"]
    assert error["failure_type"] == "config_error" and "does not exist" in error["message"]


def test_a_malformed_state_file_is_a_clean_config_error(capsys, tmp_path, api):
    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]), raw={"state": '{"lists": 5'})

    assert out.exit_code == 1
    assert out.errors()[0]["failure_type"] == "config_error" and "state" in out.errors()[0]["message"]
    assert api.request_history == []


def test_a_catalog_naming_an_unknown_stream_is_a_config_error_naming_it(capsys, tmp_path, api):
    configured = catalog(["lists", "no_such_stream"])
    expected = "unknown stream `no_such_stream`"

    out = invoke(capsys, tmp_path, "read", apikey_config(), configured)

    assert out.exit_code == 1
    (error,) = out.errors()
    assert error["failure_type"] == "config_error" and expected in error["message"]
    assert api.request_history == []


def test_spec_declares_every_setting_and_the_oauth_flow(capsys, tmp_path):
    out = invoke(capsys, tmp_path, "spec")

    (spec,) = [m["spec"] for m in out.of_type("SPEC")]
    properties = spec["connectionSpecification"]["properties"]
    assert set(properties) >= {"credentials", "start_date", "email_activity_date_window", "sandbox_url"}
    assert properties["sandbox_url"]["airbyte_hidden"] is True
    assert properties["email_activity_date_window"]["minimum"] == 0
    assert spec["advanced_auth"]["oauth_config_specification"]["oauth_connector_input_specification"]["access_token_url"] == "https://login.mailchimp.com/oauth2/token"
    oauth, apikey = properties["credentials"]["oneOf"]
    assert all(oauth["properties"][f]["airbyte_secret"] for f in ("client_secret", "access_token", "authorization_code"))
    assert apikey["properties"]["apikey"]["airbyte_secret"] is True


def test_debug_logs_of_requests_never_show_the_key_or_its_basic_auth_header(capsys, tmp_path, api):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]), raw=None)
    import base64

    assert API_KEY not in out.text
    assert base64.b64encode(f"anystring:{API_KEY}".encode()).decode() not in out.text


@pytest.mark.parametrize(
    "stream, stream_state, expected",
    [
        ("list_members", {"states": "garbage"}, "`states` is not a list"),
        ("list_members", {"states": [{"partition": {"list_id": "L1"}, "cursor": {"last_changed": "2024-01-01"}}]}, "`last_changed` is '2024-01-01'"),
        ("campaigns", {"create_time": 12}, "`create_time` is 12"),
        ("reports_email_activity", {"states": [["L1", "2024"]]}, "not {partition, cursor}"),
    ],
)
def test_a_state_that_cannot_be_resumed_fails_naming_the_stream_before_any_request(capsys, tmp_path, api, stream, stream_state, expected):
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}]

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog([stream], incremental=True), state)

    assert out.exit_code == 1
    (error,) = out.errors()
    assert error["failure_type"] == "config_error" and f"`{stream}`" in error["message"] and expected in error["message"]
    assert api.request_history == []


def test_an_older_per_list_state_layout_resumes_each_list_from_its_cursor(capsys, tmp_path, api):
    # Airbyte's connector saved list_members as {<list id>: {cursor}} before its per-partition layout.
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/members", json=page("members", []))
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "list_members"},
                                           "stream_state": {"L1": {"last_changed": "2024-01-01T00:00:00+00:00"}}}}]

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"], incremental=True), state)

    assert out.exit_code == 0, out.text
    since = {r.qs.get("status", ["all"])[0]: r.qs["since_last_changed"][0] for r in api.request_history if r.path.endswith("/members")}
    # The statuses that layout's reads covered resume from the list's cursor (minus the lookback window); the
    # archived members, which they never read, start from the start.
    assert since == {"all": "2023-12-31t23:45:00+00:00", "archived": "1970-01-01t00:00:00+00:00"}
