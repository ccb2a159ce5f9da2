"""A local Campaign Monitor API v3.3 (https://api.createsend.com/api/v3.3/) for tests and benchmarks.

Built from the API documentation, the official client (campaignmonitor/createsend-python: paths, parameters and their
defaults) and the response bodies Campaign Monitor publishes with that client (../shared/api-samples/campaign_monitor/):
every body this sandbox serves has exactly the keys, key order, value types and value formats of those samples.

Usage::

    with CampaignMonitorSandbox(scale=0.1, seed=0) as sb:
        requests.get(sb.url + "/api/v3.3/clients.json", auth=(sb.api_key, "x"))

Three parts, as in the Mailchimp sandbox: CampaignMonitorData (sandbox/campaign_monitor_store.py: the account's data
generated from (scale, seed), its clock, time zones and mutate()), CampaignMonitorApp (routes, handlers, credentials and
OAuth tokens, rate limits) and CampaignMonitorSandbox (the facade below, with the server). Adding an endpoint: a
generator filling its collection in CampaignMonitorData, and one route in CampaignMonitorApp.

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
import re
import threading
import time
from datetime import datetime, tzinfo
from typing import Any, Callable

from sandbox.campaign_monitor_store import (
    ENDPOINT_STATES,
    EVENT_KINDS,
    LOCAL_FORMAT,
    TIME_ZONE_ZONES,
    CampaignMonitorData,
    zone_named,
)
from sandbox.campaign_monitor_account import AccountObjects, Transactional
from sandbox.server import FaultPlan, Request, Response, Sandbox, SandboxApp, SandboxServer

__all__ = ["ApiError", "CampaignMonitorApp", "CampaignMonitorSandbox", "LOCAL_FORMAT", "TIME_ZONE_ZONES", "zone_named"]

API = "/api/v3.3"
API_V3_2 = "/api/v3.2"
INVALID_PAGE = "Invalid page number: the page number you have provided is invalid"
INVALID_PAGE_SIZE = "Invalid page size: the page size must be between 10 and 1000"
DATE_PARAM = re.compile(r"^(\d{4}-\d{2}-\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")
DAY_PARAM = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXPIRES_IN = 1209600  # seconds, as oauth_exchange_token.json


class ApiError(Exception):
    """An answer of the API other than 200: raised inside handlers, turned into {"Code", "Message"}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.response = Response(status, {"Code": code, "Message": message})



class _RateLimited(Exception):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate limited")
        self.headers = headers


