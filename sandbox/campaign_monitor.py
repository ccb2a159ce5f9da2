"""A local Campaign Monitor API v3.3 (https://api.createsend.com/api/v3.3/) for tests and benchmarks.

Built from the API documentation, the official client (campaignmonitor/createsend-python: paths, parameters and their
defaults) and the response bodies Campaign Monitor publishes with that client (../shared/api-samples/campaign_monitor/):
every body this sandbox serves has exactly the keys, key order, value types and value formats of those samples.

Usage::

    with CampaignMonitorSandbox(scale=0.1, seed=0) as sb:
        requests.get(sb.url + "/api/v3.3/clients.json", auth=(sb.api_key, "x"))

Served (every path ends in .json; everything under /api/v3.3 needs credentials). The same paths are also served
under /api/v3.2, the version older clients (the Singer tap) call, where the only difference is that sent campaigns
are a bare array of every sent campaign, newest first, without paging:

- GET /api/v3.3/clients.json, /systemdate.json, /timezones.json
- GET /api/v3.3/clients/{clientid}.json (ApiKey, AccessDetails, BasicDetails with TimeZone, BillingDetails)
- GET /api/v3.3/clients/{clientid}/campaigns.json: sent campaigns, PAGED (page, pagesize, orderdirection, default
  desc, by SentDate), sentfromdate / senttodate (YYYY-MM-DD, inclusive, local day), tags (comma separated, any of)
- GET /api/v3.3/clients/{clientid}/scheduled.json, /drafts.json, /lists.json: bare arrays
- GET /api/v3.3/campaigns/{campaignid}/summary.json, /emailclientusage.json (array)
- GET /api/v3.3/campaigns/{campaignid}/recipients.json (paged; orderfield email|list, default email asc)
- GET /api/v3.3/campaigns/{campaignid}/{opens,clicks,bounces,unsubscribes,spam}.json (paged; `date` filter;
  orderfield date|email|list, default date asc)
- GET /api/v3.3/lists/{listid}.json
- GET /api/v3.3/lists/{listid}/{active,unconfirmed,unsubscribed,bounced,deleted}.json (paged; `date` filter;
  orderfield email|name|date, default email asc; `includetrackingpreference=true` adds ConsentToTrack)
- POST /oauth/token (form encoded): grant_type=authorization_code (client_id, client_secret, redirect_uri, code; a
  code works once) or grant_type=refresh_token (refresh_token); both answer access_token, expires_in, refresh_token;
  errors {"error": "invalid_grant", "error_description": ...} with status 400.

Paging: page from 1, pagesize 10..1000 (default 1000); otherwise 400 with Code 800 (page), 801 (pagesize), 802
(orderfield), 803 (orderdirection), 5 (`date`), 920 / 922 / 927 (sentfromdate / senttodate / from after to); a page past
the end is an empty Results. Envelope: Results, ResultsOrderedBy, OrderDirection, PageNumber, PageSize,
RecordsOnThisPage, TotalNumberOfRecords, NumberOfPages (0 when there are no records). Records with equal sort keys keep
a fixed order, so pages never overlap or skip.

`date` filter: "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (":SS" tolerated and truncated to the minute), in the client's time
zone; only records whose Date is on or after that minute. Dates in records are "YYYY-MM-DD HH:MM:SS" local time of the
client, always with seconds 00 (the API has minute granularity), no offset. No record is generated in the repeated
hour of a daylight-saving fall-back, so every local time maps to exactly one instant (see `to_utc`).

Auth: HTTP basic with an API key as user name (any password), or "Authorization: Bearer <access token>". The account
key `sb.api_key` and OAuth tokens see every client; a client's own key (ApiKey in its details) sees that client only.
Errors are {"Code": n, "Message": "..."}:

- 401 Code 50 "Must supply a valid HTTP Basic Authorization header" (no or unknown API key, no Authorization header)
- 401 Code 120 "Invalid OAuth Token" (unknown bearer token), 401 Code 121 "Expired OAuth Token" (after
  `expire_access_token()`)
- 401 Code 102 "Invalid ClientID", Code 101 "Invalid ListID", Code 301 "Invalid CampaignID": an id the credentials do
  not own (or that does not exist), where one might expect 404
- 400 Code 800-803, 5, 920, 922, 927 for a bad paging / date parameter (see Paging); 404 {"Code": 404, ...} for an
  unknown path; 500 {"Code": 500, "Message": "Internal Server Error"} (and 502/503 alike) when a fault is injected
- 429 {"Code": 429, "Message": "Rate limit exceeded"} with X-RateLimit-Limit, X-RateLimit-Remaining and
  X-RateLimit-Reset (seconds until the window resets) and NO Retry-After: when more than `max_connections` requests
  of one credential are in flight, when `rate_limit=(requests, window_seconds)` is exceeded (then every response
  carries the three headers), and for an injected "429" fault (the shared server's Retry-After is removed).

Data: a deterministic function of (scale, seed) -- random.Random(seed) and a fixed sandbox clock (`NOW_UTC`), never
the wall clock. Two clients: the first in "(GMT+10:00) Canberra, Melbourne, Sydney" (Australia/Sydney, DST ends
2024-04-07, starts 2024-10-06: a campaign is sent the evening before each change so its opens straddle it), the second
in "(GMT-05:00) Eastern Time (US & Canada)". Per client at scale 1: 4 lists (the last one empty), ~1000 subscribers in
each other list across the five states, ~15 sent campaigns (one sent to the empty list: no recipients), ~500
recipients per campaign, opens, clicks, bounces, unsubscribes, spam complaints; about 33k records in all, linear in
scale (at least 3 campaigns and 20 subscribers per list at small scales). Breaking cases: unicode names, empty Name /
ReadsEmailWith / City, campaigns without Tags, bulk imports (many subscribers with the same Date), bursts of opens in
one minute, two clicks of different URLs in the same minute by one subscriber, per campaign one open and one click
repeated identically within its minute (a re-open, a double click), a subscriber in two lists, a campaign
sent to two lists, custom fields (repeated multi-select keys, unicode).

`sb.data` (the ground truth, plain dicts/lists exactly as the API returns them; ids are 32 lower-case hex):

- "clients": [{"ClientID", "Name"}]                               GET /clients.json
- "client_details": {client_id: {...}}                            GET /clients/{id}.json
- "campaigns": {client_id: [campaign]}  (SentDate descending)     Results of GET /clients/{id}/campaigns.json
- "scheduled", "drafts": {client_id: [...]}                       GET /clients/{id}/scheduled.json, drafts.json
- "lists": {client_id: [{"ListID", "Name"}]}                      GET /clients/{id}/lists.json
- "list_details": {list_id: {...}}                                GET /lists/{id}.json
- "subscribers": {list_id: [subscriber]} every state; the State field says which endpoint serves it
- "consent_to_track": {list_id: {email: "Yes"|"No"|"Unchanged"}}  added as ConsentToTrack on request
- "recipients", "opens", "clicks", "bounces", "unsubscribes", "spam": {campaign_id: [record]} (events by Date asc)
- "summary": {campaign_id: {...}}                                 GET /campaigns/{id}/summary.json
- "email_client_usage": {campaign_id: [...]}                      GET /campaigns/{id}/emailclientusage.json
- "timezones": [97 names]                                         GET /timezones.json

`mutate()` advances the sandbox clock by one day and, per client, within that new day: adds Active subscribers (two
of them in the same minute) and one Unconfirmed subscriber to the first list; changes some Active subscribers to
Unsubscribed (one also gets a campaign unsubscribe event on the latest campaign), one to Deleted and one to Bounced
(each with a new Date); adds opens and clicks (one pair of clicks of two URLs in one minute) to the latest campaign;
sends a new campaign to the first list with recipients, opens, clicks and a bounce; and edits a custom field of two
Active subscribers WITHOUT changing their Date (as the API does: Date moves only with a state change, so a read
filtered by `date` cannot see such edits; only a full read does; they are recorded in `sb.custom_field_edits`, a
set of (ListID, EmailAddress, Date) accumulated over every mutate(), and are not in the returned dict). It returns a
dict with exactly one entry per stream of the connector, each a set of the primary keys added or changed (Dates as the
API prints them, local):

- "campaigns", "campaign_summary": {CampaignID}
- "campaign_email_client_usage": {(CampaignID, Client, Version)}
- "campaign_recipients": {(CampaignID, EmailAddress, ListID)}
- "campaign_bounces", "campaign_opens", "campaign_spam_complaints", "campaign_unsubscribes":
  {(CampaignID, EmailAddress, ListID, Date)}
- "campaign_clicks": {(CampaignID, EmailAddress, ListID, Date, URL)}
- "lists", "list_details": {ListID} (always empty: lists do not change)
- "list_active_subscribers", "list_bounced_subscribers", "list_deleted_subscribers", "list_unconfirmed_subscribers",
  "list_unsubscribed_subscribers": {(ListID, EmailAddress, Date)}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import re
import threading
import time
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sandbox.server import FaultPlan, Request, Response, Sandbox, SandboxApp, SandboxServer

API = "/api/v3.3"
API_V3_2 = "/api/v3.2"
NOW_UTC = datetime(2024, 11, 20, 0, 0, tzinfo=timezone.utc)  # the sandbox clock before any mutate()
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
EXPIRES_IN = 1209600  # seconds, as oauth_exchange_token.json
DATA_DIR = Path(__file__).with_name("campaign_monitor_data")

CLIENT_PROFILES = (
    {
        "CompanyName": "Kookaburra Café Roasters",
        "ContactName": "Zoë Ångström",
        "EmailAddress": "hello@kookaburra.example.com",
        "Country": "Australia",
        "TimeZone": "(GMT+10:00) Canberra, Melbourne, Sydney",
        "Currency": "AUD",
        "dst_sends": ("2024-04-06 20:00", "2024-10-05 20:00"),  # evenings before the two changes, local time
    },
    {
        "CompanyName": "Hudson & Søn Bücher",
        "ContactName": "José Núñez",
        "EmailAddress": "books@hudson.example.com",
        "Country": "United States of America",
        "TimeZone": "(GMT-05:00) Eastern Time (US & Canada)",
        "Currency": "USD",
        "dst_sends": ("2024-03-09 20:00", "2024-11-02 20:00"),
    },
)
LIST_NAMES = ("Newsletter ✉", "Café regulars ☕", "VIP — Frühbucher", "Empty list (no subscribers yet)")
FIRST_NAMES = (
    "Olivia", "Noah", "Amelia", "Liam", "Zoë", "José", "Åsa", "Łukasz", "Chloé", "Siobhán", "Nguyễn", "山田",
    "Олег", "محمد", "Ava", "Jack", "Charlotte", "Oliver", "Ruby", "Mia", "François", "Bjørn", "Ingrid", "Kenji",
)
LAST_NAMES = (
    "Smith", "Nguyen", "García", "Müller", "O'Brien", "Kowalski", "Søndergaard", "太郎", "Иванов", "Brown",
    "Wilson", "Dubois", "Rossi", "Tanaka", "Lee", "Patel", "Jones", "Łęcka", "Ó Briain", "van der Berg",
)
READS_WITH = ("Gmail", "Gmail", "Apple Mail", "Outlook", "iPhone", "", "")
EMAIL_CLIENTS = (
    ("iOS Devices", "iPhone", 30), ("Apple Mail", "Apple Mail 16", 18), ("Gmail", "Gmail", 20),
    ("Microsoft Outlook", "Outlook 2019", 10), ("iOS Devices", "iPad", 6), ("Android", "Android 14", 8),
    ("Undetectable", "Undetectable", 8),
)
GEO = (
    (-33.8683, 151.2086, "Sydney", "New South Wales", "AU", "Australia"),
    (-37.8136, 144.9631, "Melbourne", "Victoria", "AU", "Australia"),
    (40.7128, -74.006, "New York", "New York", "US", "United States of America"),
    (51.5074, -0.1278, "London", "England", "GB", "United Kingdom"),
    (48.8566, 2.3522, "Paris", "Île-de-France", "FR", "France"),
    (35.6895, 139.6917, "Tokyo", "Tōkyō", "JP", "Japan"),
    (0.0, 0.0, "", "", "", ""),  # an IP address with no known location
)
BOUNCE_REASONS = (
    ("Soft", "Soft Bounce - General"), ("Soft", "Bounce - But No Email Address Returned "),
    ("Soft", "Soft Bounce - Mailbox Full"), ("Hard", "Hard Bounce"),
)
STATE_WEIGHTS = (("Active", 72), ("Unsubscribed", 9), ("Bounced", 5), ("Deleted", 6), ("Unconfirmed", 8))
ENDPOINT_STATES = {
    "active": "Active", "unconfirmed": "Unconfirmed", "unsubscribed": "Unsubscribed", "bounced": "Bounced",
    "deleted": "Deleted",
}
EVENT_KINDS = ("opens", "clicks", "bounces", "unsubscribes", "spam")
STREAMS = (
    "campaigns", "campaign_summary", "campaign_email_client_usage", "campaign_recipients", "campaign_bounces",
    "campaign_clicks", "campaign_opens", "campaign_spam_complaints", "campaign_unsubscribes", "lists",
    "list_details", "list_active_subscribers", "list_bounced_subscribers", "list_deleted_subscribers",
    "list_unconfirmed_subscribers", "list_unsubscribed_subscribers",
)
EVENT_STREAMS = {
    "opens": "campaign_opens", "clicks": "campaign_clicks", "bounces": "campaign_bounces",
    "unsubscribes": "campaign_unsubscribes", "spam": "campaign_spam_complaints",
}
STATE_STREAMS = {state: f"list_{endpoint}_subscribers" for endpoint, state in ENDPOINT_STATES.items()}
INVALID_PAGE = "Invalid page number: the page number you have provided is invalid"
INVALID_PAGE_SIZE = "Invalid page size: the page size must be between 10 and 1000"
DATE_PARAM = re.compile(r"^(\d{4}-\d{2}-\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")
DAY_PARAM = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiError(Exception):
    """An answer of the API other than 200: raised inside handlers, turned into {"Code", "Message"}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.response = Response(status, {"Code": code, "Message": message})


