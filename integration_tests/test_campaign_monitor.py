"""The installed `source-campaign-monitor` command against the Campaign Monitor sandbox.

Each test runs the console script as Airbyte does (integration_tests/harness.py) and compares what it emits with the
sandbox's ground truth (`sb.data`), converted the way the connector documents: parent ids added, every date-time in UTC.
Small scales keep the file well under two minutes.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from integration_tests.discovered_streams import discovered_streams
from integration_tests.harness import configured_catalog, run_source
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.server import FaultPlan

COMMAND = "source-campaign-monitor"
SCHEMAS = Path(__file__).resolve().parents[1] / "source_campaign_monitor" / "schemas"
EVENT_STREAMS = {
    "campaign_opens": "opens",
    "campaign_clicks": "clicks",
    "campaign_bounces": "bounces",
    "campaign_unsubscribes": "unsubscribes",
    "campaign_spam_complaints": "spam",
}
SUBSCRIBER_STREAMS = {
    "list_active_subscribers": "Active",
    "list_bounced_subscribers": "Bounced",
    "list_deleted_subscribers": "Deleted",
    "list_unconfirmed_subscribers": "Unconfirmed",
    "list_unsubscribed_subscribers": "Unsubscribed",
}
# The contract of this file's streams, checked against discover; keys elsewhere are discover's (STREAMS).
PRIMARY_KEYS = {
    "campaigns": ("CampaignID",),
    "campaign_summary": ("CampaignID",),
    "campaign_email_client_usage": ("CampaignID", "Client", "Version"),
    "campaign_recipients": ("CampaignID", "EmailAddress", "ListID"),
    "campaign_bounces": ("CampaignID", "EmailAddress", "ListID", "Date", "Occurrence"),
    "campaign_clicks": ("CampaignID", "EmailAddress", "ListID", "Date", "URL", "Occurrence"),
    "campaign_opens": ("CampaignID", "EmailAddress", "ListID", "Date", "Occurrence"),
    "campaign_spam_complaints": ("CampaignID", "EmailAddress", "ListID", "Date", "Occurrence"),
    "campaign_unsubscribes": ("CampaignID", "EmailAddress", "ListID", "Date", "Occurrence"),
    "lists": ("ListID",),
    "list_details": ("ListID",),
    **{stream: ("ListID", "EmailAddress", "Date") for stream in SUBSCRIBER_STREAMS},
}
CURSORS = {
    "campaigns": "SentDate",
    "campaign_recipients": "SentDate",
    **{stream: "Date" for stream in EVENT_STREAMS},
    **{stream: "Date" for stream in SUBSCRIBER_STREAMS},
}
STREAMS = discovered_streams("campaign_monitor")


def api_key_config(sb: CampaignMonitorSandbox, **extra: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "api_key", "api_key": sb.api_key}, "sandbox_url": sb.url, **extra}


def oauth_config(sb: CampaignMonitorSandbox, **credentials: Any) -> dict[str, Any]:
    base = {
        "auth_type": "oauth2.0",
        "client_id": sb.oauth["client_id"],
        "client_secret": sb.oauth["client_secret"],
        "refresh_token": sb.oauth["refresh_token"],
    }
    base.update(credentials)
    return {"credentials": {k: v for k, v in base.items() if v is not None}, "sandbox_url": sb.url}


def secrets_of(sb: CampaignMonitorSandbox) -> list[str]:
    return [sb.api_key, sb.oauth["client_secret"], sb.oauth["access_token"], sb.oauth["refresh_token"],
            sb.oauth["authorization_code"]]


def assert_no_secret(run, sb: CampaignMonitorSandbox) -> None:
    """No secret anywhere in the output, except in the CONTROL messages that hand the updated config (with the new
    refresh token) to the platform, which stores it as a secret: that is their purpose."""
    shown = "\n".join(line for line in run.stdout.splitlines() if '"type":"CONTROL"' not in line) + run.stderr
    for secret in secrets_of(sb):
        assert secret not in shown


def expected_records(sb: CampaignMonitorSandbox) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's data as the connector must emit it: parent ids added, local dates converted to UTC."""
    d = sb.data
    utc = sb.to_utc
    expected: dict[str, list[dict[str, Any]]] = {stream: [] for stream in PRIMARY_KEYS}
    for client_id, campaigns in d["campaigns"].items():
        for campaign in campaigns:
            cid = campaign["CampaignID"]
            sent_utc = utc(client_id, campaign["SentDate"])
            expected["campaigns"].append({**campaign, "SentDate": sent_utc, "ClientID": client_id})
            expected["campaign_summary"].append({**d["summary"][cid], "CampaignID": cid})
            expected["campaign_email_client_usage"] += [{**u, "CampaignID": cid} for u in d["email_client_usage"][cid]]
            expected["campaign_recipients"] += [
                {**r, "CampaignID": cid, "SentDate": sent_utc} for r in d["recipients"][cid]
            ]
            for stream, kind in EVENT_STREAMS.items():
                seen: Counter = Counter()  # events of one subscriber (and URL) within one minute, in the API's order
                for e in d[kind][cid]:
                    group = (e["EmailAddress"], e["ListID"], e["Date"], e.get("URL"))
                    expected[stream].append({**e, "CampaignID": cid, "Date": utc(cid, e["Date"]), "Occurrence": seen[group]})
                    seen[group] += 1
    for client_id, lists in d["lists"].items():
        for item in lists:
            lid = item["ListID"]
            expected["lists"].append({**item, "ClientID": client_id})
            expected["list_details"].append(d["list_details"][lid])
            consent = d["consent_to_track"].get(lid, {})
            for subscriber in d["subscribers"][lid]:
                stream = next(s for s, state in SUBSCRIBER_STREAMS.items() if state == subscriber["State"])
                record = {
                    **subscriber,
                    "ListID": lid,
                    "Date": utc(lid, subscriber["Date"]),
                    "ListJoinedDate": utc(lid, subscriber["ListJoinedDate"]),
                }
                if subscriber["EmailAddress"] in consent:
                    record["ConsentToTrack"] = consent[subscriber["EmailAddress"]]
                expected[stream].append(record)
    return expected