class CampaignMonitorApp(SandboxApp):
    """The routes of Campaign Monitor API v3.3 and its OAuth token endpoint over a CampaignMonitorData: who may see
    what (API keys, OAuth tokens and their grants), rate limits, paging, filters and errors.

    Adding an endpoint: its collection in CampaignMonitorData (a generator), then one `get(...)` line below; the
    helpers `_client_array`, `_page`, `_events`, `_subscribers` serve the API's bare arrays and pages."""

    def __init__(self, store: CampaignMonitorData, rate_limit: tuple[int, float] | None = None,
                 max_connections: int | None = None) -> None:
        super().__init__()
        self.store = store
        self.lock = store.lock
        self.rate_limit = rate_limit
        self.max_connections = max_connections
        self._windows: dict[str, tuple[float, int]] = {}
        self._window_lock = threading.Lock()
        # OAuth: an application, one unused authorization code, and a grant already made (access + refresh token)
        self.single_use_refresh_tokens = False
        self._token_counter = 0
        self._codes: dict[str, bool] = {}
        self._access: dict[str, bool] = {}  # access token -> expired
        self._refresh: set[str] = set()
        self.oauth: dict[str, str] = {
            "client_id": str(100000 + store.rng.randint(0, 899999)),
            "client_secret": self._token("secret", 48),
            "redirect_uri": "https://app.example.com/oauth/callback",
        }
        self.oauth["authorization_code"] = self.new_authorization_code()
        self.oauth["access_token"], self.oauth["refresh_token"] = self._issue()

        def get(pattern: str, handler: Callable[[Request, set[str]], Response]) -> None:
            for version in (API, API_V3_2):  # v3.2 is still served (the Singer tap uses it); only campaigns differ
                self.route("GET", version + pattern, self._authorized(handler))

        get("/clients.json", self.clients)
        get("/systemdate.json", self.systemdate)
        get("/timezones.json", lambda request, principal: self._array(self.store.data["timezones"]))
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
        self.objects = AccountObjects(store)  # admins, people, segments, journeys...: sandbox/campaign_monitor_account.py
        self.objects.add_routes(self, get)
        self.transactional = Transactional(store)
        self.transactional.add_routes(self, get)
        self.route("POST", "/oauth/token", self.token)

    # --- SandboxApp -------------------------------------------------------------------------------------------

    def overloaded(self, request: Request) -> Response:
        limit = self.rate_limit[0] if self.rate_limit else (self.max_connections or 0)
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
            return self._principal_of_token(value.strip())
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                user = ""
            clients = self.store.clients_of_key(user)
            if clients is not None:
                return clients
        raise ApiError(401, 50, "Must supply a valid HTTP Basic Authorization header")

    def _rate_limit_headers(self, request: Request) -> dict[str, str]:
        if not self.rate_limit:
            return {}
        limit, window = self.rate_limit
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
                with self.lock:
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
        if self.store.owner(list_id) not in principal or list_id not in self.store.data["list_details"]:
            raise ApiError(401, 101, "Invalid ListID")
        return list_id

    def _campaign(self, campaign_id: str, principal: set[str]) -> str:
        if self.store.owner(campaign_id) not in principal or campaign_id not in self.store.data["summary"]:
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
        return self._array([c for c in self.store.data["clients"] if c["ClientID"] in principal])

    def systemdate(self, request: Request, principal: set[str]) -> Response:
        first = self.store.data["clients"][0]["ClientID"]
        return Response(200, {"SystemDate": self.store.now.astimezone(self.store.zone(first)).strftime(LOCAL_FORMAT)})

    def client_details(self, request: Request, principal: set[str]) -> Response:
        client_id = self._client(request.params["client_id"], principal)
        return Response(200, json.loads(json.dumps(self.store.data["client_details"][client_id])))

    def _client_array(self, name: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            return self._array(self.store.data[name][self._client(request.params["client_id"], principal)])
        return handler

    def sent_campaigns(self, request: Request, principal: set[str]) -> Response:
        client_id = self._client(request.params["client_id"], principal)
        records = self.store.data["campaigns"][client_id]
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
        return Response(200, dict(self.store.data["summary"][campaign_id]))

    def email_client_usage(self, request: Request, principal: set[str]) -> Response:
        campaign_id = self._campaign(request.params["campaign_id"], principal)
        return self._array(self.store.data["email_client_usage"][campaign_id])

    def recipients(self, request: Request, principal: set[str]) -> Response:
        campaign_id = self._campaign(request.params["campaign_id"], principal)
        field, key = self._order_field(request, {
            "email": lambda r: r["EmailAddress"].lower(), "list": lambda r: r["ListID"]}, "email")
        return self._page(request, self.store.data["recipients"][campaign_id], field, self._direction(request, "asc"), key)

    def _events(self, kind: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            campaign_id = self._campaign(request.params["campaign_id"], principal)
            records = self.store.data[kind][campaign_id]
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
        return Response(200, dict(self.store.data["list_details"][list_id]))

    def _subscribers(self, state: str) -> Callable[[Request, set[str]], Response]:
        def handler(request: Request, principal: set[str]) -> Response:
            list_id = self._list(request.params["list_id"], principal)
            records = [r for r in self.store.data["subscribers"][list_id] if r["State"] == state]
            since = self._since(request)
            if since:
                records = [r for r in records if r["Date"] >= since]
            field, key = self._order_field(request, {
                "email": lambda r: r["EmailAddress"].lower(), "name": lambda r: r["Name"].lower(),
                "date": lambda r: r["Date"]}, "email")
            response = self._page(request, records, field, self._direction(request, "asc"), key)
            if request.query.get("includetrackingpreference", "").lower() == "true":
                consent = self.store.data["consent_to_track"][list_id]
                for record in response.body["Results"]:
                    record["ConsentToTrack"] = consent[record["EmailAddress"]]
            return response
        return handler

    def token(self, request: Request) -> Response:
        form = request.form() if request.body else dict(request.query)
        with self.lock:
            return self._grant(form)

    # --- OAuth ------------------------------------------------------------------------------------------------

    def _token(self, kind: str, length: int = 32) -> str:
        self._token_counter += 1
        digest = hashlib.sha256(f"{self.store.seed}|{kind}|{self._token_counter}".encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]

    def _issue(self) -> tuple[str, str]:
        access, refresh = self._token("access"), self._token("refresh", 22)
        self._access[access] = False
        self._refresh.add(refresh)
        return access, refresh

    def new_authorization_code(self) -> str:
        """A fresh authorization code (as if the user approved the app again); each works once."""
        with self.lock:
            code = self._token("code", 24)
            self._codes[code] = False
            return code

    def expire_access_token(self) -> None:
        """Every access token issued so far now gets 401 Code 121 "Expired OAuth Token"."""
        with self.lock:
            for token in self._access:
                self._access[token] = True

    def revoke_refresh_token(self) -> None:
        """Every refresh token issued so far is now rejected by POST /oauth/token (invalid_grant)."""
        with self.lock:
            self._refresh.clear()

    def _principal_of_token(self, token: str) -> set[str]:
        with self.lock:
            if token not in self._access:
                raise ApiError(401, 120, "Invalid OAuth Token")
            if self._access[token]:
                raise ApiError(401, 121, "Expired OAuth Token")
        return set(self.store.client_ids)

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


class CampaignMonitorSandbox(Sandbox):
    """One Campaign Monitor account (see the module docstring) served on 127.0.0.1: its data
    (CampaignMonitorData, sandbox/campaign_monitor_store.py), its app (CampaignMonitorApp) and a server.

    Attributes: url, server, app, data, scale, seed, now (the sandbox clock, UTC), api_key, oauth (client_id,
    client_secret, authorization_code, redirect_uri, access_token, refresh_token: the latest issued), client_ids,
    rate_limit, single_use_refresh_tokens (False: a refresh token stays valid after use until revoked),
    custom_field_edits (see mutate()).
    """

    def __init__(self, scale: float = 1.0, seed: int = 0, latency: float = 0.0, item_latency: float = 0.0,
                 max_connections: int | None = 10, faults: FaultPlan | None = None, port: int = 0,
                 rate_limit: tuple[int, float] | None = None) -> None:
        self.scale, self.seed = scale, seed
        self.store = CampaignMonitorData(scale, seed)
        self.app = CampaignMonitorApp(self.store, rate_limit=rate_limit, max_connections=max_connections)
        self.server: SandboxServer = SandboxServer(
            self.app, latency=latency, item_latency=item_latency, max_connections=max_connections, faults=faults,
            port=port)
        self.data = self.store.data
        self.api_key = self.store.api_key
        self.client_ids = self.store.client_ids
        self.oauth = self.app.oauth
        self.custom_field_edits = self.store.custom_field_edits
        self._lock = self.store.lock

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "api_key": self.api_key, "oauth": self.oauth, "client_ids": self.client_ids,
                "counts": self.counts()}

    @property
    def now(self) -> datetime:
        return self.store.now

    @property
    def rate_limit(self) -> tuple[int, float] | None:
        return self.app.rate_limit

    @rate_limit.setter
    def rate_limit(self, value: tuple[int, float] | None) -> None:
        self.app.rate_limit = value

    @property
    def single_use_refresh_tokens(self) -> bool:
        return self.app.single_use_refresh_tokens

    @single_use_refresh_tokens.setter
    def single_use_refresh_tokens(self, value: bool) -> None:
        self.app.single_use_refresh_tokens = value

    # --- the data ---------------------------------------------------------------------------------------------

    def zone(self, client_id: str) -> tzinfo:
        return self.store.zone(client_id)

    def client_of(self, any_id: str) -> str:
        """The client that owns a client, list or campaign id."""
        return self.store.client_of(any_id)

    def to_utc(self, owner_id: str, local: str) -> str:
        """A record's local "YYYY-MM-DD HH:MM:SS" (of the client owning `owner_id`) as ISO 8601 UTC."""
        return self.store.to_utc(owner_id, local)

    def counts(self) -> dict[str, int]:
        """Records per connector stream, for every client the account sees."""
        return self.store.counts()

    def mutate(self) -> dict[str, set[Any]]:
        """One new day of changes; see the module docstring."""
        return self.store.mutate()

    def record_event(self, kind: str, campaign_id: str, event: dict[str, Any]) -> None:
        """Records one event of a campaign now, whatever its Date (see CampaignMonitorData.record_event)."""
        self.store.record_event(kind, campaign_id, event)

    # --- OAuth ------------------------------------------------------------------------------------------------

    def new_authorization_code(self) -> str:
        """A fresh authorization code (as if the user approved the app again); each works once."""
        return self.app.new_authorization_code()

    def expire_access_token(self) -> None:
        """Every access token issued so far now gets 401 Code 121 "Expired OAuth Token"."""
        self.app.expire_access_token()

    def revoke_refresh_token(self) -> None:
        """Every refresh token issued so far is now rejected by POST /oauth/token (invalid_grant)."""
        self.app.revoke_refresh_token()
