"""The Campaign Monitor sandbox behaves like Campaign Monitor API v3.3: the bodies Campaign Monitor publishes with its
official client (../shared/api-samples/campaign_monitor/) have the shapes the sandbox serves, and paging, the `date`
filter, ordering, auth, OAuth, rate limiting and changes between syncs work as the API documents them."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import requests

from sandbox.campaign_monitor import LOCAL_FORMAT, CampaignMonitorSandbox
from sandbox.server import FaultPlan

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "api-samples" / "campaign_monitor"
REPO = Path(__file__).resolve().parents[2]
V3 = "/api/v3.3"


def shape(value):
    """Keys (in order) and value types, recursively; a list's shape merges the shapes of all its items."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        merged = None
        for item in value:
            merged = merge(merged, shape(item))
        return [merged]
    return type(value).__name__


def merge(a, b):
    if a is None or b is None:  # an empty list says nothing about its items' shape
        return b if a is None else a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge(out.get(key), value)
        return out
    if isinstance(a, list) and isinstance(b, list):
        return [merge(a[0], b[0])]
    assert a == b, f"mixed types {a} and {b}"
    return a


def conforms(served, published):
    """Same keys in the same order and same value types; an empty list in a sample (shape [None]) says nothing about
    its items, so it admits any list."""
    if isinstance(published, list) and published == [None]:
        return isinstance(served, list)
    if isinstance(served, dict) and isinstance(published, dict):
        return list(served) == list(published) and all(conforms(served[k], published[k]) for k in served)
    if isinstance(served, list) and isinstance(published, list):
        return served == [None] or conforms(served[0], published[0])
    return served == published


def test_conforms_compares_keys_order_and_types_but_not_the_items_of_an_empty_sample_list():
    assert conforms(shape({"a": [{"k": 1}], "b": 1.5}), shape({"a": [], "b": 2.5}))
    assert not conforms(shape({"a": 1}), shape({"a": 1.0}))
    assert not conforms(shape({"a": 1, "b": 2}), shape({"b": 2, "a": 1}))
    assert not conforms(shape({"a": [{"k": 1}]}), shape({"a": [{"k": "1"}]}))


@pytest.fixture(scope="module")
def sb():
    with CampaignMonitorSandbox(scale=0.1, seed=3) as sandbox:
        yield sandbox


@pytest.fixture
def fresh():
    """A sandbox of its own, for tests that change tokens or data."""
    with CampaignMonitorSandbox(scale=0.05, seed=5) as sandbox:
        yield sandbox


def get(sb, path, auth=None, **params):
    return requests.get(sb.url + V3 + path, params=params, auth=auth or (sb.api_key, "x"), timeout=10)


def token(sb, **form):
    return requests.post(sb.url + "/oauth/token", data=form, timeout=10)


def sample(name):
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def first_client(sb):
    return sb.client_ids[0]


def busiest_campaign(sb, kind):
    return max((c for cs in sb.data["campaigns"].values() for c in cs), key=lambda c: len(sb.data[kind][c["CampaignID"]]))["CampaignID"]


def list_with(sb, state):
    return max(sb.data["list_details"], key=lambda l: sum(r["State"] == state for r in sb.data["subscribers"][l]))


def all_pages(sb, path, **params):
    results, page = [], 1
    while True:
        body = get(sb, path, page=page, **params).json()
        results += body["Results"]
        if page >= body["NumberOfPages"]:
            return results, body
        page += 1


# --- shapes of the published samples ---------------------------------------------------------------------------


SUBSCRIBER_SAMPLES = {
    "active_subscribers.json": "Active", "bounced_subscribers.json": "Bounced", "deleted_subscribers.json": "Deleted",
    "unconfirmed_subscribers.json": "Unconfirmed", "unsubscribed_subscribers.json": "Unsubscribed",
}
EVENT_SAMPLES = {
    "campaign_bounces.json": "bounces", "campaign_clicks.json": "clicks", "campaign_opens.json": "opens",
    "campaign_spam.json": "spam", "campaign_unsubscribes.json": "unsubscribes",
    "campaign_recipients.json": "recipients",
}


