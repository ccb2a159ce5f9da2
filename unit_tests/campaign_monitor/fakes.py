"""Configs and Campaign Monitor response bodies (shapes of the official samples) for the unit tests."""

from __future__ import annotations

API = "http://127.0.0.1:8123/api/v3.3/"
SANDBOX = "http://127.0.0.1:8123"
CLIENT = "4a397ccaaa55eb4e6aa1221e1e2d7122"
CAMPAIGN = "fc0ce7105baeaf97f47c99be31d02a91"
LIST = "a58ee1d3039b8bec838e6d1482a8a965"
SYDNEY = "(GMT+10:00) Canberra, Melbourne, Sydney"


def api_key_config(**extra):
    return {"credentials": {"auth_type": "api_key", "api_key": "secret-api-key"}, "sandbox_url": SANDBOX,
            "api_client_id": CLIENT, **extra}


def page(results, page_number=1, pages=1, ordered_by="date"):
    return {"Results": results, "ResultsOrderedBy": ordered_by, "OrderDirection": "asc", "PageNumber": page_number,
            "PageSize": 1000, "RecordsOnThisPage": len(results), "TotalNumberOfRecords": len(results) * pages,
            "NumberOfPages": pages}


def client_details(client_id=CLIENT, time_zone=SYDNEY):
    return {"ApiKey": "x", "AccessDetails": {"Username": "c", "AccessLevel": 23},
            "BasicDetails": {"ClientID": client_id, "CompanyName": "Client One", "ContactName": "C",
                             "EmailAddress": "c@example.com", "Country": "Australia", "TimeZone": time_zone}}


def campaign(campaign_id, sent):
    return {"WebVersionURL": "https://createsend.com/t/r-1", "WebVersionTextURL": "https://createsend.com/t/r-1/t",
            "CampaignID": campaign_id, "Subject": "S", "Name": "N", "FromName": "F", "FromEmail": "f@example.com",
            "ReplyTo": "f@example.com", "SentDate": sent, "TotalRecipients": 2}


def summary(recipients=100, opened=40, unique_opened=30, clicks=12, unsubscribed=2, bounced=3, spam=1):
    """A sent campaign's summary (GET /campaigns/{id}/summary.json), with the documented count fields."""
    return {"Name": "Campaign", "Recipients": recipients, "TotalOpened": opened, "Clicks": clicks,
            "Unsubscribed": unsubscribed, "Bounced": bounced, "UniqueOpened": unique_opened,
            "SpamComplaints": spam, "WebVersionURL": "https://example.com/web", "WebVersionTextURL": "",
            "WorldviewURL": "", "Forwards": 0, "Likes": 0, "Mentions": 0}


def mock_account(mocker):
    """One client in Sydney with one campaign sent 2024-04-06 20:00 local and one list, and the campaign's summary."""
    mocker.get(API + f"clients/{CLIENT}.json", json=client_details())
    mocker.get(API + f"clients/{CLIENT}/campaigns.json", json=page([campaign(CAMPAIGN, "2024-04-06 20:00:00")], ordered_by="SentDate"))
    mocker.get(API + f"clients/{CLIENT}/lists.json", json=[{"ListID": LIST, "Name": "List One"}])
    mocker.get(API + f"campaigns/{CAMPAIGN}/summary.json", json=summary())
