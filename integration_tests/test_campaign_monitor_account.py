"""The account-object streams of `source-campaign-monitor` (clients, admins, people, segments, templates, tags, the
suppression list, draft and scheduled campaigns, lists' and campaigns' objects, journeys) against the sandbox.

Stream names, keys and cursors come from `discover`; the expected records from the sandbox's ground truth
(`sb.data` and what sandbox/campaign_monitor_account.py derives from it), converted as docs/campaign-monitor.md says.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from integration_tests.harness import configured_catalog, run_source
from sandbox.campaign_monitor import CampaignMonitorSandbox, zone_named

COMMAND = "source-campaign-monitor"
# the streams this file covers; every other discovered stream is test_campaign_monitor.py's
ORIGINAL = {
    "campaigns", "campaign_summary", "campaign_email_client_usage", "campaign_recipients", "campaign_bounces",
    "campaign_clicks", "campaign_opens", "campaign_spam_complaints", "campaign_unsubscribes", "lists", "list_details",
    "list_active_subscribers", "list_bounced_subscribers", "list_deleted_subscribers", "list_unconfirmed_subscribers",
    "list_unsubscribed_subscribers",
}
JOURNEY_REPORTS = {"journey_email_recipients": "recipients", "journey_email_opens": "opens",
                   "journey_email_clicks": "clicks", "journey_email_unsubscribes": "unsubscribes",
                   "journey_email_bounces": "bounces"}


def api_key_config(sb: CampaignMonitorSandbox, **extra: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "api_key", "api_key": sb.api_key}, "sandbox_url": sb.url, **extra}


def local_to_utc(zone_label: str, local: str) -> str:
    """A local date-time of one of Campaign Monitor's zone labels as ISO 8601 UTC."""
    naive = datetime.strptime(local, "%Y-%m-%d %H:%M:%S")
    return naive.replace(tzinfo=zone_named(zone_label)).astimezone(timezone.utc).isoformat()


def expected_records(sb: CampaignMonitorSandbox) -> dict[str, list[dict[str, Any]]]:
    """The sandbox's account objects as the connector must emit them."""
    d, objects, utc = sb.data, sb.app.objects, sb.to_utc
    out: dict[str, list[dict[str, Any]]] = {}

    def add(stream: str, record: dict[str, Any]) -> None:
        out.setdefault(stream, []).append(record)

    for client in d["clients"]:
        add("clients", dict(client))
    for admin in d["admins"]:
        add("admins", dict(admin))
    for client_id in sb.client_ids:
        details = d["client_details"][client_id]
        add("client_details", {**details["BasicDetails"], "AccessDetails": details["AccessDetails"],
                               "BillingDetails": details["BillingDetails"]})
        for stream, records in (("people", d["people"][client_id]), ("templates", d["templates"][client_id]),
                                ("tags", objects.tags(client_id)), ("segments", d["segments"][client_id]),
                                ("journeys", d["journeys"][client_id])):
            for record in records:
                add(stream, {**record, "ClientID": client_id})
        for record in d["suppression_list"][client_id]:
            add("suppression_list", {**record, "ClientID": client_id, "Date": utc(client_id, record["Date"])})
        for record in d["drafts"][client_id]:
            add("draft_campaigns", {**record, "ClientID": client_id, "DateCreated": utc(client_id, record["DateCreated"])})
        for record in d["scheduled"][client_id]:
            add("scheduled_campaigns", {**record, "ClientID": client_id,
                                        "DateCreated": utc(client_id, record["DateCreated"]),
                                        "DateScheduled": local_to_utc(record["ScheduledTimeZone"], record["DateScheduled"])})
        for campaign in d["campaigns"][client_id]:
            cid = campaign["CampaignID"]
            add("campaign_lists_and_segments", {**objects.campaign_lists_and_segments(cid), "CampaignID": cid})
        for item in d["lists"][client_id]:
            lid = item["ListID"]
            for record in d["list_custom_fields"][lid]:
                add("list_custom_fields", {**record, "ListID": lid})
            add("list_stats", {**objects.list_stats(lid), "ListID": lid})
            for record in d["list_webhooks"][lid]:
                add("list_webhooks", {**record, "ListID": lid})
        for segment in d["segments"][client_id]:
            sid, lid = segment["SegmentID"], segment["ListID"]
            members = objects.segment_members(sid, lid)
            add("segment_details", {"ActiveSubscribers": len(members), "RuleGroups": d["segment_rules"][sid],
                                    "ListID": lid, "SegmentID": sid, "Title": segment["Title"]})
            for member in members:
                record = {k: v for k, v in member.items() if k != "ReadsEmailWith"}
                add("segment_active_subscribers", {
                    **record, "SegmentID": sid, "ListID": lid, "Date": utc(lid, member["Date"]),
                    "ListJoinedDate": utc(lid, member["ListJoinedDate"]),
                    "ConsentToTrack": d["consent_to_track"][lid][member["EmailAddress"]]})
        for journey in d["journeys"][client_id]:
            jid = journey["JourneyID"]
            for email in objects.journey_summary(jid)["Emails"]:
                eid = email["EmailID"]
                add("journey_emails", {**email, "JourneyID": jid})
                for stream, kind in JOURNEY_REPORTS.items():
                    seen: Counter = Counter()
                    for event in d[f"journey_{kind}"][eid]:
                        if kind == "recipients":
                            add(stream, {**event, "EmailID": eid, "SentDate": utc(client_id, event["SentDate"])})
                            continue
                        group = (event["EmailAddress"], event["Date"], event.get("URL"))
                        add(stream, {**event, "EmailID": eid, "Date": utc(client_id, event["Date"]),
                                     "Occurrence": seen[group]})
                        seen[group] += 1
    tx = sb.app.transactional
    for client_id in sorted(tx.enabled):
        for item in d["tx_smart_emails"][client_id]:
            details = d["tx_smart_email_details"][item["ID"]]
            add("transactional_smart_emails", {
                **item, "ClientID": client_id, "CreatedAt": iso_utc(item["CreatedAt"]),
                "Properties": details["Properties"], "AddRecipientsToList": details["AddRecipientsToList"]})
        for message in d["tx_messages"][client_id]:
            add("transactional_messages", {**message, "ClientID": client_id, "SentAt": iso_utc(message["SentAt"])})
        last = sb.now.astimezone(sb.zone(sb.client_ids[0])).date()  # GET /systemdate.json: the account's date
        for n in range(30):
            day = (last - timedelta(days=29 - n)).isoformat()
            sent = [m for m in d["tx_messages"][client_id] if iso_utc(m["SentAt"])[:10] == day]
            add("transactional_statistics", {
                "ClientID": client_id, "Date": day, "Query": {"From": day, "To": day, "TimeZone": "UTC"},
                "Sent": len(sent), "Bounces": sum(m["Status"] == "Bounced" for m in sent),
                "Delivered": sum(m["Status"] == "Delivered" for m in sent),
                "Opened": sum(m["TotalOpens"] > 0 for m in sent), "Clicked": sum(m["TotalClicks"] > 0 for m in sent)})
    return out