def canonical(records: list[dict[str, Any]]) -> Counter:
    return Counter(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)


def key_of(stream: str, record: dict[str, Any]) -> tuple:
    return tuple(record.get(k) for k in STREAMS[stream].primary_key)


def change_key(stream: str, record: dict[str, Any]) -> tuple:
    """The key without Occurrence, as the sandbox's mutate() reports changes."""
    return tuple(record.get(k) for k in STREAMS[stream].primary_key if k != "Occurrence")


@pytest.fixture(scope="module")
def sandbox():
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sb:
        yield sb


@pytest.fixture(scope="module")
def catalog(sandbox, tmp_path_factory):
    run = run_source(COMMAND, "discover", tmp_path_factory.mktemp("discover"), config=api_key_config(sandbox))
    assert run.returncode == 0, run.output[-2000:]
    return run.catalog()


@pytest.fixture(scope="module")
def full_read(sandbox, catalog, tmp_path_factory):
    sandbox.server.reset_log()
    run = run_source(COMMAND, "read", tmp_path_factory.mktemp("read"), config=api_key_config(sandbox),
                     catalog=configured_catalog(catalog, sync_mode="incremental"))
    assert run.returncode == 0, run.output[-3000:]
    return run


# --- spec, check, discover -------------------------------------------------------------------------------------------


def test_spec_offers_oauth_and_api_key_and_hides_the_sandbox_url(tmp_path):
    spec = run_source(COMMAND, "spec", tmp_path).spec()
    properties = spec["connectionSpecification"]["properties"]
    auth_types = {option["properties"]["auth_type"]["const"] for option in properties["credentials"]["oneOf"]}
    assert auth_types == {"oauth2.0", "api_key"}
    assert properties["sandbox_url"]["airbyte_hidden"] is True
    assert {"start_date", "api_client_id"} <= set(properties)
    assert spec["advanced_auth"]["predicate_value"] == "oauth2.0"


def test_check_succeeds_with_an_api_key(sandbox, tmp_path):
    run = run_source(COMMAND, "check", tmp_path, config=api_key_config(sandbox))
    assert run.connection_status()["status"] == "SUCCEEDED"


