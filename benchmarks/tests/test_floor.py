"""benchmarks/floor.py: which requests it replays, what it counts as records, and a replay against a sandbox."""

from __future__ import annotations

import io
from pathlib import Path

from benchmarks import floor
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox


def test_only_the_successful_gets_of_a_request_log_are_replayed(tmp_path: Path):
    log = tmp_path / "requests.log"
    log.write_text(
        "1.0\t1.1\tGET\t200\thttp://127.0.0.1:1/3.0/lists?count=1000\n"
        "1.0\t1.1\tGET\t429\thttp://127.0.0.1:1/3.0/lists?count=1000\n"
        "1.0\t1.1\tPOST\t200\thttp://127.0.0.1:1/3.0/batches\n"
        "1.0\t1.1\tGET\tConnectionError\thttp://127.0.0.1:1/3.0/campaigns\n"
    )

    assert floor.logged_gets(log) == ["http://127.0.0.1:1/3.0/lists?count=1000"]
    assert floor.on_sandbox("http://127.0.0.1:1/3.0/lists?count=1000", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/3.0/lists?count=1000"
    )


def test_records_are_the_objects_of_the_bodys_top_level_lists_or_of_a_bare_array():
    assert list(floor.records_of({"members": [{"id": 1}, {"id": 2}], "total_items": 2, "_links": [{"rel": "self"}]})) == [
        {"id": 1}, {"id": 2}
    ]
    assert list(floor.records_of([{"EmailAddress": "a@example.com"}])) == [{"EmailAddress": "a@example.com"}]
    assert list(floor.records_of({"Results": [], "TotalNumberOfRecords": 0})) == []


def test_a_replay_reads_every_record_of_the_pages_it_is_given():
    with MailchimpSandbox(scale=0.02, seed=0) as sb:
        list_ids = [l["id"] for l in sb.data["lists"]]
        urls = [f"{sb.url}/3.0/lists?count=1000"] + [f"{sb.url}/3.0/lists/{i}/members?count=1000" for i in list_ids]
        out = io.BytesIO()

        replayed = floor.replay(urls, floor.auth_for("mailchimp", {"api_key": sb.api_key}), 3, out)

    members = sum(len(members) for members in sb.data["members"].values())
    assert replayed["requests"] == len(urls)
    assert replayed["records"] == len(list_ids) + members - sum(
        1 for ms in sb.data["members"].values() for m in ms if m["status"] == "archived"
    )
    assert out.getvalue().count(b'{"type":"RECORD"') == replayed["records"]


def test_campaign_monitor_takes_the_api_key_as_the_basic_auth_user():
    with CampaignMonitorSandbox(scale=0.02, seed=0) as sb:
        replayed = floor.replay([f"{sb.url}/api/v3.3/clients.json"], floor.auth_for("campaign_monitor", {"api_key": sb.api_key}),
                                1, io.BytesIO())

    assert replayed["requests"] == 1 and replayed["records"] == len(sb.data["clients"])
