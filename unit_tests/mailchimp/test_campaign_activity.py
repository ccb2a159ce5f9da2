"""reports_email_activity and unsubscribes: only sent campaigns, only those with something new, the date window."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from unit_tests.mailchimp.helpers import API, apikey_config, catalog, invoke, page, state_message


def query(request):
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def activity_requests(api):
    return sorted(urlsplit(r.url).path.split("/")[-2] for r in api.request_history if r.url.split("?")[0].endswith("/email-activity"))


def report(campaign_id, send_time, last_open="", last_click="", unsubscribed=0):
    return {"id": campaign_id, "send_time": send_time, "unsubscribed": unsubscribed,
            "opens": {"last_open": last_open}, "clicks": {"last_click": last_click}}


def emails(campaign_id, *activity_lists):
    return {
        "emails": [
            {"campaign_id": campaign_id, "list_id": "L1", "list_is_active": True, "email_id": f"e{i}",
             "email_address": f"e{i}@example.com", "activity": activity, "_links": []}
            for i, activity in enumerate(activity_lists)
        ],
        "campaign_id": campaign_id,
        "total_items": len(activity_lists),
    }


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_email_activity_yields_one_flat_record_per_activity_item(api, capsys, tmp_path):
    api.get(API + "reports", json=page("reports", [report("C1", "2024-01-01T00:00:00+00:00")]))
    api.get(API + "reports/C1/email-activity", json=emails(
        "C1",
        [{"action": "open", "timestamp": "2024-01-01T01:00:00+00:00", "ip": "1.2.3.4"},
         {"action": "click", "timestamp": "2024-01-01T01:05:00+00:00", "url": "https://x", "ip": "1.2.3.4"}],
        [],  # a recipient without activity has no record
        [{"action": "bounce", "type": "hard", "timestamp": "2024-01-01T00:00:05+00:00"}],
    ))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["reports_email_activity"], incremental=True))

    records = out.records("reports_email_activity")
    assert [(r["email_id"], r["action"]) for r in records] == [("e0", "open"), ("e0", "click"), ("e2", "bounce")]
    assert records[1] == {"campaign_id": "C1", "list_id": "L1", "list_is_active": True, "email_id": "e0",
                          "email_address": "e0@example.com", "action": "click", "timestamp": "2024-01-01T01:05:00+00:00",
                          "url": "https://x", "ip": "1.2.3.4", "_links": []}
    assert "activity" not in records[0]
    state = out.final_state("reports_email_activity")
    assert [(s["partition"]["campaign_id"], s["cursor"]["timestamp"]) for s in state["states"]] == [("C1", "2024-01-01T01:05:00+00:00")]
    assert query(api.request_history[0])["fields"].startswith("reports.id,reports.send_time")


def an_hour_later(stream_state):
    """The state as a sync an hour later finds it: every report remembered as first seen an hour ago."""
    for entry in stream_state["parent_state"]["campaign_reports"].values():
        if "unsettled_since" in entry:
            entry["unsettled_since"] = iso(datetime.now(timezone.utc) - timedelta(hours=1))
    return state_message("reports_email_activity", stream_state)


def test_email_activity_reads_again_only_campaigns_whose_report_changed_from_their_cursor_minus_the_lookback(api, capsys, tmp_path):
    quiet = report("QUIET", "2024-01-01T00:00:00+00:00", last_open="2024-01-02T00:00:00+00:00")
    bounced = report("BOUNCED", "2024-01-01T00:00:00+00:00", last_open="2024-01-02T00:00:00+00:00")
    for r in (quiet, bounced):
        r["opens"]["opens_total"] = 1
        r["bounces"] = {"hard_bounces": 0, "soft_bounces": 0, "syntax_errors": 0}
    opened = [{"action": "open", "timestamp": "2024-01-02T00:00:00+00:00"}]
    api.get(API + "reports", json=page("reports", [quiet, bounced]))
    for campaign in ("QUIET", "BOUNCED"):
        api.get(API + f"reports/{campaign}/email-activity", json=emails(campaign, opened))
    read = catalog(["reports_email_activity"], incremental=True)
    first = invoke(capsys, tmp_path, "read", apikey_config(), read)
    # Read again after the reporting delay: then every event the reports count was visible, and they settle.
    second = invoke(capsys, tmp_path, "read", apikey_config(), read, [an_hour_later(first.final_state("reports_email_activity"))])
    assert activity_requests(api) == ["BOUNCED", "BOUNCED", "QUIET", "QUIET"]
    # A hard bounce four seconds after the last open moves no time of the report, only its count.
    bounced["bounces"]["hard_bounces"] = 1
    api.get(API + "reports", json=page("reports", [quiet, bounced]))
    api.reset_mock()

    third = invoke(capsys, tmp_path, "read", apikey_config(), read, [an_hour_later(second.final_state("reports_email_activity"))])

    assert third.exit_code == 0, third.text
    assert activity_requests(api) == ["BOUNCED"]
    since = [query(r)["since"] for r in api.request_history if "email-activity" in r.url]
    assert since == ["2024-01-01T23:45:00+00:00"]  # the saved cursor minus the 15-minute lookback
    cursors = {s["partition"]["campaign_id"]: s["cursor"]["timestamp"] for s in third.final_state("reports_email_activity")["states"]}
    assert cursors["QUIET"] == "2024-01-02T00:00:00+00:00"


def test_email_activity_date_window_reads_only_campaigns_sent_in_the_last_n_days(api, capsys, tmp_path):
    now = datetime.now(timezone.utc)
    api.get(API + "reports", json=page("reports", [
        report("RECENT", iso(now - timedelta(days=2))),
        report("OLD", iso(now - timedelta(days=40))),
        report("UNSENT_TIME", ""),
    ]))
    api.get(API + "reports/RECENT/email-activity", json=emails("RECENT"))

    out = invoke(capsys, tmp_path, "read", apikey_config(email_activity_date_window=30),
                 catalog(["reports_email_activity"], incremental=True))

    assert out.exit_code == 0, out.text
    assert activity_requests(api) == ["RECENT"]


def test_a_zero_date_window_reads_every_sent_campaign(api, capsys, tmp_path):
    api.get(API + "reports", json=page("reports", [report("OLD", "2019-01-01T00:00:00+00:00")]))
    api.get(API + "reports/OLD/email-activity", json=emails("OLD"))

    invoke(capsys, tmp_path, "read", apikey_config(email_activity_date_window=0), catalog(["reports_email_activity"]))

    assert activity_requests(api) == ["OLD"]


def test_unsubscribes_are_read_only_for_campaigns_whose_report_counts_unsubscribes(api, capsys, tmp_path):
    api.get(API + "reports", json=page("reports", [report("NONE", "2024-01-01T00:00:00+00:00"),
                                                   report("SOME", "2024-01-01T00:00:00+00:00", unsubscribed=1)]))
    api.get(API + "reports/SOME/unsubscribed", json=page("unsubscribes", [
        {"email_id": "e1", "campaign_id": "SOME", "list_id": "L1", "timestamp": "2024-01-02T00:00:00+00:00", "reason": "N/A (Unsubscribed by admin)"}
    ]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["unsubscribes"]))

    assert [(r["campaign_id"], r["email_id"]) for r in out.records("unsubscribes")] == [("SOME", "e1")]
    assert [urlsplit(r.url).path for r in api.request_history][1:] == ["/3.0/reports/SOME/unsubscribed"]


def test_email_activity_pages_by_emails_not_by_the_activity_records_made_of_them(api, capsys, tmp_path):
    api.get(API + "reports", json=page("reports", [report("C1", "2024-01-01T00:00:00+00:00")]))
    two_each = [{"action": "open", "timestamp": "2024-01-02T00:00:00+00:00"}, {"action": "click", "timestamp": "2024-01-02T00:00:01+00:00"}]
    first = emails("C1", *([two_each] * 600 + [[]] * 400))  # 1,000 emails: 1,200 records
    second = emails("C1", [two_each[0]])
    second["emails"][0]["email_id"] = "last"
    api.get(API + "reports/C1/email-activity", [{"json": first}, {"json": second}])

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["reports_email_activity"]))

    offsets = [query(r).get("offset") for r in api.request_history if "email-activity" in r.url]
    assert offsets == [None, "1000"]
    assert len(out.records("reports_email_activity")) == 1201