def iso_utc(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(timezone.utc).isoformat()


def canonical(records: list[dict[str, Any]]) -> Counter:
    return Counter(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in records)


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
def account_streams(catalog) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in catalog["streams"] if s["name"] not in ORIGINAL}


@pytest.fixture(scope="module")
def full_read(sandbox, catalog, account_streams, tmp_path_factory):
    sandbox.server.reset_log()
    run = run_source(COMMAND, "read", tmp_path_factory.mktemp("read"), config=api_key_config(sandbox),
                     catalog=configured_catalog(catalog, list(account_streams), sync_mode="incremental"))
    assert run.returncode == 0, run.output[-3000:]
    return run


def key_of(stream: dict[str, Any], record: dict[str, Any]) -> tuple:
    return tuple(record.get(path[0]) for path in stream["source_defined_primary_key"])


def test_full_read_equals_the_sandbox_data_record_for_record(sandbox, account_streams, full_read):
    expected = expected_records(sandbox)
    got = full_read.records_by_stream()
    assert set(expected) == set(account_streams), "a stream without expected records proves nothing"
    for name in account_streams:
        assert canonical(got.get(name, [])) == canonical(expected[name]), name


def test_every_primary_key_is_unique_and_complete(account_streams, full_read):
    got = full_read.records_by_stream()
    for name, stream in account_streams.items():
        keys = [key_of(stream, r) for r in got[name]]
        assert all(None not in key for key in keys), name
        assert len(set(keys)) == len(keys), name


