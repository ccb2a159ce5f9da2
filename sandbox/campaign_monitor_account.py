"""The account objects of the local Campaign Monitor API beyond campaigns and lists: admins, people, segments (with
their active subscribers), templates, tags, the suppression list, lists' custom fields, stats and webhooks, the lists
and segments of each campaign, and journeys with their emails and reports.

Shapes, paths and parameters from createsend-python's lib/ and recorded bodies (test/fixtures), createsend-ruby,
createsend-php and createsend-dotnet; what each endpoint does and where the references are unclear is in
docs/campaign-monitor-endpoints.md. Generated from (scale, seed) with a random stream of their own, after the rest of
the account, so the campaigns and lists are those of a sandbox without them. Served through the app's routes
(`add_routes`); what is derived from the lists and campaigns (tags, stats, segment members, lists and segments of a
campaign) is computed when asked, so it follows mutate().

Edge cases: a journey with no emails, a client with an empty suppression list, a segment of the empty list, a journey
email sent twice to one address (re-entry), an open repeated identically within its minute, unicode names, a
suppression list and a journey email's recipients longer than one page at scale 1.

Errors: an unknown or foreign segment, journey or journey email is 404 (nothing published shows the real code);
`/admins.json` with a client-level API key is 401 Code 52 (a stand-in: nothing published shows what the real API
answers); 400 Code 800-803 / 5 for bad paging or `date` as elsewhere."""

from __future__ import annotations

import json
import random
import zlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from sandbox.campaign_monitor_store import GEO, LOCAL_FORMAT, NOW_UTC, CampaignMonitorData, _unambiguous
from sandbox.server import Request, Response

if TYPE_CHECKING:
    from sandbox.campaign_monitor import CampaignMonitorApp

ADMIN_KEY_REQUIRED = "Only an account API key or an OAuth token may call this method"
JOURNEY_REPORTS = ("recipients", "opens", "clicks", "unsubscribes", "bounces")
JOURNEYS = (  # (name, status, list index, email names)
    ("Welcome series ✉", "Active", 0, ("Welcome!", "Getting started — tips", "Wir vermissen dich")),
    ("Re-engagement", "Paused", 1, ("Still there? ☕",)),
    ("Birthday 🎂", "Not started", 2, ()),  # a journey with no emails
)
CUSTOM_FIELDS = (  # as the generator of subscribers fills them (sandbox/campaign_monitor_store.py)
    {"FieldName": "website", "Key": "[website]", "DataType": "Text", "FieldOptions": [],
     "VisibleInPreferenceCenter": True},
    {"FieldName": "multi select field", "Key": "[multiselectfield]", "DataType": "MultiSelectMany",
     "FieldOptions": ["option one", "option two", "option three"], "VisibleInPreferenceCenter": True},
    {"FieldName": "age", "Key": "[age]", "DataType": "Number", "FieldOptions": [], "VisibleInPreferenceCenter": True},
    {"FieldName": "subscription date", "Key": "[subscriptiondate]", "DataType": "Date", "FieldOptions": [],
     "VisibleInPreferenceCenter": False},
    {"FieldName": "Lieblingsfarbe", "Key": "[Lieblingsfarbe]", "DataType": "MultiSelectOne",
     "FieldOptions": ["Grün", "Blau ☁", "紫"], "VisibleInPreferenceCenter": True},
)
LIST_STATS_PERIODS = ("Today", "Yesterday", "ThisWeek", "ThisMonth", "ThisYear")


