"""The Mailchimp sandbox behaves as Mailchimp's Marketing API 3.0 documents the behaviour our connector relies on."""

from __future__ import annotations

import copy
import io
import json
import tarfile
import threading
from datetime import datetime, timedelta

import pytest
import requests

from sandbox.mailchimp import BOUNDARY, MailchimpSandbox, parse_time
from sandbox.server import FaultPlan

SCALE = 0.05


@pytest.fixture(scope="module")
def sb():
    with MailchimpSandbox(scale=SCALE, seed=3) as sandbox:
        yield sandbox


def get(sb, path, params=None, auth=None, headers=None):
    auth = auth if auth is not None else ("anystring", sb.api_key)
    return requests.get(sb.url + "/3.0" + path, params=params, auth=auth, headers=headers, timeout=10)


def first_list(sb):
    return sb.data["lists"][0]


def all_pages(sb, path, key, params=None, count=7):
    """Every item of a collection, read page by page until a short page."""
    items, offset = [], 0
    while True:
        body = get(sb, path, {**(params or {}), "count": count, "offset": offset}).json()
        items += body[key]
        if len(body[key]) < count:
            return items, body["total_items"]
        offset += count


def strip_links(item):
    return {k: v for k, v in item.items() if k != "_links"}


# --- paging -------------------------------------------------------------------------------------------------------


def test_collections_page_with_count_and_offset_and_report_total_items(sb):
    list_id = first_list(sb)["id"]
    visible = [m for m in sb.data["members"][list_id] if m["status"] != "archived"]
    items, total = all_pages(sb, f"/lists/{list_id}/members", "members")
    assert total == len(visible)
    assert [strip_links(m) for m in items] == visible


def test_count_defaults_to_ten(sb):
    body = get(sb, f"/lists/{first_list(sb)['id']}/members").json()
    assert len(body["members"]) == 10
    assert body["list_id"] == first_list(sb)["id"]


def test_count_above_1000_is_a_400_problem(sb):
    response = get(sb, "/lists", {"count": 1001})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert set(response.json()) == {"type", "title", "status", "detail", "instance"}
    assert get(sb, "/lists", {"count": 1000}).status_code == 200


def test_a_non_numeric_offset_is_a_400(sb):
    assert get(sb, "/campaigns", {"offset": "ten"}).status_code == 400


def test_lists_envelope_has_constraints_and_links(sb):
    body = get(sb, "/lists", {"count": 1000}).json()
    assert set(body) == {"lists", "total_items", "constraints", "_links"}
    assert body["total_items"] == len(sb.data["lists"]) == 4
    assert all(item["_links"] and {"rel", "href", "method"} <= set(item["_links"][0]) for item in body["lists"])


# --- fields / exclude_fields --------------------------------------------------------------------------------------


def test_fields_keeps_only_the_dotted_paths_asked_for(sb):
    body = get(sb, f"/lists/{first_list(sb)['id']}/members", {"fields": "members.id,members.location.country_code,total_items"}).json()
    assert set(body) == {"members", "total_items"}
    assert all(set(m) == {"id", "location"} and set(m["location"]) == {"country_code"} for m in body["members"])


def test_exclude_fields_drops_the_links_of_each_record_and_of_the_envelope(sb):
    body = get(sb, "/campaigns", {"exclude_fields": "campaigns._links,_links", "count": 1000}).json()
    assert "_links" not in body
    assert body["campaigns"] == sb.data["campaigns"]


# --- filters and sorting ------------------------------------------------------------------------------------------


def test_since_last_changed_is_exclusive_and_before_last_changed_inclusive(sb):
    list_id = first_list(sb)["id"]
    path = f"/lists/{list_id}/members"
    on_boundary = [m["id"] for m in sb.data["members"][list_id] if m["last_changed"] == BOUNDARY]
    assert on_boundary
    since = {m["id"] for m in all_pages(sb, path, "members", {"since_last_changed": BOUNDARY}, 1000)[0]}
    before = {m["id"] for m in all_pages(sb, path, "members", {"before_last_changed": BOUNDARY}, 1000)[0]}
    assert not since & set(on_boundary)
    assert set(on_boundary) <= before
    assert since | before == {m["id"] for m in sb.data["members"][list_id] if m["status"] != "archived"}


