"""How many records a full read of each stream must return, from a sandbox's ground truth (`sb.data`: the API objects
exactly as the API returns them; see the docstrings of sandbox/mailchimp.py and sandbox/campaign_monitor.py). The
benchmark compares our connectors' record counts with these, per stream."""

from __future__ import annotations

from typing import Any

CM_EVENT_STREAMS = {
    "campaign_opens": "opens",
    "campaign_clicks": "clicks",
    "campaign_bounces": "bounces",
    "campaign_unsubscribes": "unsubscribes",
    "campaign_spam_complaints": "spam",
}
CM_SUBSCRIBER_STREAMS = {
    "list_active_subscribers": "Active",
    "list_unconfirmed_subscribers": "Unconfirmed",
    "list_unsubscribed_subscribers": "Unsubscribed",
    "list_bounced_subscribers": "Bounced",
    "list_deleted_subscribers": "Deleted",
}


def truth_counts(kind: str, sb: Any) -> dict[str, int]:
    if kind == "mailchimp":
        return mailchimp_counts(sb.data)
    if kind == "campaign_monitor":
        return {**campaign_monitor_counts(sb.data, sb.client_ids[0]), **campaign_monitor_account_counts(sb, sb.client_ids[0])}
    if kind == "stub":
        return {"lists": len(sb.data["lists"]), "list_members": sum(map(len, sb.data["members"].values()))}
    return {}


def mailchimp_counts(data: dict[str, Any]) -> dict[str, int]:
    """Records per stream of a full read: every member status (archived included), segment members as the endpoint
    lists them by default, one email-activity record per activity item (an email without activity has none)."""

    def total(mapping: dict[str, list]) -> int:
        return sum(len(items) for items in mapping.values())

    return {
        "lists": len(data["lists"]),
        "list_members": total(data["members"]),
        "list_segments": total(data["segments"]),
        "list_segment_members": total(data["segment_members"]),
        "tags": total(data["tags"]),
        "interest_categories": total(data["interest_categories"]),
        "interests": total(data["interests"]),
        "campaigns": len(data["campaigns"]),
        "automations": len(data["automations"]),
        "reports": len(data["reports"]),
        "reports_email_activity": sum(
            len(email.get("activity") or []) for emails in data["email_activity"].values() for email in emails
        ),
        "unsubscribes": total(data["unsubscribes"]),
        "campaign_recipients": total(data["sent_to"]),
        "automation_emails": total(data["automation_emails"]),
        "automation_email_queue": total(data["automation_queue"]),
        "automation_recipients": total(data["automation_sent_to"]),
        "list_merge_fields": total(data["merge_fields"]),
        "list_growth_history": total(data["growth_history"]),
        "list_activity": total(data["list_activity"]),
        "campaign_click_details": total(data["click_details"]),
        "campaign_domain_performance": total(data["domain_performance"]),
        "templates": len(data["templates"]),
        "landing_pages": len(data["landing_pages"]),
        "ecommerce_stores": len(data["ecommerce_stores"]),
        **{f"ecommerce_{part}": total(data[f"ecommerce_{part}"])
           for part in ("customers", "orders", "products", "carts", "promo_rules", "promo_codes")},
        "automation_email_activity": sum(
            len(email["activity"]) for emails in data["automation_email_activity"].values() for email in emails
        ),
    }


def campaign_monitor_counts(data: dict[str, Any], client_id: str) -> dict[str, int]:
    """Records per stream of a full read of one client (the benchmark's connectors are configured with the first)."""
    campaigns = [c["CampaignID"] for c in data["campaigns"].get(client_id, [])]
    lists = [entry["ListID"] for entry in data["lists"].get(client_id, [])]
    counts = {
        "campaigns": len(campaigns),
        "campaign_summary": sum(1 for c in campaigns if c in data["summary"]),
        "campaign_email_client_usage": sum(len(data["email_client_usage"].get(c, [])) for c in campaigns),
        "campaign_recipients": sum(len(data["recipients"].get(c, [])) for c in campaigns),
        "lists": len(lists),
        "list_details": sum(1 for entry in lists if entry in data["list_details"]),
    }
    for stream, kind in CM_EVENT_STREAMS.items():
        counts[stream] = sum(len(data[kind].get(c, [])) for c in campaigns)
    for stream, state in CM_SUBSCRIBER_STREAMS.items():
        counts[stream] = sum(1 for entry in lists for s in data["subscribers"].get(entry, []) if s.get("State") == state)
    return counts


CM_JOURNEY_REPORTS = {
    "journey_email_recipients": "recipients",
    "journey_email_opens": "opens",
    "journey_email_clicks": "clicks",
    "journey_email_unsubscribes": "unsubscribes",
    "journey_email_bounces": "bounces",
}
TRANSACTIONAL_STATISTICS_DAYS = 30


def campaign_monitor_account_counts(sb: Any, client_id: str) -> dict[str, int]:
    """Records per account-object stream of a full read of one client with the account's API key (admins are the
    account's; some counts are computed by the sandbox's endpoints, as the API computes them)."""
    data, objects = sb.data, sb.app.objects
    lists = [entry["ListID"] for entry in data["lists"].get(client_id, [])]
    segments = data["segments"][client_id]
    journeys = [journey["JourneyID"] for journey in data["journeys"][client_id]]
    emails = [email["EmailID"] for jid in journeys for email in objects.journey_summary(jid)["Emails"]]
    transactional = client_id in sb.app.transactional.enabled
    counts = {
        "clients": 1,  # the configured client only
        "client_details": 1,
        "admins": len(data["admins"]),
        "people": len(data["people"][client_id]),
        "templates": len(data["templates"][client_id]),
        "tags": len(objects.tags(client_id)),
        "segments": len(segments),
        "segment_details": len(segments),
        "segment_active_subscribers": sum(len(objects.segment_members(s["SegmentID"], s["ListID"])) for s in segments),
        "suppression_list": len(data["suppression_list"][client_id]),
        "draft_campaigns": len(data["drafts"][client_id]),
        "scheduled_campaigns": len(data["scheduled"][client_id]),
        "campaign_lists_and_segments": len(data["campaigns"].get(client_id, [])),
        "list_custom_fields": sum(len(data["list_custom_fields"][lid]) for lid in lists),
        "list_stats": len(lists),
        "list_webhooks": sum(len(data["list_webhooks"][lid]) for lid in lists),
        "journeys": len(journeys),
        "journey_emails": len(emails),
        "transactional_smart_emails": len(data["tx_smart_emails"][client_id]) if transactional else 0,
        "transactional_messages": len(data["tx_messages"][client_id]) if transactional else 0,
        "transactional_statistics": TRANSACTIONAL_STATISTICS_DAYS if transactional else 0,
    }
    for stream, kind in CM_JOURNEY_REPORTS.items():
        counts[stream] = sum(len(data[f"journey_{kind}"][eid]) for eid in emails)
    return counts
