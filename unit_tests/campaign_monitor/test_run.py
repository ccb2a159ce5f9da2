"""The settings, checked field by field by the manifest's config transformation (NormalizeAndCheckSettings), and the
entry point: bad files and states ending as clean errors."""

from __future__ import annotations

import json

import pytest

from source_campaign_monitor.parts.settings import NormalizeAndCheckSettings, settings_problems
from source_campaign_monitor.run import run, secrets_of

GOOD = {"credentials": {"auth_type": "api_key", "api_key": "k" * 20}}


def messages(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("config, field", [
    ({}, "credentials"),
    ({"credentials": {"auth_type": "api_key"}}, "credentials.api_key"),
    ({"credentials": {"auth_type": "api_key", "api_key": 12}}, "credentials.api_key"),
    ({"credentials": {"auth_type": "oauth2.0", "client_id": "1", "client_secret": "s"}}, "credentials.refresh_token"),
    ({"credentials": {"auth_type": "oauth2.0", "client_secret": "s", "refresh_token": "r"}}, "credentials.client_id"),
    ({"credentials": {"auth_type": "oauth2.0", "client_id": "1", "client_secret": "s", "authorization_code": "c"}},
     "credentials.redirect_uri"),
    ({"credentials": {"auth_type": "magic"}}, "credentials.auth_type"),
    ({**GOOD, "start_date": "01/02/2024"}, "start_date"),
    ({**GOOD, "start_date": "2999-01-01"}, "start_date"),
    ({**GOOD, "start_date": 20240101}, "start_date"),
    ({**GOOD, "api_client_id": 7}, "api_client_id"),
    ({**GOOD, "num_workers": 50}, "num_workers"),
    ({**GOOD, "num_workers": "4"}, "num_workers"),
    ({**GOOD, "sandbox_url": "http://169.254.169.254"}, "sandbox_url"),
])
def test_each_bad_setting_is_reported_naming_its_field(config, field):
    (problem,) = normalized(config)["__config_problems"]
    assert problem["message"].startswith("Invalid settings: ") and f" {field}: " in problem["message"], problem


def normalized(config: dict) -> dict:
    config = dict(config)
    NormalizeAndCheckSettings().transform(config)
    return config


def test_a_good_config_has_no_problem_and_gains_only_the_api_base_url():
    good = {**GOOD, "start_date": "2024-01-01T00:00:00Z", "api_client_id": ""}
    assert normalized(good) == {**good, "api_base_url": "https://api.createsend.com/api/v3.3/"}
    assert normalized({**good, "sandbox_url": "http://127.0.0.1:8081/"})["api_base_url"] == "http://127.0.0.1:8081/api/v3.3/"
    assert settings_problems({**GOOD, "start_date": "2024-01-01"}) == []


def test_the_problems_are_noted_for_the_manifest_validation_to_raise_in_one_message():
    config = normalized({**GOOD, "start_date": "yesterday", "num_workers": 0})
    (problem,) = config["__config_problems"]
    assert problem["failure_type"] == "config_error"
    assert problem["message"].startswith("Invalid settings: start_date: ")
    assert "num_workers: must be an integer from 1 to 20" in problem["message"]
    assert "num_workers" not in config  # the concurrency level reads it while the source is built


def test_a_flat_singer_style_config_is_moved_under_credentials():
    flat = {"client_id": "123", "client_secret": "s", "refresh_token": "r", "api_client_id": "c"}
    config = normalized(flat)
    assert config["credentials"] == {"auth_type": "oauth2.0", "client_id": "123", "client_secret": "s", "refresh_token": "r"}
    assert "__config_problems" not in config
    assert normalized({"api_key": "k"})["credentials"] == {"auth_type": "api_key", "api_key": "k"}


def test_the_secrets_masked_are_the_credentials_flat_or_not_and_the_basic_auth_value():
    import base64

    assert {s for s in secrets_of({"credentials": {"auth_type": "api_key", "api_key": "key-123"}}) if s} == {
        "key-123", base64.b64encode(b"key-123:x").decode()}
    assert "r-token" in set(secrets_of({"client_id": "1", "client_secret": "s", "refresh_token": "r-token"}))


def test_check_with_a_bad_setting_reports_failed_without_any_request(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**GOOD, "sandbox_url": "http://example.com"}))
    run(["check", "--config", str(path)])
    (status,) = [m["connectionStatus"] for m in messages(capsys) if m["type"] == "CONNECTION_STATUS"]
    assert status["status"] == "FAILED" and "sandbox_url" in status["message"]


@pytest.mark.parametrize("content, expected", [(None, "does not exist"), ("{oops", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_a_missing_or_malformed_config_file_is_a_config_error_trace(tmp_path, capsys, content, expected):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as exited:
        run(["discover", "--config", str(path)])
    assert exited.value.code == 1
    (error,) = [m["trace"]["error"] for m in messages(capsys) if m["type"] == "TRACE"]
    assert error["failure_type"] == "config_error" and expected in error["message"]


def _read_with_state(tmp_path, capsys, state) -> dict:
    (tmp_path / "config.json").write_text(json.dumps({**GOOD, "sandbox_url": "http://127.0.0.1:9"}))
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": []}))
    (tmp_path / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
    with pytest.raises(SystemExit):
        run(["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json"),
             "--state", str(tmp_path / "state.json")])
    (error,) = [m["trace"]["error"] for m in messages(capsys) if m["type"] == "TRACE"]
    return error


@pytest.mark.parametrize("state, expected", [
    ("[{", "not valid JSON"),
    ({"campaigns": {"SentDate": "2024"}}, "state"),
    ([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "campaigns"}, "stream_state": [1]}}], "state"),
    (["not a message"], "state"),
])
def test_a_malformed_or_legacy_state_is_a_config_error(tmp_path, capsys, state, expected):
    error = _read_with_state(tmp_path, capsys, state)
    assert error["failure_type"] == "config_error" and expected in error["message"]


def test_streams_with_long_chains_of_pages_are_started_first_and_the_others_keep_the_catalog_order():
    from types import SimpleNamespace

    from airbyte_cdk.models import SyncMode
    from airbyte_cdk.test.catalog_builder import CatalogBuilder

    from source_campaign_monitor.run import SourceCampaignMonitor

    names = ["campaigns", "lists", "campaign_opens", "list_details", "list_active_subscribers", "campaign_recipients"]
    builder = CatalogBuilder()
    for name in names:
        builder = builder.with_stream(name, SyncMode.full_refresh)
    catalog = builder.build()
    source = SourceCampaignMonitor(catalog=catalog, config=GOOD, state=[])
    streams = [SimpleNamespace(name=name) for name in reversed(names)]
    ordered = [stream.name for stream in source._select_streams(streams, catalog)]
    assert ordered == ["list_active_subscribers", "campaign_recipients", "campaign_opens", "campaigns", "lists",
                       "list_details"]
