"""The benchmark's bookkeeping (bound, correctness check, catalogs, ground truth) and a small end-to-end run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.peers import CONNECTORS, PEERS, airbyte_catalog, singer_catalog
from benchmarks.truth import campaign_monitor_counts, mailchimp_counts, truth_counts


def result(**overrides) -> run.RunResult:
    values = dict(connector="ours-mailchimp", api="mailchimp", label="latency", scale=1.0, latency=0.05,
                  item_latency=0.0, streams=["lists", "list_members"], returncode=0, wall=1.0, cpu=1.0, peak_rss=1,
                  records={"lists": 2, "list_members": 10}, requests=12, outcomes={"200": 10, "429": 1, "503": 1},
                  max_in_flight=10, sandbox_requests=12, truth={"lists": 2, "list_members": 10})
    values.update(overrides)
    return run.RunResult(**values)


def test_lower_bound_is_whole_waves_of_requests_times_latency_plus_the_items_cost_spread_over_the_connections():
    assert run.lower_bound(298, 10, 0.05) == pytest.approx(30 * 0.05)
    assert run.lower_bound(10, 10, 0.05) == pytest.approx(0.05)
    assert run.lower_bound(1000, 10, 0.05, items=100_000, item_latency=0.00002) == pytest.approx(5.0 + 0.2)
    assert run.lower_bound(0, 10, 0.05) == 0


def test_requests_refused_for_overload_or_failed_by_the_server_are_not_work_the_sync_needs():
    assert result().useful_requests == 10


def test_a_stream_whose_record_count_differs_from_the_sandbox_is_reported_with_both_counts():
    assert result().mismatches() == {}
    assert result(records={"lists": 2, "list_members": 9}).mismatches() == {"list_members": (9, 10)}
    assert result(records={"lists": 2}).mismatches() == {"list_members": (0, 10)}


def test_singer_catalog_selects_the_streams_and_every_field_even_without_a_root_metadata_entry():
    discovered = {"streams": [
        {"tap_stream_id": "lists", "metadata": [{"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
                                                {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}}]},
        {"tap_stream_id": "automations", "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "available"}}]},
    ]}
    catalog = singer_catalog(discovered, ["lists"])
    lists, automations = catalog["streams"]
    assert {tuple(m["breadcrumb"]): m["metadata"].get("selected") for m in lists["metadata"]} == {
        (): True, ("properties", "id"): True, ("properties", "name"): True}
    assert automations["metadata"][0]["metadata"]["selected"] is False


def test_airbyte_catalog_uses_incremental_only_where_a_stream_supports_it():
    discovered = {"streams": [
        {"name": "lists", "supported_sync_modes": ["full_refresh"], "source_defined_primary_key": [["id"]]},
        {"name": "list_members", "supported_sync_modes": ["full_refresh", "incremental"],
         "default_cursor_field": ["last_changed"]},
        {"name": "tags", "supported_sync_modes": ["full_refresh"]},
    ]}
    catalog = airbyte_catalog(discovered, ["lists", "list_members"], "incremental")
    assert [(s["stream"]["name"], s["sync_mode"], s.get("cursor_field")) for s in catalog["streams"]] == [
        ("lists", "full_refresh", None), ("list_members", "incremental", ["last_changed"])]
    assert catalog["streams"][0]["primary_key"] == [["id"]]


def test_mailchimp_truth_counts_one_email_activity_record_per_activity_item_and_every_member():
    data = {"lists": [{"id": "l"}], "members": {"l": [{"status": "archived"}, {"status": "subscribed"}]},
            "segments": {"l": [{"id": "s"}]}, "segment_members": {"s": [{}]}, "tags": {"l": []},
            "interest_categories": {"l": [{}]}, "interests": {"c": [{}, {}]}, "campaigns": [{}, {}],
            "automations": [], "reports": [{}],
            "email_activity": {"c1": [{"activity": [{}, {}]}, {"activity": []}]}, "unsubscribes": {"c1": [{}]},
            # the streams added later, empty here
            **{name: {} for name in ("sent_to", "automation_emails", "automation_queue", "automation_sent_to",
                                     "merge_fields", "growth_history", "list_activity", "click_details",
                                     "domain_performance", "automation_email_activity", "ecommerce_customers",
                                     "ecommerce_orders", "ecommerce_products", "ecommerce_carts",
                                     "ecommerce_promo_rules", "ecommerce_promo_codes")},
            "templates": [], "landing_pages": [], "ecommerce_stores": []}
    counts = mailchimp_counts(data)
    assert counts["list_members"] == 2
    assert counts["reports_email_activity"] == 2
    assert counts["interests"] == 2 and counts["campaigns"] == 2 and counts["tags"] == 0


def test_the_mailchimp_truth_counts_exactly_the_streams_the_connector_discovers():
    # A stream added to the manifest without its count here would be benchmarked unchecked.
    from integration_tests.discovered_streams import stream_names
    from sandbox.mailchimp import MailchimpSandbox

    with MailchimpSandbox(scale=0.01, seed=0) as sb:
        assert set(mailchimp_counts(sb.data)) == set(stream_names("mailchimp"))


def test_the_campaign_monitor_truth_counts_exactly_the_streams_the_connector_discovers():
    from integration_tests.discovered_streams import stream_names
    from sandbox.campaign_monitor import CampaignMonitorSandbox

    with CampaignMonitorSandbox(scale=0.01, seed=0) as sb:
        assert set(truth_counts("campaign_monitor", sb)) == set(stream_names("campaign_monitor"))


def test_campaign_monitor_truth_counts_only_the_configured_clients_data_and_subscribers_by_state():
    data = {"campaigns": {"c1": [{"CampaignID": "k1"}], "c2": [{"CampaignID": "k2"}]},
            "lists": {"c1": [{"ListID": "l1"}], "c2": [{"ListID": "l2"}]},
            "summary": {"k1": {}, "k2": {}}, "list_details": {"l1": {}, "l2": {}},
            "email_client_usage": {"k1": [{}, {}]}, "recipients": {"k1": [{}], "k2": [{}, {}]},
            "opens": {"k1": [{}, {}, {}], "k2": [{}]}, "clicks": {}, "bounces": {}, "unsubscribes": {}, "spam": {},
            "subscribers": {"l1": [{"State": "Active"}, {"State": "Deleted"}, {"State": "Active"}],
                            "l2": [{"State": "Active"}]}}
    counts = campaign_monitor_counts(data, "c1")
    assert counts["campaigns"] == 1 and counts["campaign_recipients"] == 1 and counts["campaign_opens"] == 3
    assert counts["list_active_subscribers"] == 2 and counts["list_deleted_subscribers"] == 1
    assert counts["campaign_email_client_usage"] == 2 and counts["list_details"] == 1


def test_the_peers_are_pinned_to_the_versions_the_issue_names():
    assert {p.key: p.requirements for p in PEERS} == {
        "airbyte-mailchimp": ["airbyte-source-mailchimp==2.0.37", "airbyte-cdk==6.61.6"],
        "tap-mailchimp": ["tap-mailchimp==1.3.3"],
        "tap-campaign-monitor": ["tap-campaign-monitor==1.1.0"],
    }


def test_markdown_table_has_a_header_separator_and_one_row_per_result():
    text = run.table(["a", "b"], [[1, 2], [3, 4]], markdown=True)
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |", "| 3 | 4 |"]


def small_run(tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    markdown, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    code = run.main(["--scale", "0.1", "--latency", "0.01", "--streams", "lists", "list_members", "--runs", "latency",
                     "--markdown", str(markdown), "--json", str(raw), "--workdir", str(tmp_path / "work"), *extra])
    return code, markdown.read_text(), json.loads(raw.read_text())


def test_a_small_run_of_our_mailchimp_connector_matches_the_sandbox_and_writes_markdown(tmp_path: Path):
    if not Path(sys.executable).with_name("source-mailchimp").exists():
        pytest.skip("source-mailchimp is not installed")
    code, markdown, raw = small_run(tmp_path, "--connectors", "ours-mailchimp", "--ours-only")
    (ours,) = raw["results"]
    assert ours["connector"] == "ours-mailchimp" and ours["returncode"] == 0
    assert ours["records"] == ours["truth"] and ours["truth"]["list_members"] > 0
    assert ours["requests"] >= 2 and ours["requests"] == ours["sandbox_requests"]
    assert code == 0
    assert "| ours-mailchimp | 2 |" in markdown
    assert "Correctness: every run of ours returned exactly the sandbox's record count" in markdown


def test_a_small_run_of_the_mailchimp_folder_on_the_stock_runtime_matches_the_sandbox(tmp_path: Path):
    from benchmarks.peers import CONNECTORS

    if not Path(CONNECTORS["ours-stock-mailchimp"].command()[0]).exists():
        pytest.skip("no .venv-stock: run scripts/stock_runtime_setup.sh")
    code, _, raw = small_run(tmp_path, "--connectors", "ours-stock-mailchimp", "--ours-only")
    (stock,) = raw["results"]
    assert stock["connector"] == "ours-stock-mailchimp" and stock["returncode"] == 0, raw["notes"]
    assert stock["records"] == stock["truth"] and stock["truth"]["list_members"] > 0
    assert stock["requests"] == stock["sandbox_requests"] >= 2
    assert code == 0


@pytest.mark.skipif(not CONNECTORS["tap-mailchimp"].installed(), reason="run `python benchmarks/run.py --install-peers`")
def test_a_small_run_of_tap_mailchimp_reaches_the_sandbox_through_the_router(tmp_path: Path):
    code, markdown, raw = small_run(tmp_path, "--connectors", "tap-mailchimp")
    tap = next(r for r in raw["results"] if r["connector"] == "tap-mailchimp")
    assert tap["returncode"] == 0
    assert tap["records"]["lists"] == tap_truth_lists(raw)
    assert tap["requests"] == tap["sandbox_requests"] > 0
    assert "ours-mailchimp / tap-mailchimp" in markdown


def tap_truth_lists(raw: dict) -> int:
    return next(r["truth"]["lists"] for r in raw["results"] if r["connector"] == "ours-mailchimp")


def test_ratios_are_marked_against_their_target_in_the_direction_the_issue_sets():
    assert run.fmt_ratio(0.2, 0.25) == "0.20x ok"
    assert run.fmt_ratio(0.3, 0.25) == "0.30x MISSED"
    assert run.fmt_ratio(1.2, 1.0, at_least=True) == "1.20x ok"
    assert run.fmt_ratio(0.8, 1.0, at_least=True) == "0.80x MISSED"
    assert run.fmt_ratio(None) == "-"


def test_profile_summary_ranks_functions_by_own_and_inclusive_share_of_samples(tmp_path: Path):
    stacks = tmp_path / "stacks.txt"
    stacks.write_text("main (a.py:1);read (b.py:10);parse (c.py:5) 6\n"
                      "main (a.py:1);read (b.py:12) 3\n"
                      "main (a.py:2);emit (d.py:7) 1\n")
    summary = run.profile_summary(stacks)
    assert "10 samples" in summary
    own, inclusive = summary.split("inclusive time:")
    assert own.splitlines()[1].split() == ["60.0%", "parse", "(c.py)"]
    assert inclusive.splitlines()[1].split() == ["100.0%", "main", "(a.py)"]
    assert "90.0%  read (b.py)" in inclusive


def test_the_incremental_check_reads_only_incremental_streams_and_counts_the_second_syncs_requests(tmp_path: Path):
    if not Path(sys.executable).with_name("source-mailchimp").exists():
        pytest.skip("source-mailchimp is not installed")
    raw_path = tmp_path / "bench.json"
    run.main(["--scale", "0.1", "--ours-only", "--connectors", "ours-mailchimp", "--runs", "incremental",
              "--streams", "lists", "list_members", "--json", str(raw_path), "--workdir", str(tmp_path / "work")])
    (check,) = json.loads(raw_path.read_text())["incremental"]
    assert check["connector"] == "ours-mailchimp" and check["ok"]
    assert check["streams"] == 1  # lists is full refresh only: left out
    assert check["bound"] == check["parents"] + 1 and check["parents"] > 0
    assert 0 < check["second_requests"] < check["first_requests"] + 1


def test_the_every_stream_run_reads_the_discovered_streams_together_and_each_alone(tmp_path: Path):
    if not Path(sys.executable).with_name("source-mailchimp").exists():
        pytest.skip("source-mailchimp is not installed")
    code, markdown, raw = small_run(tmp_path, "--connectors", "ours-mailchimp", "--ours-only", "--runs", "every-stream")
    together = [r for r in raw["results"] if r["label"] == "every-stream"]
    alone = {tuple(r["streams"]): r for r in raw["results"] if r["label"] == "one-stream"}
    assert [r["streams"] for r in together] == [["list_members", "lists"]]
    assert set(alone) == {("lists",), ("list_members",)}
    assert all(r["records"] == r["truth"] and r["requests"] > 0 for r in [*together, *alone.values()])
    assert code == 0
    assert "| ours-mailchimp: stream alone |" in markdown and "| list_members | " in markdown


def test_every_stream_the_peers_are_mapped_to_is_one_our_connectors_discover():
    from integration_tests.discovered_streams import stream_names

    for connector in CONNECTORS.values():
        assert set(connector.streams.values()) <= set(stream_names(connector.api)), connector.name
