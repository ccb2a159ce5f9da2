"""What both connectors' command lines share: saved states checked as the CDK will read them, malloc settings."""

import pytest

from connector_common.malloc import tune_malloc
from connector_common.saved_state import cursor_formats, state_problem
from connector_common.saved_stream_state import drop_global_fallback
from source_campaign_monitor.run import SourceCampaignMonitor
from source_mailchimp.run import SourceMailchimp


def test_each_incremental_stream_is_checked_with_its_cursor_field_and_the_formats_the_cdk_parses_it_with():
    mailchimp = cursor_formats(SourceMailchimp().resolved_manifest)
    campaign_monitor = cursor_formats(SourceCampaignMonitor().resolved_manifest)
    assert mailchimp["list_members"] == (
        "last_changed",
        ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00"],
    )
    assert mailchimp["reports_email_activity"][0] == "timestamp"
    assert campaign_monitor["campaign_opens"] == ("Date", ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z"])
    assert campaign_monitor["campaigns"][0] == "SentDate"
    assert "lists" not in campaign_monitor and "campaign_summary" not in campaign_monitor  # full refresh only


SECONDS = ["%Y-%m-%dT%H:%M:%S%z"]


@pytest.mark.parametrize("value, accepted", [
    ("2024-03-01T10:00:00+00:00", True), ("2024-03-01T10:00:00+0000", True), ("2024-03-01T10:00:00Z", True),
    ("2024-03-01", False), ("2024-03-01T10:00:00", False), ("2024-03-01T10:00:00.500+00:00", False),
    ("yesterday", False), (1700000000, False), (None, False),
])
def test_a_cursor_is_accepted_only_if_the_cdk_will_parse_it(value, accepted):
    problem = state_problem({"Date": value}, "Date", SECONDS)
    assert (problem is None) is accepted
    if not accepted:
        assert repr(value) in problem


def test_per_partition_cursors_and_their_fallback_are_checked_and_unknown_keys_are_left_alone():
    good = {"partition": {"id": "a"}, "cursor": {"Date": "2024-03-01T10:00:00+0000"}}
    assert state_problem({"states": [good], "state": {"Date": "2024-03-01T10:00:00+0000"}}, "Date", SECONDS) is None
    assert "`states` is not a list" == state_problem({"states": {"a": 1}}, "Date", SECONDS)
    assert "not {partition, cursor}" in state_problem({"states": [{"partition": {}}]}, "Date", SECONDS)
    assert "'later'" in state_problem({"states": [good], "state": {"Date": "later"}}, "Date", SECONDS)
    assert state_problem({"a": {"Date": "2024-03-01"}}, "Date", SECONDS) is None  # an older per-list layout


def test_the_global_fallback_is_dropped_from_per_partition_states_only():
    per_partition = {"use_global_cursor": False, "state": {"Date": "x"}, "lookback_window": 3, "states": []}
    drop_global_fallback(per_partition)
    assert per_partition == {"use_global_cursor": False, "states": []}
    global_cursor = {"use_global_cursor": True, "state": {"Date": "x"}, "states": []}
    drop_global_fallback(global_cursor)
    assert global_cursor["state"] == {"Date": "x"}


def test_without_glibc_the_malloc_settings_are_skipped_quietly():
    assert tune_malloc(libc_name="libc-that-does-not-exist.so") is False


# ---- saved_stream_state


def test_a_stream_state_migration_hands_the_saved_state_unchanged_to_the_streams_partition_router():
    from types import SimpleNamespace

    from connector_common.saved_stream_state import KeepSavedStateForPartitionRouter, saved_stream_state

    config = {"credentials": {}}
    other_sync = {"credentials": {}}
    saved = {"states": [{"partition": {"campaign_id": "c1"}, "cursor": {"timestamp": "2024-01-01T00:00:00+00:00"}}],
             "parent_state": {"campaign_reports": {"c1": {"report": "[1]"}}}}
    keeper = KeepSavedStateForPartitionRouter(config=config, parameters={},
                                              declarative_stream=SimpleNamespace(name="reports_email_activity"))

    assert keeper.should_migrate(saved) is False  # nothing to migrate: the cursor gets the state as saved
    saved["states"].clear()  # the caller's copy changing afterwards changes nothing kept

    kept = saved_stream_state(config, "reports_email_activity")
    assert kept["states"][0]["partition"] == {"campaign_id": "c1"}
    assert kept["parent_state"] == {"campaign_reports": {"c1": {"report": "[1]"}}}
    assert saved_stream_state(config, "another_stream") == {}
    assert saved_stream_state(other_sync, "reports_email_activity") == {}  # per config, nothing process-wide
