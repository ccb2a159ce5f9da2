"""Parent listings (the lists, the sent campaigns) are read once per sync, whatever the number of streams they
partition, and never shared between syncs or after a failed read."""

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.sources.types import StreamSlice

from connector_common.partitions import SharedParentPartitionRouter
from unit_tests.mailchimp.helpers import API, apikey_config, catalog, invoke, page

LIST_STREAMS = ["lists", "list_members", "list_segments", "list_segment_members", "tags", "interest_categories",
                "interests"]


def listing_requests(api, path):
    return [r for r in api.request_history if urlsplit(r.url).path == urlsplit(API + path).path]


def mock_two_lists(api):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}, {"id": "L2"}]))
    for list_id in ("L1", "L2"):
        api.get(API + f"lists/{list_id}/members", json=page("members", [
            {"id": f"m-{list_id}", "list_id": list_id, "status": "subscribed", "last_changed": "2024-01-01T00:00:00+00:00"}]))
        api.get(API + f"lists/{list_id}/segments", json=page("segments", [
            {"id": 1, "list_id": list_id, "updated_at": "2024-01-01T00:00:00+00:00"}]))
        api.get(API + f"lists/{list_id}/segments/1/members", json=page("members", [{"id": f"s-{list_id}"}]))
        api.get(API + f"lists/{list_id}/tag-search", json=page("tags", [{"id": 7, "name": "vip"}]))
        api.get(API + f"lists/{list_id}/interest-categories", json=page("categories", [{"id": f"c-{list_id}", "list_id": list_id}]))
        api.get(API + f"lists/{list_id}/interest-categories/c-{list_id}/interests", json=page("interests", [{"id": f"i-{list_id}"}]))


def test_one_sync_lists_the_lists_once_for_all_the_streams_partitioned_by_list(api, capsys, tmp_path):
    mock_two_lists(api)

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(LIST_STREAMS))

    assert out.exit_code == 0, out.text
    for stream, expected in (("list_members", 2), ("list_segment_members", 2), ("tags", 2), ("interests", 2)):
        assert len(out.records(stream)) == expected, stream
    lists_requests = listing_requests(api, "lists")
    id_listings = [r for r in lists_requests if "fields" in parse_qs(urlsplit(r.url).query)]
    # One for the `lists` stream's records, one id listing shared by the six child streams.
    assert len(lists_requests) == 2
    assert len(id_listings) == 1


def test_each_sync_lists_the_lists_again(api, capsys, tmp_path):
    mock_two_lists(api)

    invoke(capsys, tmp_path, "read", apikey_config(), catalog(["tags", "interest_categories"]))
    invoke(capsys, tmp_path, "read", apikey_config(), catalog(["tags", "interest_categories"]))

    assert len(listing_requests(api, "lists")) == 2


def report(campaign_id, unsubscribed):
    return {"id": campaign_id, "send_time": "2024-01-01T00:00:00+00:00", "unsubscribed": unsubscribed,
            "opens": {"last_open": "2024-01-02T00:00:00+00:00"}, "clicks": {"last_click": ""}}


def test_sent_campaigns_are_listed_once_for_email_activity_and_unsubscribes_and_campaigns_without_unsubscribes_are_skipped(
    api, capsys, tmp_path
):
    api.get(API + "reports", json=page("reports", [report("C1", 2), report("C2", 0)]))
    for campaign_id in ("C1", "C2"):
        api.get(API + f"reports/{campaign_id}/email-activity", json=page("emails", [
            {"campaign_id": campaign_id, "email_id": "e1", "activity": [{"action": "open", "timestamp": "2024-01-02T00:00:00+00:00"}]}]))
    api.get(API + "reports/C1/unsubscribed", json=page("unsubscribes", [{"campaign_id": "C1", "email_id": "e1"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["reports_email_activity", "unsubscribes"]))

    assert out.exit_code == 0, out.text
    assert len(listing_requests(api, "reports")) == 1
    assert len(out.records("reports_email_activity")) == 2
    assert out.records("unsubscribes") == [{"campaign_id": "C1", "email_id": "e1"}]
    assert listing_requests(api, "reports/C2/unsubscribed") == []


class Interpolated:
    def __init__(self, value):
        self.value = value

    def eval(self, config):
        return self.value


def router_over(config, parent_name="lists"):
    router = SharedParentPartitionRouter.__new__(SharedParentPartitionRouter)
    router.config = config
    router.parent_stream_configs = [SimpleNamespace(
        stream=SimpleNamespace(name=parent_name), parent_key=Interpolated("id"), partition_field=Interpolated("list_id"),
        extra_fields=None, incremental_dependency=False, lazy_read_pointer=None)]
    return router


def test_a_failed_parent_listing_is_not_kept_and_the_next_stream_lists_the_parent_itself(monkeypatch):
    reads = []

    def read_parent(self):
        reads.append(1)
        if len(reads) == 1:
            raise ConnectionError("cut")
        yield StreamSlice(partition={"list_id": "L1", "parent_slice": {}}, cursor_slice={})

    monkeypatch.setattr(
        "airbyte_cdk.sources.declarative.partition_routers.substream_partition_router.SubstreamPartitionRouter.stream_slices",
        read_parent,
    )
    config = {}
    with pytest.raises(ConnectionError):
        list(router_over(config).stream_slices())

    assert [s.partition["list_id"] for s in router_over(config).stream_slices()] == ["L1"]
    assert [s.partition["list_id"] for s in router_over(config).stream_slices()] == ["L1"]
    assert len(reads) == 2


def test_routers_over_different_parents_do_not_share(monkeypatch):
    monkeypatch.setattr(
        "airbyte_cdk.sources.declarative.partition_routers.substream_partition_router.SubstreamPartitionRouter.stream_slices",
        lambda self: iter([StreamSlice(partition={"list_id": self.parent_stream_configs[0].stream.name}, cursor_slice={})]),
    )
    config = {}

    assert [s.partition["list_id"] for s in router_over(config, "lists").stream_slices()] == ["lists"]
    assert [s.partition["list_id"] for s in router_over(config, "other").stream_slices()] == ["other"]