@pytest.mark.parametrize("name", sorted(SUBSCRIBER_SAMPLES))
def test_list_subscriber_pages_have_the_shape_of_the_published_sample(sb, name):
    state = SUBSCRIBER_SAMPLES[name]
    list_id = list_with(sb, state)
    served = get(sb, f"/lists/{list_id}/{state.lower()}.json").json()
    assert served["Results"], "the sandbox must have records to compare"
    assert conforms(shape(served), shape(sample(name)))
    assert {r["State"] for r in served["Results"]} == {state}


@pytest.mark.parametrize("name", sorted(EVENT_SAMPLES))
def test_campaign_report_pages_have_the_shape_of_the_published_sample(sb, name):
    kind = EVENT_SAMPLES[name]
    campaign_id = busiest_campaign(sb, kind)
    served = get(sb, f"/campaigns/{campaign_id}/{kind}.json").json()
    assert served["Results"]
    assert conforms(shape(served), shape(sample(name)))


@pytest.mark.parametrize("name, path", [
    ("campaigns.json", "/clients/{client}/campaigns.json"),
    ("client_details.json", "/clients/{client}.json"),
    ("drafts.json", "/clients/{client}/drafts.json"),
    ("scheduled_campaigns.json", "/clients/{client}/scheduled.json"),
    ("lists.json", "/clients/{client}/lists.json"),
    ("list_details.json", "/lists/{list}.json"),
    ("campaign_summary.json", "/campaigns/{campaign}/summary.json"),
    ("email_client_usage.json", "/campaigns/{campaign}/emailclientusage.json"),
    ("systemdate.json", "/systemdate.json"),
    ("timezones.json", "/timezones.json"),
])
def test_client_campaign_and_list_bodies_have_the_shape_of_the_published_sample(sb, name, path):
    client = first_client(sb)
    served = get(sb, path.format(client=client, list=sb.data["lists"][client][0]["ListID"],
                                 campaign=busiest_campaign(sb, "opens"))).json()
    assert conforms(shape(served), shape(sample(name)))


def test_timezones_are_the_97_names_campaign_monitor_publishes(sb):
    assert get(sb, "/timezones.json").json() == sample("timezones.json")
    assert len(sample("timezones.json")) == 97


def test_each_time_zone_name_is_applied_with_the_standard_offset_its_label_states_today():
    """The label is the evidence of the offset Campaign Monitor applies: each of the 97 names is given a zone that has
    that offset in January or July 2025, whether or not the region named still keeps it (Chihuahua: -7, not -6)."""
    from datetime import timedelta
    from sandbox.campaign_monitor import TIME_ZONE_ZONES, zone_named

    assert sorted(TIME_ZONE_ZONES) == sorted(sample("timezones.json"))
    for name in TIME_ZONE_ZONES:
        stated = timedelta(0)
        if not name.startswith("(GMT)"):
            stated = timedelta(hours=int(name[5:7]), minutes=int(name[8:10])) * (-1 if name[4] == "-" else 1)
        zone = zone_named(name)
        assert stated in {datetime(2025, month, 15, 12, tzinfo=zone).utcoffset() for month in (1, 7)}, name


def test_clients_are_listed_with_their_id_and_name(sb):
    assert get(sb, "/clients.json").json() == sb.data["clients"]
    assert [c["ClientID"] for c in sb.data["clients"]] == sb.client_ids


def test_oauth_bodies_have_the_shape_of_the_published_samples(fresh):
    o = fresh.oauth
    exchanged = token(fresh, grant_type="authorization_code", client_id=o["client_id"], client_secret=o["client_secret"],
                      redirect_uri=o["redirect_uri"], code=o["authorization_code"])
    assert exchanged.status_code == 200 and conforms(shape(exchanged.json()), shape(sample("oauth_exchange_token.json")))
    refreshed = token(fresh, grant_type="refresh_token", refresh_token=exchanged.json()["refresh_token"])
    assert refreshed.status_code == 200 and conforms(shape(refreshed.json()), shape(sample("refresh_oauth_token.json")))
    again = token(fresh, grant_type="authorization_code", client_id=o["client_id"], client_secret=o["client_secret"],
                  redirect_uri=o["redirect_uri"], code=o["authorization_code"])
    assert again.status_code == 400 and again.json() == sample("oauth_exchange_token_error.json")