def test_check_fails_with_a_wrong_api_key_naming_the_field_without_printing_it(sandbox, tmp_path):
    config = api_key_config(sandbox)
    config["credentials"]["api_key"] = "f" * 48
    run = run_source(COMMAND, "check", tmp_path, config=config)
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "api_key" in status["message"]
    assert "f" * 48 not in run.output
    assert "Traceback" not in run.stderr


def test_check_succeeds_with_an_oauth_refresh_token(sandbox, tmp_path):
    run = run_source(COMMAND, "check", tmp_path, config=oauth_config(sandbox))
    assert run.connection_status()["status"] == "SUCCEEDED", run.output[-2000:]
    assert_no_secret(run, sandbox)


def test_check_exchanges_an_authorization_code_once_and_persists_the_refresh_token(sandbox, tmp_path):
    code = sandbox.new_authorization_code()
    config = oauth_config(sandbox, refresh_token=None, authorization_code=code, redirect_uri=sandbox.oauth["redirect_uri"])
    run = run_source(COMMAND, "check", tmp_path, config=config)
    assert run.connection_status()["status"] == "SUCCEEDED", run.output[-2000:]
    (persisted,) = run.control_configs()
    assert persisted["credentials"]["refresh_token"] == sandbox.oauth["refresh_token"]
    assert "authorization_code" not in persisted["credentials"]
    assert code not in run.output


def test_check_fails_with_a_wrong_refresh_token_saying_to_reauthenticate(sandbox, tmp_path):
    run = run_source(COMMAND, "check", tmp_path, config=oauth_config(sandbox, refresh_token="not-a-token"))
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "Re-authenticate" in status["message"]
    assert "not-a-token" not in run.output


def test_check_fails_for_a_client_id_the_credentials_cannot_see(sandbox, tmp_path):
    run = run_source(COMMAND, "check", tmp_path, config=api_key_config(sandbox, api_client_id="0" * 32))
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert "api_client_id" in status["message"]


