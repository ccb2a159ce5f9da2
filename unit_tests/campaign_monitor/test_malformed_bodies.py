"""Malformed API bodies fed to every stream at once: the sync ends cleanly (records, or TRACE errors with a failure
type and exit code 1), never with a bare traceback or an endless loop, and never prints the API key.

A record whose values have unexpected types is passed on as the API sent it (the connector does not coerce or drop
what it cannot vouch for); records of well-formed bodies validate against their schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import requests_mock as requests_mock_module

from source_campaign_monitor.run import run

from .fakes import API, CLIENT, SANDBOX, api_key_config, campaign, client_details, page

SCHEMAS = Path(__file__).resolve().parents[2] / "source_campaign_monitor" / "schemas"
MALFORMED = {
    "empty array": (200, []),
    "null": (200, None),
    "wrong types in the envelope": (200, {"Results": "oops", "PageNumber": None, "NumberOfPages": "x",
                                          "BasicDetails": "none", "ListID": 7, "CampaignID": ["x"]}),
    "records that are not objects": (200, {"Results": [1, "a", None], "PageNumber": 1, "NumberOfPages": 1}),
    "fields of the wrong type": (200, {"Results": [{"Date": 12345, "EmailAddress": None, "ListID": {"a": 1}}],
                                       "PageNumber": 1, "NumberOfPages": 1,
                                       "BasicDetails": {"ClientID": "c1", "TimeZone": 42}}),
    "an error body with 200": (200, {"Code": 1, "Message": "weird"}),
    "a 400 error": (400, {"Code": 1, "Message": "Invalid page"}),
    "a page that never ends": (200, {"Results": [], "PageNumber": 1, "NumberOfPages": 10**9}),
}


@pytest.mark.parametrize("where", ["parents", "children"])
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_body_on_every_endpoint_ends_the_sync_cleanly(kind, where, tmp_path, capsys):
    status, body = MALFORMED[kind]
    names = [path.stem for path in SCHEMAS.glob("*.json")]  # one schema per stream
    catalog = {"streams": [{"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                            "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for n in sorted(names)]}
    (tmp_path / "config.json").write_text(json.dumps(api_key_config(api_client_id="")))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    with requests_mock_module.Mocker() as mocker:
        mocker.get(re.compile(re.escape(SANDBOX) + "/api/v3.3/.*"), status_code=status, text=json.dumps(body))
        if where == "children":  # valid clients, campaigns and lists; malformed reports, details and subscribers
            mocker.get(API + "clients.json", json=[{"ClientID": CLIENT, "Name": "One"}])
            mocker.get(API + f"clients/{CLIENT}.json", json=client_details())
            mocker.get(API + f"clients/{CLIENT}/campaigns.json", json=page([campaign("c1", "2024-01-01 10:00:00")]))
            mocker.get(API + f"clients/{CLIENT}/lists.json", json=[{"ListID": "l1", "Name": "List"}])
        try:
            run(["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")])
            exit_code = 0
        except SystemExit as exited:
            exit_code = exited.code
        assert mocker.call_count < 2000  # no endless paging
    captured = capsys.readouterr()
    messages = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    assert all(isinstance(m, dict) and "type" in m for m in messages)
    errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert all(e["failure_type"] in ("config_error", "system_error", "transient_error") for e in errors)
    assert exit_code == (1 if errors else 0)
    for message in messages:
        if message["type"] == "RECORD":
            assert isinstance(message["record"]["data"], dict)
            # values of unexpected types are passed on as the API sent them; so is an object where a bare array
            # was expected (drafts, people, tags...: the client-level listings), one record
            if kind not in ("fields of the wrong type", "wrong types in the envelope"):
                schema = json.loads((SCHEMAS / f"{message['record']['stream']}.json").read_text())
                jsonschema.validate(message["record"]["data"], schema)
    assert "secret-api-key" not in captured.out + captured.err
    assert "Traceback (most recent call last)" not in captured.err