def _hex_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class AccountObjects:
    """Generates the collections (into `store.data`, keys below) and serves them.

    store.data keys added: "admins" [..], "people" {client: [..]}, "segments" {client: [..]}, "segment_rules"
    {segment: [..]}, "templates" {client: [..]}, "suppression_list" {client: [..]}, "list_custom_fields" {list: [..]},
    "list_webhooks" {list: [..]}, "journeys" {client: [..]}, "journey_summary" {journey: {...}}, "journey_recipients",
    "journey_opens", "journey_clicks", "journey_unsubscribes", "journey_bounces" {email id: [..]} (by date)."""

    def __init__(self, store: CampaignMonitorData) -> None:
        self.store = store
        self.rng = random.Random(f"{store.seed}|account objects")
        self._owner: dict[str, str] = {}  # segment, journey or journey email id -> client id
        d = store.data
        for key in ("people", "segments", "segment_rules", "templates", "suppression_list", "list_custom_fields",
                    "list_webhooks", "journeys", "journey_summary") + tuple(f"journey_{r}" for r in JOURNEY_REPORTS):
            d[key] = {}
        d["admins"] = [
            {"EmailAddress": "owner@agency.example.com", "Name": "Ana Lúcia Ferreira", "Status": "Active"},
            {"EmailAddress": "ops@agency.example.com", "Name": "Søren Østergaard", "Status": "Active"},
            {"EmailAddress": "new.admin@agency.example.com", "Name": "",
             "Status": "Waiting to Accept the Invitation"},
        ]
        for index, client_id in enumerate(store.client_ids):
            self._client(index, client_id)

    # --- generation -------------------------------------------------------------------------------------------

    def local(self, client_id: str, dt: datetime) -> str:
        """Local time, moved past a repeated hour of a fall-back so that it names one instant (as the store does)."""
        zone = self.store.zone(client_id)
        return _unambiguous(dt, zone).astimezone(zone).strftime(LOCAL_FORMAT)

    def _client(self, index: int, client_id: str) -> None:
        store, rng, d, scale = self.store, self.rng, self.store.data, self.store.scale
        domain = store.data["client_details"][client_id]["BasicDetails"]["EmailAddress"].split("@")[1]
        d["people"][client_id] = [
            {"EmailAddress": f"designer@{domain}", "Name": "Chloé Martin", "Status": "Active", "AccessLevel": 31},
            {"EmailAddress": f"reports@{domain}", "Name": "山田 太郎", "Status": "Active", "AccessLevel": 1},
            {"EmailAddress": f"invited@{domain}", "Name": "", "Status": "Waiting to Accept the Invitation",
             "AccessLevel": 0},
        ]
        d["templates"][client_id] = []
        for name in ("Monthly newsletter", "Promo — one column", "Événement ✨"):
            code = f"{rng.getrandbits(64):016X}"
            d["templates"][client_id].append({
                "TemplateID": _hex_id(rng), "Name": name,
                "PreviewURL": f"https://preview.createsend.com/createsend/templates/previewTemplate.aspx?ID={code}&d=r",
                "ScreenshotURL": f"https://preview.createsend.com/ts/r/{code[:2]}/{code[2:5]}/{code[5:8]}/{code}.jpg",
            })
        lists = d["lists"][client_id]
        d["segments"][client_id] = []
        for position, item in enumerate(lists):
            titles = ("Opened recently", "Gmail readers ✉") if position == 0 else (f"{item['Name']}: engaged",)
            for title in titles:
                segment_id = _hex_id(rng)
                self._owner[segment_id] = client_id
                d["segments"][client_id].append({"ListID": item["ListID"], "SegmentID": segment_id, "Title": title})
                d["segment_rules"][segment_id] = [
                    {"Rules": [{"RuleType": "EmailAddress", "Clause": "CONTAINS @example.com"}]},
                    {"Rules": [{"RuleType": "Name", "Clause": "PROVIDED"},
                               {"RuleType": "DateSubscribed", "Clause": "AFTER 2023-01-01"}]},
                ]
            d["list_custom_fields"][item["ListID"]] = [] if position == len(lists) - 1 else [dict(f) for f in CUSTOM_FIELDS]
            d["list_webhooks"][item["ListID"]] = [] if position else [
                {"WebhookID": f"{rng.getrandbits(64):016x}", "Events": ["Subscribe", "Deactivate"],
                 "Url": "https://hooks.example.com/cm/ünïcode", "Status": "Active", "PayloadFormat": "Json"},
                {"WebhookID": f"{rng.getrandbits(64):016x}", "Events": ["Update"],
                 "Url": "https://hooks.example.com/cm/xml", "Status": "Unavailable", "PayloadFormat": "Xml"},
            ]
        # the first client has a suppression list longer than one page at scale 1; the second an empty one
        suppressed = []
        for n in range(max(12, round(1500 * scale)) if index == 0 else 0):
            at = NOW_UTC - timedelta(days=rng.uniform(1, 700))
            suppressed.append({
                "SuppressionReason": rng.choice(("Unsubscribed", "Unsubscribed", "Bounced", "Manually Suppressed")),
                "EmailAddress": f"blocked{n}+{rng.choice(('ä', 'x', 'z'))}@example.org",
                "Date": self.local(client_id, at.replace(microsecond=0)),
                "State": "Suppressed",
            })
        d["suppression_list"][client_id] = suppressed
        d["journeys"][client_id] = []
        for name, status, list_index, emails in JOURNEYS:
            list_id = lists[min(list_index, len(lists) - 1)]["ListID"]
            journey_id = _hex_id(rng)
            self._owner[journey_id] = client_id
            d["journeys"][client_id].append({"ListID": list_id, "JourneyID": journey_id, "Name": name, "Status": status})
            summary: dict[str, Any] = {"JourneyID": journey_id, "Name": name, "TriggerType": "On Subscription",
                                       "Status": status, "Emails": []}
            for position, email_name in enumerate(emails):
                email_id = _hex_id(rng)
                self._owner[email_id] = client_id
                self._journey_email(client_id, list_id, email_id, position, first=not summary["Emails"] and list_index == 0)
                summary["Emails"].append({"EmailID": email_id, "Name": email_name})
            d["journey_summary"][journey_id] = summary

    def _journey_email(self, client_id: str, list_id: str, email_id: str, position: int, first: bool) -> None:
        store, rng, d = self.store, self.rng, self.store.data
        now = store.now - timedelta(minutes=1)
        members = sorted(d["subscribers"][list_id], key=lambda r: r["EmailAddress"])
        share = 1.0 if first else 0.3
        reports: dict[str, list[dict[str, Any]]] = {r: [] for r in JOURNEY_REPORTS}
        for record in members:
            if rng.random() >= share:
                continue
            joined, _ = store._joined[(list_id, record["EmailAddress"])]
            sends = [joined + timedelta(days=3 * position, minutes=rng.randint(1, 600))]
            if first and rng.random() < 0.1:  # re-entered the journey: sent the email again
                sends.append(sends[0] + timedelta(days=rng.randint(20, 90)))
            for sent in sends:
                sent = sent.replace(second=0, microsecond=0)
                if sent >= now:
                    continue
                email = record["EmailAddress"]
                reports["recipients"].append({"EmailAddress": email, "SentDate": self.local(client_id, sent)})
                roll = rng.random()
                if roll < 0.03 or len(reports["bounces"]) < 2:  # every email has two bounces, one before its last
                    kind, reason = rng.choice((("Soft", "Soft Bounce - Mailbox Full"), ("Hard", "Hard Bounce")))
                    reports["bounces"].append({"EmailAddress": email, "BounceType": kind,
                                               "Date": self.local(client_id, sent + timedelta(minutes=2)),
                                               "Reason": reason})
                    continue
                if roll > 0.5:
                    continue
                at = min(now, sent + timedelta(minutes=1 + int(rng.expovariate(1 / 600))))
                lat, lon, city, region, code, country = rng.choice(GEO)
                geo = {"IPAddress": f"203.0.113.{rng.randint(1, 254)}", "Latitude": lat, "Longitude": lon,
                       "City": city, "Region": region, "CountryCode": code, "CountryName": country}
                opened = {"EmailAddress": email, "Date": self.local(client_id, at), **geo}
                reports["opens"].append(opened)
                if rng.random() < 0.05:
                    reports["opens"].append(dict(opened))  # a re-open within the minute: identical
                if rng.random() < 0.3:
                    url = rng.choice(("https://shop.example.com/café", "https://example.com/guide?step=1&ü=2"))
                    reports["clicks"].append({"EmailAddress": email, "Date": self.local(client_id, at), "URL": url, **geo})
                # the first two openers unsubscribe too: every email with openers has an unsubscribe before its last
                if rng.random() < 0.03 or len(reports["unsubscribes"]) < 2:
                    reports["unsubscribes"].append({"EmailAddress": email, "Date": self.local(client_id, at),
                                                    "IPAddress": geo["IPAddress"]})
        reports["recipients"].sort(key=lambda r: r["SentDate"])
        for kind in JOURNEY_REPORTS[1:]:
            reports[kind].sort(key=lambda r: r["Date"])
        for kind, records in reports.items():
            d[f"journey_{kind}"][email_id] = records

    # --- derived when asked -----------------------------------------------------------------------------------

    def journey_summary(self, journey_id: str) -> dict[str, Any]:
        d = self.store.data
        summary = dict(d["journey_summary"][journey_id])
        emails = []
        for email in summary["Emails"]:
            eid = email["EmailID"]
            opens = d["journey_opens"][eid]
            emails.append({"EmailID": eid, "Name": email["Name"], "Bounced": len(d["journey_bounces"][eid]),
                           "Clicked": len(d["journey_clicks"][eid]), "Opened": len(opens),
                           "Sent": len(d["journey_recipients"][eid]),
                           "UniqueOpened": len({o["EmailAddress"] for o in opens}),
                           "Unsubscribed": len(d["journey_unsubscribes"][eid])})
        summary["Emails"] = emails
        return summary

    def segment_members(self, segment_id: str, list_id: str) -> list[dict[str, Any]]:
        """The list's Active subscribers the segment's rules keep: a fixed third of them, by address."""
        return [r for r in self.store.data["subscribers"][list_id]
                if r["State"] == "Active" and zlib.crc32(f"{segment_id}|{r['EmailAddress']}".encode()) % 3 == 0]

    def tags(self, client_id: str) -> list[dict[str, Any]]:
        d = self.store.data
        counts: Counter[str] = Counter()
        for name in ("campaigns", "drafts", "scheduled"):
            for campaign in d[name][client_id]:
                counts.update(campaign.get("Tags") or [])
        return [{"Name": tag, "NumberOfCampaigns": n} for tag, n in sorted(counts.items())]

    def list_stats(self, list_id: str) -> dict[str, int]:
        store = self.store
        client_id = store.owner(list_id)
        zone = store.zone(client_id)
        today = store.now.astimezone(zone).date()
        starts = {"Today": today, "Yesterday": today - timedelta(days=1),
                  "ThisWeek": today - timedelta(days=today.weekday()), "ThisMonth": today.replace(day=1),
                  "ThisYear": today.replace(month=1, day=1)}
        totals = {"Active": "NewActiveSubscribers", "Unsubscribed": "Unsubscribes", "Deleted": "Deleted",
                  "Bounced": "Bounces"}
        stats: dict[str, int] = {}
        records = store.data["subscribers"][list_id]
        for state, stem in totals.items():
            days = [datetime.strptime(r["Date"][:10], "%Y-%m-%d").date() for r in records if r["State"] == state]
            total_name = "TotalActiveSubscribers" if state == "Active" else f"Total{stem}"
            stats[total_name] = len(days)
            for period in LIST_STATS_PERIODS:
                start = starts[period]
                end = start if period in ("Today", "Yesterday") else today
                stats[f"{stem}{period}"] = sum(1 for day in days if start <= day <= end)
        return stats

    def campaign_lists_and_segments(self, campaign_id: str) -> dict[str, Any]:
        d, store = self.store.data, self.store
        client_id = store.owner(campaign_id)
        names = {l["ListID"]: l["Name"] for l in d["lists"][client_id]}
        targets = store._targets.get(campaign_id) or sorted({r["ListID"] for r in d["recipients"][campaign_id]})
        segments = [s for s in d["segments"][client_id] if s["ListID"] in targets
                    and zlib.crc32(f"{campaign_id}|{s['SegmentID']}".encode()) % 4 == 0]
        return {"Lists": [{"ListID": l, "Name": names[l]} for l in targets],
                "Segments": [dict(s) for s in segments]}

    def owner(self, any_id: str) -> str | None:
        return self._owner.get(any_id)

    # --- routes -----------------------------------------------------------------------------------------------

    def add_routes(self, app: "CampaignMonitorApp", get: Callable[[str, Callable[[Request, set[str]], Response]], None]) -> None:
        """The account objects' routes, in the app's `get` (credentials, rate limits, both API versions)."""
        from sandbox.campaign_monitor import ApiError

        d = self.store.data

        def owned(any_id: str, principal: set[str]) -> str:
            if self.owner(any_id) not in principal:
                raise ApiError(404, 404, "The requested resource was not found")
            return any_id

        def client_array(name: str, source: Callable[[str], list[Any]]) -> None:
            def handler(request: Request, principal: set[str]) -> Response:
                return app._array(source(app._client(request.params["client_id"], principal)))
            get("/clients/{client_id}/%s.json" % name, handler)

        def admins(request: Request, principal: set[str]) -> Response:
            scheme = request.headers.get("authorization", "").partition(" ")[0]
            if scheme.lower() == "basic" and not self._account_key(request):
                raise ApiError(401, 52, ADMIN_KEY_REQUIRED)
            return app._array(d["admins"])

        def suppression_list(request: Request, principal: set[str]) -> Response:
            client_id = app._client(request.params["client_id"], principal)
            field, key = app._order_field(request, {"email": lambda r: r["EmailAddress"].lower(),
                                                    "date": lambda r: r["Date"]}, "email")
            return app._page(request, d["suppression_list"][client_id], field, app._direction(request, "asc"), key)

        def segment_details(request: Request, principal: set[str]) -> Response:
            segment_id = owned(request.params["segment_id"], principal)
            segment = next(s for s in d["segments"][self.owner(segment_id)] if s["SegmentID"] == segment_id)
            return Response(200, {"ActiveSubscribers": len(self.segment_members(segment_id, segment["ListID"])),
                                  "RuleGroups": d["segment_rules"][segment_id], "ListID": segment["ListID"],
                                  "SegmentID": segment_id, "Title": segment["Title"]})

        def segment_active(request: Request, principal: set[str]) -> Response:
            segment_id = owned(request.params["segment_id"], principal)
            segment = next(s for s in d["segments"][self.owner(segment_id)] if s["SegmentID"] == segment_id)
            records = self.segment_members(segment_id, segment["ListID"])
            since = app._since(request)
            if since:
                records = [r for r in records if r["Date"] >= since]
            field, key = app._order_field(request, {
                "email": lambda r: r["EmailAddress"].lower(), "name": lambda r: r["Name"].lower(),
                "date": lambda r: r["Date"]}, "email")
            response = app._page(request, records, field, app._direction(request, "asc"), key)
            # a segment's subscribers carry no ReadsEmailWith (segment_subscribers.json)
            for record in response.body["Results"]:
                record.pop("ReadsEmailWith", None)
            if request.query.get("includetrackingpreference", "").lower() == "true":
                consent = d["consent_to_track"][segment["ListID"]]
                for record in response.body["Results"]:
                    record["ConsentToTrack"] = consent[record["EmailAddress"]]
            return response

        def list_object(source: Callable[[str], Any]) -> Callable[[Request, set[str]], Response]:
            def handler(request: Request, principal: set[str]) -> Response:
                body = source(app._list(request.params["list_id"], principal))
                return app._array(body) if isinstance(body, list) else Response(200, body)
            return handler

        def lists_and_segments(request: Request, principal: set[str]) -> Response:
            return Response(200, self.campaign_lists_and_segments(app._campaign(request.params["campaign_id"], principal)))

        def journey(request: Request, principal: set[str]) -> Response:
            return Response(200, self.journey_summary(owned(request.params["journey_id"], principal)))

        def journey_report(kind: str) -> Callable[[Request, set[str]], Response]:
            date_field = "SentDate" if kind == "recipients" else "Date"

            def handler(request: Request, principal: set[str]) -> Response:
                records = d[f"journey_{kind}"].get(owned(request.params["email_id"], principal), [])
                since = app._since(request)
                if since:
                    records = [r for r in records if r[date_field] >= since]
                direction = app._direction(request, "asc")  # orderfield is not read: always by date
                response = app._page(request, records, date_field, direction, lambda r: r[date_field])
                response.body["OrderDirection"] = direction.upper()
                return response
            return handler

        get("/admins.json", admins)
        client_array("people", lambda c: d["people"][c])
        client_array("segments", lambda c: d["segments"][c])
        client_array("templates", lambda c: d["templates"][c])
        client_array("tags", self.tags)
        client_array("journeys", lambda c: d["journeys"][c])
        get("/clients/{client_id}/suppressionlist.json", suppression_list)
        get("/segments/{segment_id}.json", segment_details)
        get("/segments/{segment_id}/active.json", segment_active)
        get("/lists/{list_id}/customfields.json", list_object(lambda l: d["list_custom_fields"][l]))
        get("/lists/{list_id}/stats.json", list_object(self.list_stats))
        get("/lists/{list_id}/webhooks.json", list_object(lambda l: d["list_webhooks"][l]))
        get("/campaigns/{campaign_id}/listsandsegments.json", lists_and_segments)
        get("/journeys/{journey_id}.json", journey)
        for kind in JOURNEY_REPORTS:
            get("/journeys/email/{email_id}/%s.json" % kind, journey_report(kind))

    def _account_key(self, request: Request) -> bool:
        import base64
        import binascii

        value = request.headers.get("authorization", "").partition(" ")[2].strip()
        try:
            user = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.store.api_key