@pytest.mark.parametrize(
    "override, field",
    [
        ({"sandbox_url": "http://example.com:80"}, "sandbox_url"),
        ({"sandbox_url": "https://127.0.0.1:1"}, "sandbox_url"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2999-01-01T00:00:00Z"}, "start_date"),
        ({"num_workers": 0}, "num_workers"),
        ({"credentials": {"auth_type": "api_key", "api_key": ""}}, "credentials.api_key"),
        ({"credentials": {"auth_type": "oauth2.0", "client_id": "1"}}, "credentials.client_secret"),
    ],
)
def test_check_rejects_invalid_settings_naming_the_field(sandbox, tmp_path, override, field):
    run = run_source(COMMAND, "check", tmp_path, config={**api_key_config(sandbox), **override})
    status = run.connection_status()
    assert status["status"] == "FAILED"
    assert field in status["message"]
    assert run.returncode == 0


def test_read_with_a_malformed_config_file_ends_with_a_config_error_trace(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    (tmp_path / "catalog.json").write_text('{"streams": []}')
    from integration_tests.harness import command_path
    import subprocess

    done = subprocess.run([command_path(COMMAND), "read", "--config", str(tmp_path / "config.json"), "--catalog",
                           str(tmp_path / "catalog.json")], capture_output=True, text=True)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE"]
    assert done.returncode == 1
    assert errors and errors[0]["failure_type"] == "config_error"
    assert "not valid JSON" in errors[0]["message"]
    assert "Traceback" not in done.stderr


def test_read_of_an_unknown_stream_ends_with_a_config_error_trace(sandbox, catalog, tmp_path):
    configured = configured_catalog(catalog, ["lists"])
    configured["streams"][0]["stream"] = {**configured["streams"][0]["stream"], "name": "no_such_stream"}
    run = run_source(COMMAND, "read", tmp_path, config=api_key_config(sandbox), catalog=configured)
    assert run.returncode == 1
    (error,) = run.errors()
    assert error["failure_type"] == "config_error" and "no_such_stream" in error["message"]


def test_discover_lists_the_sixteen_streams_with_their_keys_and_cursors(catalog):
    # the account objects' streams are test_campaign_monitor_account.py's
    streams = {s["name"]: s for s in catalog["streams"] if s["name"] in PRIMARY_KEYS}
    assert set(streams) == set(PRIMARY_KEYS)
    for name, stream in streams.items():
        assert stream["source_defined_primary_key"] == [[k] for k in PRIMARY_KEYS[name]]
        if name in CURSORS:
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
            assert stream["default_cursor_field"] == [CURSORS[name]]
        else:
            assert stream["supported_sync_modes"] == ["full_refresh"]


def test_every_discovered_stream_has_its_expected_records_here_or_in_the_account_tests(sandbox):
    # A stream added to the manifest without saying what it must read fails this test, not silently nothing.
    from integration_tests.test_campaign_monitor_account import expected_records as account_expected_records

    ours, account = set(expected_records(sandbox)), set(account_expected_records(sandbox))
    assert ours & account == set()
    assert ours | account == set(STREAMS)


# --- reads -----------------------------------------------------------------------------------------------------------


def test_full_read_equals_the_sandbox_data_record_for_record(sandbox, full_read):
    expected = expected_records(sandbox)
    got = full_read.records_by_stream()
    for stream in PRIMARY_KEYS:
        assert canonical(got.get(stream, [])) == canonical(expected[stream]), stream


def test_same_minute_events_of_one_subscriber_keep_distinct_primary_keys(full_read):
    """A re-open or a double click in one minute repeats every field the API prints; Occurrence keeps them apart."""
    got = full_read.records_by_stream()
    for stream in EVENT_STREAMS:
        keys = [key_of(stream, r) for r in got[stream]]
        assert len(set(keys)) == len(keys), stream
    for stream in ("campaign_opens", "campaign_clicks"):
        records = {json.dumps(r, sort_keys=True) for r in got[stream]}
        twins = [r for r in got[stream] if r["Occurrence"] == 1
                 and json.dumps({**r, "Occurrence": 0}, sort_keys=True) in records]
        assert twins, stream  # identical but for Occurrence: merged by any destination before


def test_the_state_messages_count_every_record_sent_before_them(full_read):
    # Airbyte compares these counts with the records it received: a record printed but not counted (or the reverse)
    # is reported as a mismatch by the platform.
    sent = {stream: float(len(records)) for stream, records in full_read.records_by_stream().items()}
    counted = full_read.records_counted_in_states()
    assert sent and all(counted.get(stream) == n for stream, n in sent.items()), (sent, counted)


def test_every_record_validates_against_its_stream_schema(full_read):
    for stream, records in full_read.records_by_stream().items():
        schema = json.loads((SCHEMAS / f"{stream}.json").read_text())
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
        for record in records:
            validator.validate(record)


def test_full_read_makes_paged_requests_of_1000_and_sends_the_date_filter_in_client_local_time(sandbox, full_read):
    requests = sandbox.server.requests("/api/v3.3/campaigns/")
    opens = [r for r in requests if r.path.endswith("/opens.json")]
    assert opens and all(r.query["pagesize"] == "1000" and r.query["orderfield"] == "date" for r in opens)
    # no start_date: the lower bound 2000-01-01T00:00Z, sent in each client's local time
    sydney = [r for r in opens if sandbox.client_of(r.path.split("/")[4]) == sandbox.client_ids[0]]
    assert sydney and all(r.query["date"] == "2000-01-01 11:00" for r in sydney)


def test_dates_are_converted_to_utc_across_a_daylight_saving_change(sandbox, full_read):
    sydney = sandbox.client_ids[0]
    campaigns = {c["CampaignID"]: c for c in full_read.records("campaigns") if c["ClientID"] == sydney}
    local = {c["CampaignID"]: c["SentDate"] for c in sandbox.data["campaigns"][sydney]}
    before_end = next(cid for cid, sent in local.items() if sent.startswith("2024-04-06 20:00"))
    before_start = next(cid for cid, sent in local.items() if sent.startswith("2024-10-05 20:00"))
    assert campaigns[before_end]["SentDate"] == "2024-04-06T09:00:00+00:00"  # AEDT, UTC+11
    assert campaigns[before_start]["SentDate"] == "2024-10-05T10:00:00+00:00"  # AEST, UTC+10
    # opens of the first straddle the change: local times after 03:00 on 7 April are UTC+10
    opens = [o for o in full_read.records("campaign_opens") if o["CampaignID"] == before_end]
    by_local = {e["EmailAddress"] + e["Date"]: e for e in sandbox.data["opens"][before_end]}
    assert opens
    for record in opens:
        utc = datetime.fromisoformat(record["Date"])
        local_time = utc.astimezone(sandbox.zone(sydney)).strftime("%Y-%m-%d %H:%M:%S")
        assert record["EmailAddress"] + local_time in by_local
    offsets = {datetime.fromisoformat(o["Date"]).astimezone(sandbox.zone(sydney)).utcoffset() for o in opens}
    assert len(offsets) == 2


def test_api_client_id_restricts_the_read_to_that_client(sandbox, catalog, tmp_path):
    second = sandbox.client_ids[1]
    run = run_source(COMMAND, "read", tmp_path, config=api_key_config(sandbox, api_client_id=second),
                     catalog=configured_catalog(catalog, ["campaigns", "lists"]))
    assert run.returncode == 0, run.output[-2000:]
    assert {r["ClientID"] for r in run.records()} == {second}
    assert len(run.records("campaigns")) == len(sandbox.data["campaigns"][second])


def test_incremental_read_after_changes_returns_every_change(catalog, tmp_path):
    with CampaignMonitorSandbox(scale=0.1, seed=5) as sb:
        configured = configured_catalog(catalog, sync_mode="incremental")
        first = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        assert first.returncode == 0, first.output[-2000:]
        changes = sb.mutate()
        second = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                            state=first.final_state())
        assert second.returncode == 0, second.output[-2000:]
        got = second.records_by_stream()
        for stream, keys in changes.items():
            read_keys = {change_key(stream, r) for r in got.get(stream, [])}
            names = [name for name in STREAMS[stream].primary_key if name != "Occurrence"]
            expected_keys = {
                tuple(sb.to_utc(k[0], v) if name in ("Date",) else v for name, v in zip(names, k))
                if isinstance(k, tuple) else (k,)
                for k in keys
            }
            assert expected_keys <= read_keys, stream
        # only what changed, plus the lookback window (15 minutes) before the boundary minute in each partition
        first_by_stream = first.records_by_stream()
        for stream, partition_key in (("campaign_opens", "CampaignID"), ("list_active_subscribers", "ListID")):
            old = {key_of(stream, r) for r in first_by_stream[stream]}
            last_read: dict[str, str] = {}
            for record in first_by_stream[stream]:
                partition = record[partition_key]
                last_read[partition] = max(last_read.get(partition, ""), record["Date"])
            for record in got.get(stream, []):
                if key_of(stream, record) in old:
                    last = datetime.fromisoformat(last_read[record[partition_key]]).replace(second=0)
                    assert datetime.fromisoformat(record["Date"]) >= last - timedelta(minutes=15), (stream, record)


def test_events_recorded_after_a_sync_in_or_before_its_cursor_minute_are_read_by_the_next_sync(catalog, tmp_path):
    """The `date` filter keeps the cursor's own minute; an event logged late, dated minutes before the cursor, is read
    again only thanks to the lookback window (15 minutes by default)."""
    with CampaignMonitorSandbox(scale=0.1, seed=7) as sb:
        configured = configured_catalog(catalog, streams=["campaign_opens"], sync_mode="incremental")
        first = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        assert first.returncode == 0, first.output[-2000:]
        cid = max((c for cs in sb.data["campaigns"].values() for c in cs), key=lambda c: len(sb.data["opens"][c["CampaignID"]]))["CampaignID"]
        last = sb.data["opens"][cid][-1]
        cursor_minute = datetime.strptime(last["Date"], "%Y-%m-%d %H:%M:%S")
        added = []
        for n, minutes_before in enumerate((0, 5)):
            event = {**last, "EmailAddress": f"late{n}@example.com",
                     "Date": (cursor_minute - timedelta(minutes=minutes_before)).strftime("%Y-%m-%d %H:%M:%S")}
            sb.record_event("opens", cid, event)
            added.append((cid, event["EmailAddress"], event["ListID"], sb.to_utc(cid, event["Date"])))
        second = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                            state=first.final_state())
        assert second.returncode == 0, second.output[-2000:]
        read = {key_of("campaign_opens", r)[:4] for r in second.records_by_stream().get("campaign_opens", [])}
        assert set(added) <= read
        without_lookback = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb, lookback_window_minutes=0),
                                      catalog=configured, state=first.final_state())
        read = {key_of("campaign_opens", r)[:4] for r in without_lookback.records_by_stream().get("campaign_opens", [])}
        assert added[0] in read and added[1] not in read  # the cursor's minute is kept, the late event is not


