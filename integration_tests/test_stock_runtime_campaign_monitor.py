"""source_campaign_monitor/manifest.yaml and components.py on Airbyte's stock runtime (airbyte-cdk's
source-declarative-manifest with the components injected, as Airbyte Cloud and the Connector Builder run them, where no
package of this repository exists) answer what our packaged command answers against the sandbox: the same spec, check
and catalog, and the same records, final states and requests in a full sync, an incremental sync, and an incremental
sync after a day of changes."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.harness import SourceRun, configured_catalog, run_source
from integration_tests.stock_runtime import StockRuntimeUnavailable, ensure_stock_runtime, run_stock
from sandbox.campaign_monitor import CampaignMonitorSandbox

COMMAND = "source-campaign-monitor"
FOLDER = Path(__file__).resolve().parents[1] / "source_campaign_monitor"
MANIFEST, COMPONENTS = FOLDER / "manifest.yaml", FOLDER / "components.py"
SCALE = 0.05


@pytest.fixture(scope="module")
def stock_runtime() -> None:
    try:
        ensure_stock_runtime()
    except StockRuntimeUnavailable as unavailable:
        pytest.skip(f"the package registry is unreachable, airbyte-cdk cannot be installed: {unavailable}")


@pytest.fixture(scope="module")
def sandbox():
    with CampaignMonitorSandbox(scale=SCALE, seed=3) as sb:
        yield sb


def api_key_config(sb: CampaignMonitorSandbox, **extra: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "api_key", "api_key": sb.api_key}, "sandbox_url": sb.url, **extra}


def records(run: SourceRun) -> dict[str, Counter]:
    return {stream: Counter(json.dumps(r, sort_keys=True) for r in rows) for stream, rows in run.records_by_stream().items()}


def comparable(state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The final state, without what a sync notes of itself rather than of the data."""
    loaded = json.loads(json.dumps(sorted(state, key=lambda m: m["stream"]["stream_descriptor"]["name"])))
    for message in loaded:
        message["stream"]["stream_state"].pop("lookback_window", None)  # the duration of the sync, in seconds
        message.pop("sourceStats", None)  # records since the previous state message: ours emits states more often
    return loaded


def requests_of(sb: CampaignMonitorSandbox) -> Counter:
    return Counter((r.path, tuple(sorted(r.query.items()))) for r in sb.server.requests("/api/v3.3/"))


def diff_of(a: Any, b: Any) -> str:
    return "\n".join(difflib.unified_diff(json.dumps(a, indent=1, sort_keys=True).splitlines(),
                                          json.dumps(b, indent=1, sort_keys=True).splitlines(), lineterm="", n=1))


def test_the_stock_runtime_answers_spec_check_and_discover_as_our_command(stock_runtime, sandbox, tmp_path):
    # Injected, the runtime answers its own generic spec (the platform reads the connector's from the manifest);
    # from a manifest-only image it answers the manifest's.
    ours = run_source(COMMAND, "spec", tmp_path).spec()
    assert ours["connectionSpecification"] == yaml.safe_load(MANIFEST.read_text())["spec"]["connection_specification"]
    assert run_stock(MANIFEST, COMPONENTS, "spec", tmp_path, mode="image").spec() == ours

    config = api_key_config(sandbox)
    stock = run_stock(MANIFEST, COMPONENTS, "check", tmp_path, config=config)
    assert stock.connection_status() == run_source(COMMAND, "check", tmp_path, config=config).connection_status()
    assert stock.connection_status()["status"] == "SUCCEEDED", stock.output[-3000:]
    stock = run_stock(MANIFEST, COMPONENTS, "discover", tmp_path, config=config)
    assert stock.returncode == 0, stock.output[-3000:]
    assert stock.catalog() == run_source(COMMAND, "discover", tmp_path, config=config).catalog()


@pytest.mark.parametrize("bad, field", [
    ({"sandbox_url": "http://example.com:8080"}, "sandbox_url"),
    ({"credentials": {"auth_type": "api_key", "api_key": "   "}}, "credentials.api_key"),
    ({"start_date": "2999-01-01T00:00:00Z"}, "start_date"),
])
def test_a_check_with_a_bad_setting_fails_on_both_with_the_message_naming_it(
        stock_runtime, sandbox, tmp_path, bad, field):
    config = {**api_key_config(sandbox), **bad}
    sandbox.server.reset_log()

    ours = run_source(COMMAND, "check", tmp_path, config=config)
    stock = run_stock(MANIFEST, COMPONENTS, "check", tmp_path, config=config)

    assert ours.connection_status()["status"] == stock.connection_status()["status"] == "FAILED", stock.output[-3000:]
    message = ours.connection_status()["message"]
    assert message.startswith(f"Invalid settings: {field}: ")
    # The stock runtime's CheckStream words every error raised while the streams are built (the manifest's config
    # validation raises ours there) as this sentence, then repr()s it; our command reports the problem first.
    assert stock.connection_status()["message"] == repr(f"Encountered an error while discovering streams. Error: {message}")
    assert stock.returncode == ours.returncode == 0
    assert sandbox.server.requests("/api/v3.3/") == []


def test_the_stock_runtime_reads_what_our_command_reads_in_full_and_incremental_syncs(stock_runtime, tmp_path):
    runs: dict[str, list[SourceRun]] = {"ours": [], "stock": []}
    requests: dict[str, list[Counter]] = {"ours": [], "stock": []}
    for runtime in ("ours", "stock"):
        with CampaignMonitorSandbox(scale=SCALE, seed=3) as sb:
            config = api_key_config(sb)
            discovered = run_source(COMMAND, "discover", tmp_path, config=config).catalog()
            catalog = configured_catalog(discovered, sync_mode="incremental")
            state = None
            for step in ("full", "incremental", "after a day of changes"):
                if step == "after a day of changes":
                    sb.mutate()
                sb.server.reset_log()
                if runtime == "ours":
                    run = run_source(COMMAND, "read", tmp_path, config=config, catalog=catalog, state=state)
                else:
                    run = run_stock(MANIFEST, COMPONENTS, "read", tmp_path, config=config, catalog=catalog, state=state)
                assert run.returncode == 0 and not run.errors(), (runtime, step, run.output[-3000:])
                runs[runtime].append(run)
                requests[runtime].append(requests_of(sb))
                state = run.final_state()

    for step, (ours, stock) in enumerate(zip(runs["ours"], runs["stock"])):
        assert records(stock) == records(ours), step
        assert comparable(stock.final_state()) == comparable(ours.final_state()), diff_of(
            comparable(stock.final_state()), comparable(ours.final_state()))
        assert requests["stock"][step] == requests["ours"][step], step
    # records of the incremental streams: the full refresh streams (list stats, suppression list...) are read in full
    # by every sync
    incremental = {entry["stream"]["name"] for entry in catalog["streams"] if entry["sync_mode"] == "incremental"}
    full, unchanged, changed = (sum(len(r) for s, r in run.records_by_stream().items() if s in incremental)
                                for run in runs["ours"])
    assert full > 500
    assert unchanged < full / 5  # the incremental syncs read again only the lookback window
    assert runs["ours"][2].records("list_active_subscribers") or runs["ours"][2].records("campaign_opens")
