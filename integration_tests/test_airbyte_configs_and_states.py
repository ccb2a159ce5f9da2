"""A user switching from Airbyte's own connectors keeps the config and state Airbyte holds: each shape, on our packaged
command and on Airbyte's stock runtime, against the sandboxes.

Configs: Airbyte's current and older Mailchimp configs and its Campaign Monitor config pass `check`; a migrated one is
printed in a CONTROL message (the platform persists it) and written back to the config file; a read uses the mapped
values. States (the shapes airbyte-source-mailchimp 2.0.37 saves, captured from it against the sandbox): list_members'
per-list state resumes every status Airbyte read from each list's cursor; a stream read in full here says that the
saved cursor is not used; a state that cannot be split per list is refused, naming the stream."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import SourceRun, configured_catalog, run_source
from integration_tests.stock_runtime import StockRuntimeUnavailable, ensure_stock_runtime, run_stock
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"source-mailchimp": ROOT / "source_mailchimp", "source-campaign-monitor": ROOT / "source_campaign_monitor"}
RUNTIMES = ["packaged", "stock"]
SCALE = 0.05
LOOKBACK = timedelta(minutes=15)


@pytest.fixture(scope="module")
def stock_runtime() -> None:
    try:
        ensure_stock_runtime()
    except StockRuntimeUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def mailchimp():
    with MailchimpSandbox(scale=SCALE, seed=3) as sb:
        yield sb


@pytest.fixture(scope="module")
def campaign_monitor():
    with CampaignMonitorSandbox(scale=SCALE) as sb:
        yield sb


def run(runtime: str, command: str, verb: str, workdir: Path, **inputs: Any) -> SourceRun:
    if runtime == "packaged":
        return run_source(command, verb, workdir, **inputs)
    folder = FOLDERS[command]
    # "stock": injected as Airbyte Cloud and the Builder run it; "image": the manifest-only connector image.
    mode = "image" if runtime == "image" else "injected"
    return run_stock(folder / "manifest.yaml", folder / "components.py", verb, workdir, mode=mode, **inputs)


def written_config(workdir: Path) -> dict[str, Any]:
    """The config file after the run (the CDK writes a migrated config back), without what the stock runtime
    injects."""
    config = json.loads((workdir / "config.json").read_text())
    return {k: v for k, v in config.items() if not k.startswith("__injected")}


def without_injected(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("__injected")}


# ---------------------------------------------------------------------------------------------------- Mailchimp configs


def test_airbytes_current_mailchimp_configs_pass_check_unchanged(stock_runtime, mailchimp, tmp_path):
    described = mailchimp.describe()
    configs = [
        {"credentials": {"auth_type": "apikey", "apikey": described["api_key"]}, "data_center": "us6",
         "start_date": "2024-01-01T00:00:00.000Z", "sandbox_url": mailchimp.url},
        {"credentials": {"auth_type": "oauth2.0", **{k: described["oauth"][k] for k in ("client_id", "client_secret", "access_token")}},
         "data_center": "us6", "start_date": "2024-01-01T00:00:00.000Z", "sandbox_url": mailchimp.url},
    ]
    for runtime in RUNTIMES:
        for config in configs:
            result = run(runtime, "source-mailchimp", "check", tmp_path, config=config)
            assert result.connection_status()["status"] == "SUCCEEDED", (runtime, result.output[-2000:])
            assert result.control_configs() == [], runtime  # nothing to migrate, nothing for the platform to save


@pytest.mark.parametrize("runtime", [*RUNTIMES, "image"])
def test_airbytes_older_flat_mailchimp_config_is_migrated_and_saved_through_a_control_message(
        stock_runtime, mailchimp, tmp_path, runtime):
    key = mailchimp.describe()["api_key"]
    config = {"apikey": key, "start_date": "2024-01-01T00:00:00.000Z", "sandbox_url": mailchimp.url}

    result = run(runtime, "source-mailchimp", "check", tmp_path, config=config)

    assert result.connection_status()["status"] == "SUCCEEDED", result.output[-2000:]
    expected = {"credentials": {"auth_type": "apikey", "apikey": key}, "start_date": "2024-01-01T00:00:00.000Z",
                "sandbox_url": mailchimp.url}
    assert [without_injected(c) for c in result.control_configs()] == [expected]
    assert written_config(tmp_path) == expected
    # The next run starts from the saved config: nothing more to migrate.
    again = run(runtime, "source-mailchimp", "check", tmp_path, config=expected)
    assert again.connection_status()["status"] == "SUCCEEDED" and again.control_configs() == []


# ---------------------------------------------------------------------------------------------- Mailchimp states


def airbytes_list_members_state(list_ids: list[str], cursor: str) -> list[dict[str, Any]]:
    """What airbyte-source-mailchimp 2.0.37 saves for list_members (CDK 6.61.6), one list per partition."""
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "list_members"}, "stream_state": {
        "use_global_cursor": False,
        "states": [{"partition": {"id": list_id, "parent_slice": {}}, "cursor": {"last_changed": cursor}}
                   for list_id in list_ids],
        "state": {"last_changed": cursor}, "lookback_window": 1, "parent_state": {}}}}]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_airbytes_list_members_state_resumes_every_status_it_read_from_each_lists_cursor(
        stock_runtime, mailchimp, tmp_path, runtime):
    config = {"credentials": {"auth_type": "apikey", "apikey": mailchimp.api_key}, "sandbox_url": mailchimp.url}
    discovered = run_source("source-mailchimp", "discover", tmp_path, config=config).catalog()
    catalog = configured_catalog(discovered, ["list_members"], sync_mode="incremental")
    list_ids = [item["id"] for item in mailchimp.data["lists"]]
    cursor = "2025-03-01T12:00:00.000000Z"  # as Airbyte's connector writes it
    mailchimp.server.reset_log()

    result = run(runtime, "source-mailchimp", "read", tmp_path, config=config, catalog=catalog,
                 state=airbytes_list_members_state(list_ids, cursor))

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    requests = [r for r in mailchimp.server.requests("/3.0/lists/") if r.path.endswith("/members")]
    resumed_from = (datetime(2025, 3, 1, 12, tzinfo=timezone.utc) - LOOKBACK).isoformat()
    # Every list, every status Airbyte's requests read (all but archived): from the list's saved cursor.
    not_archived = {r.path.split("/")[3]: r.query["since_last_changed"] for r in requests if "status" not in r.query}
    assert not_archived == {list_id: resumed_from for list_id in list_ids}
    # Archived members, which Airbyte's connector never requested: from the start, as on a first sync.
    archived = {r.path.split("/")[3]: r.query["since_last_changed"] for r in requests if r.query.get("status") == "archived"}
    assert archived == {list_id: "1970-01-01T00:00:00+00:00" for list_id in list_ids}
    assert any("resumed from the saved state of Airbyte's connector for" in line for line in result.logs())
    # Nothing of Airbyte's layout is carried forward.
    (final,) = [s["stream"]["stream_state"] for s in result.final_state()]
    partitions = [entry["partition"] for entry in final["states"]]
    assert all(set(p) == {"list_id", "member_status", "parent_slice"} for p in partitions)
    assert sorted((p["list_id"], p["member_status"]) for p in partitions) == sorted(
        (list_id, status) for list_id in list_ids for status in ("all_but_archived", "archived"))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_one_list_members_cursor_for_every_list_is_refused_naming_the_stream(
        stock_runtime, mailchimp, tmp_path, runtime):
    config = {"credentials": {"auth_type": "apikey", "apikey": mailchimp.api_key}, "sandbox_url": mailchimp.url}
    discovered = run_source("source-mailchimp", "discover", tmp_path, config=config).catalog()
    catalog = configured_catalog(discovered, ["list_members"], sync_mode="incremental")
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "list_members"},
                                           "stream_state": {"last_changed": "2025-03-01T12:00:00+00:00"}}}]
    mailchimp.server.reset_log()

    result = run(runtime, "source-mailchimp", "read", tmp_path, config=config, catalog=catalog, state=state)

    assert result.returncode != 0 and not result.records()
    errors = [e for e in result.errors() if "`list_members`" in e["message"]]
    assert errors and errors[0]["failure_type"] == "config_error", result.output[-3000:]
    assert "Reset the stream `list_members`" in errors[0]["message"]
    assert [r for r in mailchimp.server.requests("/3.0/") if r.path.endswith("/members")] == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_saved_cursor_of_a_stream_read_in_full_here_is_named_in_the_log_and_not_carried_forward(
        stock_runtime, mailchimp, tmp_path, runtime):
    config = {"credentials": {"auth_type": "apikey", "apikey": mailchimp.api_key}, "sandbox_url": mailchimp.url}
    discovered = run_source("source-mailchimp", "discover", tmp_path, config=config).catalog()
    catalog = configured_catalog(discovered, ["lists", "reports"], sync_mode="incremental")
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "lists"},
                                      "stream_state": {"date_created": "2099-10-29T02:57:57.000000Z"}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "reports"},
                                      "stream_state": {"send_time": "2099-05-09T17:45:23.000000Z"}}},
    ]

    result = run(runtime, "source-mailchimp", "read", tmp_path, config=config, catalog=catalog, state=state)

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    warnings = result.logs("WARN")
    for stream, cursor in (("lists", "date_created"), ("reports", "send_time")):
        assert any(line.startswith(f"`{stream}` is read in full every sync") and f"`{cursor}`" in line
                   for line in warnings), warnings
    assert len(result.records("lists")) == len(mailchimp.data["lists"])  # read in full, despite a cursor in 2099
    assert all("date_created" not in json.dumps(s) and "send_time" not in json.dumps(s) for s in result.final_state())


# ---------------------------------------------------------------------------------------- Campaign Monitor configs


@pytest.mark.parametrize("runtime", [*RUNTIMES, "image"])
def test_airbytes_campaign_monitor_config_reads_only_the_chosen_client(stock_runtime, campaign_monitor, tmp_path, runtime):
    described = campaign_monitor.describe()
    chosen = described["client_ids"][1]
    config = {"username": described["api_key"], "password": "x", "start_date": "2024-01-01", "client_id": chosen,
              "sandbox_url": campaign_monitor.url}
    expected = {"credentials": {"auth_type": "api_key", "api_key": described["api_key"]}, "api_client_id": chosen,
                "start_date": "2024-01-01", "sandbox_url": campaign_monitor.url}

    checked = run(runtime, "source-campaign-monitor", "check", tmp_path, config=config)
    assert checked.connection_status()["status"] == "SUCCEEDED", checked.output[-2000:]
    assert [without_injected(c) for c in checked.control_configs()] == [expected]
    assert written_config(tmp_path) == expected

    discovered = run_source("source-campaign-monitor", "discover", tmp_path, config=expected).catalog()
    catalog = configured_catalog(discovered, ["lists", "campaigns"])
    result = run(runtime, "source-campaign-monitor", "read", tmp_path, config=config, catalog=catalog)
    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    assert result.records("lists") and result.records("campaigns")
    assert {r["ClientID"] for r in result.records()} == {chosen}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_airbytes_campaign_monitor_config_without_a_client_reads_every_client(stock_runtime, campaign_monitor, tmp_path, runtime):
    described = campaign_monitor.describe()
    config = {"username": described["api_key"], "password": "x", "sandbox_url": campaign_monitor.url}
    expected = {"credentials": {"auth_type": "api_key", "api_key": described["api_key"]}, "sandbox_url": campaign_monitor.url}
    discovered = run_source("source-campaign-monitor", "discover", tmp_path, config=expected).catalog()
    catalog = configured_catalog(discovered, ["lists"])

    result = run(runtime, "source-campaign-monitor", "read", tmp_path, config=config, catalog=catalog)

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    assert [without_injected(c) for c in result.control_configs()] == [expected]
    assert {r["ClientID"] for r in result.records("lists")} == set(described["client_ids"])


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_airbytes_campaigns_and_automations_states_resume_from_their_cursors(stock_runtime, mailchimp, tmp_path, runtime):
    config = {"credentials": {"auth_type": "apikey", "apikey": mailchimp.api_key}, "sandbox_url": mailchimp.url}
    discovered = run_source("source-mailchimp", "discover", tmp_path, config=config).catalog()
    catalog = configured_catalog(discovered, ["campaigns", "automations"], sync_mode="incremental")
    state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": name},
                                           "stream_state": {"create_time": "2025-03-01T12:00:00.000000Z"}}}
             for name in ("campaigns", "automations")]
    mailchimp.server.reset_log()

    result = run(runtime, "source-mailchimp", "read", tmp_path, config=config, catalog=catalog, state=state)

    assert result.returncode == 0 and not result.errors(), result.output[-3000:]
    resumed_from = (datetime(2025, 3, 1, 12, tzinfo=timezone.utc) - LOOKBACK).isoformat()
    for path in ("/3.0/campaigns", "/3.0/automations"):
        since = {r.query.get("since_create_time") for r in mailchimp.server.requests(path) if r.path == path}
        assert since == {resumed_from}, (path, since)