def test_incremental_campaign_recipients_reads_only_campaigns_not_read_before(catalog, tmp_path):
    with CampaignMonitorSandbox(scale=0.1, seed=6) as sb:
        configured = configured_catalog(catalog, ["campaign_recipients"], sync_mode="incremental")
        first = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        changes = sb.mutate()
        sb.server.reset_log()
        second = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                            state=first.final_state())
        assert second.returncode == 0, second.output[-2000:]
        read_campaigns = {r.path.split("/")[4] for r in sb.server.requests("/api/v3.3/campaigns/")}
        new_campaigns = {k[0] for k in changes["campaign_recipients"]}
        # a campaign without recipients has no record to move its cursor: asked again, one empty page
        empty = {c for cs in sb.data["campaigns"].values() for c in (x["CampaignID"] for x in cs)
                 if not sb.data["recipients"].get(c)}
        assert new_campaigns and read_campaigns == new_campaigns | empty  # not the newest send day's campaigns again
        assert {r["CampaignID"] for r in second.records("campaign_recipients")} == new_campaigns
        # the campaigns are listed once per client, and the third sync finds nothing new
        listings = [r for r in sb.server.requests("/api/v3.3/clients/") if r.path.endswith("/campaigns.json")]
        assert len(listings) == len(sb.client_ids)
        sb.server.reset_log()
        third = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                           state=second.final_state())
        assert third.returncode == 0 and not third.records("campaign_recipients")
        assert {r.path.split("/")[4] for r in sb.server.requests("/api/v3.3/campaigns/")} == empty


