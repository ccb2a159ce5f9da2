"""The Mailchimp sandbox serves the endpoints of the streams added after the first release as Mailchimp's reference
describes them: offset paging where the reference has count/offset, one whole response where it has not, 404 for an
unknown parent, 403 for e-commerce refused to the account."""

from __future__ import annotations

import pytest
import requests

from sandbox.mailchimp import MailchimpSandbox


@pytest.fixture(scope="module")
def sb():
    with MailchimpSandbox(scale=0.05, seed=3) as sandbox:
        yield sandbox


def get(sb, path, **params):
    return requests.get(sb.url + "/3.0" + path, params=params, auth=("anystring", sb.api_key), timeout=10)


def without_links(items):
    return [{k: v for k, v in item.items() if k != "_links"} for item in items]


def read_in_pages(sb, path, key, count=3):
    items, offset = [], 0
    while True:
        body = get(sb, path, count=count, offset=offset).json()
        items += body[key]
        if len(body[key]) < count:
            return without_links(items), body["total_items"]
        offset += count


def paged_collections(sb):
    campaign = sb.data["reports"][0]["id"]
    list_id = sb.data["lists"][0]["id"]
    store = sb.data["ecommerce_stores"][0]["id"]
    return [
        (f"/reports/{campaign}/sent-to", "sent_to", sb.data["sent_to"][campaign]),
        (f"/reports/{campaign}/click-details", "urls_clicked", sb.data["click_details"][campaign]),
        (f"/lists/{list_id}/merge-fields", "merge_fields", sb.data["merge_fields"][list_id]),
        (f"/lists/{list_id}/growth-history", "history", sb.data["growth_history"][list_id]),
        (f"/lists/{list_id}/activity", "activity", sb.data["list_activity"][list_id]),
        ("/templates", "templates", sb.data["templates"]),
        ("/ecommerce/stores", "stores", sb.data["ecommerce_stores"]),
        (f"/ecommerce/stores/{store}/customers", "customers", sb.data["ecommerce_customers"][store]),
        (f"/ecommerce/stores/{store}/orders", "orders", sb.data["ecommerce_orders"][store]),
        (f"/ecommerce/stores/{store}/products", "products", sb.data["ecommerce_products"][store]),
    ]


def test_the_new_collections_page_with_count_and_offset_and_report_total_items(sb):
    for path, key, truth in paged_collections(sb):
        items, total = read_in_pages(sb, path, key)
        assert (items, total) == (truth, len(truth)), path


def test_automation_emails_their_queues_and_domain_performance_come_whole_whatever_the_count(sb):
    flow = next(f for f in sb.data["automations"] if len(sb.data["automation_emails"][f["id"]]) > 1)
    email = sb.data["automation_emails"][flow["id"]][0]
    campaign = sb.data["reports"][0]["id"]
    for path, key, truth in [
        (f"/automations/{flow['id']}/emails", "emails", sb.data["automation_emails"][flow["id"]]),
        (f"/automations/{flow['id']}/emails/{email['id']}/queue", "queue", sb.data["automation_queue"][email["id"]]),
        (f"/reports/{campaign}/domain-performance", "domains", sb.data["domain_performance"][campaign]),
    ]:
        body = get(sb, path, count=1, offset=1).json()
        assert without_links(body[key]) == truth and body["total_items"] == len(truth), path


def test_landing_pages_take_a_count_but_no_offset(sb):
    body = get(sb, "/landing-pages", count=2, offset=2).json()

    assert without_links(body["landing_pages"]) == sb.data["landing_pages"][:2]
    assert body["total_items"] == len(sb.data["landing_pages"])


def test_an_automation_emails_reports_are_served_under_its_id_as_a_campaigns(sb):
    email = next(e for emails in sb.data["automation_emails"].values() for e in emails if e["emails_sent"])

    sent_to = get(sb, f"/reports/{email['id']}/sent-to", count=1000).json()
    activity = get(sb, f"/reports/{email['id']}/email-activity", count=1000).json()

    assert without_links(sent_to["sent_to"]) == sb.data["automation_sent_to"][email["id"]]
    assert without_links(activity["emails"]) == sb.data["automation_email_activity"][email["id"]]


def test_a_draft_automation_has_no_emails_and_a_draft_campaign_no_recipients_or_clicks(sb):
    draft_flow = next(f["id"] for f in sb.data["automations"] if f["status"] == "save")
    draft = next(c["id"] for c in sb.data["campaigns"] if c["status"] == "save")

    assert get(sb, f"/automations/{draft_flow}/emails").json()["emails"] == []
    assert get(sb, f"/reports/{draft}/sent-to").json()["sent_to"] == []
    assert get(sb, f"/reports/{draft}/click-details").json()["urls_clicked"] == []


def test_unknown_parents_of_the_new_endpoints_are_404_problems(sb):
    store = sb.data["ecommerce_stores"][0]["id"]
    flow = sb.data["automations"][0]["id"]
    for path in ["/automations/nope/emails", f"/automations/{flow}/emails/nope/queue", "/reports/nope/sent-to",
                 "/reports/nope/click-details", "/reports/nope/domain-performance", "/lists/nope/merge-fields",
                 "/lists/nope/growth-history", "/lists/nope/activity", "/ecommerce/stores/nope/orders",
                 f"/ecommerce/stores/{store}/promo-rules/nope/promo-codes"]:
        response = get(sb, path)
        assert response.status_code == 404 and response.json()["status"] == 404, path


def test_e_commerce_refused_to_the_account_is_a_403_problem_on_every_e_commerce_endpoint():
    with MailchimpSandbox(scale=0.02, seed=0, forbidden_ecommerce=True) as refused:
        store = refused.data["ecommerce_stores"][0]["id"]
        for path in ["/ecommerce/stores", f"/ecommerce/stores/{store}/orders"]:
            response = get(refused, path)
            assert response.status_code == 403 and response.json()["title"] == "Forbidden", path
        assert get(refused, "/lists").status_code == 200
