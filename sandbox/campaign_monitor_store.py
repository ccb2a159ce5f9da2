"""The data of the local Campaign Monitor account (sandbox/campaign_monitor.py serves it): generated from
(scale, seed), changed by mutate(), with each client's time zone.

`data` holds every collection exactly as the API returns it (see the keys in CampaignMonitorData.__init__ and the
module docstring of sandbox/campaign_monitor.py). A new collection is a key of `data` filled by a method of
_Generator, called from _Generator.account() (and, if it changes between syncs, from _mutate_client); serving it is
one route in CampaignMonitorApp."""

from __future__ import annotations

import json
import random
import re
import threading
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

NOW_UTC = datetime(2024, 11, 20, 0, 0, tzinfo=timezone.utc)  # the sandbox clock before any mutate()
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
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

    def __init__(self, store: "CampaignMonitorData", rng: random.Random) -> None:
        self.store = store
        self.rng = rng

    # --- small helpers -----------------------------------------------------------------------------------------

    def when(self, client_id: str, start: datetime, end: datetime) -> datetime:
        """A random minute in [start, end] (UTC), not in a repeated local hour, never after the sandbox clock."""
        span = max(0, int((end - start).total_seconds() // 60))
        dt = _minute(start + timedelta(minutes=self.rng.randint(0, span)))
        dt = _unambiguous(dt, self.store.zone(client_id))
        return min(dt, _minute(self.store.now) - timedelta(minutes=1))

    def local(self, client_id: str, dt: datetime) -> str:
        return dt.astimezone(self.store.zone(client_id)).strftime(LOCAL_FORMAT)

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
        store, rng, scale = self.store, self.rng, self.store.scale
        for profile in CLIENT_PROFILES:
            client_id = _hex_id(rng)
            store._zones[client_id] = zone_named(profile["TimeZone"])
            client_key = f"{rng.getrandbits(192):048x}"  # a client-level API key: sees this client only
            store._client_keys[client_key] = client_id
            store.data["clients"].append({"ClientID": client_id, "Name": profile["CompanyName"]})
            store.data["client_details"][client_id] = {
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
        store, rng = self.store, self.rng
        store.data["lists"][client_id] = []
        pool_size = int(per_list * 3 * 0.85) + 1  # lists share ~15% of their subscribers
        stem = ("subs", "reader", "kunde", "member", "fan")
        pool = [f"{rng.choice(stem)}+{client_id[:6]}{i}@example.{rng.choice(('com', 'org', 'net'))}" for i in range(pool_size)]
        for index, name in enumerate(LIST_NAMES):
            list_id = _hex_id(rng)
            store._owner[list_id] = client_id
            store.data["lists"][client_id].append({"ListID": list_id, "Name": name})
            store.data["list_details"][list_id] = {
                "ConfirmedOptIn": index == 1,
                "Title": name,
                "UnsubscribePage": "" if index != 2 else "https://example.com/unsubscribed",
                "ListID": list_id,
                "ConfirmationSuccessPage": "",
                "UnsubscribeSetting": "AllClientLists" if index != 2 else "OnlyThisList",
            }
            store.data["subscribers"][list_id] = []
            store.data["consent_to_track"][list_id] = {}
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
        self.store.data["subscribers"][list_id].append(record)
        self.store.data["consent_to_track"][list_id][email] = self.rng.choice(("Yes", "No", "Unchanged"))
        self.store._joined[(list_id, email)] = (joined, changed)
        return record

    def campaigns(self, client_id: str, profile: dict[str, Any], count: int) -> None:
        store, rng = self.store, self.rng
        zone = store.zone(client_id)
        sends: list[datetime] = []
        for local in profile["dst_sends"]:
            sends.append(datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=zone).astimezone(timezone.utc))
        while len(sends) < count:
            sends.append(self.when(client_id, NOW_UTC - timedelta(days=330), NOW_UTC - timedelta(days=2)))
        if count >= 4:
            sends[3] = sends[2]  # two campaigns sent in the same minute
        store.data["campaigns"][client_id] = []
        lists = store.data["lists"][client_id]
        for index, sent in enumerate(sends[:count]):
            if index == 2:
                targets = [lists[-1]["ListID"]]  # the empty list: a sent campaign without recipients
            elif index % 5 == 1:
                targets = [lists[0]["ListID"], lists[1]["ListID"]]  # one subscriber can get it twice
            else:
                targets = [lists[rng.randint(0, len(lists) - 2)]["ListID"]]
            self.send(client_id, index, sent, targets, target_size=rng.randint(400, 600))
        store.data["campaigns"][client_id].sort(key=lambda c: c["SentDate"], reverse=True)

    def send(self, client_id: str, index: int, sent: datetime, list_ids: list[str], target_size: int,
             end: datetime | None = None) -> str:
        """A sent campaign to `list_ids` with its recipients and activity up to `end` (default: 30 days later)."""
        store, rng = self.store, self.rng
        campaign_id = _hex_id(rng)
        store._owner[campaign_id] = client_id
        web = f"https://createsend.com/t/r-{rng.getrandbits(64):016X}"
        name = rng.choice(("Winter sale ❄", "Newsletter", "Nouveautés de la semaine", "Último aviso", "新品のお知らせ", "Re-engagement"))
        tags = rng.choice(([], [], ["Tag1"], ["Tag1", "Tag2"], ["Promo"]))
        campaign: dict[str, Any] = {
            "WebVersionURL": web,
            "WebVersionTextURL": web + "/t",
            "CampaignID": campaign_id,
            "Subject": f"{name} #{index + 1}",
            "Name": f"{name} #{index + 1}",
            "FromName": store.data["client_details"][client_id]["BasicDetails"]["ContactName"],
            "FromEmail": store.data["client_details"][client_id]["BasicDetails"]["EmailAddress"],
            "ReplyTo": store.data["client_details"][client_id]["BasicDetails"]["EmailAddress"],
            "SentDate": self.local(client_id, sent),
            "TotalRecipients": 0,
        }
        if tags:
            campaign["Tags"] = tags  # campaigns without tags have no Tags key, as in campaigns.json
        store.data["campaigns"][client_id].append(campaign)
        for kind in ("recipients",) + EVENT_KINDS:
            store.data[kind][campaign_id] = []
        store._sent[campaign_id] = sent
        store._targets[campaign_id] = list(list_ids)
        store._urls[campaign_id] = self.campaign_urls(rng.randint(2, 5))
        store._social[campaign_id] = (rng.randint(0, 40), rng.randint(0, 20), rng.randint(0, 50))
        candidates = []
        for list_id in list_ids:
            for record in store.data["subscribers"][list_id]:
                joined, changed = store._joined[(list_id, record["EmailAddress"])]
                was_active = (record["State"] == "Active" and joined <= sent) or (
                    record["State"] in ("Unsubscribed", "Bounced", "Deleted") and joined <= sent < changed)
                if was_active:
                    candidates.append((record["EmailAddress"], list_id))
        recipients = rng.sample(candidates, min(target_size, len(candidates)))
        recipients.sort(key=lambda r: (r[0], r[1]))
        store.data["recipients"][campaign_id] = [{"EmailAddress": e, "ListID": l} for e, l in recipients]
        campaign["TotalRecipients"] = len(recipients)
        self.activity(client_id, campaign_id, recipients, sent, end or sent + timedelta(days=30))
        return campaign_id

    def activity(self, client_id: str, campaign_id: str, recipients: list[tuple[str, str]], start: datetime,
                 end: datetime, share: float = 1.0) -> dict[str, list[dict[str, Any]]]:
        """Opens, clicks, bounces, unsubscribes and spam complaints of `recipients` between start and end."""
        store, rng = self.store, self.rng
        end = min(end, store.now - timedelta(minutes=1))
        added: dict[str, list[dict[str, Any]]] = {kind: [] for kind in EVENT_KINDS}
        if not recipients or end <= start:
            return added
        burst = self.when(client_id, start + timedelta(minutes=5), start + timedelta(minutes=5))
        urls = store._urls[campaign_id]

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
            store.data[kind][campaign_id].extend(records)
            store.data[kind][campaign_id].sort(key=lambda r: r["Date"])
        return added

    def unsent(self, client_id: str, profile: dict[str, Any]) -> None:
        store, rng = self.store, self.rng
        details = store.data["client_details"][client_id]["BasicDetails"]
        store.data["scheduled"][client_id] = []
        store.data["drafts"][client_id] = []
        for n in range(2):
            preview = f"https://createsend.com/t/r-{rng.getrandbits(64):016X}"
            created = self.when(client_id, NOW_UTC - timedelta(days=20), NOW_UTC - timedelta(days=1))
            store.data["scheduled"][client_id].append({
                "DateScheduled": (NOW_UTC + timedelta(days=3 + n)).astimezone(store.zone(client_id)).strftime(LOCAL_FORMAT),
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
            store.data["drafts"][client_id].append({
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


class CampaignMonitorData:
    """One account's data and clock: `data` (the API's bodies), `now` (the sandbox clock, UTC), `api_key` (the
    account's key), each client's zone, who owns each list and campaign, and the client-level API keys. `lock` guards
    every read and change."""

    def __init__(self, scale: float = 1.0, seed: int = 0) -> None:
        self.scale = scale
        self.seed = seed
        self.now = NOW_UTC
        self.lock = threading.RLock()
        self._zones: dict[str, ZoneInfo] = {}
        self._owner: dict[str, str] = {}  # list or campaign id -> client id
        self._client_keys: dict[str, str] = {}  # client-level API key -> client id
        self._joined: dict[tuple[str, str], tuple[datetime, datetime]] = {}  # (list, email) -> (joined, changed) UTC
        self._sent: dict[str, datetime] = {}
        self._targets: dict[str, list[str]] = {}  # campaign id -> the lists it was sent to
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
        self.rng = random.Random(seed)  # goes on to the OAuth application's id, after the account
        self.api_key = f"{self.rng.getrandbits(192):048x}"
        _Generator(self, self.rng).account()
        self._refresh_derived()
        self.client_ids = [c["ClientID"] for c in self.data["clients"]]

    # --- who owns what ----------------------------------------------------------------------------------------

    def clients_of_key(self, api_key: str) -> set[str] | None:
        """The client ids an API key sees (the account's key: every client; a client's own key: that client), or None
        for an unknown key."""
        if api_key == self.api_key:
            return set(self.client_ids)
        client_id = self._client_keys.get(api_key)
        return {client_id} if client_id else None

    def owner(self, list_or_campaign_id: str) -> str | None:
        return self._owner.get(list_or_campaign_id)

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
        with self.lock:
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
        with self.lock:
            self.data[kind][campaign_id].append(dict(event))
            self.data[kind][campaign_id].sort(key=lambda r: r["Date"])
            self._refresh_derived()

    def mutate(self) -> dict[str, set[Any]]:
        """Adds and changes data within one new day of the sandbox clock; see the module docstring for what and for
        the returned {stream: set of primary keys added or changed}."""
        with self.lock:
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