def test_error_bodies_have_the_shape_of_the_published_samples(sb):
    bad_key = get(sb, "/clients.json", auth=("not-a-key", "x"))
    assert shape(bad_key.json()) == shape(sample("custom_api_error.json")) == shape(sample("sample_client_error.json"))
    with CampaignMonitorSandbox(scale=0.02, faults=FaultPlan(rate=1.0, kinds=("500",))) as failing:
        response = get(failing, "/clients.json")
    assert response.status_code == 500 and response.json() == sample("sample_server_error.json")


def test_an_unknown_path_is_a_404_with_code_and_message(sb):
    response = get(sb, "/nothing/here.json")
    assert response.status_code == 404 and set(response.json()) == {"Code", "Message"}


# --- paging ----------------------------------------------------------------------------------------------------


def test_paging_through_active_subscribers_returns_each_exactly_once_with_a_consistent_envelope(sb):
    list_id = list_with(sb, "Active")
    truth = [r for r in sb.data["subscribers"][list_id] if r["State"] == "Active"]
    results, page = [], 1
    while True:
        body = get(sb, f"/lists/{list_id}/active.json", page=page, pagesize=10).json()
        assert body["PageNumber"] == page and body["PageSize"] == 10
        assert body["RecordsOnThisPage"] == len(body["Results"]) <= 10
        assert body["TotalNumberOfRecords"] == len(truth)
        assert body["NumberOfPages"] == math.ceil(len(truth) / 10)
        results += body["Results"]
        if page == body["NumberOfPages"]:
            break
        page += 1
    assert len(results) == len(truth) > 10
    assert sorted(json.dumps(r, sort_keys=True) for r in results) == sorted(json.dumps(r, sort_keys=True) for r in truth)
    past_the_end = get(sb, f"/lists/{list_id}/active.json", page=page + 1, pagesize=10).json()
    assert past_the_end["Results"] == [] and past_the_end["RecordsOnThisPage"] == 0


def test_paging_through_opens_sharing_one_minute_neither_skips_nor_repeats(sb):
    campaign_id = busiest_campaign(sb, "opens")
    truth = sb.data["opens"][campaign_id]
    minutes = [r["Date"] for r in truth]
    assert max(minutes.count(m) for m in minutes) > 1, "the data must have opens in the same minute"
    results, _ = all_pages(sb, f"/campaigns/{campaign_id}/opens.json", pagesize=10)
    assert sorted(json.dumps(r, sort_keys=True) for r in results) == sorted(json.dumps(r, sort_keys=True) for r in truth)


def test_an_empty_list_has_no_pages_and_an_exact_multiple_has_no_extra_page(sb):
    empty = next(l for l in sb.data["list_details"] if not sb.data["subscribers"][l])
    body = get(sb, f"/lists/{empty}/active.json").json()
    assert (body["Results"], body["TotalNumberOfRecords"], body["NumberOfPages"]) == ([], 0, 0)
    campaign_id = busiest_campaign(sb, "recipients")
    total = len(sb.data["recipients"][campaign_id])
    assert 10 <= total <= 1000
    assert get(sb, f"/campaigns/{campaign_id}/recipients.json", pagesize=total).json()["NumberOfPages"] == 1


@pytest.mark.parametrize("params, code", [
    ({"pagesize": 9}, 801), ({"pagesize": 1001}, 801), ({"pagesize": "ten"}, 801), ({"page": 0}, 800),
    ({"orderfield": "colour"}, 802), ({"orderdirection": "up"}, 803), ({"date": "yesterday"}, 5),
])
def test_paging_parameters_out_of_range_are_a_400_with_the_documented_code(sb, params, code):
    response = get(sb, f"/lists/{list_with(sb, 'Active')}/active.json", **params)
    assert response.status_code == 400
    assert set(response.json()) == {"Code", "Message"} and response.json()["Code"] == code