# The zone whose offsets Campaign Monitor applies to each of its 97 time-zone names: the label's stated standard
# offset is the evidence, so a name whose region has since changed its rules maps to a zone that still keeps that
# offset (docs/campaign-monitor.md lists each such name and why). "UTC-04:30" is a fixed offset no region keeps.
TIME_ZONE_ZONES: dict[str, str] = json.loads((DATA_DIR / "timezone_zones.json").read_text(encoding="utf-8"))


def zone_named(time_zone_name: str) -> tzinfo:
    """The zone of one of Campaign Monitor's time-zone names."""
    zone = TIME_ZONE_ZONES[time_zone_name]
    fixed = re.match(r"^UTC([+-])(\d{2}):(\d{2})$", zone)
    if fixed:
        sign, hours, minutes = fixed.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-offset if sign == "-" else offset, zone)
    return ZoneInfo(zone)


def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def _unambiguous(dt: datetime, zone: ZoneInfo) -> datetime:
    """`dt` (UTC), moved past the repeated hour of a daylight-saving fall-back, so that its local time names one
    instant only."""
    while True:
        local = dt.astimezone(zone)
        if local.replace(fold=1 - local.fold).utcoffset() == local.utcoffset():
            return dt
        dt += timedelta(minutes=30)


class _Generator:
    """Builds the data of one account from (scale, seed); also used by mutate() with its own random stream."""

    def __init__(self, sandbox: "CampaignMonitorSandbox", rng: random.Random) -> None:
        self.sb = sandbox
        self.rng = rng

    # --- small helpers -----------------------------------------------------------------------------------------

    def when(self, client_id: str, start: datetime, end: datetime) -> datetime:
        """A random minute in [start, end] (UTC), not in a repeated local hour, never after the sandbox clock."""
        span = max(0, int((end - start).total_seconds() // 60))
        dt = _minute(start + timedelta(minutes=self.rng.randint(0, span)))
        dt = _unambiguous(dt, self.sb.zone(client_id))
        return min(dt, _minute(self.sb.now) - timedelta(minutes=1))

    def local(self, client_id: str, dt: datetime) -> str:
        return dt.astimezone(self.sb.zone(client_id)).strftime(LOCAL_FORMAT)

    def person(self) -> str:
        if self.rng.random() < 0.04:
            return ""  # subscribers without a name exist
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def custom_fields(self, subscribed: datetime) -> list[dict[str, str]]:
        rng = self.rng
        fields: list[dict[str, str]] = []
        if rng.random() < 0.6:
            fields.append({"Key": "website", "Value": rng.choice(("https://example.com", "https://subdomain.example.com", ""))})
        if rng.random() < 0.3:
            for option in rng.sample(("option one", "option two", "option three"), rng.randint(1, 2)):
                fields.append({"Key": "multi select field", "Value": option})
        if rng.random() < 0.4:
            fields.append({"Key": "age", "Value": str(rng.randint(18, 90))})
        if rng.random() < 0.3:
            fields.append({"Key": "subscription date", "Value": subscribed.strftime("%Y-%m-%d")})
        if rng.random() < 0.15:
            fields.append({"Key": "Lieblingsfarbe", "Value": rng.choice(("Grün", "Blau ☁", "紫"))})
        return fields

    def subscriber(self, client_id: str, email: str, joined: datetime, state: str, changed: datetime) -> dict[str, Any]:
        return {
            "EmailAddress": email,
            "Name": self.person(),
            "Date": self.local(client_id, changed),
            "ListJoinedDate": self.local(client_id, joined),
            "State": state,
            "CustomFields": self.custom_fields(joined),
            "ReadsEmailWith": self.rng.choice(READS_WITH),
        }

    def geo_event(self, client_id: str, email: str, list_id: str, at: datetime, url: str | None = None) -> dict[str, Any]:
        lat, lon, city, region, code, country = self.rng.choice(GEO)
        record: dict[str, Any] = {"EmailAddress": email}
        if url is not None:
            record["URL"] = url
        record.update({
            "ListID": list_id,
            "Date": self.local(client_id, at),
            "IPAddress": f"203.0.113.{self.rng.randint(1, 254)}",
            "Latitude": lat,
            "Longitude": lon,
            "City": city,
            "Region": region,
            "CountryCode": code,
            "CountryName": country,
        })
        return record

    def campaign_urls(self, n: int) -> list[str]:
        base = ["https://shop.example.com/café?utm_source=cm&ü=1", "https://example.com/blog/winter-sale",
                "https://example.com/unsubscribe-preferences", "https://video.example.com/?hl=en&tab=wv",
                "https://example.com/events/2024"]
        return base[: max(2, n)]

    # --- the account -------------------------------------------------------------------------------------------

    def account(self) -> None:
        sb, rng, scale = self.sb, self.rng, self.sb.scale
        for profile in CLIENT_PROFILES:
            client_id = _hex_id(rng)
            sb._zones[client_id] = zone_named(profile["TimeZone"])
            client_key = f"{rng.getrandbits(192):048x}"  # a client-level API key: sees this client only
            sb._client_keys[client_key] = client_id
            sb.data["clients"].append({"ClientID": client_id, "Name": profile["CompanyName"]})
            sb.data["client_details"][client_id] = {
                "ApiKey": client_key,
                "AccessDetails": {"Username": profile["CompanyName"].split()[0].lower(), "AccessLevel": 23},
                "BasicDetails": {
                    "ClientID": client_id,
                    "CompanyName": profile["CompanyName"],
                    "ContactName": profile["ContactName"],
                    "EmailAddress": profile["EmailAddress"],
                    "Country": profile["Country"],
                    "TimeZone": profile["TimeZone"],
                },
                "BillingDetails": {
                    "CanPurchaseCredits": True,
                    "Credits": rng.randint(0, 5000),
                    "ClientPays": True,
                    "BaseRatePerRecipient": 1.0,
                    "MarkupPerRecipient": 0.0,
                    "MarkupOnDelivery": 0.0,
                    "BaseDeliveryRate": 5.0,
                    "Currency": profile["Currency"],
                    "BaseDesignSpamTestRate": 5.0,
                },
            }
            self.lists(client_id, max(20, round(1000 * scale)))
            self.campaigns(client_id, profile, max(3, round(15 * scale)))
            self.unsent(client_id, profile)

    def lists(self, client_id: str, per_list: int) -> None:
        sb, rng = self.sb, self.rng
        sb.data["lists"][client_id] = []
        pool_size = int(per_list * 3 * 0.85) + 1  # lists share ~15% of their subscribers
        stem = ("subs", "reader", "kunde", "member", "fan")
        pool = [f"{rng.choice(stem)}+{client_id[:6]}{i}@example.{rng.choice(('com', 'org', 'net'))}" for i in range(pool_size)]
        for index, name in enumerate(LIST_NAMES):
            list_id = _hex_id(rng)
            sb._owner[list_id] = client_id
            sb.data["lists"][client_id].append({"ListID": list_id, "Name": name})
            sb.data["list_details"][list_id] = {
                "ConfirmedOptIn": index == 1,
                "Title": name,
                "UnsubscribePage": "" if index != 2 else "https://example.com/unsubscribed",
                "ListID": list_id,
                "ConfirmationSuccessPage": "",
                "UnsubscribeSetting": "AllClientLists" if index != 2 else "OnlyThisList",
            }
            sb.data["subscribers"][list_id] = []
            sb.data["consent_to_track"][list_id] = {}
            if index == len(LIST_NAMES) - 1:
                continue  # the empty list
            emails = rng.sample(pool, min(per_list, len(pool)))
            imports = [self.when(client_id, NOW_UTC - timedelta(days=400), NOW_UTC - timedelta(days=60)) for _ in range(3)]
            for email in emails:
                if rng.random() < 0.12:
                    joined = rng.choice(imports)  # a bulk import: many subscribers share one minute
                else:
                    joined = self.when(client_id, NOW_UTC - timedelta(days=420), NOW_UTC - timedelta(days=3))
                state = rng.choices([s for s, _ in STATE_WEIGHTS], [w for _, w in STATE_WEIGHTS])[0]
                changed = joined
                if state in ("Unsubscribed", "Bounced", "Deleted") or (state == "Active" and rng.random() < 0.08):
                    changed = self.when(client_id, joined + timedelta(hours=1), min(NOW_UTC, joined + timedelta(days=200)))
                self.add_subscriber(client_id, list_id, email, joined, state, changed)

    def add_subscriber(self, client_id: str, list_id: str, email: str, joined: datetime, state: str,
                       changed: datetime) -> dict[str, Any]:
        record = self.subscriber(client_id, email, joined, state, changed)
        self.sb.data["subscribers"][list_id].append(record)
        self.sb.data["consent_to_track"][list_id][email] = self.rng.choice(("Yes", "No", "Unchanged"))
        self.sb._joined[(list_id, email)] = (joined, changed)
        return record

    def campaigns(self, client_id: str, profile: dict[str, Any], count: int) -> None:
        sb, rng = self.sb, self.rng
        zone = sb.zone(client_id)
        sends: list[datetime] = []
        for local in profile["dst_sends"]:
            sends.append(datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=zone).astimezone(timezone.utc))
        while len(sends) < count:
            sends.append(self.when(client_id, NOW_UTC - timedelta(days=330), NOW_UTC - timedelta(days=2)))
        if count >= 4:
            sends[3] = sends[2]  # two campaigns sent in the same minute
        sb.data["campaigns"][client_id] = []
        lists = sb.data["lists"][client_id]
        for index, sent in enumerate(sends[:count]):
            if index == 2:
                targets = [lists[-1]["ListID"]]  # the empty list: a sent campaign without recipients
            elif index % 5 == 1:
                targets = [lists[0]["ListID"], lists[1]["ListID"]]  # one subscriber can get it twice
            else:
                targets = [lists[rng.randint(0, len(lists) - 2)]["ListID"]]
            self.send(client_id, index, sent, targets, target_size=rng.randint(400, 600))
        sb.data["campaigns"][client_id].sort(key=lambda c: c["SentDate"], reverse=True)

    def send(self, client_id: str, index: int, sent: datetime, list_ids: list[str], target_size: int,
             end: datetime | None = None) -> str:
        """A sent campaign to `list_ids` with its recipients and activity up to `end` (default: 30 days later)."""
        sb, rng = self.sb, self.rng
        campaign_id = _hex_id(rng)
        sb._owner[campaign_id] = client_id
        web = f"https://createsend.com/t/r-{rng.getrandbits(64):016X}"
        name = rng.choice(("Winter sale ❄", "Newsletter", "Nouveautés de la semaine", "Último aviso", "新品のお知らせ", "Re-engagement"))
        tags = rng.choice(([], [], ["Tag1"], ["Tag1", "Tag2"], ["Promo"]))
        campaign: dict[str, Any] = {
            "WebVersionURL": web,
            "WebVersionTextURL": web + "/t",
            "CampaignID": campaign_id,
            "Subject": f"{name} #{index + 1}",
            "Name": f"{name} #{index + 1}",
            "FromName": sb.data["client_details"][client_id]["BasicDetails"]["ContactName"],
            "FromEmail": sb.data["client_details"][client_id]["BasicDetails"]["EmailAddress"],
            "ReplyTo": sb.data["client_details"][client_id]["BasicDetails"]["EmailAddress"],
            "SentDate": self.local(client_id, sent),
            "TotalRecipients": 0,
        }
        if tags:
            campaign["Tags"] = tags  # campaigns without tags have no Tags key, as in campaigns.json
        sb.data["campaigns"][client_id].append(campaign)
        for kind in ("recipients",) + EVENT_KINDS:
            sb.data[kind][campaign_id] = []
        sb._sent[campaign_id] = sent
        sb._urls[campaign_id] = self.campaign_urls(rng.randint(2, 5))
        sb._social[campaign_id] = (rng.randint(0, 40), rng.randint(0, 20), rng.randint(0, 50))
        candidates = []
        for list_id in list_ids:
            for record in sb.data["subscribers"][list_id]:
                joined, changed = sb._joined[(list_id, record["EmailAddress"])]
                was_active = (record["State"] == "Active" and joined <= sent) or (
                    record["State"] in ("Unsubscribed", "Bounced", "Deleted") and joined <= sent < changed)
                if was_active:
                    candidates.append((record["EmailAddress"], list_id))
        recipients = rng.sample(candidates, min(target_size, len(candidates)))
        recipients.sort(key=lambda r: (r[0], r[1]))
        sb.data["recipients"][campaign_id] = [{"EmailAddress": e, "ListID": l} for e, l in recipients]
        campaign["TotalRecipients"] = len(recipients)
        self.activity(client_id, campaign_id, recipients, sent, end or sent + timedelta(days=30))
        return campaign_id

    def activity(self, client_id: str, campaign_id: str, recipients: list[tuple[str, str]], start: datetime,
                 end: datetime, share: float = 1.0) -> dict[str, list[dict[str, Any]]]:
        """Opens, clicks, bounces, unsubscribes and spam complaints of `recipients` between start and end."""
        sb, rng = self.sb, self.rng
        end = min(end, sb.now - timedelta(minutes=1))
        added: dict[str, list[dict[str, Any]]] = {kind: [] for kind in EVENT_KINDS}
        if not recipients or end <= start:
            return added
        burst = self.when(client_id, start + timedelta(minutes=5), start + timedelta(minutes=5))
        urls = sb._urls[campaign_id]

        def after(origin: datetime, mean_minutes: float) -> datetime:
            at = origin + timedelta(minutes=1 + rng.expovariate(1 / mean_minutes))
            return self.when(client_id, min(at, end), min(at, end))

        for email, list_id in recipients:
            roll = rng.random() / share
            if roll < 0.03:
                bounce_type, reason = rng.choice(BOUNCE_REASONS)
                at = self.when(client_id, start + timedelta(minutes=1), min(end, start + timedelta(minutes=40)))
                added["bounces"].append({"EmailAddress": email, "ListID": list_id, "BounceType": bounce_type,
                                         "Date": self.local(client_id, at), "Reason": reason})
                continue
            if roll >= 0.6:
                continue
            opens = [burst if rng.random() < 0.08 else after(start, 24 * 60)]
            opens += [after(opens[0], 12 * 60) for _ in range(rng.choice((0, 0, 0, 1, 2)))]
            for at in opens:
                added["opens"].append(self.geo_event(client_id, email, list_id, at))
            if rng.random() < 0.35 or not added["clicks"]:
                at = after(opens[0], 3)
                two = rng.random() < 0.15 or not added["clicks"]  # the first clicker always clicks two URLs
                chosen = rng.sample(urls, 2) if two else [rng.choice(urls)]
                for url in chosen:  # two URLs in the same minute stay two clicks
                    added["clicks"].append(self.geo_event(client_id, email, list_id, at, url))
            if rng.random() < 0.03:
                at = after(opens[0], 30)
                added["unsubscribes"].append({"EmailAddress": email, "ListID": list_id,
                                              "Date": self.local(client_id, at),
                                              "IPAddress": f"198.51.100.{rng.randint(1, 254)}"})
            elif rng.random() < 0.008 or (share == 1.0 and not added["spam"] and len(added["opens"]) > 20):
                at = after(opens[0], 60)
                added["spam"].append({"EmailAddress": email, "ListID": list_id, "Date": self.local(client_id, at)})
        # a re-open and a double click within one minute: the same subscriber, minute, URL, IP and place, as the API
        # prints them (to the minute), so nothing but their order tells the two apart
        for kind in ("opens", "clicks"):
            if added[kind]:
                first = added[kind][0]
                added[kind].insert(1, dict(first))
        for kind, records in added.items():
            sb.data[kind][campaign_id].extend(records)
            sb.data[kind][campaign_id].sort(key=lambda r: r["Date"])
        return added

    def unsent(self, client_id: str, profile: dict[str, Any]) -> None:
        sb, rng = self.sb, self.rng
        details = sb.data["client_details"][client_id]["BasicDetails"]
        sb.data["scheduled"][client_id] = []
        sb.data["drafts"][client_id] = []
        for n in range(2):
            preview = f"https://createsend.com/t/r-{rng.getrandbits(64):016X}"
            created = self.when(client_id, NOW_UTC - timedelta(days=20), NOW_UTC - timedelta(days=1))
            sb.data["scheduled"][client_id].append({
                "DateScheduled": (NOW_UTC + timedelta(days=3 + n)).astimezone(sb.zone(client_id)).strftime(LOCAL_FORMAT),
                "ScheduledTimeZone": profile["TimeZone"],
                "CampaignID": _hex_id(rng),
                "Name": f"Scheduled issue {n + 1} ✓",
                "Subject": f"Scheduled issue {n + 1} ✓",
                "FromName": details["ContactName"],
                "FromEmail": details["EmailAddress"],
                "ReplyTo": details["EmailAddress"],
                "DateCreated": self.local(client_id, created),
                "PreviewURL": preview,
                "PreviewTextURL": preview + "/t",
                "Tags": [] if n == 0 else ["Tags3", "Tags4"],
            })
            preview = f"https://createsend.com/t/r-{rng.getrandbits(64):016X}"
            sb.data["drafts"][client_id].append({
                "CampaignID": _hex_id(rng),
                "Name": f"Draft {n + 1}",
                "Subject": "" if n == 1 else f"Draft {n + 1}",
                "FromName": details["ContactName"],
                "FromEmail": details["EmailAddress"],
                "ReplyTo": details["EmailAddress"],
                "DateCreated": self.local(client_id, created),
                "PreviewURL": preview,
                "PreviewTextURL": preview + "/t",
                "Tags": ["Tags5"] if n == 0 else [],
            })


class CampaignMonitorApp(SandboxApp):
    """The routes of Campaign Monitor API v3.3 and its OAuth token endpoint, over a CampaignMonitorSandbox's data."""

    def __init__(self, sandbox: "CampaignMonitorSandbox") -> None:
        super().__init__()
        self.sb = sandbox
        self._windows: dict[str, tuple[float, int]] = {}
        self._window_lock = threading.Lock()
        def get(pattern: str, handler: Callable[[Request, set[str]], Response]) -> None:
            for version in (API, API_V3_2):  # v3.2 is still served (the Singer tap uses it); only campaigns differ
                self.route("GET", version + pattern, self._authorized(handler))

        get("/clients.json", self.clients)
        get("/systemdate.json", self.systemdate)
        get("/timezones.json", lambda request, principal: self._array(self.sb.data["timezones"]))
        get("/clients/{client_id}.json", self.client_details)
        get("/clients/{client_id}/campaigns.json", self.sent_campaigns)
        for name in ("scheduled", "drafts", "lists"):
            get("/clients/{client_id}/%s.json" % name, self._client_array(name))
        get("/campaigns/{campaign_id}/summary.json", self.summary)
        get("/campaigns/{campaign_id}/emailclientusage.json", self.email_client_usage)
        get("/campaigns/{campaign_id}/recipients.json", self.recipients)
        for kind in EVENT_KINDS:
            get("/campaigns/{campaign_id}/%s.json" % kind, self._events(kind))
        get("/lists/{list_id}.json", self.list_details)
        for endpoint, state in ENDPOINT_STATES.items():
            get("/lists/{list_id}/%s.json" % endpoint, self._subscribers(state))
        self.route("POST", "/oauth/token", self.token)

    # --- SandboxApp -------------------------------------------------------------------------------------------

    def overloaded(self, request: Request) -> Response:
        limit = self.sb.rate_limit[0] if self.sb.rate_limit else (self.sb.server.max_connections or 0)
        return Response(429, {"Code": 429, "Message": "Rate limit exceeded"}, headers={
            "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"})

    def throttled(self, request: Request, wait_seconds: int) -> Response:
        """Campaign Monitor says how long to wait in X-RateLimit-Reset, never in Retry-After."""
        response = self.overloaded(request)
        response.headers["X-RateLimit-Reset"] = str(wait_seconds)
        return response

    def not_found(self, request: Request) -> Response:
        return Response(404, {"Code": 404, "Message": f"The requested resource {request.path} was not found"})

    def server_error(self, request: Request, status: int) -> Response:
        messages = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return Response(status, {"Code": status, "Message": messages.get(status, "Server Error")})

    # --- auth and rate limit ----------------------------------------------------------------------------------

    def principal(self, request: Request) -> set[str]:
        """The client ids the request's credentials see, or ApiError 401."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self.sb._principal_of_token(value.strip())
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                user = ""
            if user == self.sb.api_key:
                return {c["ClientID"] for c in self.sb.data["clients"]}
            if user in self.sb._client_keys:
                return {self.sb._client_keys[user]}
        raise ApiError(401, 50, "Must supply a valid HTTP Basic Authorization header")

    def _rate_limit_headers(self, request: Request) -> dict[str, str]:
        if not self.sb.rate_limit:
            return {}
        limit, window = self.sb.rate_limit
        credential = self.credential(request)
        now = time.monotonic()
        with self._window_lock:
            start, count = self._windows.get(credential, (now, 0))
            if now - start >= window:
                start, count = now, 0
            count += 1
            self._windows[credential] = (start, count)
        reset = str(max(1, math.ceil(start + window - now)))
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - count)),
                   "X-RateLimit-Reset": reset}
        if count > limit:
            raise _RateLimited(headers)
        return headers

    def _authorized(self, handler: Callable[[Request, set[str]], Response]) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                headers = self._rate_limit_headers(request)
                principal = self.principal(request)
                with self.sb._lock:
                    response = handler(request, principal)
            except _RateLimited as limited:
                response = Response(429, {"Code": 429, "Message": "Rate limit exceeded"})
                headers = limited.headers
            except ApiError as error:
                response = error.response
            response.headers.update(headers)
            return response
        return serve

    # --- ownership --------------------------------------------------------------------------------------------

    def _client(self, client_id: str, principal: set[str]) -> str:
        if client_id not in principal:
            raise ApiError(401, 102, "Invalid ClientID")
        return client_id

    def _list(self, list_id: str, principal: set[str]) -> str:
        if self.sb._owner.get(list_id) not in principal or list_id not in self.sb.data["list_details"]:
            raise ApiError(401, 101, "Invalid ListID")
        return list_id

    def _campaign(self, campaign_id: str, principal: set[str]) -> str:
        if self.sb._owner.get(campaign_id) not in principal or campaign_id not in self.sb.data["summary"]:
            raise ApiError(401, 301, "Invalid CampaignID")
        return campaign_id

    # --- paging -----------------------------------------------------------------------------------------------

    @staticmethod
    def _array(records: list[Any]) -> Response:
        return Response(200, json.loads(json.dumps(records)), items=len(records))

    @staticmethod
    def _int(request: Request, name: str, default: int, code: int, message: str) -> int:
        raw = request.query.get(name, "")
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ApiError(400, code, message) from None

    def _page(self, request: Request, records: list[dict[str, Any]], ordered_by: str, direction: str,
              key: Callable[[dict[str, Any]], Any]) -> Response:
        page = self._int(request, "page", 1, 800, INVALID_PAGE)
        size = self._int(request, "pagesize", 1000, 801, INVALID_PAGE_SIZE)
        if page < 1:
            raise ApiError(400, 800, INVALID_PAGE)
        if not 10 <= size <= 1000:
            raise ApiError(400, 801, INVALID_PAGE_SIZE)
        ordered = sorted(records, key=key, reverse=direction == "desc")  # stable: ties keep their fixed order
        chunk = ordered[(page - 1) * size: page * size]
        body = {
            "Results": [dict(record) for record in chunk],  # copies: mutate() may edit a record
            "ResultsOrderedBy": ordered_by,
            "OrderDirection": direction,
            "PageNumber": page,
            "PageSize": size,
            "RecordsOnThisPage": len(chunk),
            "TotalNumberOfRecords": len(records),
            "NumberOfPages": math.ceil(len(records) / size),
        }
        return Response(200, body, items=len(chunk))

    @staticmethod
    def _direction(request: Request, default: str) -> str:
        direction = (request.query.get("orderdirection") or default).lower()
        if direction not in ("asc", "desc"):
            raise ApiError(400, 803, "Invalid order direction: the order direction must be either asc or desc")
        return direction

    @staticmethod
    def _order_field(request: Request, allowed: dict[str, Callable[[dict[str, Any]], Any]], default: str):
        field = (request.query.get("orderfield") or default).lower()
        if field not in allowed:
            raise ApiError(400, 802, f"Invalid order field: the order field must be either {' or '.join(allowed)}")
        return field, allowed[field]

    @staticmethod
    def _since(request: Request) -> str | None:
        """The `date` parameter as the smallest local "YYYY-MM-DD HH:MM:SS" it admits (minute granularity)."""
        raw = request.query.get("date", "").strip()
        if not raw:
            return None
        match = DATE_PARAM.match(raw)
        try:
            if not match:
                raise ValueError(raw)
            day, hour, minute, _ = match.groups()
            parsed = datetime.strptime(f"{day} {hour or '00'}:{minute or '00'}", "%Y-%m-%d %H:%M")
        except ValueError:
            raise ApiError(400, 5, "Invalid Date: use YYYY-MM-DD or YYYY-MM-DD HH:MM") from None
        return parsed.strftime(LOCAL_FORMAT)

    # --- handlers ---------------------------------------------------------------------------------------------

    def clients(self, request: Request, principal: set[str]) -> Response:
        return self._array([c for c in self.sb.data["clients"] if c["ClientID"] in principal])

    def systemdate(self, request: Request, principal: set[str]) -> Response:
        first = self.sb.data["clients"][0]["ClientID"]
        return Response(200, {"SystemDate": self.sb.now.astimezone(self.sb.zone(first)).strftime(LOCAL_FORMAT)})

    def client_details(self, request: Request, principal: set[str]) -> Response:
        client_id = self._client(request.params["client_id"], principal)
        return Response(200, json.loads(json.dumps(self.sb.data["client_details"][client_id])))

    def _client_array(self, name: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            return self._array(self.sb.data[name][self._client(request.params["client_id"], principal)])
        return handler

    def sent_campaigns(self, request: Request, principal: set[str]) -> Response:
        client_id = self._client(request.params["client_id"], principal)
        records = self.sb.data["campaigns"][client_id]
        for name, code, compare in (("sentfromdate", 920, lambda day, bound: day >= bound),
                                    ("senttodate", 922, lambda day, bound: day <= bound)):
            bound = request.query.get(name, "").strip()
            if bound:
                try:
                    if not DAY_PARAM.match(bound):
                        raise ValueError(bound)
                    datetime.strptime(bound, "%Y-%m-%d")
                except ValueError:
                    raise ApiError(400, code, f"Invalid {name}: the date must be provided in the format YYYY-MM-DD") from None
                records = [c for c in records if compare(c["SentDate"][:10], bound)]
        since, until = request.query.get("sentfromdate", "").strip(), request.query.get("senttodate", "").strip()
        if since and until and since > until:
            raise ApiError(400, 927, 'Invalid date range: "From Date" must be before "To Date"')
        tags = {t.strip() for t in request.query.get("tags", "").split(",") if t.strip()}
        if tags:
            records = [c for c in records if tags & set(c.get("Tags", []))]
        if request.path.startswith(API_V3_2 + "/"):  # v3.2: every sent campaign, newest first, in a bare array
            return self._array(sorted(records, key=lambda c: c["SentDate"], reverse=True))
        direction = self._direction(request, "desc")
        return self._page(request, records, "SentDate", direction, lambda c: c["SentDate"])

    def summary(self, request: Request, principal: set[str]) -> Response:
        campaign_id = self._campaign(request.params["campaign_id"], principal)
        return Response(200, dict(self.sb.data["summary"][campaign_id]))

    def email_client_usage(self, request: Request, principal: set[str]) -> Response:
        campaign_id = self._campaign(request.params["campaign_id"], principal)
        return self._array(self.sb.data["email_client_usage"][campaign_id])

    def recipients(self, request: Request, principal: set[str]) -> Response:
        campaign_id = self._campaign(request.params["campaign_id"], principal)
        field, key = self._order_field(request, {
            "email": lambda r: r["EmailAddress"].lower(), "list": lambda r: r["ListID"]}, "email")
        return self._page(request, self.sb.data["recipients"][campaign_id], field, self._direction(request, "asc"), key)

    def _events(self, kind: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            campaign_id = self._campaign(request.params["campaign_id"], principal)
            records = self.sb.data[kind][campaign_id]
            since = self._since(request)
            if since:
                records = [r for r in records if r["Date"] >= since]
            field, key = self._order_field(request, {
                "date": lambda r: r["Date"], "email": lambda r: r["EmailAddress"].lower(),
                "list": lambda r: r["ListID"]}, "date")
            return self._page(request, records, field, self._direction(request, "asc"), key)
        return handler

    def list_details(self, request: Request, principal: set[str]) -> Response:
        list_id = self._list(request.params["list_id"], principal)
        return Response(200, dict(self.sb.data["list_details"][list_id]))

    def _subscribers(self, state: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            list_id = self._list(request.params["list_id"], principal)
            records = [r for r in self.sb.data["subscribers"][list_id] if r["State"] == state]
            since = self._since(request)
            if since:
                records = [r for r in records if r["Date"] >= since]
            field, key = self._order_field(request, {
                "email": lambda r: r["EmailAddress"].lower(), "name": lambda r: r["Name"].lower(),
                "date": lambda r: r["Date"]}, "email")
            response = self._page(request, records, field, self._direction(request, "asc"), key)
            if request.query.get("includetrackingpreference", "").lower() == "true":
                consent = self.sb.data["consent_to_track"][list_id]
                for record in response.body["Results"]:
                    record["ConsentToTrack"] = consent[record["EmailAddress"]]
            return response
        return handler

    def token(self, request: Request) -> Response:
        form = request.form() if request.body else dict(request.query)
        with self.sb._lock:
            return self.sb._grant(form)


class _RateLimited(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.headers = headers


class CampaignMonitorSandbox(Sandbox):
    """One Campaign Monitor account (see the module docstring) served on 127.0.0.1.

    Attributes: url, server, data, scale, seed, now (the sandbox clock, UTC), api_key, oauth (client_id,
    client_secret, authorization_code, redirect_uri, access_token, refresh_token: the latest issued), client_ids,
    rate_limit, single_use_refresh_tokens (False: a refresh token stays valid after use until revoked),
    custom_field_edits (see mutate()).
    """

    def __init__(self, scale: float = 1.0, seed: int = 0, latency: float = 0.0, item_latency: float = 0.0,
                 max_connections: int | None = 10, faults: FaultPlan | None = None, port: int = 0,
                 rate_limit: tuple[int, float] | None = None) -> None:
        self.scale = scale
        self.seed = seed
        self.now = NOW_UTC
        self.rate_limit = rate_limit
        self.single_use_refresh_tokens = False
        self._lock = threading.RLock()
        self._zones: dict[str, ZoneInfo] = {}
        self._owner: dict[str, str] = {}  # list or campaign id -> client id
        self._client_keys: dict[str, str] = {}  # client-level API key -> client id
        self._joined: dict[tuple[str, str], tuple[datetime, datetime]] = {}  # (list, email) -> (joined, changed) UTC
        self._sent: dict[str, datetime] = {}
        self._urls: dict[str, list[str]] = {}
        self._social: dict[str, tuple[int, int, int]] = {}
        self._mutations = 0
        self.custom_field_edits: set[tuple[str, str, str]] = set()  # see mutate()
        self.data: dict[str, Any] = {
            "clients": [], "client_details": {}, "campaigns": {}, "scheduled": {}, "drafts": {}, "lists": {},
            "list_details": {}, "subscribers": {}, "consent_to_track": {}, "recipients": {}, "opens": {},
            "clicks": {}, "bounces": {}, "unsubscribes": {}, "spam": {}, "summary": {}, "email_client_usage": {},
            "timezones": json.loads((DATA_DIR / "timezones.json").read_text(encoding="utf-8")),
        }
        rng = random.Random(seed)
        self.api_key = f"{rng.getrandbits(192):048x}"
        _Generator(self, rng).account()
        self._refresh_derived()
        self.client_ids = [c["ClientID"] for c in self.data["clients"]]
        # OAuth: an application, one unused authorization code, and a grant already made (access + refresh token)
        self._token_counter = 0
        self._codes: dict[str, bool] = {}
        self._access: dict[str, bool] = {}  # access token -> expired
        self._refresh: set[str] = set()
        self.oauth: dict[str, str] = {
            "client_id": str(100000 + rng.randint(0, 899999)),
            "client_secret": self._token("secret", 48),
            "redirect_uri": "https://app.example.com/oauth/callback",
        }
        self.oauth["authorization_code"] = self.new_authorization_code()
        self.oauth["access_token"], self.oauth["refresh_token"] = self._issue()
        self.app = CampaignMonitorApp(self)
        self.server: SandboxServer = SandboxServer(
            self.app, latency=latency, item_latency=item_latency, max_connections=max_connections, faults=faults,
            port=port)

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "api_key": self.api_key, "oauth": self.oauth, "client_ids": self.client_ids,
                "counts": self.counts()}

    # --- time zones -------------------------------------------------------------------------------------------

    def zone(self, client_id: str) -> ZoneInfo:
        return self._zones[client_id]

    def client_of(self, any_id: str) -> str:
        """The client that owns a client, list or campaign id."""
        return any_id if any_id in self._zones else self._owner[any_id]

    def to_utc(self, owner_id: str, local: str) -> str:
        """A record's local "YYYY-MM-DD HH:MM:SS" (of the client owning `owner_id`: client, list or campaign id) as
        ISO 8601 UTC, e.g. "2024-04-06T09:00:00+00:00"."""
        naive = datetime.strptime(local, LOCAL_FORMAT)
        return naive.replace(tzinfo=self.zone(self.client_of(owner_id))).astimezone(timezone.utc).isoformat()

    # --- counts -----------------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Records per connector stream, for every client the account sees."""
        with self._lock:
            d = self.data
            campaigns = [c["CampaignID"] for cs in d["campaigns"].values() for c in cs]
            lists = [l["ListID"] for ls in d["lists"].values() for l in ls]
            counts = {
                "campaigns": len(campaigns),
                "campaign_summary": len(campaigns),
                "campaign_email_client_usage": sum(len(d["email_client_usage"][c]) for c in campaigns),
                "campaign_recipients": sum(len(d["recipients"][c]) for c in campaigns),
                "lists": len(lists),
                "list_details": len(lists),
            }
            for kind, stream in EVENT_STREAMS.items():
                counts[stream] = sum(len(d[kind][c]) for c in campaigns)
            states = Counter(r["State"] for l in lists for r in d["subscribers"][l])
            for state, stream in STATE_STREAMS.items():
                counts[stream] = states[state]
            return {stream: counts[stream] for stream in STREAMS}

    # --- OAuth ------------------------------------------------------------------------------------------------

    def _token(self, kind: str, length: int = 32) -> str:
        self._token_counter += 1
        digest = hashlib.sha256(f"{self.seed}|{kind}|{self._token_counter}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]

    def _issue(self) -> tuple[str, str]:
        access, refresh = self._token("access"), self._token("refresh", 22)
        self._access[access] = False
        self._refresh.add(refresh)
        return access, refresh

    def new_authorization_code(self) -> str:
        """A fresh authorization code (as if the user approved the app again); each works once."""
        with self._lock:
            code = self._token("code", 24)
            self._codes[code] = False
            return code

    def expire_access_token(self) -> None:
        """Every access token issued so far now gets 401 Code 121 "Expired OAuth Token"."""
        with self._lock:
            for token in self._access:
                self._access[token] = True

    def revoke_refresh_token(self) -> None:
        """Every refresh token issued so far is now rejected by POST /oauth/token (invalid_grant)."""
        with self._lock:
            self._refresh.clear()

    def _principal_of_token(self, token: str) -> set[str]:
        with self._lock:
            if token not in self._access:
                raise ApiError(401, 120, "Invalid OAuth Token")
            if self._access[token]:
                raise ApiError(401, 121, "Expired OAuth Token")
        return {c["ClientID"] for c in self.data["clients"]}

    def _grant(self, form: dict[str, str]) -> Response:
        def error(name: str, description: str) -> Response:
            return Response(400, {"error": name, "error_description": description})

        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            if form.get("client_id") != self.oauth["client_id"] or form.get("client_secret") != self.oauth["client_secret"]:
                return error("invalid_client", "Specified client_id or client_secret was invalid")
            code = form.get("code", "")
            if code not in self._codes or self._codes[code]:
                return error("invalid_grant", "Specified code was invalid or expired")
            if form.get("redirect_uri") != self.oauth["redirect_uri"]:
                return error("invalid_grant", "Specified redirect_uri was invalid")
            self._codes[code] = True
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self._refresh:
                return error("invalid_grant", "Specified refresh_token was invalid or expired")
            for name in ("client_id", "client_secret"):  # optional in this grant, but checked when sent
                if form.get(name) and form[name] != self.oauth[name]:
                    return error("invalid_client", "Specified client_id or client_secret was invalid")
            if self.single_use_refresh_tokens:
                self._refresh.discard(refresh)
        else:
            return error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        access, refresh = self._issue()
        self.oauth["access_token"], self.oauth["refresh_token"] = access, refresh
        return Response(200, {"access_token": access, "expires_in": EXPIRES_IN, "refresh_token": refresh})

    # --- derived bodies ---------------------------------------------------------------------------------------

    def _refresh_derived(self) -> None:
        """Campaign summaries and email client usage, computed from the recipients and events."""
        d = self.data
        for campaigns in d["campaigns"].values():
            for campaign in campaigns:
                cid = campaign["CampaignID"]
                opens = d["opens"][cid]
                unique = sorted({(o["EmailAddress"], o["ListID"]) for o in opens})
                mentions, forwards, likes = self._social[cid]
                web = campaign["WebVersionURL"]
                d["summary"][cid] = {
                    "Name": campaign["Name"],
                    "Recipients": len(d["recipients"][cid]),
                    "TotalOpened": len(opens),
                    "Clicks": len(d["clicks"][cid]),
                    "Unsubscribed": len(d["unsubscribes"][cid]),
                    "Bounced": len(d["bounces"][cid]),
                    "UniqueOpened": len(unique),
                    "Mentions": mentions,
                    "Forwards": forwards,
                    "Likes": likes,
                    "WebVersionURL": web,
                    "WebVersionTextURL": web + "/t",
                    "WorldviewURL": "https://client.createsend.com/reports/wv/r/" + web.rsplit("-", 1)[1],
                    "SpamComplaints": len(d["spam"][cid]),
                }
                usage: Counter[tuple[str, str]] = Counter()
                weights = [w for _, _, w in EMAIL_CLIENTS]
                for email, _ in unique:
                    pick = zlib.crc32(email.encode()) % sum(weights)
                    for client, version, weight in EMAIL_CLIENTS:
                        if pick < weight:
                            usage[(client, version)] += 1
                            break
                        pick -= weight
                d["email_client_usage"][cid] = [
                    {"Client": client, "Version": version, "Percentage": round(100.0 * n / len(unique), 2),
                     "Subscribers": n}
                    for (client, version), n in sorted(usage.items(), key=lambda item: (-item[1], item[0]))
                ]

    # --- changes between two syncs ----------------------------------------------------------------------------

    def record_event(self, kind: str, campaign_id: str, event: dict[str, Any]) -> None:
        """Records one event ("opens", "clicks", ...) of a campaign now, whatever its Date: an event logged after a
        sync read the campaign but dated at or before what that sync read (the summary counts it from now on)."""
        with self._lock:
            self.data[kind][campaign_id].append(dict(event))
            self.data[kind][campaign_id].sort(key=lambda r: r["Date"])
            self._refresh_derived()

    def mutate(self) -> dict[str, set[Any]]:
        """Adds and changes data within one new day of the sandbox clock; see the module docstring for what and for
        the returned {stream: set of primary keys added or changed}."""
        with self._lock:
            self._mutations += 1
            rng = random.Random(f"{self.seed}|mutate|{self._mutations}")
            gen = _Generator(self, rng)
            start = self.now + timedelta(minutes=1)
            self.now = self.now + timedelta(days=1)
            end = self.now - timedelta(minutes=1)
            changes: dict[str, set[Any]] = {stream: set() for stream in STREAMS}
            usage_before = {cid: {(u["Client"], u["Version"]): u for u in usage}
                            for cid, usage in self.data["email_client_usage"].items()}
            summary_before = {cid: dict(s) for cid, s in self.data["summary"].items()}
            for client_id in self.client_ids:
                self._mutate_client(client_id, gen, start, end, changes)
            self._refresh_derived()
            for cid, summary in self.data["summary"].items():
                if summary_before.get(cid) != summary:
                    changes["campaign_summary"].add(cid)
                before = usage_before.get(cid, {})
                for usage in self.data["email_client_usage"][cid]:
                    if before.get((usage["Client"], usage["Version"])) != usage:
                        changes["campaign_email_client_usage"].add((cid, usage["Client"], usage["Version"]))
            return changes

    def _mutate_client(self, client_id: str, gen: _Generator, start: datetime, end: datetime,
                       changes: dict[str, set[Any]]) -> None:
        rng, d = gen.rng, self.data
        first_list = d["lists"][client_id][0]["ListID"]

        def subscriber_key(list_id: str, record: dict[str, Any]) -> tuple[str, str, str]:
            return (list_id, record["EmailAddress"], record["Date"])

        # new subscribers; two of them join in the same minute
        joined_together = gen.when(client_id, start, end)
        for n in range(max(2, round(10 * self.scale))):
            email = f"new{self._mutations}.{n}+{client_id[:6]}@example.com"
            at = joined_together if n < 2 else gen.when(client_id, start, end)
            record = gen.add_subscriber(client_id, first_list, email, at, "Active", at)
            changes["list_active_subscribers"].add(subscriber_key(first_list, record))
        at = gen.when(client_id, start, end)
        record = gen.add_subscriber(client_id, first_list, f"pending{self._mutations}+{client_id[:6]}@example.com",
                                    at, "Unconfirmed", at)
        changes["list_unconfirmed_subscribers"].add(subscriber_key(first_list, record))

        # state changes of existing Active subscribers (their Date moves to the change)
        campaigns = d["campaigns"][client_id]
        latest = max((c for c in campaigns if d["recipients"][c["CampaignID"]]), key=lambda c: c["SentDate"])
        latest_id = latest["CampaignID"]
        received = {(r["EmailAddress"], r["ListID"]) for r in d["recipients"][latest_id]}
        active = [(l["ListID"], r) for l in d["lists"][client_id] for r in d["subscribers"][l["ListID"]]
                  if r["State"] == "Active" and not r["EmailAddress"].startswith(("new", "pending"))]
        received_emails = {email for email, _ in received}
        active.sort(key=lambda item: (item[1]["EmailAddress"] not in received_emails, item[0], item[1]["EmailAddress"]))
        n_unsub = max(2, round(8 * self.scale))
        chosen = active[:1] + rng.sample(active[1:], min(len(active) - 1, n_unsub + 1))
        for index, (list_id, record) in enumerate(chosen):
            state = "Unsubscribed" if index < n_unsub else ("Deleted" if index == n_unsub else "Bounced")
            at = gen.when(client_id, start, end)
            record["State"], record["Date"] = state, gen.local(client_id, at)
            joined, _ = self._joined[(list_id, record["EmailAddress"])]
            self._joined[(list_id, record["EmailAddress"])] = (joined, at)
            changes[STATE_STREAMS[state]].add(subscriber_key(list_id, record))
            if index == 0 and (record["EmailAddress"], list_id) in received:
                event = {"EmailAddress": record["EmailAddress"], "ListID": list_id, "Date": record["Date"],
                         "IPAddress": f"198.51.100.{rng.randint(1, 254)}"}
                d["unsubscribes"][latest_id].append(event)
                d["unsubscribes"][latest_id].sort(key=lambda r: r["Date"])
                changes["campaign_unsubscribes"].add((latest_id, event["EmailAddress"], list_id, event["Date"]))

        # custom-field edits, which leave Date as it was
        untouched = [(l, r) for l, r in active if r["State"] == "Active"
                     and not any(f["Key"] == "edited in mutate" for f in r["CustomFields"])]
        for list_id, record in untouched[-2:]:
            record["CustomFields"] = record["CustomFields"] + [{"Key": "edited in mutate", "Value": str(self._mutations)}]
            self.custom_field_edits.add(subscriber_key(list_id, record))

        # late activity on the latest campaign: opens, and two URLs clicked in one minute
        readers = rng.sample(sorted(received), min(5, len(received)))
        for email, list_id in readers:
            at = gen.when(client_id, start, end)
            event = gen.geo_event(client_id, email, list_id, at)
            d["opens"][latest_id].append(event)
            changes["campaign_opens"].add((latest_id, email, list_id, event["Date"]))
        if readers:
            email, list_id = readers[0]
            at = gen.when(client_id, start, end)
            for url in self._urls[latest_id][:2]:
                event = gen.geo_event(client_id, email, list_id, at, url)
                d["clicks"][latest_id].append(event)
                changes["campaign_clicks"].add((latest_id, email, list_id, event["Date"], url))
        for kind in ("opens", "clicks"):
            d[kind][latest_id].sort(key=lambda r: r["Date"])

        # a new campaign, sent in the new day to the first list
        sent = gen.when(client_id, start, start + timedelta(hours=6))
        campaign_id = gen.send(client_id, len(campaigns), sent, [first_list], rng.randint(40, 80), end=end)
        campaigns.sort(key=lambda c: c["SentDate"], reverse=True)
        changes["campaigns"].add(campaign_id)
        for r in d["recipients"][campaign_id]:
            changes["campaign_recipients"].add((campaign_id, r["EmailAddress"], r["ListID"]))
        recipients = [(r["EmailAddress"], r["ListID"]) for r in d["recipients"][campaign_id]]
        if recipients and not d["bounces"][campaign_id]:
            email, list_id = recipients[-1]
            at = gen.when(client_id, sent + timedelta(minutes=2), sent + timedelta(minutes=2))
            d["bounces"][campaign_id].append({"EmailAddress": email, "ListID": list_id, "BounceType": "Hard",
                                              "Date": gen.local(client_id, at), "Reason": "Hard Bounce"})
        for kind in EVENT_KINDS:
            for r in d[kind][campaign_id]:
                key = (campaign_id, r["EmailAddress"], r["ListID"], r["Date"])
                changes[EVENT_STREAMS[kind]].add(key + (r["URL"],) if kind == "clicks" else key)
