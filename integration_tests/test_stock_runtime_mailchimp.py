"""source_mailchimp/manifest.yaml and components.py on Airbyte's stock runtime (airbyte-cdk's source-declarative-manifest
with the components injected, as Airbyte Cloud and the Connector Builder run them, where no package of this repository
exists) give what our packaged command gives against the sandbox: the same records, final states and requests, in a
full sync, an incremental sync, and an incremental sync after a day of changes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import SourceRun, configured_catalog, run_source
from integration_tests.stock_runtime import StockRuntimeUnavailable, ensure_stock_runtime, run_stock
from sandbox.mailchimp import MailchimpSandbox

FOLDER = Path(__file__).resolve().parents[1] / "source_mailchimp"
SCALE = 0.05


@pytest.fixture(scope="module")
def stock_runtime() -> None:
    try:
        ensure_stock_runtime()
    except StockRuntimeUnavailable as unavailable:
        pytest.skip(f"the package registry is unreachable, airbyte-cdk cannot be installed: {unavailable}")


def records(run: SourceRun) -> dict[str, Counter]:
    return {stream: Counter(json.dumps(r, sort_keys=True) for r in rows) for stream, rows in run.records_by_stream().items()}


def comparable(state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The final state, without the moments a sync notes of itself (when it first saw a campaign's report)."""
    text = json.dumps(sorted(state, key=lambda m: m["stream"]["stream_descriptor"]["name"]), sort_keys=True)
    loaded = json.loads(text)
    for message in loaded:
        reports = message["stream"]["stream_state"].get("parent_state", {}).get("campaign_reports", {})
        for entry in reports.values():
            if "unsettled_since" in entry:
                entry["unsettled_since"] = "noted"
        message["stream"]["stream_state"].pop("lookback_window", None)  # the duration of the sync, in seconds
        message.pop("sourceStats", None)  # records since the previous state message: ours emits states more often
    return loaded


def requests_of(sb: MailchimpSandbox) -> Counter:
    return Counter((r.path, tuple(sorted(r.query.items()))) for r in sb.server.requests("/3.0/"))


def test_the_stock_runtime_reads_what_our_command_reads_in_full_and_incremental_syncs(stock_runtime, tmp_path):
    runs: dict[str, list[SourceRun]] = {"ours": [], "stock": []}
    requests: dict[str, list[Counter]] = {"ours": [], "stock": []}
    for runtime in ("ours", "stock"):
        with MailchimpSandbox(scale=SCALE, seed=3) as sb:
            config = {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url}
            discovered = run_source("source-mailchimp", "discover", tmp_path, config=config).catalog()
            catalog = configured_catalog(discovered, sync_mode="incremental")
            state = None
            for step in ("full", "incremental", "after a day of changes"):
                if step == "after a day of changes":
                    sb.mutate()
                sb.server.reset_log()
                if runtime == "ours":
                    run = run_source("source-mailchimp", "read", tmp_path, config=config, catalog=catalog, state=state)
                else:
                    run = run_stock(FOLDER / "manifest.yaml", FOLDER / "components.py", "read", tmp_path,
                                    config=config, catalog=catalog, state=state)
                assert run.returncode == 0 and not run.errors(), (runtime, step, run.output[-3000:])
                runs[runtime].append(run)
                requests[runtime].append(requests_of(sb))
                state = run.final_state()

    for step, (ours, stock) in enumerate(zip(runs["ours"], runs["stock"])):
        assert records(stock) == records(ours), step
        assert comparable(stock.final_state()) == comparable(ours.final_state()), diff_of(comparable(stock.final_state()), comparable(ours.final_state()))
        assert requests["stock"][step] == requests["ours"][step], step
    assert sum(len(r) for r in runs["ours"][0].records_by_stream().values()) > 900
    assert runs["ours"][2].records("list_members")  # the last sync read changes


def diff_of(a, b):
    import difflib
    return "\n".join(difflib.unified_diff(json.dumps(a, indent=1, sort_keys=True).splitlines(),
                                          json.dumps(b, indent=1, sort_keys=True).splitlines(), lineterm="", n=1))