def test_parents_are_listed_once_for_their_stream_and_once_for_all_their_children(sandbox, full_read):
    """segments (parent of segment_details and segment_active_subscribers), journeys (of journey_emails) and each
    journey's summary (journey_emails, parent of the five reports): one read for the stream, one shared by the
    children, whatever their number. A journey without emails costs its two summary reads and nothing else."""
    paths = Counter(r.path for r in sandbox.server.requests("/api/v3.3/"))
    for client_id in sandbox.client_ids:
        assert paths[f"/api/v3.3/clients/{client_id}/segments.json"] == 2
        assert paths[f"/api/v3.3/clients/{client_id}/journeys.json"] == 2
        assert paths[f"/api/v3.3/clients/{client_id}/lists.json"] == 1  # no lists stream in this read: children only
    summaries = sandbox.data["journey_summary"]
    assert any(not s["Emails"] for s in summaries.values())
    for journey_id in summaries:
        assert paths[f"/api/v3.3/journeys/{journey_id}.json"] == 2
    emails = {e["EmailID"] for s in summaries.values() for e in s["Emails"]}
    for email_id in emails:  # each report asked once per email (one page at this scale)
        for kind in JOURNEY_REPORTS.values():
            assert paths[f"/api/v3.3/journeys/email/{email_id}/{kind}.json"] == 1


def test_an_empty_suppression_list_is_one_request_and_no_record(sandbox, full_read):
    second = sandbox.client_ids[1]
    assert sandbox.data["suppression_list"][second] == []
    assert not [r for r in full_read.records("suppression_list") if r["ClientID"] == second]
    asked = [r for r in sandbox.server.requests(f"/api/v3.3/clients/{second}/suppressionlist.json")]
    assert len(asked) == 1 and asked[0].query["pagesize"] == "1000"


def test_journey_reports_send_the_date_filter_in_client_local_time_without_orderfield(sandbox, full_read):
    asked = [r for r in sandbox.server.requests("/api/v3.3/journeys/email/")]
    assert asked
    sydney = sandbox.client_ids[0]
    for request in asked:
        assert "orderfield" not in request.query and request.query["orderdirection"] == "asc"
        owner = sandbox.app.objects.owner(request.path.split("/")[5])
        # no start_date: 2000-01-01T00:00Z in the client's local time (Sydney +11 in January)
        if owner == sydney:
            assert request.query["date"] == "2000-01-01 11:00"


def test_scheduled_campaigns_take_date_scheduled_in_their_own_time_zone(tmp_path, catalog):
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sb:
        scheduled = sb.data["scheduled"][sb.client_ids[0]][0]
        scheduled["ScheduledTimeZone"] = "(GMT+09:00) Osaka, Sapporo, Tokyo"  # not the client's Sydney
        scheduled["DateScheduled"] = "2024-11-25 09:30:00"
        run = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb),
                         catalog=configured_catalog(catalog, ["scheduled_campaigns"]))
        assert run.returncode == 0, run.output[-2000:]
        (record,) = [r for r in run.records("scheduled_campaigns") if r["CampaignID"] == scheduled["CampaignID"]]
        assert record["DateScheduled"] == "2024-11-25T00:30:00+00:00"
        assert record["DateCreated"] == sb.to_utc(sb.client_ids[0], scheduled["DateCreated"])


def test_a_client_api_key_skips_admins_with_one_warning_and_reads_the_rest(tmp_path, catalog):
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sb:
        client_id = sb.client_ids[1]
        key = sb.data["client_details"][client_id]["ApiKey"]
        config = {"credentials": {"auth_type": "api_key", "api_key": key}, "sandbox_url": sb.url,
                  "api_client_id": client_id}
        run = run_source(COMMAND, "read", tmp_path, config=config,
                         catalog=configured_catalog(catalog, ["admins", "clients", "people", "tags"]))
        assert run.returncode == 0, run.output[-2000:]
        assert not run.errors()
        assert run.records("admins") == []
        warnings = [line for line in run.logs("WARN") if "admins" in line]
        assert len(warnings) == 1 and "Skipped admins" in warnings[0], warnings
        assert [r["ClientID"] for r in run.records("clients")] == [client_id]
        assert {r["ClientID"] for r in run.records("people")} == {client_id}
        assert run.records("tags")