def test_a_sync_resumed_from_an_intermediate_state_loses_no_record(catalog, tmp_path):
    with CampaignMonitorSandbox(scale=0.1, seed=7) as sb:
        streams = ["campaign_opens", "list_active_subscribers"]
        configured = configured_catalog(catalog, streams, sync_mode="incremental")
        full = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        states = [m for m in full.messages if m["type"] == "STATE"]
        assert len(states) >= 4
        # as if killed after the first third of its state messages: resume from the last state of each stream then
        cut = full.messages.index(states[len(states) // 3])
        before = [m for m in full.messages[: cut + 1]]
        last: dict[str, Any] = {}
        for m in before:
            if m["type"] == "STATE":
                last[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        emitted = {(m["record"]["stream"], json.dumps(m["record"]["data"], sort_keys=True))
                   for m in before if m["type"] == "RECORD"}
        resumed = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                             state=list(last.values()))
        assert resumed.returncode == 0, resumed.output[-2000:]
        emitted |= {(m["record"]["stream"], json.dumps(m["record"]["data"], sort_keys=True))
                    for m in resumed.of_type("RECORD")}
        expected = expected_records(sb)
        for stream in streams:
            want = {json.dumps(r, sort_keys=True) for r in expected[stream]}
            assert want <= {data for s, data in emitted if s == stream}, stream


def test_an_expired_oauth_token_is_refreshed_and_the_rotated_refresh_token_persisted(catalog, tmp_path):
    with CampaignMonitorSandbox(scale=0.1, seed=8) as sb:
        sb.single_use_refresh_tokens = True
        first_refresh = sb.oauth["refresh_token"]
        config = oauth_config(sb, access_token=sb.oauth["access_token"],
                              token_expiry_date="2999-01-01T00:00:00+00:00")
        sb.expire_access_token()  # the API now answers 401 Code 121 to the token in the config
        run = run_source(COMMAND, "read", tmp_path, config=config, catalog=configured_catalog(catalog, ["lists"]))
        assert run.returncode == 0, run.output[-2000:]
        assert len(run.records("lists")) == sum(len(v) for v in sb.data["lists"].values())
        (persisted,) = run.control_configs()
        assert persisted["credentials"]["refresh_token"] == sb.oauth["refresh_token"] != first_refresh
        assert len(sb.server.requests("/oauth/token")) == 1
        assert_no_secret(run, sb)
        # the next sync starts from the persisted (rotated) refresh token
        again = run_source(COMMAND, "check", tmp_path, config=persisted)
        assert again.connection_status()["status"] == "SUCCEEDED"


def test_a_revoked_refresh_token_fails_the_read_with_a_config_error_saying_to_reauthenticate(catalog, tmp_path):
    with CampaignMonitorSandbox(scale=0.1, seed=9) as sb:
        sb.revoke_refresh_token()
        run = run_source(COMMAND, "read", tmp_path, config=oauth_config(sb), catalog=configured_catalog(catalog, ["lists"]))
        assert run.returncode != 0
        errors = run.errors()
        assert errors and all(e["failure_type"] == "config_error" for e in errors)
        assert any("Re-authenticate" in e["message"] for e in errors)
        assert_no_secret(run, sb)


def test_a_full_read_with_five_percent_faults_loses_no_record(catalog, tmp_path):
    faults = FaultPlan(rate=0.05, seed=11, stall_seconds=2.0)
    with CampaignMonitorSandbox(scale=0.1, seed=3, faults=faults) as sb:
        run = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb),
                         catalog=configured_catalog(catalog, sync_mode="incremental"))
        assert run.returncode == 0, run.output[-3000:]
        assert any(r.fault for r in sb.server.requests())
        expected = expected_records(sb)
        got = run.records_by_stream()
        for stream in PRIMARY_KEYS:
            assert {json.dumps(r, sort_keys=True) for r in got.get(stream, [])} == {
                json.dumps(r, sort_keys=True) for r in expected[stream]
            }, stream
        assert_no_secret(run, sb)


