"""The Campaign Monitor sandbox's account objects (sandbox/campaign_monitor_account.py) behave as the official
clients and their recorded bodies (createsend-python test/fixtures, createsend-php docblocks) show: the keys, in order,
and value types of each body, paging, the `date` filter, ordering, refusals, and the edge cases (a journey without
emails, an empty suppression list, a timeline growing during a read), deterministically at any scale."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from sandbox.campaign_monitor import CampaignMonitorSandbox

V3 = "/api/v3.3"
# keys in order, as createsend-python's fixtures print them (file name in the comment)
KEYS = {
    "admins.json": ["EmailAddress", "Name", "Status"],  # administrators.json
    "people": ["EmailAddress", "Name", "Status", "AccessLevel"],  # people.json
    "segments": ["ListID", "SegmentID", "Title"],  # segments.json
    "templates": ["TemplateID", "Name", "PreviewURL", "ScreenshotURL"],  # templates.json
    "tags": ["Name", "NumberOfCampaigns"],  # tags.json
    "journeys": ["ListID", "JourneyID", "Name", "Status"],  # client_journeys.json
}


@pytest.fixture(scope="module")
def sb():
    with CampaignMonitorSandbox(scale=1.0, seed=0) as sandbox:
        yield sandbox


def get(sb, path, key=None, **query):
    return requests.get(sb.url + V3 + path, auth=(key or sb.api_key, "x"), params=query, timeout=30)


def test_listings_have_the_published_keys_in_order(sb):
    client = sb.client_ids[0]
    assert [list(a) for a in get(sb, "/admins.json").json()] == [KEYS["admins.json"]] * 3
    for name in ("people", "segments", "templates", "tags", "journeys"):
        body = get(sb, f"/clients/{client}/{name}.json").json()
        assert body and all(list(item) == KEYS[name] for item in body), name
    assert all(isinstance(t["NumberOfCampaigns"], int) for t in get(sb, f"/clients/{client}/tags.json").json())


def test_tags_count_the_campaigns_drafts_and_scheduled_campaigns_carrying_them(sb):
    client = sb.client_ids[0]
    counted = Counter(tag for name in ("campaigns", "drafts", "scheduled")
                      for c in sb.data[name][client] for tag in c.get("Tags") or [])
    assert {t["Name"]: t["NumberOfCampaigns"] for t in get(sb, f"/clients/{client}/tags.json").json()} == counted


def test_the_suppression_list_is_paged_and_the_second_client_has_an_empty_one(sb):
    first, second = sb.client_ids
    page1 = get(sb, f"/clients/{first}/suppressionlist.json").json()
    assert list(page1) == ["Results", "ResultsOrderedBy", "OrderDirection", "PageNumber", "PageSize",
                           "RecordsOnThisPage", "TotalNumberOfRecords", "NumberOfPages"]
    assert (page1["TotalNumberOfRecords"], page1["NumberOfPages"], page1["RecordsOnThisPage"]) == (1500, 2, 1000)
    assert list(page1["Results"][0]) == ["SuppressionReason", "EmailAddress", "Date", "State"]
    page2 = get(sb, f"/clients/{first}/suppressionlist.json", page=2).json()
    emails = [r["EmailAddress"] for r in page1["Results"] + page2["Results"]]
    assert len(set(emails)) == 1500 and emails == sorted(emails, key=str.lower)
    by_date = get(sb, f"/clients/{first}/suppressionlist.json", orderfield="date", orderdirection="desc").json()
    dates = [r["Date"] for r in by_date["Results"]]
    assert dates == sorted(dates, reverse=True)
    empty = get(sb, f"/clients/{second}/suppressionlist.json").json()
    assert (empty["Results"], empty["TotalNumberOfRecords"], empty["NumberOfPages"]) == ([], 0, 0)


def test_admins_refuse_a_client_api_key_and_foreign_objects_are_not_found(sb):
    first, second = sb.client_ids
    key = sb.data["client_details"][second]["ApiKey"]
    refused = get(sb, "/admins.json", key=key)
    assert refused.status_code == 401 and refused.json()["Code"] == 52
    segment = sb.data["segments"][first][0]["SegmentID"]
    assert get(sb, f"/segments/{segment}.json", key=key).status_code == 404
    assert get(sb, f"/segments/{segment}.json").status_code == 200
    assert get(sb, f"/clients/{first}/people.json", key=key).json()["Code"] == 102


def test_segment_subscribers_are_the_lists_active_ones_filtered_by_date_with_tracking_preference(sb):
    segment = sb.data["segments"][sb.client_ids[0]][0]
    details = get(sb, f"/segments/{segment['SegmentID']}.json").json()
    assert list(details) == ["ActiveSubscribers", "RuleGroups", "ListID", "SegmentID", "Title"]
    body = get(sb, f"/segments/{segment['SegmentID']}/active.json", orderfield="date",
               includetrackingpreference="true").json()
    assert body["TotalNumberOfRecords"] == details["ActiveSubscribers"] > 0
    results = body["Results"]
    assert all(r["State"] == "Active" and "ConsentToTrack" in r and "ReadsEmailWith" not in r for r in results)
    middle = sorted(r["Date"] for r in results)[len(results) // 2]
    since = get(sb, f"/segments/{segment['SegmentID']}/active.json", date=middle[:16]).json()["Results"]
    assert since and all(r["Date"] >= middle[:16] for r in since)
    assert get(sb, f"/segments/{segment['SegmentID']}/active.json", date="yesterday").json()["Code"] == 5


def test_a_journey_without_emails_and_journey_reports_paged_by_date(sb):
    summaries = [get(sb, f"/journeys/{j['JourneyID']}.json").json()
                 for c in sb.client_ids for j in sb.data["journeys"][c]]
    assert any(s["Emails"] == [] for s in summaries)
    assert all(list(s) == ["JourneyID", "Name", "TriggerType", "Status", "Emails"] for s in summaries)
    email = max((e for s in summaries for e in s["Emails"]), key=lambda e: e["Sent"])
    assert list(email) == ["EmailID", "Name", "Bounced", "Clicked", "Opened", "Sent", "UniqueOpened", "Unsubscribed"]
    first = get(sb, f"/journeys/email/{email['EmailID']}/recipients.json").json()
    assert first["NumberOfPages"] == 2 and first["ResultsOrderedBy"] == "SentDate" and first["OrderDirection"] == "ASC"
    second = get(sb, f"/journeys/email/{email['EmailID']}/recipients.json", page=2).json()
    sent = [(r["EmailAddress"], r["SentDate"]) for r in first["Results"] + second["Results"]]
    assert len(sent) == email["Sent"] == len(set(sent)) and [d for _, d in sent] == sorted(d for _, d in sent)
    assert len({e for e, _ in sent}) < len(sent)  # re-entries: one address sent the email twice
    opens = get(sb, f"/journeys/email/{email['EmailID']}/opens.json", orderdirection="desc").json()
    assert opens["OrderDirection"] == "DESC" and len(opens["Results"]) == email["Opened"]
    assert list(opens["Results"][0]) == ["EmailAddress", "Date", "IPAddress", "Latitude", "Longitude", "City",
                                         "Region", "CountryCode", "CountryName"]


def test_lists_and_segments_custom_fields_stats_and_webhooks(sb):
    client = sb.client_ids[0]
    lists = sb.data["lists"][client]
    campaign = sb.data["campaigns"][client][0]["CampaignID"]
    assert list(get(sb, f"/campaigns/{campaign}/listsandsegments.json").json()) == ["Lists", "Segments"]
    fields = get(sb, f"/lists/{lists[0]['ListID']}/customfields.json").json()
    assert list(fields[0]) == ["FieldName", "Key", "DataType", "FieldOptions", "VisibleInPreferenceCenter"]
    assert get(sb, f"/lists/{lists[-1]['ListID']}/customfields.json").json() == []
    stats = get(sb, f"/lists/{lists[0]['ListID']}/stats.json").json()
    assert len(stats) == 24 and all(isinstance(v, int) for v in stats.values())
    assert stats["TotalActiveSubscribers"] == sum(r["State"] == "Active" for r in sb.data["subscribers"][lists[0]["ListID"]])
    hooks = get(sb, f"/lists/{lists[0]['ListID']}/webhooks.json").json()
    assert hooks and list(hooks[0]) == ["WebhookID", "Events", "Url", "Status", "PayloadFormat"]


def test_the_transactional_timeline_is_newest_first_paged_back_and_can_grow(sb):
    tx, client = sb.app.transactional, sb.client_ids[0]
    first = get(sb, "/transactional/messages", clientID=client, count=200).json()
    assert len(first) == 200 and [m["SentAt"] for m in first] == sorted((m["SentAt"] for m in first), reverse=True)
    second = get(sb, "/transactional/messages", clientID=client, count=500, sentBeforeID=first[-1]["MessageID"]).json()
    assert len(second) == 200 and second[0]["SentAt"] <= first[-1]["SentAt"]  # count at most 200
    assert not {m["MessageID"] for m in first} & {m["MessageID"] for m in second}
    assert len(get(sb, "/transactional/messages", clientID=client).json()) == 50  # default count
    refused = get(sb, "/transactional/messages", clientID=sb.client_ids[1])
    assert refused.status_code == 400 and refused.json()["Code"] == 993
    before = len(sb.data["tx_messages"][client])
    tx.grow_per_page = 1
    try:
        get(sb, "/transactional/messages", clientID=client, sentBeforeID=first[-1]["MessageID"])
    finally:
        tx.grow_per_page = 0
    assert len(sb.data["tx_messages"][client]) == before + 1
    stats = get(sb, "/transactional/statistics", clientID=client, timezone="utc", **{"from": "2024-11-01", "to": "2024-11-19"}).json()
    assert list(stats) == ["Query", "Sent", "Bounces", "Delivered", "Opened", "Clicked"] and stats["Query"]["TimeZone"] == "UTC"
    from datetime import datetime, timezone
    days = [m for m in sb.data["tx_messages"][client]
            if "2024-11-01" <= datetime.fromisoformat(m["SentAt"]).astimezone(timezone.utc).date().isoformat() <= "2024-11-19"]
    assert (stats["Sent"], stats["Bounces"], stats["Delivered"]) == (
        len(days), sum(m["Status"] == "Bounced" for m in days), sum(m["Status"] == "Delivered" for m in days))
    smart = get(sb, "/transactional/smartEmail", clientID=client, status="all").json()
    assert list(smart[0]) == ["ID", "Name", "CreatedAt", "Status"]
    details = get(sb, f"/transactional/smartEmail/{smart[0]['ID']}").json()
    assert list(details) == ["SmartEmailID", "Name", "CreatedAt", "Status", "Properties", "AddRecipientsToList"]


def test_the_account_objects_are_deterministic_and_scale(sb):
    one, again = CampaignMonitorSandbox(scale=1.0, seed=0), CampaignMonitorSandbox(scale=1.0, seed=0)
    for key in ("admins", "people", "segments", "suppression_list", "journeys", "journey_opens", "tx_messages"):
        assert one.data[key] == again.data[key], key
    assert CampaignMonitorSandbox(scale=1.0, seed=1).data["segments"] != one.data["segments"]
    small = CampaignMonitorSandbox(scale=0.1, seed=0)
    assert len(small.data["suppression_list"][small.client_ids[0]]) == 150
    assert sum(len(v) for v in small.data["journey_recipients"].values()) < sum(
        len(v) for v in sb.data["journey_recipients"].values())
