"""How many records a full read of each stream must return, from a sandbox's ground truth (`sb.data`: the API objects
exactly as the API returns them). The benchmark compares our connectors' record counts with these, per stream."""

from __future__ import annotations

from typing import Any


def truth_counts(kind: str, sb: Any) -> dict[str, int]:
    if kind == "mailchimp":
        return mailchimp_counts(sb.data)
    if kind == "campaign_monitor":
        return campaign_monitor_counts(sb.data, sb.client_ids[0])
    if kind == "stub":
        return {"lists": len(sb.data["lists"]), "list_members": sum(map(len, sb.data["members"].values()))}
    return {}


def mailchimp_counts(data: dict[str, Any]) -> dict[str, int]:
    raise NotImplementedError("filled in once sandbox/mailchimp.py has landed")


def campaign_monitor_counts(data: dict[str, Any], client_id: str) -> dict[str, int]:
    raise NotImplementedError("filled in once sandbox/campaign_monitor.py has landed")