@pytest.mark.parametrize("kill_after_records", [200, 900])
def test_a_sync_killed_with_sigkill_and_resumed_from_its_last_state_loses_no_record(catalog, tmp_path, kill_after_records):
    import signal
    import subprocess

    from integration_tests.harness import command_path

    with CampaignMonitorSandbox(scale=0.1, seed=12, latency=0.005) as sb:
        configured = configured_catalog(catalog, sync_mode="incremental")
        (tmp_path / "config.json").write_text(json.dumps(api_key_config(sb)))
        (tmp_path / "catalog.json").write_text(json.dumps(configured))
        process = subprocess.Popen([command_path(COMMAND), "read", "--config", str(tmp_path / "config.json"),
                                    "--catalog", str(tmp_path / "catalog.json")], stdout=subprocess.PIPE, text=True)
        emitted: set[tuple[str, str]] = set()
        last_state: dict[str, Any] = {}
        records = 0
        for line in process.stdout:
            message = json.loads(line) if line.startswith("{") else {}
            if message.get("type") == "RECORD":
                records += 1
                emitted.add((message["record"]["stream"], json.dumps(message["record"]["data"], sort_keys=True)))
                if records >= kill_after_records:
                    process.send_signal(signal.SIGKILL)
                    break
            elif message.get("type") == "STATE":
                last_state[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        process.wait()
        assert process.returncode == -signal.SIGKILL
        resumed = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                             state=list(last_state.values()))
        assert resumed.returncode == 0, resumed.output[-2000:]
        emitted |= {(m["record"]["stream"], json.dumps(m["record"]["data"], sort_keys=True))
                    for m in resumed.of_type("RECORD")}
        for stream, records_of_stream in expected_records(sb).items():
            want = {json.dumps(r, sort_keys=True) for r in records_of_stream}
            assert want <= {data for s, data in emitted if s == stream}, stream


@pytest.mark.parametrize("auth", ["api_key", "oauth"])
def test_debug_logs_of_a_faulty_sync_print_no_secret_not_even_the_encoded_basic_header(catalog, tmp_path, auth):
    import base64

    with CampaignMonitorSandbox(scale=0.05, seed=13, faults=FaultPlan(rate=0.1, seed=13, stall_seconds=0.5)) as sb:
        config = api_key_config(sb) if auth == "api_key" else oauth_config(sb)
        run = run_source(COMMAND, "read", tmp_path, config=config, catalog=configured_catalog(catalog, ["lists", "campaign_opens"]),
                         env={"LOG_LEVEL": "debug"})
        assert run.returncode == 0, run.output[-2000:]
        assert "Making outbound API request" in run.output  # debug logs are on
        assert_no_secret(run, sb)
        assert base64.b64encode(f"{sb.api_key}:x".encode()).decode() not in run.output