class Transactional:
    """Transactional email of the local account (`/transactional/...`, JSON only, no extension): the first client has
    it (smart emails, classic groups, a message timeline), the second has no transactional plan and is refused with
    400 Code 993 (the code the reference gives for a client not set up for transactional email).

    Dates are ISO 8601 with the client's offset (tx_smartemails.json, tx_messages.json). The timeline is newest first:
    `count` (default 50, at most 200: a larger count is served as 200), `sentBeforeID` (messages sent before that
    one), `sentAfterID` (the `count` oldest messages sent after it), `status` (all|delivered|bounced|spam). Statistics
    total the messages of [from, to] (dates, default the last 30 days to today) with day boundaries in UTC
    (`timezone=utc`) or in the client's zone (`client`, the default).

    `grow_per_page`: messages appended to the top of the timeline each time a page after the first is served (a
    timeline that grows during a sync); 0 by default."""

    STATUSES = ("Delivered", "Delivered", "Delivered", "Delivered", "Bounced", "Spam")

    def __init__(self, store: CampaignMonitorData) -> None:
        self.store = store
        self.rng = random.Random(f"{store.seed}|transactional")
        self.grow_per_page = 0
        self.enabled = set(store.client_ids[:1])
        d = store.data
        d["tx_smart_emails"], d["tx_smart_email_details"], d["tx_messages"] = {}, {}, {}
        for client_id in store.client_ids:
            d["tx_smart_emails"][client_id], d["tx_messages"][client_id] = [], []
        for client_id in self.enabled:
            self._client(client_id)

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def iso(self, client_id: str, dt: datetime) -> str:
        return dt.astimezone(self.store.zone(client_id)).replace(microsecond=0).isoformat()

    def _client(self, client_id: str) -> None:
        d, rng, scale = self.store.data, self.rng, self.store.scale
        for name, status in (("Welcome email", "Active"), ("Réinitialiser le mot de passe", "Active"),
                             ("Order shipped 📦", "Draft")):
            smart_id = self._uuid()
            created = NOW_UTC - timedelta(days=rng.randint(30, 600), seconds=rng.randint(0, 86399))
            d["tx_smart_emails"][client_id].append({"ID": smart_id, "Name": name, "CreatedAt": self.iso(client_id, created),
                                                    "Status": status})
            preview = f"https://example.createsend.com/t/r-{rng.getrandbits(64):016X}"
            d["tx_smart_email_details"][smart_id] = {
                "SmartEmailID": smart_id, "Name": name, "CreatedAt": self.iso(client_id, created),
                "Status": status.lower(),
                "Properties": {"From": "\"Team ☕\" <team@example.com>", "ReplyTo": "help@example.com",
                               "Subject": f"[username], {name}", "Content": {
                                   "HTML": "Content managed in Email Builder", "Text": "Content managed in Email Builder",
                                   "EmailVariables": ["username", "reset_token"], "InlineCss": True},
                               "TextPreviewUrl": preview + "/T", "HtmlPreviewUrl": preview + "/"},
                "AddRecipientsToList": status == "Active",
            }
        smart_ids = [s["ID"] for s in d["tx_smart_emails"][client_id]]
        at = NOW_UTC - timedelta(days=45)
        for _ in range(max(30, round(600 * scale))):
            at += timedelta(seconds=rng.randint(1, int(45 * 86400 / max(30, round(600 * scale)) * 2)))
            self._message(client_id, min(at, NOW_UTC - timedelta(minutes=1)), smart_ids)

    def _message(self, client_id: str, at: datetime, smart_ids: list[str]) -> None:
        rng = self.rng
        status = rng.choice(self.STATUSES)
        name = rng.choice(("Joe Smith", "Zoë Ångström", "山田 太郎", ""))
        address = f"customer{rng.randint(1, 9999)}@example.com"
        message: dict[str, Any] = {
            "MessageID": self._uuid(), "Status": status, "SentAt": self.iso(client_id, at),
            "Recipient": f"{name} <{address}>" if name else address, "From": "Team <team@example.com>",
            "Subject": rng.choice(("Your receipt", "Réinitialisation", "Welcome aboard ✨")),
            "TotalOpens": 0 if status != "Delivered" else rng.choice((0, 1, 2, 5)),
            "TotalClicks": 0, "CanBeResent": True,
        }
        message["TotalClicks"] = rng.randint(0, message["TotalOpens"])
        if rng.random() < 0.4:
            message["Group"] = rng.choice(("Password Reset", "Order confirmations"))
        else:
            message["SmartEmailID"] = rng.choice(smart_ids)
        self.store.data["tx_messages"][client_id].append(message)  # oldest first; served newest first

    def grow(self, client_id: str) -> None:
        """A message sent now (the sandbox clock), at the top of the timeline."""
        smart_ids = [s["ID"] for s in self.store.data["tx_smart_emails"][client_id]]
        self._message(client_id, self.store.now - timedelta(seconds=1), smart_ids)

    def add_routes(self, app: "CampaignMonitorApp", get: Callable[[str, Callable[[Request, set[str]], Response]], None]) -> None:
        from sandbox.campaign_monitor import ApiError

        d = self.store.data

        def client_of(request: Request, principal: set[str]) -> str:
            client_id = request.query.get("clientID", "")
            if not client_id and len(principal) == 1:
                client_id = next(iter(principal))  # a client-level key names its client
            client_id = app._client(client_id, principal)
            if client_id not in self.enabled:
                raise ApiError(400, 993, "You need to set up custom authentication to send transactional emails. "
                                         "Update the settings in your account to manage your own authentication.")
            return client_id

        def smart_emails(request: Request, principal: set[str]) -> Response:
            client_id = client_of(request, principal)
            status = (request.query.get("status") or "all").lower()
            if status not in ("all", "draft", "active"):
                raise ApiError(400, 932, 'Invalid status parameter Must be one of "all", "active", or "draft"')
            records = [s for s in d["tx_smart_emails"][client_id] if status == "all" or s["Status"].lower() == status]
            return app._array(records)

        def smart_email(request: Request, principal: set[str]) -> Response:
            smart_id = request.params["smart_email_id"]
            for client_id in principal & self.enabled:
                if any(s["ID"] == smart_id for s in d["tx_smart_emails"][client_id]):
                    return Response(200, json.loads(json.dumps(d["tx_smart_email_details"][smart_id])))
            raise ApiError(404, 404, "The requested resource was not found")

        def messages(request: Request, principal: set[str]) -> Response:
            client_id = client_of(request, principal)
            status = (request.query.get("status") or "all").lower()
            if status not in ("all", "delivered", "bounced", "spam"):
                raise ApiError(400, 932, 'Invalid status parameter Must be one of "bounced", "delivered", "spam", or "all"')
            count = min(200, max(1, app._int(request, "count", 50, 1, "Invalid count")))
            before, after = request.query.get("sentBeforeID", ""), request.query.get("sentAfterID", "")
            if before and self.grow_per_page:
                for _ in range(self.grow_per_page):
                    self.grow(client_id)
            timeline = d["tx_messages"][client_id]  # oldest first
            ids = [m["MessageID"] for m in timeline]
            chosen = [m for m in timeline if status == "all" or m["Status"].lower() == status]
            if before:
                if before not in ids:
                    raise ApiError(400, 1, "Invalid sentBeforeID")
                position = ids.index(before)
                chosen = [m for m in chosen if ids.index(m["MessageID"]) < position]
                page = list(reversed(chosen))[:count]
            elif after:
                if after not in ids:
                    raise ApiError(400, 1, "Invalid sentAfterID")
                position = ids.index(after)
                page = list(reversed([m for m in chosen if ids.index(m["MessageID"]) > position][:count]))
            else:
                page = list(reversed(chosen))[:count]
            return app._array(page)

        def statistics(request: Request, principal: set[str]) -> Response:
            client_id = client_of(request, principal)
            zone_name = (request.query.get("timezone") or "client").lower()
            zone = self.store.zone(client_id) if zone_name == "client" else timezone.utc
            today = self.store.now.astimezone(zone).date()
            try:
                start = date.fromisoformat(request.query.get("from") or (today - timedelta(days=30)).isoformat())
                end = date.fromisoformat(request.query.get("to") or today.isoformat())
            except ValueError:
                raise ApiError(400, 5, "Invalid Date: use YYYY-MM-DD") from None
            chosen = [m for m in d["tx_messages"][client_id]
                      if start <= datetime.fromisoformat(m["SentAt"]).astimezone(zone).date() <= end]
            label = d["client_details"][client_id]["BasicDetails"]["TimeZone"] if zone_name == "client" else "UTC"
            return Response(200, {
                "Query": {"From": start.isoformat(), "To": end.isoformat(), "TimeZone": label},
                "Sent": len(chosen), "Bounces": sum(m["Status"] == "Bounced" for m in chosen),
                "Delivered": sum(m["Status"] == "Delivered" for m in chosen),
                "Opened": sum(m["TotalOpens"] > 0 for m in chosen), "Clicked": sum(m["TotalClicks"] > 0 for m in chosen),
            })

        get("/transactional/smartEmail", smart_emails)
        get("/transactional/smartEmail/{smart_email_id}", smart_email)
        get("/transactional/messages", messages)
        get("/transactional/statistics", statistics)