def test_incremental_journey_and_segment_reads_resume_per_partition(tmp_path, catalog):
    streams = ["journey_email_opens", "journey_email_recipients", "segment_active_subscribers"]
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sb:
        configured = configured_catalog(catalog, streams, sync_mode="incremental")
        first = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        assert first.returncode == 0, first.output[-2000:]
        # an open logged after the first sync, repeating the newest one of a journey email (same minute)
        client_id = sb.client_ids[0]
        email_id = next(e["EmailID"] for j in sb.data["journeys"][client_id]
                        for e in sb.data["journey_summary"][j["JourneyID"]]["Emails"])
        opens = sb.data["journey_opens"][email_id]
        opens.append(dict(opens[-1]))
        sb.server.reset_log()
        second = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                            state=first.final_state())
        assert second.returncode == 0, second.output[-2000:]
        first_keys = {(r["EmailID"], r["EmailAddress"], r["Date"], r["Occurrence"]) for r in first.records("journey_email_opens")}
        new = [r for r in second.records("journey_email_opens")
               if (r["EmailID"], r["EmailAddress"], r["Date"], r["Occurrence"]) not in first_keys]
        assert [(r["EmailID"], r["Date"]) for r in new] == [(email_id, sb.to_utc(client_id, opens[-1]["Date"]))]
        assert len(second.records("journey_email_opens")) < len(first.records("journey_email_opens"))
        # every partition the first sync read records of is asked from its own saved cursor, not from the start
        read = {(r["EmailID"]) for r in first.records("journey_email_opens")} | {
            r["EmailID"] for r in first.records("journey_email_recipients")} | {
            r["SegmentID"] for r in first.records("segment_active_subscribers")}
        asked = [r for r in sb.server.requests("/api/v3.3/journeys/email/") if r.path.split("/")[5] in read]
        asked += [r for r in sb.server.requests("/api/v3.3/segments/")
                  if r.path.endswith("/active.json") and r.path.split("/")[4] in read]
        assert asked and all(r.query["date"] > "2001" for r in asked)


def test_a_client_without_transactional_email_skips_the_three_streams_with_one_warning_each(full_read, sandbox):
    refused = [c for c in sandbox.client_ids if c not in sandbox.app.transactional.enabled]
    assert refused
    for stream in ("transactional_smart_emails", "transactional_messages", "transactional_statistics"):
        warnings = [line for line in full_read.logs("WARN") if line.startswith(f"Skipped {stream}:")]
        assert len(warnings) == 1, (stream, warnings)
        assert not [r for r in full_read.records(stream) if r["ClientID"] in refused]
    assert not full_read.errors()


def test_the_transactional_timeline_is_paged_back_and_a_growing_timeline_loses_or_repeats_nothing(tmp_path, catalog):
    with CampaignMonitorSandbox(scale=1.0, seed=3) as sb:
        client_id = sorted(sb.app.transactional.enabled)[0]
        before = [m["MessageID"] for m in sb.data["tx_messages"][client_id]]
        assert len(before) > 400  # three pages of 200
        sb.app.transactional.grow_per_page = 2  # two messages sent while each later page is read
        configured = configured_catalog(catalog, ["transactional_messages"], sync_mode="incremental")
        first = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured)
        assert first.returncode == 0, first.output[-2000:]
        read = [r["MessageID"] for r in first.records("transactional_messages")]
        assert sorted(read) == sorted(before)  # each message once, none of those sent during the read
        pages = [r for r in sb.server.requests("/api/v3.3/transactional/messages") if r.query["clientID"] == client_id]
        assert len(pages) == len(before) // 200 + 1 and all(r.query["count"] == "200" for r in pages)
        assert [bool(r.query.get("sentBeforeID")) for r in pages] == [False] + [True] * (len(pages) - 1)
        sent_during = [m["MessageID"] for m in sb.data["tx_messages"][client_id]][len(before):]
        assert sent_during
        sb.app.transactional.grow_per_page = 0
        sb.server.reset_log()
        second = run_source(COMMAND, "read", tmp_path, config=api_key_config(sb), catalog=configured,
                            state=first.final_state())
        assert second.returncode == 0, second.output[-2000:]
        again = {r["MessageID"] for r in second.records("transactional_messages")}
        assert set(sent_during) <= again and len(again) < 50  # the new ones, and the lookback window's
        assert len([r for r in sb.server.requests("/api/v3.3/transactional/messages")
                    if r.query["clientID"] == client_id]) == 1


def test_account_level_streams_read_with_oauth_as_with_the_account_api_key(tmp_path, catalog):
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sb:
        config = {"credentials": {"auth_type": "oauth2.0", "client_id": sb.oauth["client_id"],
                                  "client_secret": sb.oauth["client_secret"],
                                  "refresh_token": sb.oauth["refresh_token"]}, "sandbox_url": sb.url}
        run = run_source(COMMAND, "read", tmp_path, config=config,
                         catalog=configured_catalog(catalog, ["admins", "clients"]))
        assert run.returncode == 0, run.output[-2000:]
        assert canonical(run.records("admins")) == canonical(sb.data["admins"])
        assert canonical(run.records("clients")) == canonical(sb.data["clients"])
        assert not [line for line in run.logs("WARN") if "Skipped" in line]