def test_filter_dates_are_compared_to_the_second_in_any_iso_form(sb):
    list_id = first_list(sb)["id"]
    path = f"/lists/{list_id}/members"
    expected = get(sb, path, {"since_last_changed": BOUNDARY, "count": 1000}).json()["members"]
    for form in ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000000Z", "2025-01-01T00:00:00.999+00:00",
                 "2025-01-01T00:00:00+0000", "2025-01-01"):
        assert get(sb, path, {"since_last_changed": form, "count": 1000}).json()["members"] == expected, form
    assert get(sb, path, {"since_last_changed": "yesterday-ish"}).status_code == 400


def test_archived_members_are_only_listed_when_asked_for_by_status(sb):
    list_id = first_list(sb)["id"]
    archived = [m for m in sb.data["members"][list_id] if m["status"] == "archived"]
    assert archived
    default = get(sb, f"/lists/{list_id}/members", {"count": 1000}).json()["members"]
    assert all(m["status"] != "archived" for m in default)
    asked = get(sb, f"/lists/{list_id}/members", {"count": 1000, "status": "archived"}).json()["members"]
    assert [strip_links(m) for m in asked] == archived
    assert {m["status"] for m in sb.data["members"][list_id]} == {
        "subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}


def test_members_sort_by_last_changed_ascending_and_descending(sb):
    list_id = first_list(sb)["id"]
    params = {"count": 1000, "sort_field": "last_changed", "fields": "members.last_changed"}
    ascending = [m["last_changed"] for m in get(sb, f"/lists/{list_id}/members", {**params, "sort_dir": "ASC"}).json()["members"]]
    descending = [m["last_changed"] for m in get(sb, f"/lists/{list_id}/members", {**params, "sort_dir": "DESC"}).json()["members"]]
    assert ascending == sorted(ascending) and descending == sorted(descending, reverse=True)
    assert len(ascending) > len(set(ascending)), "many members share a time stamp (a bulk import)"
    assert get(sb, f"/lists/{list_id}/members", {"sort_field": "email_address"}).status_code == 400


def test_sorting_by_equal_time_stamps_pages_without_gaps_or_repeats(sb):
    list_id = first_list(sb)["id"]
    params = {"sort_field": "last_changed", "sort_dir": "ASC"}
    items, _ = all_pages(sb, f"/lists/{list_id}/members", "members", params, count=3)
    ids = [m["id"] for m in items]
    assert len(ids) == len(set(ids)) == len([m for m in sb.data["members"][list_id] if m["status"] != "archived"])


def test_segments_filter_by_updated_at_and_type(sb):
    list_id = first_list(sb)["id"]
    segments = sb.data["segments"][list_id]
    after = get(sb, f"/lists/{list_id}/segments", {"since_updated_at": BOUNDARY, "count": 1000}).json()["segments"]
    assert [strip_links(s) for s in after] == [s for s in segments if s["updated_at"] > BOUNDARY]
    upto = get(sb, f"/lists/{list_id}/segments", {"before_created_at": BOUNDARY, "count": 1000}).json()["segments"]
    assert BOUNDARY in {s["created_at"] for s in upto}
    static = get(sb, f"/lists/{list_id}/segments", {"type": "static", "count": 1000}).json()["segments"]
    assert static and all(s["type"] == "static" for s in static)


def test_campaigns_filter_by_status_and_create_time_and_sort_by_send_time(sb):
    sent = get(sb, "/campaigns", {"status": "sent", "count": 1000}).json()["campaigns"]
    assert {c["status"] for c in sent} == {"sent"}
    assert len(sent) == sum(c["status"] == "sent" for c in sb.data["campaigns"])
    since = get(sb, "/campaigns", {"since_create_time": BOUNDARY, "count": 1000}).json()["campaigns"]
    before = get(sb, "/campaigns", {"before_create_time": BOUNDARY, "count": 1000}).json()["campaigns"]
    assert BOUNDARY not in {c["create_time"] for c in since} and BOUNDARY in {c["create_time"] for c in before}
    assert len(since) + len(before) == len(sb.data["campaigns"])
    by_send = get(sb, "/campaigns", {"status": "sent", "sort_field": "send_time", "sort_dir": "DESC", "count": 1000}).json()["campaigns"]
    assert [c["send_time"] for c in by_send] == sorted((c["send_time"] for c in sent), reverse=True)


def test_reports_list_only_sent_campaigns_and_filter_by_send_time(sb):
    reports = get(sb, "/reports", {"count": 1000}).json()["reports"]
    sent_ids = [c["id"] for c in sb.data["campaigns"] if c["status"] == "sent"]
    assert [r["id"] for r in reports] == sent_ids
    since = get(sb, "/reports", {"since_send_time": BOUNDARY, "count": 1000}).json()["reports"]
    assert all(r["send_time"] > BOUNDARY for r in since)


def test_automations_filter_by_create_time(sb):
    since = get(sb, "/automations", {"since_create_time": BOUNDARY}).json()
    before = get(sb, "/automations", {"before_create_time": BOUNDARY}).json()
    assert since["total_items"] + before["total_items"] == len(sb.data["automations"])
    assert BOUNDARY in {a["create_time"] for a in before["automations"]}


def test_email_activity_since_keeps_only_later_actions(sb):
    campaign = next(c for c in sb.data["campaigns"] if c["send_time"] == BOUNDARY)
    path = f"/reports/{campaign['id']}/email-activity"
    full, _ = all_pages(sb, path, "emails", count=1000)
    assert [strip_links(e) for e in full] == sb.data["email_activity"][campaign["id"]]
    later, _ = all_pages(sb, path, "emails", {"since": BOUNDARY}, count=1000)
    actions = [a for e in later for a in e["activity"]]
    assert actions and all(a["timestamp"] > BOUNDARY for a in actions)
    assert sum(a["timestamp"] == BOUNDARY for e in full for a in e["activity"]) >= 1
    email = later[0]
    assert set(email) == {"campaign_id", "list_id", "list_is_active", "email_id", "email_address", "activity", "_links"}


def test_a_draft_campaign_has_empty_activity_and_unsubscribes_and_no_report(sb):
    draft = next(c for c in sb.data["campaigns"] if c["status"] == "save")
    activity = get(sb, f"/reports/{draft['id']}/email-activity")
    assert activity.status_code == 200 and activity.json()["emails"] == [] and activity.json()["total_items"] == 0
    assert get(sb, f"/reports/{draft['id']}/unsubscribed").json()["unsubscribes"] == []
    assert get(sb, f"/reports/{draft['id']}").status_code == 404


def test_a_sent_campaign_without_tracking_lists_its_recipients_without_activity_and_empty_last_open(sb):
    campaign_id = sb.no_activity_campaign_id
    emails = get(sb, f"/reports/{campaign_id}/email-activity", {"count": 1000}).json()["emails"]
    assert emails and all(e["activity"] == [] for e in emails)
    assert get(sb, f"/reports/{campaign_id}/email-activity", {"since": "2000-01-01T00:00:00Z"}).json()["emails"] == []
    report = get(sb, f"/reports/{campaign_id}").json()
    assert report["opens"]["last_open"] == "" and report["clicks"]["last_click"] == ""


def test_segment_members_hide_unsubscribed_unless_included_and_use_nulls_for_empty_values(sb):
    list_id = first_list(sb)["id"]
    segment = next(s for s in sb.data["segments"][list_id]
                   if s["type"] == "saved" and sb.data["segment_members"][s["id"]])
    path = f"/lists/{list_id}/segments/{segment['id']}/members"
    default = get(sb, path, {"count": 1000}).json()["members"]
    assert [strip_links(m) for m in default] == sb.data["segment_members"][segment["id"]]
    assert {m["status"] for m in default} <= {"subscribed", "pending"}
    wider = get(sb, path, {"count": 1000, "include_unsubscribed": "true"}).json()["members"]
    assert len(wider) >= len(default)
    assert all(v is None or v != "" for m in default for v in m.values())


def test_tag_search_returns_the_lists_static_segments_by_name_prefix(sb):
    list_id = first_list(sb)["id"]
    body = get(sb, f"/lists/{list_id}/tag-search", {"count": 1000}).json()
    assert body["tags"] == sb.data["tags"][list_id]
    assert {t["id"] for t in body["tags"]} == {s["id"] for s in sb.data["segments"][list_id] if s["type"] == "static"}
    prefix = get(sb, f"/lists/{list_id}/tag-search", {"name": "vi"}).json()["tags"]
    assert [t["name"] for t in prefix] == ["VIP"]


def test_interest_categories_and_interests(sb):
    list_id = first_list(sb)["id"]
    body = get(sb, f"/lists/{list_id}/interest-categories").json()
    assert [strip_links(c) for c in body["categories"]] == sb.data["interest_categories"][list_id]
    category = body["categories"][0]
    interests = get(sb, f"/lists/{list_id}/interest-categories/{category['id']}/interests").json()
    assert interests["category_id"] == category["id"] and interests["list_id"] == list_id
    assert isinstance(interests["interests"][0]["subscriber_count"], str)


def test_the_empty_list_has_no_members(sb):
    body = get(sb, f"/lists/{sb.empty_list_id}/members").json()
    assert body["members"] == [] and body["total_items"] == 0


# --- auth and errors ----------------------------------------------------------------------------------------------


def test_basic_auth_accepts_any_user_name(sb):
    for user in ("anystring", "", "someone@example.com"):
        assert get(sb, "/", auth=(user, sb.api_key)).status_code == 200
    assert get(sb, "/ping").json() == {"health_status": "Everything's Chimpy!"}


def test_bearer_and_oauth_schemes_accept_the_access_token(sb):
    for scheme in ("Bearer", "OAuth"):
        headers = {"Authorization": f"{scheme} {sb.oauth['access_token']}"}
        assert requests.get(sb.url + "/3.0/lists", headers=headers, timeout=5).status_code == 200


def test_a_bad_key_a_wrong_data_center_or_no_key_is_a_401_problem(sb):
    for auth in (("x", "0" * 32 + "-us6"), ("x", sb.wrong_dc_api_key)):
        response = get(sb, "/lists", auth=auth)
        assert response.status_code == 401
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["title"] == "API Key Invalid"
    assert requests.get(sb.url + "/3.0/lists", timeout=5).status_code == 401
    bad_token = requests.get(sb.url + "/3.0/lists", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bad_token.status_code == 401


def test_a_disabled_account_is_a_403(sb):
    assert get(sb, "/lists", auth=("x", sb.disabled_api_key)).status_code == 403


def test_unknown_ids_are_404_problems(sb):
    for path in ("/lists/nope/members", "/lists/nope", "/reports/nope/email-activity", "/campaigns/nope",
                 f"/lists/{first_list(sb)['id']}/segments/1/members", "/no-such-endpoint"):
        response = get(sb, path)
        assert response.status_code == 404, path
        assert response.json()["title"] == "Resource Not Found"


def test_no_secret_is_echoed_in_errors(sb):
    response = get(sb, "/lists", auth=("x", sb.wrong_dc_api_key))
    assert sb.wrong_dc_api_key not in response.text


# --- OAuth at login.mailchimp.com ----------------------------------------------------------------------------------


def test_oauth_metadata_names_the_data_center_and_a_bad_token_gets_200_invalid_token(sb):
    good = requests.get(sb.url + "/oauth2/metadata", headers={"Authorization": f"OAuth {sb.oauth['access_token']}"},
                        timeout=5)
    assert good.status_code == 200 and good.json()["dc"] == "us6"
    assert good.json()["api_endpoint"] == "https://us6.api.mailchimp.com"
    bad = requests.get(sb.url + "/oauth2/metadata", headers={"Authorization": "OAuth wrong"}, timeout=5)
    assert bad.status_code == 200 and bad.json() == {"error": "invalid_token"}


def test_an_authorization_code_is_exchanged_once(sb):
    code = sb.new_authorization_code()
    form = {"grant_type": "authorization_code", "client_id": sb.oauth["client_id"],
            "client_secret": sb.oauth["client_secret"], "redirect_uri": sb.oauth["redirect_uri"], "code": code}
    first = requests.post(sb.url + "/oauth2/token", data=form, timeout=5)
    assert first.status_code == 200 and first.json()["access_token"] == sb.oauth["access_token"]
    again = requests.post(sb.url + "/oauth2/token", data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    wrong_secret = requests.post(sb.url + "/oauth2/token", data={**form, "code": sb.new_authorization_code(),
                                                                 "client_secret": "nope"}, timeout=5)
    assert wrong_secret.status_code == 401


# --- connection limit, faults, latency ------------------------------------------------------------------------------


def test_more_than_ten_simultaneous_requests_of_one_user_get_429():
    with MailchimpSandbox(scale=0.01, seed=1, latency=1.0) as sb:
        statuses, lock, start = [], threading.Lock(), threading.Barrier(14)

        def call():
            start.wait()
            status = get(sb, "/ping").status_code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=call) for _ in range(14)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses.count(429) == 4 and statuses.count(200) == 10
        limited = [r for r in sb.server.requests("/3.0/ping") if r.status == 429]
        assert len(limited) == 4


def test_burst_mode_answers_a_403_html_page_instead_of_429():
    with MailchimpSandbox(scale=0.01, seed=1, latency=1.0, max_connections=1, burst_html_403=True) as sb:
        results, start = [], threading.Barrier(3)

        def call():
            start.wait()
            results.append(get(sb, "/ping"))

        threads = [threading.Thread(target=call) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        blocked = [r for r in results if r.status_code == 403]
        assert len(blocked) == 2 and blocked[0].headers["Content-Type"].startswith("text/html")


def test_injected_server_errors_are_problem_documents():
    with MailchimpSandbox(scale=0.01, seed=1, faults=FaultPlan(rate=1.0, kinds=("503",))) as sb:
        response = get(sb, "/lists")
        assert response.status_code == 503 and response.json()["status"] == 503


# --- determinism and mutation -----------------------------------------------------------------------------------


def test_data_is_a_function_of_scale_and_seed():
    one, two, other = (MailchimpSandbox(scale=SCALE, seed=s) for s in (3, 3, 4))
    assert json.dumps(one.data, sort_keys=True) == json.dumps(two.data, sort_keys=True)
    assert json.dumps(one.data, sort_keys=True) != json.dumps(other.data, sort_keys=True)
    assert one.api_key == two.api_key and one.api_key.endswith("-us6")
    bigger = MailchimpSandbox(scale=SCALE * 4, seed=3)
    assert sum(map(len, bigger.data["members"].values())) > 3 * sum(map(len, one.data["members"].values()))


def test_scale_one_has_about_fifteen_thousand_records():
    data = MailchimpSandbox(scale=1.0, seed=0).data
    per_list = sum(map(len, data["members"].values())) + sum(map(len, data["segment_members"].values()))
    activity = sum(len(e["activity"]) for emails in data["email_activity"].values() for e in emails)
    unsubscribes = sum(map(len, data["unsubscribes"].values()))
    assert 13_000 <= per_list + activity + unsubscribes + len(data["campaigns"]) <= 19_000


def earlier(mark, seconds):
    return (datetime.fromisoformat(mark) - timedelta(seconds=seconds)).isoformat()


def test_mutate_changes_are_what_an_incremental_read_returns_except_at_the_real_apis_edges():
    """A day of changes includes what the real API does at its edges: changes in the very second of the newest one
    before them (since_* is exclusive: `since=<that second>` leaves them out), email activity that became visible
    only after a sync read a campaign (dated before the newest activity then), and a bounce that moves no time of the
    report. Read from each mark, every change but those at the edges comes back; read from a lookback earlier, all."""
    with MailchimpSandbox(scale=SCALE, seed=5) as sb:
        before_now = sb.now
        # as the connector reads members: archived ones apart, each with its own cursor
        marks = {(l["id"], archived): max((m["last_changed"] for m in sb.data["members"][l["id"]]
                                           if (m["status"] == "archived") is archived), default=None)
                 for l in sb.data["lists"] for archived in (False, True)}
        activity_marks = {cid: max((a["timestamp"] for e in emails for a in e["activity"]), default=BOUNDARY)
                          for cid, emails in sb.data["email_activity"].items()}
        segment_marks = {l["id"]: max(s["updated_at"] for s in sb.data["segments"][l["id"]]) for l in sb.data["lists"]}
        campaign_mark = max(c["create_time"] for c in sb.data["campaigns"])
        automation_mark = max(a["create_time"] for a in sb.data["automations"])
        reports_before = {r["id"]: copy.deepcopy(r) for r in sb.data["reports"]}
        changes = sb.mutate()
        assert sb.now > before_now
        assert changes["members"] and changes["segments"] and changes["email_activity"] and changes["campaigns"]

        def members_since(lookback):
            read = set()
            for (list_id, archived), mark in marks.items():
                if mark is None:
                    continue
                for status in ("archived",) if archived else ("subscribed", "unsubscribed", "cleaned", "pending",
                                                              "transactional"):
                    body = get(sb, f"/lists/{list_id}/members", {"since_last_changed": earlier(mark, lookback),
                                                                "status": status, "count": 1000}).json()
                    read |= {(list_id, m["id"]) for m in body["members"]}
            return read

        same_second_members = {(l, m["id"]) for (l, archived), mark in marks.items() for m in sb.data["members"][l]
                               if mark and m["last_changed"] == mark and (l, m["id"]) in changes["members"]}
        assert same_second_members
        assert members_since(0) == changes["members"] - same_second_members
        assert members_since(1) >= changes["members"]

        def segments_since(lookback):
            read = set()
            for list_id, mark in segment_marks.items():
                body = get(sb, f"/lists/{list_id}/segments", {"since_updated_at": earlier(mark, lookback),
                                                             "count": 1000}).json()
                read |= {(list_id, s["id"]) for s in body["segments"]}
            return read

        assert segments_since(0) < changes["segments"] <= segments_since(1)

        def activity_since(lookback):
            read = set()
            for campaign in get(sb, "/reports", {"count": 1000}).json()["reports"]:
                since = earlier(activity_marks[campaign["id"]], lookback) if campaign["id"] in activity_marks \
                    else "2000-01-01T00:00:00+00:00"
                body = get(sb, f"/reports/{campaign['id']}/email-activity", {"since": since, "count": 1000}).json()
                read |= {(campaign["id"], e["email_id"], a["action"], a["timestamp"])
                         for e in body["emails"] for a in e["activity"]}
            return read

        late_or_same_second = {c for c in changes["email_activity"] if c[3] <= activity_marks.get(c[0], "")}
        assert {c[2] for c in late_or_same_second} == {"open", "click"}
        assert activity_since(0) == changes["email_activity"] - late_or_same_second
        assert activity_since(15 * 60) >= changes["email_activity"]

        # A bounce after the newest activity moves the report's bounce count, not its last_open or last_click.
        bounced = {c[0] for c in changes["email_activity"] if c[2] == "bounce"}
        assert bounced
        for campaign_id in bounced:
            report, before = get(sb, f"/reports/{campaign_id}").json(), reports_before[campaign_id]
            assert report["opens"]["last_open"] == before["opens"]["last_open"]
            assert report["clicks"]["last_click"] == before["clicks"]["last_click"]
            assert report["bounces"]["hard_bounces"] == before["bounces"]["hard_bounces"] + 1

        for campaign_id in changes["reports"]:
            report = get(sb, f"/reports/{campaign_id}").json()
            activity = [a["timestamp"] for e in sb.data["email_activity"][campaign_id] for a in e["activity"]
                        if a["action"] == "open"]
            assert report["opens"]["last_open"] == max(activity, default="")
        created = get(sb, "/campaigns", {"since_create_time": campaign_mark, "count": 1000}).json()["campaigns"]
        created_earlier = get(sb, "/campaigns", {"since_create_time": earlier(campaign_mark, 1),
                                                 "count": 1000}).json()["campaigns"]
        assert {c["id"] for c in created} < changes["campaigns"] <= {c["id"] for c in created_earlier}
        flows = get(sb, "/automations", {"since_create_time": automation_mark, "count": 1000}).json()["automations"]
        flows_earlier = get(sb, "/automations", {"since_create_time": earlier(automation_mark, 1),
                                                 "count": 1000}).json()["automations"]
        assert {a["id"] for a in flows} == set() and changes["automations"] <= {a["id"] for a in flows_earlier}
        for campaign_id, email_id in changes["unsubscribes"]:
            assert email_id in {u["email_id"] for u in get(sb, f"/reports/{campaign_id}/unsubscribed",
                                                             {"count": 1000}).json()["unsubscribes"]}


# --- batch operations (how Singer's tap-mailchimp reads email activity) ---------------------------------------------


def test_batch_operations_return_a_tar_gz_of_the_operations_responses(sb):
    campaign = next(c for c in sb.data["campaigns"] if c["status"] == "sent" and c["tracking"]["opens"])
    created = requests.post(sb.url + "/3.0/batches", auth=("x", sb.api_key), timeout=5, json={"operations": [
        {"method": "GET", "path": f"/reports/{campaign['id']}/email-activity", "operation_id": campaign["id"],
         "params": {"since": "2000-01-01T00:00:00+00:00"}}]}).json()
    info = get(sb, f"/batches/{created['id']}").json()
    assert info["status"] == "finished" and info["total_operations"] == 1
    archive_path = info["response_body_url"].split("amazonaws.com", 1)[1]
    archive = requests.get(sb.url + archive_path, timeout=5).content
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.isfile())
        operations = json.loads(tar.extractfile(member).read())
    assert operations[0]["operation_id"] == campaign["id"] and operations[0]["status_code"] == 200
    direct = get(sb, f"/reports/{campaign['id']}/email-activity", {"since": "2000-01-01T00:00:00+00:00",
                                                                    "count": 1000}).json()
    assert json.loads(operations[0]["response"]) == direct, "a batch GET without count returns the whole collection"


def test_a_batch_get_without_count_returns_the_whole_collection(sb):
    list_id = first_list(sb)["id"]
    created = requests.post(sb.url + "/3.0/batches", auth=("x", sb.api_key), timeout=5, json={"operations": [
        {"method": "GET", "path": f"/lists/{list_id}/members", "operation_id": "all"},
        {"method": "GET", "path": f"/lists/{list_id}/members", "operation_id": "ten", "params": {"count": 10}}]}).json()
    url = get(sb, f"/batches/{created['id']}").json()["response_body_url"]
    archive = requests.get(sb.url + url.split("amazonaws.com", 1)[1], timeout=5).content
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.isfile())
        operations = {op["operation_id"]: json.loads(op["response"]) for op in json.loads(tar.extractfile(member).read())}
    visible = [m for m in sb.data["members"][list_id] if m["status"] != "archived"]
    assert len(operations["all"]["members"]) == len(visible) > 10
    assert len(operations["ten"]["members"]) == 10


def test_parse_time_truncates_to_the_second():
    assert parse_time("2025-01-01T00:00:00.999999Z") == "2025-01-01T00:00:00+00:00"
    assert parse_time("2025-01-01T02:00:00+02:00") == "2025-01-01T00:00:00+00:00"


def test_unsubscribed_since_requires_the_unsubscribed_status(sb):
    list_id = first_list(sb)["id"]
    assert get(sb, f"/lists/{list_id}/members", {"unsubscribed_since": BOUNDARY}).status_code == 400
    body = get(sb, f"/lists/{list_id}/members", {"unsubscribed_since": BOUNDARY, "status": "unsubscribed",
                                                  "count": 1000}).json()
    assert body["members"] and all(m["status"] == "unsubscribed" and m["last_changed"] > BOUNDARY
                                   for m in body["members"])


def test_segment_member_count_grows_with_the_statuses_included(sb):
    list_id = first_list(sb)["id"]
    default = {s["id"]: s["member_count"] for s in get(sb, f"/lists/{list_id}/segments", {"count": 1000}).json()["segments"]}
    wider = {s["id"]: s["member_count"] for s in get(sb, f"/lists/{list_id}/segments", {
        "count": 1000, "include_unsubscribed": "true", "include_cleaned": "true"}).json()["segments"]}
    assert default.keys() == wider.keys()
    assert all(wider[k] >= default[k] for k in default) and sum(wider.values()) > sum(default.values())


def test_total_contacts_is_only_returned_when_asked_for(sb):
    plain = get(sb, "/lists").json()["lists"][0]["stats"]
    asked = get(sb, "/lists", {"include_total_contacts": "true"}).json()["lists"][0]["stats"]
    assert "total_contacts" not in plain
    assert asked["total_contacts"] == len(sb.data["members"][sb.data["lists"][0]["id"]])


def test_the_same_email_is_a_member_of_two_lists_with_the_same_id(sb):
    ids = [{m["id"] for m in members} for members in sb.data["members"].values()]
    assert any(a & b for i, a in enumerate(ids) for b in ids[i + 1:])


def test_the_api_key_and_the_oauth_token_share_the_users_connection_limit():
    with MailchimpSandbox(scale=0.01, seed=1, latency=1.0) as sb:
        statuses, start = [], threading.Barrier(12)

        def call(headers):
            start.wait()
            statuses.append(requests.get(sb.url + "/3.0/ping", headers=headers, timeout=10).status_code)

        token = {"Authorization": f"Bearer {sb.oauth['access_token']}"}
        key = {"Authorization": "Basic " + __import__("base64").b64encode(f"u:{sb.api_key}".encode()).decode()}
        threads = [threading.Thread(target=call, args=(token if i % 2 else key,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses.count(429) == 2


def test_python_dash_m_sandbox_mailchimp_serves_and_prints_its_url_and_credentials():
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "sandbox", "mailchimp", "--scale", "0.01", "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        first = json.loads(process.stdout.readline())
        assert set(first) == {"url", "api_key", "oauth"} and first["url"].startswith("http://127.0.0.1:")
        response = requests.get(first["url"] + "/3.0/ping", auth=("x", first["api_key"]), timeout=5)
        assert response.json() == {"health_status": "Everything's Chimpy!"}
    finally:
        process.kill()
        process.wait()


def test_fields_reach_into_lists_nested_in_records(sb):
    campaign = next(c for c in sb.data["campaigns"] if c["send_time"] == BOUNDARY)
    body = get(sb, f"/reports/{campaign['id']}/email-activity", {"fields": "emails.email_id,emails.activity.action"}).json()
    assert set(body) == {"emails"}
    assert all(set(e) == {"email_id", "activity"} and all(set(a) == {"action"} for a in e["activity"])
               for e in body["emails"])


# --- unset dates and the objects only some records have --------------------------------------------------------------


def test_unset_dates_are_empty_strings_where_the_real_api_leaves_them_so(sb):
    # Recorded responses: a draft campaign's send_time, a never-started automation's start_time, a pending member's
    # timestamp_opt, a report without clicks' last_click, a list never sent to's campaign_last_sent are all "".
    campaigns = get(sb, "/campaigns", {"count": 1000}).json()["campaigns"]
    assert {c["send_time"] for c in campaigns if c["status"] == "save"} == {""}
    assert all(c["send_time"] for c in campaigns if c["status"] in ("sent", "schedule"))
    automations = get(sb, "/automations").json()["automations"]
    assert {a["start_time"] for a in automations if a["status"] == "save"} == {""}
    members = get(sb, f"/lists/{first_list(sb)['id']}/members", {"count": 1000}).json()["members"]
    assert {m["timestamp_opt"] for m in members if m["status"] == "pending"} == {""}
    assert "" in {m["timestamp_signup"] for m in members} and "" in {m["sms_subscription_last_updated"] for m in members}
    empty = get(sb, f"/lists/{sb.empty_list_id}").json()
    assert empty["stats"]["campaign_last_sent"] == "" and empty["stats"]["last_sub_date"] == ""


def test_campaign_types_carry_their_options_with_empty_unset_dates(sb):
    campaigns = {c["type"]: c for c in get(sb, "/campaigns", {"count": 1000}).json()["campaigns"]}
    assert campaigns["absplit"]["ab_split_opts"]["split_test"] == "subject"
    assert campaigns["absplit"]["ab_split_opts"]["send_time_a"] == ""
    rss = campaigns["rss"]
    assert rss["rss_opts"]["last_sent"] == rss["send_time"] and rss["rss_opts"]["schedule"]["hour"] == 9
    variate = campaigns["variate"]["variate_settings"]
    assert variate["winner_criteria"] == "opens" and len(variate["combinations"]) == 2
    assert variate["winning_campaign_id"] == ""
    assert "ab_split_opts" not in campaigns["regular"] and "rss_opts" not in campaigns["regular"]
    assert all(c["social_card"]["image_url"] for c in campaigns.values())


def test_reports_carry_ab_split_timewarp_and_proxy_excluded_figures(sb):
    reports = get(sb, "/reports", {"count": 1000}).json()["reports"]
    absplit = next(r for r in reports if r["type"] == "absplit")
    assert set(absplit["ab_split"]) == {"a", "b"}
    assert sum(absplit["ab_split"][side]["opens"] for side in "ab") == absplit["opens"]["opens_total"]
    assert next(r for r in reports if r["type"] == "rss")["rss_last_send"]
    timewarp = next(r for r in reports if r["timewarp"])
    assert sum(zone["opens"] for zone in timewarp["timewarp"]) == timewarp["opens"]["opens_total"]
    assert all(zone["last_open"] == "" for zone in timewarp["timewarp"] if zone["opens"] == 0)
    assert all(r["opens"]["proxy_excluded_opens"] == r["opens"]["opens_total"] for r in reports)
    assert all("ab_split" not in r for r in reports if r["type"] != "absplit")


def test_segment_members_have_the_endpoints_own_fields_only(sb):
    list_id = sb.data["lists"][0]["id"]
    member_fields = set().union(*(m.keys() for m in sb.data["members"][list_id]))
    segment_fields = set().union(*(m.keys() for s in sb.data["segments"][list_id]
                                   for m in sb.data["segment_members"][s["id"]]))
    assert {"full_name", "last_changed", "timestamp_opt", "list_id"} <= segment_fields
    assert member_fields - segment_fields == {
        "contact_id", "web_id", "tags", "tags_count", "source", "unsubscribe_reason",
        "consents_to_one_to_one_messaging", "sms_phone_number", "sms_subscription_status",
        "sms_subscription_last_updated",
    } | ({"last_note"} if "last_note" not in segment_fields else set())