def test_sent_campaigns_are_paged_in_v3_3_newest_first_by_default(sb):
    client = first_client(sb)
    body = get(sb, f"/clients/{client}/campaigns.json", pagesize=10).json()
    assert body["ResultsOrderedBy"] == "SentDate" and body["OrderDirection"] == "desc"
    dates = [c["SentDate"] for c in body["Results"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == len(sb.data["campaigns"][client])
    ascending = get(sb, f"/clients/{client}/campaigns.json", orderdirection="asc").json()
    assert [c["SentDate"] for c in ascending["Results"]] == sorted(dates)


def test_v3_2_paths_are_served_too_with_sent_campaigns_as_a_bare_array(sb):
    client = first_client(sb)
    response = requests.get(f"{sb.url}/api/v3.2/clients/{client}/campaigns.json", auth=(sb.api_key, "x"))
    assert response.json() == sb.data["campaigns"][client]
    list_id = list_with(sb, "Active")
    v32 = requests.get(f"{sb.url}/api/v3.2/lists/{list_id}/active.json", auth=(sb.api_key, "x"), params={"pagesize": 10})
    assert v32.json() == get(sb, f"/lists/{list_id}/active.json", pagesize=10).json()


def test_sent_campaigns_filter_by_local_day_inclusive(sb):
    client = first_client(sb)
    day = "2024-04-06"  # the Sydney client sends a campaign that evening, local time
    body = get(sb, f"/clients/{client}/campaigns.json", sentfromdate=day, senttodate=day).json()
    assert [c["SentDate"] for c in body["Results"]] == ["2024-04-06 20:00:00"]
    bad = get(sb, f"/clients/{client}/campaigns.json", sentfromdate="06/04/2024")
    assert (bad.status_code, bad.json()["Code"]) == (400, 920)
    backwards = get(sb, f"/clients/{client}/campaigns.json", sentfromdate="2024-04-07", senttodate="2024-04-06")
    assert (backwards.status_code, backwards.json()["Code"]) == (400, 927)


# --- the date filter, time zones, ordering ---------------------------------------------------------------------


def test_date_filter_returns_records_on_or_after_the_minute_in_the_clients_local_time(sb):
    campaign_id = busiest_campaign(sb, "opens")
    truth = sb.data["opens"][campaign_id]
    boundary = truth[len(truth) // 2]["Date"]
    expected = [r for r in truth if r["Date"] >= boundary]
    assert len(expected) < len(truth) and any(r["Date"] == boundary for r in expected)
    results, body = all_pages(sb, f"/campaigns/{campaign_id}/opens.json", date=boundary[:16])
    assert sorted(map(json.dumps, results)) == sorted(map(json.dumps, expected))
    assert body["TotalNumberOfRecords"] == len(expected)


def test_date_filter_with_a_day_only_starts_at_local_midnight(sb):
    list_id = list_with(sb, "Active")
    truth = [r for r in sb.data["subscribers"][list_id] if r["State"] == "Active"]
    day = sorted(r["Date"] for r in truth)[len(truth) // 2][:10]
    results, _ = all_pages(sb, f"/lists/{list_id}/active.json", date=day)
    assert {r["EmailAddress"] for r in results} == {r["EmailAddress"] for r in truth if r["Date"][:10] >= day}


def test_an_invalid_date_filter_is_a_400(sb):
    assert get(sb, f"/campaigns/{busiest_campaign(sb, 'opens')}/opens.json", date="2024-13-45").status_code == 400
    assert get(sb, f"/campaigns/{busiest_campaign(sb, 'opens')}/opens.json", date="2024-04-06T10:00").status_code == 400


def test_dates_are_local_without_offset_and_the_sydney_data_spans_daylight_saving_changes(sb):
    sydney = first_client(sb)
    assert sb.data["client_details"][sydney]["BasicDetails"]["TimeZone"] == "(GMT+10:00) Canberra, Melbourne, Sydney"
    campaign = next(c for c in sb.data["campaigns"][sydney] if c["SentDate"] == "2024-04-06 20:00:00")
    assert sb.to_utc(sydney, campaign["SentDate"]) == "2024-04-06T09:00:00+00:00"  # AEDT, +11:00
    opens = sb.data["opens"][campaign["CampaignID"]]
    offsets = {datetime.fromisoformat(sb.to_utc(sydney, o["Date"])).replace(tzinfo=None) - datetime.strptime(o["Date"], LOCAL_FORMAT)
               for o in opens}
    assert len(offsets) == 2, "the opens of the campaign sent the evening before DST ends straddle the change"
    every_date = [r["Date"] for l in sb.data["lists"][sydney] for r in sb.data["subscribers"][l["ListID"]]]
    assert all(len(d) == 19 and d.endswith(":00") for d in every_date)
    assert any(d[:7] == "2024-04" for d in every_date) and any(d[:7] == "2024-10" for d in every_date)
    other = sb.data["client_details"][sb.client_ids[1]]["BasicDetails"]["TimeZone"]
    assert other == "(GMT-05:00) Eastern Time (US & Canada)"


def test_event_pages_are_ordered_by_date_ascending_unless_asked_otherwise(sb):
    campaign_id = busiest_campaign(sb, "clicks")
    ascending = get(sb, f"/campaigns/{campaign_id}/clicks.json").json()
    assert ascending["ResultsOrderedBy"] == "date" and ascending["OrderDirection"] == "asc"
    dates = [r["Date"] for r in ascending["Results"]]
    assert dates == sorted(dates)
    descending = get(sb, f"/campaigns/{campaign_id}/clicks.json", orderdirection="desc").json()
    assert [r["Date"] for r in descending["Results"]] == sorted(dates, reverse=True)
    by_email = get(sb, f"/campaigns/{campaign_id}/clicks.json", orderfield="email").json()
    emails = [r["EmailAddress"].lower() for r in by_email["Results"]]
    assert emails == sorted(emails) and by_email["ResultsOrderedBy"] == "email"
    assert get(sb, f"/campaigns/{campaign_id}/clicks.json", orderfield="colour").status_code == 400


def test_subscribers_are_ordered_by_email_by_default_and_by_date_on_request(sb):
    list_id = list_with(sb, "Active")
    default = get(sb, f"/lists/{list_id}/active.json").json()
    emails = [r["EmailAddress"].lower() for r in default["Results"]]
    assert default["ResultsOrderedBy"] == "email" and emails == sorted(emails)
    by_date = get(sb, f"/lists/{list_id}/active.json", orderfield="date", orderdirection="desc").json()
    dates = [r["Date"] for r in by_date["Results"]]
    assert dates == sorted(dates, reverse=True)


def test_consent_to_track_is_returned_only_with_includetrackingpreference(sb):
    list_id = list_with(sb, "Active")
    plain = get(sb, f"/lists/{list_id}/active.json").json()["Results"]
    tracked = get(sb, f"/lists/{list_id}/active.json", includetrackingpreference="true").json()["Results"]
    assert all("ConsentToTrack" not in r for r in plain)
    assert {r["ConsentToTrack"] for r in tracked} <= {"Yes", "No", "Unchanged"} and len(tracked) == len(plain)
    assert list(tracked[0])[-1] == "ConsentToTrack" and list(tracked[0])[:-1] == list(plain[0])


def test_the_data_has_the_breaking_cases(sb):
    d = sb.data
    names = [r["Name"] for l in d["subscribers"].values() for r in l]
    assert any(not n.isascii() for n in names) and "" in names
    assert any(not d["subscribers"][l["ListID"]] for ls in d["lists"].values() for l in ls), "an empty list"
    assert any(c["TotalRecipients"] == 0 and not d["recipients"][c["CampaignID"]] for cs in d["campaigns"].values() for c in cs)
    assert any("Tags" not in c for cs in d["campaigns"].values() for c in cs)
    clicks = [(c, r["EmailAddress"], r["Date"], r["URL"]) for c, rs in d["clicks"].items() for r in rs]
    same_minute = {}
    for campaign, email, date, url in clicks:
        same_minute.setdefault((campaign, email, date), set()).add(url)
    assert any(len(urls) > 1 for urls in same_minute.values()), "two URLs clicked in one minute by one subscriber"
    imported = [r["Date"] for l in d["subscribers"].values() for r in l]
    assert max(imported.count(x) for x in set(imported)) >= 5, "a bulk import: many subscribers with the same Date"
    subscribers = [s for records in d["subscribers"].values() for s in records]
    assert any([f["Key"] for f in s["CustomFields"]].count("multi select field") == 2 for s in subscribers)
    assert any(not s["CustomFields"] for s in subscribers) and any(not s["ReadsEmailWith"] for s in subscribers)
    two_lists = [c for c, rs in d["recipients"].items() if len({r["ListID"] for r in rs}) == 2]
    assert two_lists, "a campaign sent to two lists"


def test_scale_one_has_about_33k_records_and_scales_linearly():
    counts = CampaignMonitorSandbox(scale=1.0).counts()
    assert 28_000 <= sum(counts.values()) <= 38_000
    doubled = sum(CampaignMonitorSandbox(scale=2.0).counts().values())
    assert 1.8 <= doubled / sum(counts.values()) <= 2.5  # campaigns grow with scale, ~500 recipients each


# --- auth ------------------------------------------------------------------------------------------------------


def test_basic_auth_takes_the_api_key_as_user_name_with_any_password(sb):
    assert get(sb, "/clients.json", auth=(sb.api_key, "")).status_code == 200
    assert get(sb, "/clients.json", auth=(sb.api_key, "anything")).status_code == 200


def test_bearer_access_token_is_accepted(sb):
    response = requests.get(sb.url + V3 + "/clients.json", headers={"Authorization": f"Bearer {sb.oauth['access_token']}"})
    assert response.status_code == 200 and response.json() == sb.data["clients"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic bm90LWEta2V5Ong="}, {"Authorization": "Basic %%%"}])
def test_a_missing_or_unknown_api_key_is_401_code_50(sb, headers):
    response = requests.get(sb.url + V3 + "/clients.json", headers=headers)
    assert response.status_code == 401 and response.json()["Code"] == 50


def test_an_unknown_bearer_token_is_401_code_120(sb):
    response = requests.get(sb.url + V3 + "/clients.json", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.json()["Code"] == 120


def test_an_expired_access_token_is_401_code_121_until_refreshed(fresh):
    bearer = {"Authorization": f"Bearer {fresh.oauth['access_token']}"}
    fresh.expire_access_token()
    expired = requests.get(fresh.url + V3 + "/clients.json", headers=bearer)
    assert expired.status_code == 401 and expired.json() == sample("expired_oauth_token_api_error.json")
    refreshed = token(fresh, grant_type="refresh_token", refresh_token=fresh.oauth["refresh_token"]).json()
    assert refreshed["access_token"] != bearer["Authorization"][7:]
    ok = requests.get(fresh.url + V3 + "/clients.json", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert ok.status_code == 200
    assert fresh.oauth["access_token"] == refreshed["access_token"] and fresh.oauth["refresh_token"] == refreshed["refresh_token"]


def test_ids_the_credentials_do_not_own_are_401_not_404(sb):
    stranger = "0123456789abcdef0123456789abcdef"
    for path, code in ((f"/clients/{stranger}.json", 102), (f"/clients/{stranger}/campaigns.json", 102),
                       (f"/lists/{stranger}/active.json", 101), (f"/campaigns/{stranger}/opens.json", 301)):
        response = get(sb, path)
        assert (response.status_code, response.json()["Code"]) == (401, code), path


def test_a_client_api_key_sees_its_own_client_only(sb):
    mine, other = sb.client_ids
    client_key = sb.data["client_details"][mine]["ApiKey"]
    assert get(sb, "/clients.json", auth=(client_key, "x")).json() == [sb.data["clients"][0]]
    assert get(sb, f"/clients/{mine}/lists.json", auth=(client_key, "x")).status_code == 200
    response = get(sb, f"/clients/{other}/lists.json", auth=(client_key, "x"))
    assert (response.status_code, response.json()["Code"]) == (401, 102)
    other_list = sb.data["lists"][other][0]["ListID"]
    assert get(sb, f"/lists/{other_list}.json", auth=(client_key, "x")).status_code == 401


# --- OAuth -----------------------------------------------------------------------------------------------------


def test_an_authorization_code_works_once_and_needs_the_application_secret_and_redirect_uri(fresh):
    o = fresh.oauth
    form = dict(grant_type="authorization_code", client_id=o["client_id"], client_secret=o["client_secret"],
                redirect_uri=o["redirect_uri"], code=o["authorization_code"])
    assert token(fresh, **dict(form, client_secret="wrong")).status_code == 400
    assert token(fresh, **dict(form, redirect_uri="https://elsewhere.example.com/")).json()["error"] == "invalid_grant"
    first = token(fresh, **form)
    assert first.status_code == 200 and first.json()["expires_in"] == 1209600
    assert token(fresh, **form).json()["error"] == "invalid_grant"
    another = dict(form, code=fresh.new_authorization_code())
    assert token(fresh, **another).status_code == 200


def test_refresh_rotates_tokens_and_a_revoked_refresh_token_is_invalid_grant(fresh):
    first = token(fresh, grant_type="refresh_token", refresh_token=fresh.oauth["refresh_token"]).json()
    second = token(fresh, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert len({first["refresh_token"], second["refresh_token"]}) == 2
    assert len({first["access_token"], second["access_token"]}) == 2
    fresh.revoke_refresh_token()
    revoked = token(fresh, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    assert token(fresh, grant_type="password").json()["error"] == "unsupported_grant_type"


def test_single_use_refresh_tokens_reject_a_reused_refresh_token(fresh):
    fresh.single_use_refresh_tokens = True
    used = fresh.oauth["refresh_token"]
    assert token(fresh, grant_type="refresh_token", refresh_token=used).status_code == 200
    assert token(fresh, grant_type="refresh_token", refresh_token=used).status_code == 400


# --- rate limiting ---------------------------------------------------------------------------------------------


def test_requests_over_the_rate_limit_get_429_with_x_ratelimit_headers_and_no_retry_after():
    with CampaignMonitorSandbox(scale=0.02, rate_limit=(3, 30)) as sb:
        answers = [get(sb, "/clients.json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.headers["X-RateLimit-Limit"] == "3" and 1 <= int(limited.headers["X-RateLimit-Reset"]) <= 30
    assert "Retry-After" not in limited.headers and set(limited.json()) == {"Code", "Message"}


def test_an_injected_429_carries_x_ratelimit_reset_instead_of_retry_after():
    with CampaignMonitorSandbox(scale=0.02, faults=FaultPlan(rate=1.0, kinds=("429",), retry_after=2)) as sb:
        response = get(sb, "/clients.json")
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.headers["X-RateLimit-Reset"] == "2"


def test_too_many_simultaneous_requests_are_answered_like_the_rate_limit():
    with CampaignMonitorSandbox(scale=0.02, latency=0.3, max_connections=1) as sb:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda _: get(sb, "/clients.json"), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 429]
    limited = next(a for a in answers if a.status_code == 429)
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(limited.headers)
    assert "Retry-After" not in limited.headers and limited.json()["Code"] == 429


def test_pages_report_their_item_count_for_the_per_item_latency(sb):
    campaign_id = busiest_campaign(sb, "opens")
    sb.server.reset_log()
    get(sb, f"/campaigns/{campaign_id}/opens.json", pagesize=10)
    assert sb.server.requests(V3 + "/campaigns")[-1].status == 200
    from sandbox.server import Request
    response = sb.app.dispatch(Request("GET", f"{V3}/campaigns/{campaign_id}/opens.json", {"pagesize": "10"},
                                       {"authorization": requests.auth._basic_auth_str(sb.api_key, "x")}))
    assert response.items == 10


def test_requests_on_a_kept_alive_connection_are_not_stalled_by_nagle_and_delayed_ack(sb):
    session = requests.Session()
    session.auth = (sb.api_key, "x")
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        assert session.get(sb.url + V3 + "/systemdate.json").status_code == 200
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.02  # a stalled connection answers in ~40 ms


# --- determinism and changes -----------------------------------------------------------------------------------


def test_data_is_a_function_of_scale_and_seed():
    a, b, c = (CampaignMonitorSandbox(scale=0.05, seed=s) for s in (1, 1, 2))
    assert json.dumps(a.data, sort_keys=True) == json.dumps(b.data, sort_keys=True)
    assert a.api_key == b.api_key and a.oauth == b.oauth
    assert json.dumps(a.data, sort_keys=True) != json.dumps(c.data, sort_keys=True)
    assert a.mutate() == b.mutate()


def test_mutate_returns_exactly_what_an_incremental_read_from_the_previous_clock_finds(fresh):
    before_now = fresh.now
    changes = fresh.mutate()
    assert fresh.now > before_now
    assert set(changes) == {"campaigns", "campaign_summary", "campaign_email_client_usage", "campaign_recipients",
                            "campaign_bounces", "campaign_clicks", "campaign_opens", "campaign_spam_complaints",
                            "campaign_unsubscribes", "lists", "list_details", "list_active_subscribers",
                            "list_bounced_subscribers", "list_deleted_subscribers", "list_unconfirmed_subscribers",
                            "list_unsubscribed_subscribers"}
    for stream in ("campaigns", "campaign_recipients", "campaign_opens", "campaign_clicks", "campaign_unsubscribes",
                   "campaign_bounces", "list_active_subscribers", "list_unsubscribed_subscribers",
                   "list_deleted_subscribers", "list_bounced_subscribers", "list_unconfirmed_subscribers",
                   "campaign_summary", "campaign_email_client_usage"):
        assert changes[stream], stream
    found = {stream: set() for stream in changes}
    for client in fresh.client_ids:
        since = before_now.astimezone(fresh.zone(client)).strftime("%Y-%m-%d %H:%M")
        for c in all_pages(fresh, f"/clients/{client}/campaigns.json", sentfromdate=since[:10])[0]:
            if c["SentDate"] >= since:
                found["campaigns"].add(c["CampaignID"])
        for kind, stream in (("opens", "campaign_opens"), ("clicks", "campaign_clicks"), ("bounces", "campaign_bounces"),
                             ("unsubscribes", "campaign_unsubscribes"), ("spam", "campaign_spam_complaints")):
            for c in fresh.data["campaigns"][client]:
                for r in all_pages(fresh, f"/campaigns/{c['CampaignID']}/{kind}.json", date=since)[0]:
                    key = (c["CampaignID"], r["EmailAddress"], r["ListID"], r["Date"])
                    found[stream].add(key + (r["URL"],) if kind == "clicks" else key)
        for l in fresh.data["lists"][client]:
            for endpoint in ("active", "unsubscribed", "deleted", "bounced", "unconfirmed"):
                for r in all_pages(fresh, f"/lists/{l['ListID']}/{endpoint}.json", date=since)[0]:
                    found[f"list_{endpoint}_subscribers"].add((l["ListID"], r["EmailAddress"], r["Date"]))
        for campaign_id in found["campaigns"]:
            for r in all_pages(fresh, f"/campaigns/{campaign_id}/recipients.json")[0]:
                found["campaign_recipients"].add((campaign_id, r["EmailAddress"], r["ListID"]))
    for stream in set(found) - {"lists", "list_details", "campaign_summary", "campaign_email_client_usage"}:
        assert found[stream] == changes[stream], stream
    assert changes["lists"] == changes["list_details"] == set()


def test_mutate_edits_custom_fields_without_moving_date_so_only_a_full_read_sees_them(fresh):
    before_now = fresh.now
    changes = fresh.mutate()
    edits = fresh.custom_field_edits
    assert not any(key in changes["list_active_subscribers"] for key in edits)
    assert len(edits) == 2 * len(fresh.client_ids)
    for list_id, email, date in edits:
        since = before_now.astimezone(fresh.zone(fresh.client_of(list_id))).strftime("%Y-%m-%d %H:%M")
        assert date < since
        incremental = all_pages(fresh, f"/lists/{list_id}/active.json", date=since)[0]
        assert email not in {r["EmailAddress"] for r in incremental}
        full = {r["EmailAddress"]: r for r in all_pages(fresh, f"/lists/{list_id}/active.json")[0]}
        assert full[email]["Date"] == date
        assert {"Key": "edited in mutate", "Value": "1"} in full[email]["CustomFields"]


def test_mutate_moves_a_changed_subscriber_to_its_new_state_with_a_new_date(fresh):
    changes = fresh.mutate()
    list_id, email, date = sorted(changes["list_unsubscribed_subscribers"])[0]
    states = [r for r in fresh.data["subscribers"][list_id] if r["EmailAddress"] == email]
    assert [(r["State"], r["Date"]) for r in states] == [("Unsubscribed", date)]
    active = get(fresh, f"/lists/{list_id}/active.json").json()["Results"]
    assert email not in {r["EmailAddress"] for r in active}


# --- the command line ------------------------------------------------------------------------------------------


def test_python_dash_m_sandbox_serves_until_killed_and_prints_url_and_credentials():
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "campaign_monitor", "--scale", "0.02", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = json.loads(process.stdout.readline())
        assert set(line) >= {"url", "api_key", "oauth", "client_ids"}
        response = requests.get(line["url"] + V3 + "/clients.json", auth=(line["api_key"], "x"), timeout=10)
        assert [c["ClientID"] for c in response.json()] == line["client_ids"]
    finally:
        process.terminate()
        process.wait(timeout=10)
