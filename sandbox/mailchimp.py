"""A local Mailchimp Marketing API 3.0 (and the two login.mailchimp.com OAuth endpoints), for tests, demos and
benchmarks.

Built from Mailchimp's API reference (developer guide, error glossary, the `mailchimp-marketing` client's operations),
the field sets of Airbyte's and Singer's Mailchimp connectors' schemas and recorded fixtures -- never from what our own
connector sends.

Usage::

    with MailchimpSandbox(scale=0.1, seed=0) as sb:
        requests.get(sb.url + "/3.0/lists", auth=("anystring", sb.api_key))

One server serves the paths of every host the API uses: ``/3.0/...`` is ``https://us6.api.mailchimp.com/3.0/...``,
``/oauth2/metadata`` and ``/oauth2/token`` are ``https://login.mailchimp.com/oauth2/...``. It also serves the batch
operations endpoint (``POST /3.0/batches``, ``GET /3.0/batches/{id}``) and the batch result archive
(``GET /{batch_id}-response.tar.gz``, in reality on an S3 host) because Singer's tap-mailchimp reads email activity that way
(it sends no ``count``: a GET operation of a batch returns the whole collection, which is why the tap uses batches; the
batch is finished by the first GET /batches/{id}).

Public attributes of :class:`MailchimpSandbox`
-----------------------------------------------
``url``            ``http://127.0.0.1:PORT``
``server``         the :class:`sandbox.server.SandboxServer` (request log: ``server.requests(prefix)``, ``reset_log()``)
``data``           the ground truth (see below)
``dc``             ``"us6"``, the data center of the account
``api_key``        a valid key, ``<32 hex>-us6``; HTTP basic with any user name and the key as password, or ``Bearer <key>``.
                   The OAuth access token works as ``Authorization: Bearer <token>`` or ``OAuth <token>`` (tap-mailchimp)
``wrong_dc_api_key``  the same key with a ``-us1`` suffix: 401, as the real API answers a key used on another data center
``disabled_api_key``  a key of a disabled account: 403 "User Disabled"
``oauth``          dict(client_id, client_secret, access_token, authorization_code, redirect_uri)
``new_authorization_code()``  issues another one-time authorization code (each code is accepted once by /oauth2/token)
``now``            the sandbox clock (ISO 8601 string), fixed at 2025-06-30T12:00:00+00:00 and advanced by ``mutate()``
``boundary``       ``"2025-01-01T00:00:00+00:00"``: one member's last_changed, one segment's created_at and updated_at,
                   one campaign's create_time and send_time, one automation's create_time and one email activity item's
                   timestamp are exactly this value, to test since_ (exclusive) / before_ (inclusive) bounds
``empty_list_id``  the list with no members
``no_activity_campaign_id``  a sent campaign (opens and clicks not tracked): its email-activity lists every recipient,
                   each with ``"activity": []`` (as the API lists recipients without activity); its report's
                   last_open and last_click are ""
``mutate()``       see below
``forbidden_ecommerce`` constructor flag: when True, every /ecommerce/ endpoint answers 403 Forbidden (problem+json),
                   as the API answers a user whose role or plan may not read e-commerce data
``burst_html_403`` constructor flag: when True, a request beyond the connection limit gets a 403 with an HTML body
                   (as Mailchimp's edge answers bursts) instead of the 429 problem document

``data`` (plain dicts and lists, the API objects exactly as the endpoints return them, except that ``_links`` -- which the
API puts on every object and envelope -- is added on the way out and is not stored)
------------------------------------------------------------------------------------------------------------------------
``data["account"]``                          GET /3.0/ (API root)
``data["lists"]``                            [list]                                     GET /lists (default order)
``data["members"][list_id]``                 [member], every status incl. archived      GET /lists/{id}/members
``data["segments"][list_id]``                [segment] (saved segments and tags = static segments)
``data["segment_members"][segment_id]``      [segment member] with the default include_* (subscribed and pending
                                             only, as the endpoint answers without include_cleaned /
                                             include_transactional / include_unsubscribed)
``data["tags"][list_id]``                    [{"id", "name"}]                           GET /lists/{id}/tag-search
``data["interest_categories"][list_id]``     [category]
``data["interests"][category_id]``           [interest]
``data["campaigns"]``                        [campaign]
``data["automations"]``                      [automation]
``data["reports"]``                          [report] (sent campaigns only, same order as campaigns)
``data["email_activity"][campaign_id]``      [email] as /reports/{id}/email-activity returns them (sent campaigns)
``data["unsubscribes"][campaign_id]``        [unsubscribe] (sent campaigns)
``data["click_details"][campaign_id]``       [tracked link] GET /reports/{id}/click-details (sent campaigns tracking
                                             clicks: every tracked link, last_click "" if never clicked)
``data["domain_performance"][campaign_id]``  [domain] GET /reports/{id}/domain-performance (no paging)
``data["templates"]``                        [template] GET /templates (user, base and gallery templates)
``data["landing_pages"]``                    [landing page] GET /landing-pages (`count`, no `offset`)
``data["ecommerce_stores"]``                 [store] GET /ecommerce/stores (a store with everything, a new one with no
                                             orders, carts or promo rules)
``data["ecommerce_<customers|orders|products|carts|promo_rules>"][store_id]``  GET /ecommerce/stores/{id}/<...>
``data["ecommerce_promo_codes"][promo_rule_id]``  GET /ecommerce/stores/{id}/promo-rules/{rule_id}/promo-codes
``data["merge_fields"][list_id]``            [merge field] GET /lists/{id}/merge-fields (the list without members has a
                                             dropdown with choices)
``data["growth_history"][list_id]``          [month] GET /lists/{id}/growth-history, newest first, one per month since the
                                             list was created
``data["list_activity"][list_id]``           [day] GET /lists/{id}/activity: the 180 days before today, newest first
``data["automation_emails"][workflow_id]``   [automation email] GET /automations/{id}/emails (no paging: the whole
                                             list; a draft automation has none, a workflow's last email of several
                                             is unsent: emails_sent 0, send_time "")
``data["automation_queue"][email_id]``       [queue entry] GET /automations/{id}/emails/{email_id}/queue (no paging)
``data["automation_sent_to"][email_id]``     [recipient] GET /reports/{email_id}/sent-to of an automation email
``data["automation_email_activity"][email_id]``  [email] GET /reports/{email_id}/email-activity of an automation email
``data["sent_to"][campaign_id]``             [recipient] as /reports/{id}/sent-to lists them (sent campaigns; status
                                             sent, hard or soft from the recipient's bounces, open_count, last_open
                                             "" without opens)

``mutate()`` advances the clock by one day and changes data the way a day of use does; it returns::

    {
      "members": {(list_id, member_id), ...},          # added or changed (last_changed = the new now)
      "segments": {(list_id, segment_id), ...},        # added (a new tag per non-empty list) or updated (updated_at)
      "segment_members": {(segment_id, member_id), ...},  # new in a segment's default listing, or changed members in it
      "tags": {(list_id, tag_id), ...},                # the new tags
      "campaigns": {campaign_id, ...},                 # the new sent campaign
      "reports": {campaign_id, ...},                   # reports whose opens/clicks/unsubscribed changed, and the new one
      "email_activity": {(campaign_id, email_id, action, timestamp), ...},  # new activity items
      "unsubscribes": {(campaign_id, email_id), ...},  # new unsubscribes
      "lists": {list_id, ...},                         # lists whose stats changed
      "automations": {automation_id, ...},             # the draft created in the second of the newest one
    }

A day of changes also meets the real API's edges, each once: per list a member and a saved segment changed in the
very second of the newest change before that day (``since_*`` is exclusive: reading from that second leaves them out),
a draft campaign and a draft automation created in the second of the newest one, on one sent campaign a click in the
second of its newest activity and an open 100 s before it that became visible only that day (activity shows minutes
after it happens), and on another a hard bounce 4 s after its newest activity (a bounce moves the report's
``bounces`` counts, never its ``last_open`` or ``last_click``).

Data (a deterministic function of scale and seed; scale 1, seed 0: 7,000 members, 3,705 segment members, 3,200
email-activity entries holding 5,649 activity items, 113 unsubscribes, 16 reports, 20 campaigns: 16,561 records as our
streams count them; members, segment members, activity and unsubscribes grow linearly with scale)
------------------------------------------------------------------------------------------------------------------------
4 lists (one with no members; one with a unicode name whose members carry a since-deleted merge field ``MMERGE6`` on a
third of them only); members of every status (about 6% archived), unicode names and addresses, empty strings
(``timestamp_signup``, ``ip_signup``, ``ADDRESS``, ...), pending and transactional members with an empty timestamp_opt, a
bulk import with identical timestamp_opt/last_changed (2024-03-01T09:00:00+00:00) on 10% of the first list, the same
e-mail addresses (so the same member ids) in two lists, interests on two lists; tags are static segments (their ids
are segment ids) and members carry them in ``tags``; 20 campaigns (15 sent + 1 sent without open/click tracking, 3 drafts
(status ``save``, one plaintext), 1 scheduled); email activity mostly within 30 days of the send, with a burst of opens in
the same second; unsubscribes; 5 automations (one never started: ``start_time`` "").
Unset dates are "" as the real API sends them (drafts' ``send_time``, ``stats.campaign_last_sent`` of a list never sent
to, ``opens.last_open`` without opens, ``ab_split_opts.send_time_a``, a timewarp zone's ``last_click``, ...); segment
members alone use null. Objects only some records have: an A/B split campaign (``ab_split_opts``, report ``ab_split``),
a sent RSS campaign (``rss_opts``, report ``rss_last_send``), a multivariate draft (``variate_settings``), a timewarp
campaign (report ``timewarp``), one with Salesforce/Capsule tracking, two sent to segments, one with delivery status; the
third list has GDPR fields and a store (members' ``marketing_permissions``, ``stats.ecommerce_data``); VIP members with
a phone have SMS fields; about 2% of members have a ``last_note``. None of these draws from the random sequence: the rest
of the data is the same as without them.

Behaviour (as documented by Mailchimp, or as observed and noted in the connectors' issues)
-------------------------------------------------------------------------------------------
- ``count`` (default 10, at most 1000, else 400) / ``offset`` paging; every collection has ``total_items``.
- ``fields`` / ``exclude_fields``: comma separated dotted paths from the response root (``members.id``, ``members._links``).
- Date filters: ``since_*`` exclusive, ``before_*`` inclusive, compared to the second (fractions are dropped); any ISO 8601
  form is accepted (``Z``, ``+00:00``, fractions, a bare date); an unparsable date is a 400.
  members: since/before_last_changed, since/before_timestamp_opt, status, sort_field (timestamp_opt, timestamp_signup,
  last_changed), sort_dir (ASC, DESC). Without ``status`` archived members are not returned (``status=archived`` lists them).
  unsubscribed_since (only with status=unsubscribed, else 400).
  segments: since/before_created_at, since/before_updated_at, type (saved, static, fuzzy), include_cleaned /
  include_transactional / include_unsubscribed (then member_count counts those too).
  segment members: include_cleaned, include_transactional, include_unsubscribed (default false).
  campaigns: since/before_create_time, since/before_send_time, status, type, list_id, sort_field (create_time, send_time),
  sort_dir. automations: since/before_create_time, since/before_start_time (the reference names these start_time, not
  send_time), status. reports: since/before_send_time, type. email-activity: ``since`` (activity items after it; emails
  with none are left out). lists: since/before_date_created, since/before_campaign_last_sent, email, sort_field
  date_created, include_total_contacts (adds stats.total_contacts).
  tag-search: name (prefix match), count/offset.
- email-activity lists every recipient, those without activity with ``"activity": []``; with ``since`` only the
  recipients with activity after it, and only that activity.
- A draft (or scheduled) campaign's email-activity and unsubscribed answer an empty 200; its /reports/{id} is a 404.
- Errors are ``application/problem+json`` {type, title, status, detail, instance}: 401 missing/invalid key or token (also a
  key whose ``-usN`` does not match us6), 403 disabled account, 404 unknown list/segment/category/campaign or path,
  400 bad parameter, 405 wrong method, 429 beyond ``max_connections`` simultaneous requests of one user, 500/503 (faults).
- login.mailchimp.com: GET /oauth2/metadata with ``Authorization: OAuth <token>`` answers the account's dc and api_endpoint
  (the real https host; point the connector at the sandbox with its own override), a bad token gets 200
  ``{"error": "invalid_token"}``; POST /oauth2/token exchanges an authorization code once.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import random
import tarfile
import threading
import traceback
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable

from sandbox.server import FaultPlan, Request, Response, Sandbox, SandboxApp, SandboxServer

DC = "us6"
API_HOST = f"https://{DC}.api.mailchimp.com"
ROOT = f"{API_HOST}/3.0"
SCHEMA = f"{API_HOST}/schema/3.0"
START_NOW = datetime(2025, 6, 30, 12, 0, 0, tzinfo=timezone.utc)
BOUNDARY = "2025-01-01T00:00:00+00:00"
BULK_IMPORT_TIME = "2024-03-01T09:00:00+00:00"
PROBLEM_TYPE = "https://mailchimp.com/developer/marketing/docs/errors/"
MAX_COUNT = 1000
BATCH_OPERATION = "x-sandbox-batch-operation"  # marks the sub-requests of a batch (never sent by clients)
PAGE_PARAMS = {"count", "offset", "fields", "exclude_fields"}

MEMBER_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")

FIRST_NAMES = [
    "Anna", "Ben", "Chloé", "Dmitri", "Émile", "Fatima", "Günther", "Hana", "Ines", "José", "Kenji", "Łukasz", "Maria",
    "Nnamdi", "Olga", "Pierre", "Qiang", "Rosa", "Søren", "Tomás", "Ülle", "Vera", "Wei", "Xenia", "Yusuf", "Zoë",
    "王芳", "Ελένη", "Алексей", "محمد", "Saoirse", "", "O'Brien",
]
LAST_NAMES = [
    "Smith", "Müller", "García", "Nowak", "Dubois", "Rossi", "Kowalski", "Jensen", "Nakamura", "Silva", "Öztürk",
    "Ivanova", "Ng", "Ó Súilleabháin", "Łęcka", "Brontë", "", "李", "Παπαδόπουλος", "de la Cruz",
]
DOMAINS = ["example.com", "example.org", "mail.example.net", "exämple.de", "example.co.uk"]
COUNTRIES = [("US", "America/New_York", -5, "NY"), ("DE", "Europe/Berlin", 1, "BE"), ("FR", "Europe/Paris", 1, "IDF"),
             ("GB", "Europe/London", 0, "LND"), ("JP", "Asia/Tokyo", 9, "13"), ("BR", "America/Sao_Paulo", -3, "SP"),
             ("", "", 0, "")]
SOURCES = ["Import", "API - Generic", "Admin Add", "Hosted Signup Form", "Embedded Form"]


# Campaigns (by their index in the generation plan) with what only some campaigns have: their type's options
# (ab_split_opts, rss_opts, variate_settings), timewarp, integrations, a segment, delivery status.
CAMPAIGN_TYPES = {7: "absplit", 11: "rss", 16: "plaintext", 17: "variate"}
TIMEWARP_CAMPAIGN = 9
SALESFORCE_CAMPAIGN = 0
SEGMENT_CAMPAIGN = 2
PREBUILT_SEGMENT_CAMPAIGN = 4
DELIVERY_STATUS_CAMPAIGN = 1
MARKETING_PERMISSION_ID = "8e1ffb2a8a"
SOCIAL_CARD_IMAGE = "https://cdn-images.mailchimp.com/monkey_rewards/grow-business-banner-2.png"


def iso(moment: datetime) -> str:
    """A time stamp as the API writes it: seconds, ``+00:00``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(value: str) -> str:
    """A filter value (any ISO 8601 form) as a comparable API time stamp string, fractions of seconds dropped."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return iso(moment.replace(microsecond=0))


class ApiError(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def problem(status: int, title: str, detail: str) -> Response:
    body = {"type": PROBLEM_TYPE, "title": title, "status": status, "detail": detail, "instance": str(uuid.uuid4())}
    return Response(status, body, content_type="application/problem+json; charset=utf-8")


def not_found() -> ApiError:
    return ApiError(404, "Resource Not Found", "The requested resource could not be found.")


def bad_request(detail: str) -> ApiError:
    return ApiError(400, "Invalid Resource", detail)


def link(rel: str, href: str, method: str = "GET", target: str | None = None, schema: str | None = None) -> dict:
    item = {"rel": rel, "href": href, "method": method}
    if target:
        item["targetSchema"] = f"{SCHEMA}/{target}"
    if schema:
        item["schema"] = f"{SCHEMA}/{schema}"
    return item


# --- fields / exclude_fields -----------------------------------------------------------------------------------


def path_tree(spec: str | None) -> dict | None:
    """``"members.id,total_items"`` -> ``{"members": {"id": {}}, "total_items": {}}`` (an empty dict is a leaf)."""
    if not spec:
        return None
    tree: dict = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        node = tree
        keys = part.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(keys[-1], {})
    return tree or None


def keep_fields(value: Any, tree: dict) -> Any:
    if isinstance(value, list):
        return [keep_fields(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, sub in tree.items():
        if key in value:
            out[key] = value[key] if not sub else keep_fields(value[key], sub)
    return out


def drop_fields(value: Any, tree: dict) -> Any:
    if isinstance(value, list):
        return [drop_fields(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in tree:
            sub = tree[key]
            if not sub:
                continue
            out[key] = drop_fields(item, sub)
        else:
            out[key] = item
    return out


# --- data generation -------------------------------------------------------------------------------------------


class _Ids:
    """Deterministic identifiers in the API's formats."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.next_int = 4_000_000 + rng.randrange(1_000_000)

    def hex(self, n: int) -> str:
        return format(self.rng.getrandbits(4 * n), f"0{n}x")

    def integer(self) -> int:
        self.next_int += self.rng.randrange(1, 50)
        return self.next_int


def email_hash(email: str) -> str:
    return hashlib.md5(email.lower().encode("utf-8")).hexdigest()


class MailchimpData:
    """The account's objects, generated from (scale, seed), and the changes of :meth:`mutate`."""

    def __init__(self, scale: float, seed: int) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.now = START_NOW
        self.version = 0  # bumped by every mutate(), so cached query results are recomputed
        self.account_id = self.ids.hex(25)
        self.data: dict[str, Any] = {}
        self._segment_rules: dict[int, Callable[[dict], bool]] = {}
        self._merge_fields: dict[str, list[str]] = {}
        self._email_counter = 0
        # The objects added after the first release (automation emails and their reports, ...) draw from their own
        # sequence, so that everything generated before them is the same as it was.
        self.more_rng = random.Random(f"mailchimp-more-objects-{seed}")
        self.more_ids = _Ids(self.more_rng)
        self._generate()

    # ---- helpers
    def _time_between(self, start: datetime, end: datetime) -> str:
        span = int((end - start).total_seconds())
        return iso(start + timedelta(seconds=self.rng.randrange(max(span, 1))))

    def _email(self, first: str, last: str) -> str:
        self._email_counter += 1
        local = (first or "user").lower().replace(" ", ".").replace("'", "")
        if self.rng.random() < 0.7:
            local = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch == ".")) or "user"
        return f"{local}.{self._email_counter}@{self.rng.choice(DOMAINS)}"

    def _ip(self) -> str:
        bits = self.rng.getrandbits(32)
        return f"{bits >> 24 & 255 or 1}.{bits >> 16 & 255}.{bits >> 8 & 255}.{bits & 255 or 1}"

    # ---- generation
    def _generate(self) -> None:
        rng = self.rng
        self.data["account"] = {
            "account_id": self.account_id,
            "login_id": str(self.ids.integer()),
            "account_name": "Sandbox Coöperative",
            "email": "owner@example.com",
            "first_name": "Sam",
            "last_name": "Sandbox",
            "username": "sandbox_owner",
            "avatar_url": "",
            "role": "owner",
            "member_since": "2019-05-02T10:11:12+00:00",
            "pricing_plan_type": "monthly",
            "first_payment": "2019-06-01T00:00:00+00:00",
            "account_timezone": "Europe/Berlin",
            "account_industry": "Software",
            "contact": {"company": "Sandbox Coöperative", "addr1": "1 Test Street", "addr2": "", "city": "Berlin",
                        "state": "BE", "zip": "10115", "country": "DE"},
            "pro_enabled": False,
            "last_login": "2025-06-29T08:00:00+00:00",
            "total_subscribers": 0,
            "industry_stats": {"open_rate": 0.21, "bounce_rate": 0.004, "click_rate": 0.027},
        }
        list_specs = [
            ("Newsletter", 0.42, True, False),
            ("Événements & Ünïcode ✨", 0.34, False, True),
            ("Customers", 0.24, True, False),
            ("Empty list", 0.0, False, False),
        ]
        total_members = 7000 * self.scale
        self.data.update({"lists": [], "members": {}, "segments": {}, "segment_members": {}, "tags": {},
                          "interest_categories": {}, "interests": {}, "campaigns": [], "automations": [],
                          "reports": [], "email_activity": {}, "unsubscribes": {}, "sent_to": {},
                          "automation_emails": {}, "automation_queue": {}, "automation_sent_to": {},
                          "automation_email_activity": {}, "merge_fields": {}, "growth_history": {},
                          "list_activity": {}, "click_details": {}, "domain_performance": {}})
        # (e-commerce: ecommerce_stores, and ecommerce_<collection>[store_id], set by _generate_ecommerce)
        shared_emails: list[tuple[str, str, str]] = []
        for index, (name, share, with_interests, deleted_merge_field) in enumerate(list_specs):
            list_id = self.ids.hex(10)
            created = iso(datetime(2022, 1, 10, 9, 0, 0, tzinfo=timezone.utc) + timedelta(days=97 * index,
                                                                                        seconds=rng.randrange(86400)))
            web_id = self.ids.integer()
            lst = {
                "id": list_id,
                "web_id": web_id,
                "name": name,
                "contact": {"company": "Sandbox Coöperative", "address1": "1 Test Street", "address2": "",
                            "city": "Berlin", "state": "BE", "zip": "10115", "country": "DE", "phone": ""},
                "permission_reminder": "You are receiving this email because you opted in via our website.",
                "use_archive_bar": True,
                "campaign_defaults": {"from_name": "Sandbox", "from_email": "news@example.com", "subject": "",
                                      "language": "en"},
                "notify_on_subscribe": "",
                "notify_on_unsubscribe": "",
                "date_created": created,
                "list_rating": rng.randrange(0, 6),
                "email_type_option": index == 2,
                "subscribe_url_short": f"http://eepurl.com/{self.ids.hex(6)}",
                "subscribe_url_long": f"https://sandbox.{DC}.list-manage.com/subscribe?u={self.account_id}&id={list_id}",
                "beamer_address": f"{DC}-{self.ids.hex(10)}-{self.ids.hex(10)}@inbound.mailchimp.com",
                "visibility": "prv" if index else "pub",
                "double_optin": index == 1,
                "has_welcome": False,
                "marketing_permissions": index == 2,
                "modules": [],
                "stats": {},
            }
            self.data["lists"].append(lst)
            merge_fields = ["FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY"]
            self._merge_fields[list_id] = merge_fields
            # interests
            categories, interest_ids = [], []
            if with_interests:
                for c_index, (title, ctype, names) in enumerate([
                    ("Product Preferences", "checkboxes", ["Shoes", "Bags", "Hats"]),
                    ("Frequency", "radio", ["Weekly", "Monthly"]),
                    ("Hidden group", "hidden", []),
                ]):
                    category_id = self.ids.hex(10)
                    categories.append({"list_id": list_id, "id": category_id, "title": title,
                                       "display_order": c_index, "type": ctype})
                    interests = []
                    for i_index, interest_name in enumerate(names):
                        interest_id = self.ids.hex(10)
                        interest_ids.append(interest_id)
                        interests.append({"category_id": category_id, "list_id": list_id, "id": interest_id,
                                          "name": interest_name, "subscriber_count": "0", "display_order": i_index})
                    self.data["interests"][category_id] = interests
            self.data["interest_categories"][list_id] = categories
            # tags (static segments) and saved segments
            segments = []
            tag_names = ["VIP", "2022", "Früh-Bucher", "imported", "A/B test – ✓"] if share else []
            if index == 1:
                tag_names = ["Événement", "speaker", "staff"]
            for tag_name in tag_names:
                segments.append(self._new_segment(list_id, tag_name, "static", created))
            if share:
                seg = self._new_segment(list_id, "Top rated", "saved", created,
                                        {"match": "all", "conditions": [{"condition_type": "MemberRating",
                                                                         "field": "rating", "op": "greater",
                                                                         "value": 4}]})
                self._segment_rules[seg["id"]] = lambda m: m["member_rating"] > 4
                segments.append(seg)
                seg = self._new_segment(list_id, "Org addresses", "saved", created,
                                        {"match": "any", "conditions": [{"condition_type": "EmailAddress",
                                                                         "field": "EMAIL", "op": "contains",
                                                                         "value": ".org"}]})
                self._segment_rules[seg["id"]] = lambda m: ".org" in m["email_address"]
                segments.append(seg)
            else:
                seg = self._new_segment(list_id, "Nobody yet", "saved", created,
                                        {"match": "all", "conditions": [{"condition_type": "EmailAddress",
                                                                         "field": "EMAIL", "op": "contains",
                                                                         "value": "@nowhere.invalid"}]})
                self._segment_rules[seg["id"]] = lambda m: "@nowhere.invalid" in m["email_address"]
                segments.append(seg)
            if index == 0:
                segments[0]["created_at"] = BOUNDARY
                segments[0]["updated_at"] = BOUNDARY
            self.data["segments"][list_id] = segments
            self.data["tags"][list_id] = [{"id": s["id"], "name": s["name"]} for s in segments if s["type"] == "static"]
            # members
            count = 0 if not share else max(14, round(total_members * share))
            members = []
            created_dt = datetime.fromisoformat(created)
            static_ids = [s for s in segments if s["type"] == "static"]
            for m_index in range(count):
                status = MEMBER_STATUSES[m_index] if m_index < len(MEMBER_STATUSES) else rng.choices(
                    MEMBER_STATUSES, weights=[70, 10, 5, 5, 4, 6])[0]
                reuse = shared_emails[m_index] if index == 2 and m_index < len(shared_emails) // 10 else None
                member = self._new_member(lst, status, created_dt, self.now - timedelta(days=2), interest_ids,
                                          static_ids, reuse)
                if deleted_merge_field and m_index % 3 == 0:
                    # MMERGE6 was deleted from the audience: older members still carry it, others never had it
                    member["merge_fields"]["MMERGE6"] = rng.choice(["alt", "Größe L", ""])
                if index == 0 and m_index == 6:
                    member["last_changed"] = BOUNDARY
                    if member["timestamp_opt"]:
                        member["timestamp_opt"] = min(member["timestamp_opt"], BOUNDARY)
                    member["timestamp_signup"] = min(member["timestamp_signup"], BOUNDARY)
                if index == 0 and 7 <= m_index < 7 + max(5, count // 10):
                    # one bulk import: many members with the same time stamps
                    member["timestamp_opt"] = BULK_IMPORT_TIME if member["status"] not in ("pending", "transactional") else ""
                    member["last_changed"] = BULK_IMPORT_TIME
                    member["source"] = "Import"
                members.append(member)
                if index == 0:
                    shared_emails.append((member["email_address"], member["merge_fields"]["FNAME"],
                                          member["merge_fields"]["LNAME"]))
            self.data["members"][list_id] = members
            if not share:
                self.empty_list_id = list_id
        for lst in self.data["lists"]:
            self._refresh_segments(lst["id"])
        self._generate_campaigns()
        self._generate_automations()
        for lst in self.data["lists"]:
            self._refresh_list(lst)
        self.data["account"]["total_subscribers"] = sum(l["stats"]["member_count"] for l in self.data["lists"])
        self._with_more_rng(self._generate_automation_emails)
        self._with_more_rng(self._generate_templates_and_landing_pages)
        self._with_more_rng(self._generate_ecommerce)
        self._generate_merge_fields()
        self._refresh_list_history()

    def _with_more_rng(self, generate: Callable[[], None]) -> None:
        """Runs `generate` with self.rng and self.ids drawing from the sequence of the objects added later."""
        saved = self.rng, self.ids
        self.rng, self.ids = self.more_rng, self.more_ids
        try:
            generate()
        finally:
            self.rng, self.ids = saved

    def _generate_automation_emails(self) -> None:
        """Each started automation's emails (a draft automation has none), their queues and their reports: the
        recipients (sent-to) and email activity of every email sent at least once. The last email of a workflow with
        several has not been sent to anyone yet (emails_sent 0, send_time "")."""
        rng = self.rng
        for automation in self.data["automations"]:
            self.data["automation_emails"][automation["id"]] = emails = []
            if automation["status"] == "save":
                continue
            members = [m for m in self.data["members"][automation["recipients"]["list_id"]]
                       if m["status"] == "subscribed"]
            count = automation["trigger_settings"]["workflow_emails_count"]
            started = datetime.fromisoformat(automation["start_time"])
            for position in range(1, count + 1):
                email = self._automation_email(automation, position)
                emails.append(email)
                unsent = position == count and count > 1
                recipients = [] if unsent else rng.sample(members, min(len(members), max(3, round(40 * self.scale))))
                entries, sent_to, last_send = [], [], ""
                for member in recipients:
                    sent_at = self._time_between(started, self.now - timedelta(days=2))
                    last_send = max(last_send, sent_at)
                    entry = {"campaign_id": email["id"], "list_id": member["list_id"], "list_is_active": True,
                             "email_id": member["id"], "email_address": member["email_address"], "activity": []}
                    sent_dt = datetime.fromisoformat(sent_at)
                    self._add_activity(entry, sent_dt, min(self.now - timedelta(days=1), sent_dt + timedelta(days=20)),
                                       rng.choice([0, 1, 2, 3]))
                    entries.append(entry)
                    sent_to.append(self._sent_to(email, member, 0))
                email["emails_sent"] = len(recipients)
                email["send_time"] = last_send
                self.data["automation_email_activity"][email["id"]] = entries
                self.data["automation_sent_to"][email["id"]] = sent_to
                self._refresh_automation_email(email)
                sent_ids = {m["id"] for m in recipients}
                queued = [m for m in members if m["id"] not in sent_ids][: 0 if automation["status"] != "sending" else
                                                                          max(1, round(5 * self.scale))]
                self.data["automation_queue"][email["id"]] = [
                    {"id": m["id"], "workflow_id": automation["id"], "email_id": email["id"],
                     "list_id": m["list_id"], "list_is_active": True, "email_address": m["email_address"],
                     "next_send": iso(self.now + timedelta(hours=position * 6 + index))}
                    for index, m in enumerate(queued)]

    def _generate_templates_and_landing_pages(self) -> None:
        """The account's templates (its own, and Mailchimp's base and gallery templates it can use, listed by
        default) and landing pages (published, unpublished, a draft never published: published_at "")."""
        templates = []
        for index, (ttype, name, category) in enumerate([
                ("user", "Newsletter – Sommer ☀", ""), ("user", "Welcome", ""), ("user", "Événement", ""),
                ("user", "Plain text", ""), ("base", "1 Column", "Basic"), ("base", "2 Columns", "Basic"),
                ("gallery", "Sale announcement", "Ecommerce"), ("gallery", "Holiday greetings", "Holiday")]):
            created = self._time_between(datetime(2021, 1, 1, tzinfo=timezone.utc), self.now - timedelta(days=30))
            own = ttype == "user"
            template_id = self.ids.integer()
            templates.append({
                "id": template_id, "type": ttype, "name": name, "drag_and_drop": index != 3, "responsive": index != 3,
                "category": category, "date_created": created,
                "date_edited": self._time_between(datetime.fromisoformat(created), self.now) if own and index else "",
                "created_by": "Sam Sandbox" if own else "", "edited_by": "Sam Sandbox" if own and index else "",
                "active": True, "folder_id": "" if index % 2 else self.ids.hex(10),
                "thumbnail": f"https://gallery.mailchimp.com/{self.ids.hex(20)}/images/thumb_{template_id}.png",
                "share_url": f"https://{DC}.admin.mailchimp.com/templates/share?id={template_id}" if own else "",
                "content_type": "multichannel" if index == 0 else "template"})
        self.data["templates"] = templates
        lists = [l for l in self.data["lists"] if self.data["members"][l["id"]]]
        pages = []
        for index, (status, title) in enumerate([("published", "Jetzt anmelden ✉"), ("published", "Spring sale"),
                                                  ("unpublished", "Old offer"), ("draft", "Coming soon")]):
            created = self._time_between(datetime(2023, 1, 1, tzinfo=timezone.utc), self.now - timedelta(days=10))
            published = "" if status == "draft" else self._time_between(datetime.fromisoformat(created), self.now)
            page_id = self.ids.hex(10)
            pages.append({
                "id": page_id, "name": title, "title": title, "description": "" if index else "Abonnez-vous",
                "template_id": self.ids.integer(), "status": status, "list_id": lists[index % len(lists)]["id"],
                "store_id": "", "web_id": self.ids.integer(),
                "created_by_source": "mailchimp" if index != 1 else "api", "created_at": created,
                "published_at": published,
                "unpublished_at": self._time_between(datetime.fromisoformat(published), self.now)
                if status == "unpublished" else "",
                "updated_at": max(created, published),
                "url": f"https://mailchi.mp/{self.ids.hex(6)}/{page_id}" if status != "draft" else "",
                "tracking": {"track_with_mailchimp": True, "enable_restricted_data_processing": index == 0}})
        self.data["landing_pages"] = pages

    def _generate_ecommerce(self) -> None:
        """Two connected stores: one on the list with GDPR fields, with customers (its subscribers), products with
        variants and images, orders with lines (some cancelled, one with a promo), open carts, promo rules and their
        codes; and a store connected yesterday, with no orders, carts or promo rules yet. Unset dates are "" (an
        order not cancelled, a promo rule without an end, a product never published)."""
        rng = self.rng
        lst = self.data["lists"][2]
        address = {"address1": "1 Test Street", "address2": "", "city": "Berlin", "province": "Berlin",
                   "province_code": "BE", "postal_code": "10115", "country": "Germany", "country_code": "DE"}
        stores = []
        for index, (name, domain, created) in enumerate([
                ("Läden & Co ✨", "shop.example.com", "2023-03-01T10:00:00+00:00"),
                ("Pop-up store", "popup.example.org", iso(self.now - timedelta(days=1)))]):
            store_id = f"store_{self.ids.hex(6)}"
            stores.append({
                "id": store_id, "list_id": lst["id"], "name": name, "platform": "Shopify" if index == 0 else "",
                "domain": domain, "is_syncing": index == 1, "email_address": f"orders@{domain}",
                "currency_code": "EUR", "money_format": "€", "primary_locale": "de", "timezone": "Europe/Berlin",
                "phone": "" if index else "+49 30 1234567",
                "address": {**address, "longitude": 13.3889, "latitude": 52.517},
                "connected_site": {"site_foreign_id": f"{store_id}_site", "site_script": {
                    "url": f"https://chimpstatic.com/mcjs-connected/js/users/{self.account_id}/{self.ids.hex(20)}.js",
                    "fragment": f"<script id=\"mcjs\">!function(c,h,i,m,p){{m=c.createElement(h)}}</script>"}},
                "automations": {"abandoned_cart": {"is_supported": index == 0, "id": self.ids.hex(10) if index == 0
                                                   else "", "status": "sending" if index == 0 else ""},
                                "abandoned_browse": {"is_supported": False, "id": "", "status": ""}},
                "list_is_active": True, "created_at": created, "updated_at": created})
        self.data["ecommerce_stores"] = stores
        for key in ("ecommerce_customers", "ecommerce_orders", "ecommerce_products", "ecommerce_carts",
                    "ecommerce_promo_rules"):
            self.data[key] = {store["id"]: [] for store in stores}
        self.data["ecommerce_promo_codes"] = {}
        store = stores[0]
        start = datetime.fromisoformat(store["created_at"])
        products = []
        for p_index, (title, price) in enumerate([("T-Shirt „Ünïcode“", 19.9), ("Mug ☕", 9.5), ("Hoodie", 49.0),
                                                  ("Sticker pack", 3.0), ("Tote bag", 12.0), ("Gift card", 25.0)]):
            product_id = f"prod_{self.ids.hex(6)}"
            created = self._time_between(start, self.now - timedelta(days=60))
            variants = [{"id": f"{product_id}_{size}", "title": f"{title} {size}", "url": "", "sku": f"SKU-{p_index}-{size}",
                         "price": price, "inventory_quantity": rng.randrange(0, 200), "image_url": "",
                         "backorders": "false", "visibility": "visible", "created_at": created, "updated_at": created}
                        for size in (("S", "M") if p_index != 5 else ("25",))]
            image_id = f"img_{self.ids.hex(6)}"
            products.append({
                "id": product_id, "currency_code": "EUR", "title": title, "handle": f"product-{p_index}",
                "url": f"https://shop.example.com/products/product-{p_index}", "description": "" if p_index else "100 % Baumwolle",
                "type": "Merch", "vendor": "Läden & Co", "image_url": f"https://cdn.example.com/{image_id}.png",
                "variants": variants,
                "images": [{"id": image_id, "url": f"https://cdn.example.com/{image_id}.png",
                            "variant_ids": [v["id"] for v in variants]}],
                "published_at_foreign": "" if p_index == 5 else created})
        self.data["ecommerce_products"][store["id"]] = products
        members = [m for m in self.data["members"][lst["id"]] if m["status"] in ("subscribed", "unsubscribed")]
        customers = []
        for member in rng.sample(members, min(len(members), max(5, round(100 * self.scale)))):
            created = self._time_between(start, self.now - timedelta(days=5))
            customers.append({
                "id": f"cust_{member['id'][:12]}", "email_address": member["email_address"],
                "opt_in_status": member["status"] == "subscribed", "company": "",
                "first_name": member["merge_fields"]["FNAME"], "last_name": member["merge_fields"]["LNAME"],
                "orders_count": 0, "total_spent": 0.0, "address": dict(address),
                "created_at": created, "updated_at": created})
        self.data["ecommerce_customers"][store["id"]] = customers
        rules = []
        for r_index, (title, amount, rtype, ends) in enumerate([("Sommer -10 %", 0.1, "percentage", "2025-08-31T23:59:59+00:00"),
                                                                ("Free shipping", 4.9, "fixed", "")]):
            rule_id = f"rule_{self.ids.hex(6)}"
            created = self._time_between(start, self.now - timedelta(days=30))
            rules.append({"id": rule_id, "title": title, "description": title, "starts_at": created, "ends_at": ends,
                          "amount": amount, "type": rtype, "target": "total" if r_index == 0 else "shipping",
                          "enabled": True, "created_at_foreign": created, "updated_at_foreign": created})
            self.data["ecommerce_promo_codes"][rule_id] = [
                {"id": f"code_{self.ids.hex(6)}", "code": code, "redemption_url": f"https://shop.example.com/discount/{code}",
                 "usage_count": 0, "enabled": c_index == 0, "created_at_foreign": created, "updated_at_foreign": created}
                for c_index, code in enumerate((f"SOMMER{r_index}", f"ÉTÉ{r_index}"))]
        self.data["ecommerce_promo_rules"][store["id"]] = rules
        orders = []
        for o_index in range(max(8, round(150 * self.scale))):
            customer = customers[o_index % len(customers)]
            placed = self._time_between(datetime.fromisoformat(customer["created_at"]), self.now - timedelta(days=1))
            lines = []
            for l_index in range(1 + o_index % 3):
                product = products[(o_index + l_index) % len(products)]
                variant = product["variants"][l_index % len(product["variants"])]
                lines.append({"id": f"line_{o_index}_{l_index}", "product_id": product["id"], "product_title": product["title"],
                              "product_variant_id": variant["id"], "product_variant_title": variant["title"],
                              "image_url": product["image_url"], "quantity": 1 + l_index, "price": variant["price"],
                              "discount": 0.0})
            total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
            promo = o_index % 5 == 0
            if promo:
                code = self.data["ecommerce_promo_codes"][rules[0]["id"]][0]
                code["usage_count"] += 1
            cancelled = o_index % 7 == 3
            customer["orders_count"] += 1
            customer["total_spent"] = round(customer["total_spent"] + total, 2)
            campaign = next((c for c in self.data["campaigns"] if c["status"] == "sent"
                             and c["recipients"]["list_id"] == lst["id"]), None)
            ship_to = {"name": f"{customer['first_name']} {customer['last_name']}".strip(), **address,
                       "longitude": 13.3889, "latitude": 52.517, "phone": "", "company": ""}
            orders.append({
                "id": f"order_{1000 + o_index}", "customer": {}, "store_id": store["id"],
                "campaign_id": campaign["id"] if campaign and o_index % 4 == 0 else "",
                "landing_site": "https://shop.example.com/", "financial_status": "refunded" if cancelled else "paid",
                "fulfillment_status": "" if cancelled else "shipped", "currency_code": "EUR",
                "order_total": round(total * (0.9 if promo else 1), 2), "order_url": f"https://shop.example.com/orders/{1000 + o_index}",
                "discount_total": round(total * 0.1, 2) if promo else 0.0, "tax_total": round(total * 0.19 / 1.19, 2),
                "shipping_total": 4.9, "tracking_code": "prec" if campaign and o_index % 4 == 0 else "",
                "processed_at_foreign": placed, "cancelled_at_foreign": iso(datetime.fromisoformat(placed) + timedelta(hours=3))
                if cancelled else "", "updated_at_foreign": placed,
                "shipping_address": ship_to, "billing_address": dict(ship_to),
                "promos": [{"code": "SOMMER0", "amount_discounted": round(total * 0.1, 2), "type": "percentage"}] if promo else [],
                "lines": lines,
                "outreach": {"id": campaign["id"], "name": campaign["settings"]["title"], "type": "regular",
                             "published_time": campaign["send_time"]} if campaign and o_index % 4 == 0 else {},
                "tracking_number": f"00340434{o_index:08d}" if not cancelled else "", "tracking_carrier": "DHL" if not cancelled else "",
                "tracking_url": f"https://dhl.example/{o_index}" if not cancelled else ""})
        for o_index, order in enumerate(orders):  # the customer as it is now, with its order count and total
            order["customer"] = copy.deepcopy(customers[o_index % len(customers)])
        self.data["ecommerce_orders"][store["id"]] = orders
        carts = []
        for c_index in range(max(2, round(10 * self.scale))):
            customer = customers[-1 - c_index % len(customers)]
            product = products[c_index % len(products)]
            created = self._time_between(self.now - timedelta(days=7), self.now - timedelta(hours=2))
            carts.append({"id": f"cart_{self.ids.hex(8)}", "customer": copy.deepcopy(customer), "campaign_id": "",
                          "checkout_url": f"https://shop.example.com/checkout/{c_index}", "currency_code": "EUR",
                          "order_total": product["variants"][0]["price"], "tax_total": 0.0,
                          "lines": [{"id": f"cart_line_{c_index}", "product_id": product["id"],
                                     "product_title": product["title"],
                                     "product_variant_id": product["variants"][0]["id"],
                                     "product_variant_title": product["variants"][0]["title"], "quantity": 1,
                                     "price": product["variants"][0]["price"]}],
                          "created_at": created, "updated_at": created})
        self.data["ecommerce_carts"][store["id"]] = carts

    MERGE_FIELDS = {  # tag: (merge_id, name, type, options), as /lists/{id}/merge-fields describes them
        "FNAME": (1, "First Name", "text", {"size": 25}),
        "LNAME": (2, "Last Name", "text", {"size": 25}),
        "ADDRESS": (3, "Address", "address", {"default_country": 164}),
        "PHONE": (4, "Phone Number", "phone", {"phone_format": "none"}),
        "BIRTHDAY": (5, "Birthday", "birthday", {"date_format": "MM/DD"}),
    }

    def _generate_merge_fields(self) -> None:
        """Each list's merge fields (no random draw). The list without members has a dropdown in place of BIRTHDAY
        (its members carry no merge fields, so nothing else changes); MMERGE6, deleted from the unicode list, is not
        listed, though older members still carry it."""
        for lst in self.data["lists"]:
            fields = []
            for position, tag in enumerate(self._merge_fields[lst["id"]]):
                merge_id, name, ftype, options = self.MERGE_FIELDS[tag]
                if lst["id"] == self.empty_list_id and tag == "BIRTHDAY":
                    tag, name, ftype, options = "COLOR", "Lieblingsfarbe", "dropdown", {
                        "choices": ["Rot", "Grün", "Blau ✓"]}
                fields.append({"merge_id": merge_id, "tag": tag, "name": name, "type": ftype,
                               "required": tag == "FNAME" and lst["double_optin"], "default_value": "",
                               "public": tag != "PHONE", "display_order": position + 2,
                               "options": dict(options), "help_text": "" if tag != "PHONE" else "Mobil, bitte",
                               "list_id": lst["id"]})
            self.data["merge_fields"][lst["id"]] = fields

    def _refresh_list_history(self) -> None:
        """Each list's growth history (one record per month since the list was created, newest first) and daily
        activity (the 180 days before today, newest first), derived from its members and campaigns' activity (no
        random draw); recomputed as the data changes."""
        today = self.now.date()
        days = [(today - timedelta(days=n)).isoformat() for n in range(1, 181)]
        for lst in self.data["lists"]:
            members = self.data["members"][lst["id"]]
            first = lst["date_created"][:7]
            months, month = [], first
            while month <= iso(self.now)[:7]:
                months.append(month)
                year, mon = int(month[:4]), int(month[5:]) + 1
                month = f"{year + (mon > 12)}-{(mon - 1) % 12 + 1:02d}"

            # one pass over the members: counts per (month, what)
            counts: dict[tuple[str, str], int] = {}

            def count(month: str, what: str) -> None:
                counts[(month, what)] = counts.get((month, what), 0) + 1

            for m in members:
                opted = (m["timestamp_opt"] or m["timestamp_signup"])[:7]
                if opted:
                    count(opted, m["status"] + " opted")
                    if m["source"] == "Import":
                        count(opted, "imported")
                count(m["last_changed"][:7], m["status"] + " changed")
            existing, history = 0, []
            for month in months:  # oldest first, to add up the subscribed members up to each month
                existing += counts.get((month, "subscribed opted"), 0)
                subscribed = counts.get((month, "subscribed opted"), 0)
                history.append({
                    "list_id": lst["id"], "month": month, "existing": existing,
                    "imports": counts.get((month, "imported"), 0), "optins": subscribed, "subscribed": subscribed,
                    "unsubscribed": counts.get((month, "unsubscribed changed"), 0), "reconfirm": 0,
                    "cleaned": counts.get((month, "cleaned changed"), 0),
                    "pending": counts.get((month, "pending opted"), 0),
                    "deleted": counts.get((month, "archived changed"), 0),
                    "transactional": counts.get((month, "transactional changed"), 0),
                })
            history.reverse()
            self.data["growth_history"][lst["id"]] = history
            per_day: dict[str, dict[str, int]] = {day: dict.fromkeys(
                ("emails_sent", "unique_opens", "recipient_clicks", "hard_bounce", "soft_bounce", "subs", "unsubs",
                 "other_adds", "other_removes"), 0) for day in days}
            for campaign in self.data["campaigns"]:
                if campaign["recipients"]["list_id"] != lst["id"] or campaign["status"] != "sent":
                    continue
                if campaign["send_time"][:10] in per_day:
                    per_day[campaign["send_time"][:10]]["emails_sent"] += campaign["emails_sent"]
                for entry in self.data["email_activity"][campaign["id"]]:
                    seen = set()
                    for item in entry["activity"]:
                        day = item["timestamp"][:10]
                        if day not in per_day:
                            continue
                        if item["action"] in ("open", "click") and (item["action"], day) not in seen:
                            seen.add((item["action"], day))
                            per_day[day]["unique_opens" if item["action"] == "open" else "recipient_clicks"] += 1
                        elif item["action"] == "bounce":
                            per_day[day]["hard_bounce" if item.get("type") == "hard" else "soft_bounce"] += 1
            for member in members:
                day = (member["timestamp_opt"] or "")[:10]
                if day in per_day and member["source"] != "Import":
                    per_day[day]["subs"] += 1
                elif day in per_day:
                    per_day[day]["other_adds"] += 1
                day = member["last_changed"][:10]
                if day in per_day and member["status"] == "unsubscribed":
                    per_day[day]["unsubs"] += 1
                elif day in per_day and member["status"] in ("cleaned", "archived"):
                    per_day[day]["other_removes"] += 1
            self.data["list_activity"][lst["id"]] = [{"day": day, **per_day[day]} for day in days]

    def _automation_email(self, automation: dict, position: int) -> dict:
        email_id = self.ids.hex(10)
        first = position == 1
        title = f"{automation['settings']['title']} – E-Mail {position}"
        return {
            "id": email_id,
            "web_id": self.ids.integer(),
            "workflow_id": automation["id"],
            "position": position,
            "delay": {"amount": 0 if first else position - 1, "type": "now" if first else "day",
                      "direction": "after", "action": "signup" if first else "previous_campaign_sent",
                      "action_description": "immediately after signup" if first else
                      f"{position - 1} day(s) after the previous email"},
            "create_time": automation["create_time"],
            "start_time": automation["start_time"],
            "archive_url": f"http://eepurl.com/{self.ids.hex(6)}",
            "status": automation["status"],
            "emails_sent": 0,
            "send_time": "",
            "content_type": "template",
            "needs_block_refresh": False,
            "has_logo_merge_tag": False,
            "recipients": copy.deepcopy(automation["recipients"]),
            "settings": {"subject_line": title, "preview_text": "", "title": title,
                         "from_name": automation["settings"]["from_name"],
                         "reply_to": automation["settings"]["reply_to"], "authenticate": True, "auto_footer": False,
                         "inline_css": False, "auto_tweet": False, "auto_fb_post": [], "fb_comments": True,
                         "template_id": self.rng.randrange(1, 200), "drag_and_drop": True},
            "tracking": copy.deepcopy(automation["tracking"]),
            "trigger_settings": copy.deepcopy(automation["trigger_settings"]),
            "report_summary": {},
        }

    def _refresh_automation_email(self, email: dict) -> None:
        """The email's report_summary from its email activity (as a campaign's)."""
        entries = self.data["automation_email_activity"][email["id"]]
        opens = sum(1 for e in entries for a in e["activity"] if a["action"] == "open")
        clicks = sum(1 for e in entries for a in e["activity"] if a["action"] == "click")
        openers = sum(1 for e in entries if any(a["action"] == "open" for a in e["activity"]))
        clickers = sum(1 for e in entries if any(a["action"] == "click" for a in e["activity"]))
        sent = max(email["emails_sent"], 1)
        email["report_summary"] = {"opens": opens, "unique_opens": openers, "open_rate": round(openers / sent, 4),
                                   "clicks": clicks, "subscriber_clicks": clickers,
                                   "click_rate": round(clickers / sent, 4)}
        self._refresh_sent_to(self.data["automation_sent_to"][email["id"]], entries)

    def _new_segment(self, list_id: str, name: str, seg_type: str, after: str, options: dict | None = None) -> dict:
        created = self._time_between(datetime.fromisoformat(after), self.now - timedelta(days=3))
        segment = {"id": self.ids.integer(), "name": name, "member_count": 0, "type": seg_type,
                   "created_at": created, "updated_at": created, "list_id": list_id}
        if options:
            segment["options"] = options
        return segment

    def _new_member(self, lst: dict, status: str, start: datetime, end: datetime, interest_ids: list[str],
                    static_segments: list[dict], reuse: tuple[str, str, str] | None = None) -> dict:
        rng = self.rng
        if reuse:
            email, first, last = reuse
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = self._email(first, last)
        opted = self._time_between(start, end)
        signup = "" if rng.random() < 0.6 else self._time_between(start, datetime.fromisoformat(opted))
        changed = opted if rng.random() < 0.3 else self._time_between(datetime.fromisoformat(opted), end)
        country, tz, gmtoff, region = rng.choice(COUNTRIES)
        merge_fields: dict[str, Any] = {"FNAME": first, "LNAME": last,
                                        "ADDRESS": "" if rng.random() < 0.7 else {
                                            "addr1": f"{rng.randrange(1, 300)} Main St", "addr2": "",
                                            "city": rng.choice(["Gary", "Köln", "Paris"]), "state": "IN",
                                            "zip": f"{rng.randrange(10000, 99999)}", "country": country or "US"},
                                        "PHONE": "" if rng.random() < 0.8 else f"+1 555 {rng.randrange(1000, 9999)}",
                                        "BIRTHDAY": "" if rng.random() < 0.5 else
                                        f"{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}"}
        tags = [{"id": s["id"], "name": s["name"]} for s in static_segments if rng.random() < 0.07]
        pending = status in ("pending", "transactional")
        member = {
            "id": email_hash(email),
            "email_address": email,
            "unique_email_id": self.ids.hex(10),
            "contact_id": self.ids.hex(32),
            "full_name": f"{first} {last}".strip(),
            "web_id": self.ids.integer(),
            "email_type": "html" if rng.random() < 0.95 else "text",
            "status": status,
            "consents_to_one_to_one_messaging": True,
            "sms_phone_number": "",
            "sms_subscription_status": "",
            "sms_subscription_last_updated": "",
            "merge_fields": merge_fields,
            "stats": {"avg_open_rate": round(rng.random(), 2), "avg_click_rate": round(rng.random() / 3, 2)},
            "ip_signup": self._ip() if signup else "",
            "timestamp_signup": signup,
            "ip_opt": "" if pending else self._ip(),
            "timestamp_opt": "" if pending else opted,
            "member_rating": rng.randrange(1, 6),
            "last_changed": changed,
            "language": rng.choice(["", "", "en", "de", "fr"]),
            "vip": rng.random() < 0.03,
            "email_client": rng.choice(["", "Gmail", "Apple Mail", "Outlook"]),
            "location": {"latitude": 0 if not country else round(rng.uniform(-60, 60), 4),
                         "longitude": 0 if not country else round(rng.uniform(-150, 150), 4),
                         "gmtoff": gmtoff, "dstoff": gmtoff + (1 if country in ("US", "DE", "FR", "GB") else 0),
                         "country_code": country, "timezone": tz, "region": region},
            "source": rng.choice(SOURCES),
            "tags_count": len(tags),
            "tags": tags,
            "list_id": lst["id"],
        }
        if interest_ids:  # the API puts interests right after merge_fields
            interests = {i: rng.random() < 0.3 for i in interest_ids}
            member = {k: v for pair in (((k, v), ("interests", interests)) if k == "merge_fields" else ((k, v),)
                                        for k, v in member.items()) for k, v in pair}
        if status == "unsubscribed":
            member["unsubscribe_reason"] = rng.choice(["N/A (Unsubscribed by admin)", "Did not signup for list",
                                                       "No longer interested", "Autres raisons – trop d’e-mails"])
        if merge_fields["PHONE"] and member["vip"]:  # the few who also subscribed to SMS
            member.update(sms_phone_number=merge_fields["PHONE"], sms_subscription_status="subscribed",
                          sms_subscription_last_updated=opted)
        if lst["marketing_permissions"]:  # a list with GDPR fields, connected to a store
            member["marketing_permissions"] = [{"marketing_permission_id": MARKETING_PERMISSION_ID, "text": "Email",
                                                "enabled": status == "subscribed"}]
            member["stats"]["ecommerce_data"] = {"total_revenue": member["member_rating"] * 12.5,
                                                 "number_of_orders": member["member_rating"] - 1,
                                                 "currency_code": "USD"}
        if rng.random() < 0.02:
            member["last_note"] = {"note_id": self.ids.integer(), "created_at": changed,
                                   "created_by": "Sam Sandbox", "note": "Called about the invoice ☎"}
        return member

    # segment members: the endpoint's own, slimmer shape, with null for empty values
    @staticmethod
    def segment_member_view(member: dict) -> dict:
        def nulled(value: Any) -> Any:
            return None if value == "" else value

        location = {k: nulled(v) for k, v in member["location"].items() if k != "region"}
        view = {
            "id": member["id"],
            "email_address": member["email_address"],
            "unique_email_id": member["unique_email_id"],
            "full_name": nulled(member["full_name"]),
            "email_type": member["email_type"],
            "status": member["status"],
            "merge_fields": {k: nulled(v) for k, v in member["merge_fields"].items()},
        }
        if "interests" in member:
            view["interests"] = dict(member["interests"])
        view.update({
            "stats": {k: v for k, v in member["stats"].items() if k != "ecommerce_data"},
            "ip_signup": nulled(member["ip_signup"]),
            "timestamp_signup": nulled(member["timestamp_signup"]),
            "ip_opt": nulled(member["ip_opt"]),
            "timestamp_opt": nulled(member["timestamp_opt"]),
            "member_rating": member["member_rating"],
            "last_changed": member["last_changed"],
            "language": nulled(member["language"]),
            "vip": member["vip"],
            "email_client": nulled(member["email_client"]),
            "location": location,
        })
        if "last_note" in member:
            view["last_note"] = dict(member["last_note"])
        view["list_id"] = member["list_id"]
        return view

    def in_segment(self, segment: dict, member: dict) -> bool:
        if member["status"] == "archived":
            return False
        if segment["type"] == "static":
            return any(tag["id"] == segment["id"] for tag in member["tags"])
        rule = self._segment_rules.get(segment["id"])
        return bool(rule and rule(member))

    def segment_members_of(self, segment: dict, include: Iterable[str] = ()) -> list[dict]:
        statuses = {"subscribed", "pending"} | set(include)
        return [self.segment_member_view(m) for m in self.data["members"][segment["list_id"]]
                if m["status"] in statuses and self.in_segment(segment, m)]

    def _refresh_segments(self, list_id: str) -> None:
        for segment in self.data["segments"][list_id]:
            members = self.segment_members_of(segment)
            self.data["segment_members"][segment["id"]] = members
            segment["member_count"] = sum(1 for m in members if m["status"] == "subscribed")
        self.data["tags"][list_id] = [{"id": s["id"], "name": s["name"]}
                                      for s in self.data["segments"][list_id] if s["type"] == "static"]

    def _refresh_list(self, lst: dict) -> None:
        members = self.data["members"][lst["id"]]

        def count(status: str) -> int:
            return sum(1 for m in members if m["status"] == status)

        sent = [c for c in self.data["campaigns"] if c["recipients"]["list_id"] == lst["id"] and c["status"] == "sent"]
        reports = [r for r in self.data["reports"] if r["list_id"] == lst["id"]]
        opted = [m["timestamp_opt"] for m in members if m["status"] == "subscribed" and m["timestamp_opt"]]
        unsubs = [m["last_changed"] for m in members if m["status"] == "unsubscribed"]
        lst["stats"] = {
            "member_count": count("subscribed"),
            "unsubscribe_count": count("unsubscribed"),
            "cleaned_count": count("cleaned"),
            "member_count_since_send": 0,
            "unsubscribe_count_since_send": 0,
            "cleaned_count_since_send": 0,
            "campaign_count": len(sent),
            "campaign_last_sent": max((c["send_time"] for c in sent), default=""),
            "merge_field_count": len(self._merge_fields[lst["id"]]),
            "avg_sub_rate": 0,
            "avg_unsub_rate": 1 if unsubs else 0,
            "target_sub_rate": 1,
            "open_rate": round(100 * sum(r["opens"]["open_rate"] for r in reports) / len(reports), 4) if reports else 0,
            "click_rate": round(100 * sum(r["clicks"]["click_rate"] for r in reports) / len(reports), 4)
            if reports else 0,
            "last_sub_date": max(opted, default=""),
            "last_unsub_date": max(unsubs, default=""),
        }

    def _generate_campaigns(self) -> None:
        lists = [l for l in self.data["lists"] if self.data["members"][l["id"]]]
        plan = ["sent"] * 15 + ["save", "save", "save", "schedule", "sent"]
        emails_per_campaign = max(6, round(200 * self.scale))
        for c_index, status in enumerate(plan):
            lst = lists[c_index % len(lists)]
            created = self._time_between(datetime(2023, 1, 1, tzinfo=timezone.utc), self.now - timedelta(days=20))
            if c_index == 3:
                created = BOUNDARY
            self._add_campaign(lst, status, created, emails_per_campaign,
                               no_activity=(c_index == 5), on_boundary=(c_index == 3),
                               ctype=CAMPAIGN_TYPES.get(c_index, "regular"), variant=c_index)
        self.data["campaigns"].sort(key=lambda c: c["create_time"])
        order = {c["id"]: i for i, c in enumerate(self.data["campaigns"])}
        self.data["reports"].sort(key=lambda r: order[r["id"]])

    def _add_campaign(self, lst: dict, status: str, created: str, n_emails: int, no_activity: bool = False,
                      on_boundary: bool = False, ctype: str = "regular", activity_until: datetime | None = None,
                      send_time: str | None = None, variant: int | None = None) -> dict:
        rng = self.rng
        campaign_id = self.ids.hex(10)
        created_dt = datetime.fromisoformat(created)
        if send_time:
            pass
        elif status == "sent":
            send_time = BOUNDARY if on_boundary else iso(created_dt + timedelta(hours=rng.randrange(1, 200)))
        elif status == "schedule":
            send_time = iso(self.now + timedelta(days=5))
        title = rng.choice(["Spring sale 🌸", "Weekly digest", "Événement à Paris", "Newsletter #", "Welcome",
                            "Rückblick 2024", "", "Product update"]) + (f" {len(self.data['campaigns']) + 1}")
        members = self.data["members"][lst["id"]]
        recipients_pool = [m for m in members if m["status"] in ("subscribed", "unsubscribed")]
        campaign = {
            "id": campaign_id,
            "web_id": self.ids.integer(),
            "parent_campaign_id": "",
            "type": ctype,
            "create_time": created,
            "archive_url": f"http://eepurl.com/{self.ids.hex(6)}",
            "long_archive_url": f"https://{DC}.campaign-archive.com/?u={self.account_id}&id={campaign_id}",
            "status": status,
            "emails_sent": 0,
            "send_time": send_time or "",  # "" until it is sent or scheduled, as the API answers
            "content_type": rng.choice(["template", "multichannel", "html"]),
            "needs_block_refresh": False,
            "resendable": status == "sent",
            "recipients": {"list_id": lst["id"], "list_is_active": True, "list_name": lst["name"],
                           "segment_text": "", "recipient_count": len(recipients_pool)},
            "settings": {"subject_line": title.strip(), "preview_text": "", "title": title.strip() or "Untitled",
                         "from_name": "Sandbox", "reply_to": "news@example.com", "use_conversation": False,
                         "to_name": "*|FNAME|*", "folder_id": "", "authenticate": True, "auto_footer": False,
                         "inline_css": False, "auto_tweet": False, "fb_comments": True, "timewarp": False,
                         "template_id": rng.randrange(1, 200), "drag_and_drop": True},
            "tracking": {"opens": not no_activity, "html_clicks": not no_activity, "text_clicks": False,
                         "goal_tracking": False, "ecomm360": False, "google_analytics": "", "clicktale": ""},
            "delivery_status": {"enabled": False},
        }
        self._campaign_options(campaign, variant, send_time)
        self.data["campaigns"].append(campaign)
        if status != "sent":
            return campaign
        sent_dt = datetime.fromisoformat(send_time)
        recipients = rng.sample(recipients_pool, min(n_emails, len(recipients_pool)))
        campaign["emails_sent"] = len(recipients)
        emails, unsubscribes = [], []
        until = activity_until or self.now - timedelta(days=1)
        if until <= sent_dt:
            until = sent_dt + timedelta(hours=1)
        for r_index, member in enumerate(recipients):
            entry = {"campaign_id": campaign_id, "list_id": lst["id"], "list_is_active": True,
                     "email_id": member["id"], "email_address": member["email_address"], "activity": []}
            if not no_activity:
                # most activity comes in the first weeks after the send
                self._add_activity(entry, sent_dt, min(until, sent_dt + timedelta(days=30)),
                                   rng.choice([0, 1, 1, 2, 2, 3, 4]))
                if on_boundary and r_index == 0 and not any(
                        a["action"] == "open" and a["timestamp"] == BOUNDARY for a in entry["activity"]):
                    entry["activity"].insert(0, {"action": "open", "timestamp": BOUNDARY, "ip": self._ip()})
            emails.append(entry)  # every recipient is listed; without tracking, none has activity
            if member["status"] == "unsubscribed" and rng.random() < 0.3:
                unsubscribes.append(self._unsubscribe(campaign, member, self._time_between(sent_dt, until)))
        if not no_activity and emails:
            # a burst: many opens in the very same second
            burst = iso(sent_dt + timedelta(minutes=7))
            for entry in emails[: max(3, len(emails) // 20)]:
                if not any(a["action"] == "open" and a["timestamp"] == burst for a in entry["activity"]):
                    entry["activity"].append({"action": "open", "timestamp": burst, "ip": self._ip()})
                    entry["activity"].sort(key=lambda a: a["timestamp"])
        self.data["email_activity"][campaign_id] = emails
        self.data["unsubscribes"][campaign_id] = unsubscribes
        self.data["reports"].append(self._report(campaign))
        self.data["sent_to"][campaign_id] = [self._sent_to(campaign, member, position)
                                                for position, member in enumerate(recipients)]
        self._refresh_summary(campaign)
        return campaign

    def _campaign_options(self, campaign: dict, variant: int | None, send_time: str | None) -> None:
        """The objects only some campaigns have, as the API returns them (no random draw: the rest of the data does
        not move). Unset dates in them are "", as everywhere in the API."""
        sent = campaign["status"] == "sent"
        campaign["social_card"] = {"image_url": SOCIAL_CARD_IMAGE, "description": "", "title": ""}
        if campaign["type"] == "absplit":
            campaign["ab_split_opts"] = {"split_test": "subject", "pick_winner": "opens", "wait_units": "hours",
                                         "wait_time": 4, "split_size": 10, "from_name_a": "", "from_name_b": "",
                                         "reply_email_a": "", "reply_email_b": "",
                                         "subject_a": campaign["settings"]["subject_line"] + " (A)",
                                         "subject_b": campaign["settings"]["subject_line"] + " (B)",
                                         "send_time_a": "", "send_time_b": "", "send_time_winner": ""}
        elif campaign["type"] == "rss":
            campaign["rss_opts"] = {"feed_url": "https://example.com/feed.xml", "frequency": "weekly",
                                    "schedule": {"hour": 9, "daily_send": {day: day in ("monday", "thursday") for day in
                                                 ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                                  "saturday")},
                                                 "weekly_send_day": "monday", "monthly_send_date": 1},
                                    "last_sent": send_time if sent else "", "constrain_rss_img": True}
        elif campaign["type"] == "variate":
            combination = email_hash(campaign["id"])[:10]
            campaign["variate_settings"] = {
                "winning_combination_id": "", "winning_campaign_id": "", "winner_criteria": "opens",
                "wait_time": 240, "test_size": 20, "subject_lines": ["Summer offer ☀", "Your summer offer"],
                "send_times": [], "from_names": ["Sandbox"], "reply_to_addresses": ["news@example.com"],
                "contents": ["Default"], "combinations": [
                    {"id": combination, "subject_line": 0, "send_time": 0, "from_name": 0, "reply_to": 0,
                     "content_description": 0, "recipients": 0},
                    {"id": combination[::-1], "subject_line": 1, "send_time": 0, "from_name": 0, "reply_to": 0,
                     "content_description": 0, "recipients": 0}]}
        if variant == TIMEWARP_CAMPAIGN:
            campaign["settings"]["timewarp"] = True
        if variant == SALESFORCE_CAMPAIGN:  # an account with the Salesforce and Capsule integrations connected
            campaign["tracking"].update(salesforce={"campaign": True, "notes": False}, capsule={"notes": False})
            campaign["settings"]["auto_fb_post"] = ["101881234567890"]
        if variant == SEGMENT_CAMPAIGN:
            saved = next((seg for seg in self.data["segments"][campaign["recipients"]["list_id"]]
                          if seg["type"] == "saved"), None)
            if saved is not None:
                campaign["recipients"]["segment_opts"] = {"saved_segment_id": saved["id"], **saved["options"]}
                campaign["recipients"]["segment_text"] = f"<p class='!margin--lv0 display--inline'>Contacts match</p> {saved['name']}"
        if variant == PREBUILT_SEGMENT_CAMPAIGN:
            campaign["recipients"]["segment_opts"] = {"prebuilt_segment_id": "subscribers-new", "match": "all",
                                                      "conditions": []}
        if variant == DELIVERY_STATUS_CAMPAIGN and sent:
            campaign["delivery_status"] = {"enabled": True, "can_cancel": False, "status": "delivered",
                                           "emails_sent": 0, "emails_canceled": 0}

    def _add_activity(self, entry: dict, start: datetime, end: datetime, n: int) -> list[dict]:
        rng = self.rng
        added = []
        seen = {(a["action"], a["timestamp"]) for a in entry["activity"]}
        for _ in range(n):
            timestamp = self._time_between(start, end)
            kind = rng.choices(["open", "click", "bounce"], weights=[60, 35, 5])[0]
            if (kind, timestamp) in seen:
                continue
            seen.add((kind, timestamp))
            if kind == "open":
                item = {"action": "open", "timestamp": timestamp, "ip": self._ip()}
            elif kind == "click":
                item = {"action": "click", "timestamp": timestamp,
                        "url": rng.choice(["https://example.com/", "https://example.com/sale?utm=ä",
                                           "https://example.org/événements"]), "ip": self._ip()}
            else:
                item = {"action": "bounce", "type": rng.choice(["hard", "soft"]), "timestamp": timestamp}
            entry["activity"].append(item)
            added.append(item)
        entry["activity"].sort(key=lambda a: a["timestamp"])
        return added

    def _unsubscribe(self, campaign: dict, member: dict, timestamp: str) -> dict:
        return {"email_id": member["id"], "email_address": member["email_address"],
                "merge_fields": copy.deepcopy(member["merge_fields"]), "vip": member["vip"],
                "timestamp": timestamp,
                "reason": member.get("unsubscribe_reason") or self.rng.choice(["", "No longer interested"]),
                "campaign_id": campaign["id"], "list_id": campaign["recipients"]["list_id"], "list_is_active": True}

    def _report(self, campaign: dict) -> dict:
        return {
            "id": campaign["id"],
            "campaign_title": campaign["settings"]["title"],
            "type": campaign["type"],
            "list_id": campaign["recipients"]["list_id"],
            "list_is_active": True,
            "list_name": campaign["recipients"]["list_name"],
            "subject_line": campaign["settings"]["subject_line"],
            "preview_text": campaign["settings"]["preview_text"],
            "emails_sent": campaign["emails_sent"],
            "abuse_reports": 0,
            "unsubscribed": 0,
            "send_time": campaign["send_time"],
            **({"rss_last_send": campaign["rss_opts"]["last_sent"]} if "rss_opts" in campaign else {}),
            "bounces": {"hard_bounces": 0, "soft_bounces": 0, "syntax_errors": 0},
            "forwards": {"forwards_count": 0, "forwards_opens": 0},
            "opens": {"opens_total": 0, "unique_opens": 0, "open_rate": 0, "last_open": ""},
            "clicks": {"clicks_total": 0, "unique_clicks": 0, "unique_subscriber_clicks": 0, "click_rate": 0,
                       "last_click": ""},
            "facebook_likes": {"recipient_likes": 0, "unique_likes": 0, "facebook_likes": 0},
            "industry_stats": {"type": "Software and Web App", "open_rate": 0.2, "click_rate": 0.02,
                               "bounce_rate": 0.005, "unopen_rate": 0.8, "unsub_rate": 0.002, "abuse_rate": 0.0001},
            "list_stats": {"sub_rate": 0, "unsub_rate": 1, "open_rate": 30, "click_rate": 5},
            "timewarp": [],
            "timeseries": [],
            "share_report": {"share_url": f"https://{DC}.campaign-archive.com/?u={self.account_id}&id={campaign['id']}",
                             "share_password": "freddielikesyou"},
            "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0, "currency_code": "USD"},
            "delivery_status": dict(campaign["delivery_status"]),
        }

    def _sent_to(self, campaign: dict, member: dict, position: int) -> dict:
        """A recipient as /reports/{id}/sent-to lists it (no random draw). `absplit_group` only on an A/B split
        campaign, `gmt_offset` only on a timewarp campaign, as the reference describes them; status, open_count and
        last_open follow the recipient's activity (_refresh_sent_to)."""
        entry = {"email_id": member["id"], "email_address": member["email_address"],
                 "merge_fields": {k: dict(v) if isinstance(v, dict) else v for k, v in member["merge_fields"].items()},
                 "vip": member["vip"], "status": "sent", "open_count": 0, "last_open": ""}
        if campaign.get("type") == "absplit":
            entry["absplit_group"] = "ab"[position % 2]  # the groups of the report's ab_split
        if campaign["settings"].get("timewarp"):
            entry["gmt_offset"] = member["location"]["gmtoff"]
        entry.update(campaign_id=campaign["id"], list_id=campaign["recipients"]["list_id"], list_is_active=True)
        return entry

    # the links clicks go to (_add_activity), and a footer link nobody clicks
    TRACKED_URLS = ("https://example.com/", "https://example.com/sale?utm=ä", "https://example.org/événements",
                    "https://example.com/impressum")

    def _click_details(self, campaign: dict, emails: list[dict]) -> list[dict]:
        """Each tracked link of a campaign with clicks tracked (none otherwise), clicked or not (last_click "" then);
        `ab_split` on an A/B split campaign only, its groups those of the report's ab_split."""
        if not campaign["tracking"]["html_clicks"]:
            return []
        all_clicks = sum(1 for e in emails for a in e["activity"] if a["action"] == "click")

        def figures(group: list[dict], url: str) -> tuple[int, int, str]:
            clicks = [a["timestamp"] for e in group for a in e["activity"] if a["action"] == "click" and a.get("url") == url]
            clickers = sum(1 for e in group if any(a["action"] == "click" and a.get("url") == url for a in e["activity"]))
            return len(clicks), clickers, max(clicks, default="")

        def percent(part: int, whole: int) -> float:
            return round(100 * part / whole, 2) if whole else 0

        details = []
        for url in self.TRACKED_URLS:
            total, unique, last = figures(emails, url)
            item = {"id": email_hash(campaign["id"] + url)[:10], "url": url, "total_clicks": total,
                    "click_percentage": percent(total, all_clicks), "unique_clicks": unique,
                    "unique_click_percentage": percent(unique, len(emails)), "last_click": last}
            if campaign["type"] == "absplit":
                item["ab_split"] = {}
                for index, side in enumerate("ab"):
                    group = emails[index::2]
                    g_total, g_unique, _ = figures(group, url)
                    item["ab_split"][side] = {f"total_clicks_{side}": g_total,
                                              f"click_percentage_{side}": percent(g_total, all_clicks),
                                              f"unique_clicks_{side}": g_unique,
                                              f"unique_click_percentage_{side}": percent(g_unique, len(group))}
            item["campaign_id"] = campaign["id"]
            details.append(item)
        return details

    def _domain_performance(self, campaign: dict, emails: list[dict]) -> list[dict]:
        """The recipients' e-mail domains with their figures, most recipients first."""
        unsubscribed = {u["email_id"] for u in self.data["unsubscribes"][campaign["id"]]}
        domains: dict[str, dict[str, int]] = {}
        for entry in emails:
            figures = domains.setdefault(entry["email_address"].rsplit("@", 1)[1],
                                         {"emails_sent": 0, "bounces": 0, "opens": 0, "clicks": 0, "unsubs": 0})
            actions = {a["action"] for a in entry["activity"]}
            figures["emails_sent"] += 1
            figures["bounces"] += "bounce" in actions
            figures["opens"] += "open" in actions
            figures["clicks"] += "click" in actions
            figures["unsubs"] += entry["email_id"] in unsubscribed
        sent = max(len(emails), 1)
        result = []
        for domain, f in sorted(domains.items(), key=lambda pair: (-pair[1]["emails_sent"], pair[0])):
            delivered = f["emails_sent"] - f["bounces"]
            result.append({"domain": domain, **f, "delivered": delivered,
                           "emails_pct": round(100 * f["emails_sent"] / sent, 2),
                           "bounces_pct": round(100 * f["bounces"] / max(f["emails_sent"], 1), 2),
                           "opens_pct": round(100 * f["opens"] / f["emails_sent"], 2),
                           "clicks_pct": round(100 * f["clicks"] / f["emails_sent"], 2),
                           "unsubs_pct": round(100 * f["unsubs"] / f["emails_sent"], 2)})
        return result

    @staticmethod
    def _refresh_sent_to(recipients: list[dict], emails: list[dict]) -> None:
        """A recipient's delivery status is its bounce (hard or soft) if it bounced, else sent; its opens counted."""
        activity = {e["email_id"]: e["activity"] for e in emails}
        for entry in recipients:
            items = activity.get(entry["email_id"], [])
            bounces = [a.get("type") for a in items if a["action"] == "bounce"]
            opens = [a["timestamp"] for a in items if a["action"] == "open"]
            entry.update(status=bounces[-1] if bounces else "sent", open_count=len(opens),
                         last_open=max(opens, default=""))

    def _refresh_summary(self, campaign: dict) -> None:
        """Recompute the campaign's report (and report_summary) from its email activity and unsubscribes."""
        report = next(r for r in self.data["reports"] if r["id"] == campaign["id"])
        emails = self.data["email_activity"][campaign["id"]]
        opens = [a["timestamp"] for e in emails for a in e["activity"] if a["action"] == "open"]
        clicks = [a["timestamp"] for e in emails for a in e["activity"] if a["action"] == "click"]
        openers = {e["email_id"] for e in emails if any(a["action"] == "open" for a in e["activity"])}
        clickers = {e["email_id"] for e in emails if any(a["action"] == "click" for a in e["activity"])}
        bounces = [a.get("type") for e in emails for a in e["activity"] if a["action"] == "bounce"]
        sent = max(campaign["emails_sent"], 1)
        # The sandbox has no opens from privacy proxies: the proxy-excluded figures equal the others.
        report["opens"] = {"opens_total": len(opens), "proxy_excluded_opens": len(opens),
                           "unique_opens": len(openers), "proxy_excluded_unique_opens": len(openers),
                           "open_rate": round(len(openers) / sent, 4),
                           "proxy_excluded_open_rate": round(len(openers) / sent, 4),
                           "last_open": max(opens, default="")}
        report["clicks"] = {"clicks_total": len(clicks), "unique_clicks": len(clickers),
                            "unique_subscriber_clicks": len(clickers), "click_rate": round(len(clickers) / sent, 4),
                            "last_click": max(clicks, default="")}
        report["bounces"] = {"hard_bounces": bounces.count("hard"), "soft_bounces": bounces.count("soft"),
                             "syntax_errors": 0}
        report["unsubscribed"] = len(self.data["unsubscribes"][campaign["id"]])
        self._refresh_sent_to(self.data["sent_to"].get(campaign["id"], []), emails)
        self.data["click_details"][campaign["id"]] = self._click_details(campaign, emails)
        self.data["domain_performance"][campaign["id"]] = self._domain_performance(campaign, emails)
        report["list_stats"]["proxy_excluded_open_rate"] = report["list_stats"]["open_rate"]
        if report["delivery_status"].get("enabled"):
            report["delivery_status"]["emails_sent"] = campaign["delivery_status"]["emails_sent"] = campaign["emails_sent"]
        if campaign["type"] == "absplit":
            report["ab_split"] = {side: self._group_stats(emails[index::2], campaign["id"]) for index, side in
                                  enumerate("ab")}
        if campaign["settings"]["timewarp"]:
            report["timewarp"] = self._timewarp(emails)
        # the first 24 hours after the send, hour by hour
        start = datetime.fromisoformat(campaign["send_time"]).replace(minute=0, second=0)
        hours = [iso(start + timedelta(hours=h)) for h in range(25)]
        first_opens = [min(a["timestamp"] for a in e["activity"] if a["action"] == "open")
                       for e in emails if e["email_id"] in openers]
        clicks_at = sorted(clicks)
        report["timeseries"] = [
            {"timestamp": hours[h], "emails_sent": campaign["emails_sent"] if h == 0 else 0,
             "unique_opens": sum(1 for t in first_opens if hours[h] <= t < hours[h + 1]),
             "proxy_excluded_unique_opens": sum(1 for t in first_opens if hours[h] <= t < hours[h + 1]),
             "recipients_clicks": sum(1 for t in clicks_at if hours[h] <= t < hours[h + 1])}
            for h in range(24)]
        campaign["report_summary"] = {
            "opens": len(opens), "unique_opens": len(openers), "open_rate": report["opens"]["open_rate"],
            "clicks": len(clicks), "subscriber_clicks": len(clickers), "click_rate": report["clicks"]["click_rate"],
            "ecommerce": {"total_orders": 0, "total_spent": 0, "total_revenue": 0},
        }

    def _group_stats(self, emails: list[dict], campaign_id: str) -> dict:
        """An A/B split group's figures (the API's ab_split.a / .b): its last_open is "" while nobody opened."""
        unsubscribed = {u["email_id"] for u in self.data["unsubscribes"][campaign_id]}
        opens = [a["timestamp"] for e in emails for a in e["activity"] if a["action"] == "open"]
        return {"bounces": sum(1 for e in emails for a in e["activity"] if a["action"] == "bounce"),
                "abuse_reports": 0, "unsubs": sum(1 for e in emails if e["email_id"] in unsubscribed),
                "recipient_clicks": sum(1 for e in emails if any(a["action"] == "click" for a in e["activity"])),
                "forwards": 0, "forwards_opens": 0, "opens": len(opens), "last_open": max(opens, default=""),
                "unique_opens": sum(1 for e in emails if any(a["action"] == "open" for a in e["activity"]))}

    def _timewarp(self, emails: list[dict]) -> list[dict]:
        """A timewarp campaign's figures per time zone of its recipients: last_open / last_click "" where none."""
        members = {m["id"]: m for ms in self.data["members"].values() for m in ms}
        zones: dict[int, list[dict]] = {}
        for entry in emails:
            zones.setdefault(members[entry["email_id"]]["location"]["gmtoff"], []).append(entry)
        groups = []
        for offset in sorted(zones):
            activity = [a for e in zones[offset] for a in e["activity"]]
            opens = [a["timestamp"] for a in activity if a["action"] == "open"]
            clicks = [a["timestamp"] for a in activity if a["action"] == "click"]
            groups.append({"gmt_offset": offset, "opens": len(opens), "last_open": max(opens, default=""),
                           "unique_opens": sum(1 for e in zones[offset] if any(a["action"] == "open" for a in e["activity"])),
                           "clicks": len(clicks), "last_click": max(clicks, default=""),
                           "unique_clicks": sum(1 for e in zones[offset] if any(a["action"] == "click" for a in e["activity"])),
                           "bounces": sum(1 for a in activity if a["action"] == "bounce")})
        return groups

    def _generate_automations(self) -> None:
        rng = self.rng
        lists = [l for l in self.data["lists"] if self.data["members"][l["id"]]]
        for a_index, status in enumerate(["sending", "sending", "paused", "save", "sending"]):
            lst = lists[a_index % len(lists)]
            created = BOUNDARY if a_index == 1 else self._time_between(
                datetime(2022, 6, 1, tzinfo=timezone.utc), self.now - timedelta(days=10))
            started = "" if status == "save" else iso(datetime.fromisoformat(created) + timedelta(hours=2))
            self.data["automations"].append({
                "id": self.ids.hex(10),
                "create_time": created,
                "start_time": started,
                "status": status,
                "emails_sent": 0 if status == "save" else rng.randrange(10, 5000),
                "recipients": {"list_id": lst["id"], "list_is_active": True, "list_name": lst["name"],
                               "segment_opts": {"saved_segment_id": 0, "match": "any", "conditions": []},
                               "store_id": ""},
                "settings": {"title": ["Welcome série", "Birthday 🎂", "Win-back", "Draft flow", "Abandoned cart"][a_index],
                             "from_name": "Sandbox", "reply_to": "news@example.com", "use_conversation": False,
                             "to_name": "", "authenticate": True, "auto_footer": False, "inline_css": False},
                "tracking": {"opens": True, "html_clicks": True, "text_clicks": False, "goal_tracking": False,
                             "ecomm360": False, "google_analytics": "", "clicktale": "",
                             "salesforce": {"campaign": False, "notes": False}, "capsule": {"notes": False}},
                "trigger_settings": {"workflow_type": ["welcomeSeries", "dateAdded", "recurringMonthly",
                                                       "api", "abandonedCart"][a_index],
                                     "workflow_title": "Custom", "runtime": {"days": ["monday", "friday"],
                                                                             "hours": {"type": "send_asap"}},
                                     "workflow_emails_count": rng.randrange(1, 5)},
                "report_summary": {"opens": rng.randrange(0, 900), "unique_opens": rng.randrange(0, 400),
                                   "open_rate": round(rng.random(), 4), "clicks": rng.randrange(0, 90),
                                   "subscriber_clicks": rng.randrange(0, 40), "click_rate": round(rng.random() / 4, 4)},
            })
        self.data["automations"].sort(key=lambda a: a["create_time"])

    # ---- mutation
    def archive_members(self, list_id: str, member_ids: set[str]) -> None:
        """Archives these members now, as a user would in the app (they leave the list's default listing)."""
        self.version += 1
        members = self.data["members"][list_id]
        for position, member in enumerate(members):
            if member["id"] in member_ids:  # a new copy: responses in flight keep the old object
                members[position] = {**member, "status": "archived", "last_changed": iso(self.now)}

    def mutate(self) -> dict[str, set]:
        rng = self.rng
        previous = self.now
        self.now = previous + timedelta(days=1)
        self.version += 1
        now = iso(self.now)
        changes: dict[str, set] = {k: set() for k in ("members", "segments", "segment_members", "tags", "campaigns",
                                                       "reports", "email_activity", "unsubscribes", "lists",
                                                       "automations")}
        before_segment = {(sid, m["id"]) for sid, members in self.data["segment_members"].items() for m in members}
        # The newest cursor value of each collection before today: a sync run then read up to it, and the changes
        # below that land in that same second come after that read (see _change_in_the_same_second).
        newest_member = {lst["id"]: max((m["last_changed"] for m in self.data["members"][lst["id"]]
                                         if m["status"] != "archived"), default="") for lst in self.data["lists"]}
        newest_segment = {lst["id"]: max((s["updated_at"] for s in self.data["segments"][lst["id"]]), default="")
                          for lst in self.data["lists"]}
        n_change = max(3, round(40 * self.scale))
        changed_members: dict[str, list[dict]] = {}
        for lst in self.data["lists"]:
            list_id = lst["id"]
            members = self.data["members"][list_id]
            if not members:
                continue
            static_segments = [s for s in self.data["segments"][list_id] if s["type"] == "static"]
            # a new tag, given to some of the members changed today
            new_tag = self._new_segment(list_id, f"Tag vom {now[:10]}", "static", iso(previous))
            new_tag["created_at"] = new_tag["updated_at"] = now
            self.data["segments"][list_id].append(new_tag)
            changes["segments"].add((list_id, new_tag["id"]))
            changes["tags"].add((list_id, new_tag["id"]))
            saved = [s for s in self.data["segments"][list_id] if s["type"] == "saved"]
            if saved:
                saved[0]["updated_at"] = now
                saved[0]["name"] = saved[0]["name"].rstrip(" ✓") + " ✓"
                changes["segments"].add((list_id, saved[0]["id"]))
            # changed members: new copies replace the old objects (responses in flight keep the old ones)
            picks = rng.sample(range(len(members)), min(n_change, len(members)))
            changed = []
            for position, pick in enumerate(picks):
                member = copy.deepcopy(members[pick])
                if position % 4 == 0 and member["status"] == "subscribed":
                    member["status"] = "unsubscribed"
                    member["unsubscribe_reason"] = "No longer interested"
                elif position % 4 == 1:
                    member["merge_fields"]["LNAME"] = member["merge_fields"].get("LNAME", "") + " (geändert)"
                    member["full_name"] = f"{member['merge_fields']['FNAME']} {member['merge_fields']['LNAME']}".strip()
                elif position % 4 == 2:
                    member["status"] = "archived" if member["status"] != "archived" else "subscribed"
                    if member["status"] == "subscribed":
                        member.pop("unsubscribe_reason", None)
                else:
                    member["tags"] = member["tags"] + [{"id": new_tag["id"], "name": new_tag["name"]}]
                    member["tags_count"] = len(member["tags"])
                member["last_changed"] = now
                members[pick] = member
                changed.append(member)
                changes["members"].add((list_id, member["id"]))
            # new members
            interest_ids = [i["id"] for c in self.data["interest_categories"][list_id]
                            for i in self.data["interests"][c["id"]]]
            for _ in range(max(2, round(30 * self.scale))):
                member = self._new_member(lst, "subscribed", previous, self.now, interest_ids, static_segments)
                member["timestamp_opt"] = member["last_changed"] = now
                if rng.random() < 0.5:
                    member["tags"] = [{"id": new_tag["id"], "name": new_tag["name"]}]
                    member["tags_count"] = 1
                members.append(member)
                changed.append(member)
                changes["members"].add((list_id, member["id"]))
            changed.extend(self._change_in_the_same_second(list_id, newest_member[list_id], newest_segment[list_id],
                                                           {m["id"] for m in changed}, changes))
            changed_members[list_id] = changed
            self._refresh_segments(list_id)
        after_segment = {(sid, m["id"]) for sid, members in self.data["segment_members"].items() for m in members}
        changed_ids = {(mid) for _, mid in changes["members"]}
        changes["segment_members"] = (after_segment - before_segment) | {
            pair for pair in after_segment if pair[1] in changed_ids}
        # email activity on some sent campaigns, and unsubscribes of today's unsubscribers
        sent = [c for c in self.data["campaigns"] if c["status"] == "sent" and c["tracking"]["opens"]]
        for campaign in sent[:1] + sent[-2:]:  # late opens of an old campaign, and of recent ones
            emails = self.data["email_activity"][campaign["id"]]
            for entry in emails[: max(2, len(emails) // 10)]:
                for item in self._add_activity(entry, previous + timedelta(seconds=1), self.now, 2):
                    changes["email_activity"].add((campaign["id"], entry["email_id"], item["action"],
                                                   item["timestamp"]))
            changes["reports"].add(campaign["id"])
        for campaign in reversed(sent):
            list_id = campaign["recipients"]["list_id"]
            recipients = {e["email_id"] for e in self.data["email_activity"][campaign["id"]]}
            quitters = [m for m in changed_members.get(list_id, []) if m["status"] == "unsubscribed"
                        and m["id"] in recipients
                        and m["id"] not in {u["email_id"] for u in self.data["unsubscribes"][campaign["id"]]}]
            if quitters:
                for member in quitters:
                    self.data["unsubscribes"][campaign["id"]].append(self._unsubscribe(campaign, member, now))
                    changes["unsubscribes"].add((campaign["id"], member["id"]))
                changes["reports"].add(campaign["id"])
                break
        self._late_and_same_second_activity(sent, changes)
        self._created_in_the_same_second(changes)
        # a new campaign, sent today, with its first activity
        lst = next(l for l in self.data["lists"] if self.data["members"][l["id"]])
        created = iso(previous + timedelta(hours=1))
        campaign = self._add_campaign(lst, "sent", created, max(4, round(20 * self.scale)),
                                      activity_until=self.now, send_time=iso(previous + timedelta(hours=2)))
        for entry in self.data["email_activity"][campaign["id"]]:
            for item in entry["activity"]:
                changes["email_activity"].add((campaign["id"], entry["email_id"], item["action"], item["timestamp"]))
        for u in self.data["unsubscribes"][campaign["id"]]:
            changes["unsubscribes"].add((campaign["id"], u["email_id"]))
        changes["campaigns"].add(campaign["id"])
        changes["reports"].add(campaign["id"])
        for campaign_id in changes["reports"]:
            self._refresh_summary(next(c for c in self.data["campaigns"] if c["id"] == campaign_id))
        for lst in self.data["lists"]:
            before = copy.deepcopy(lst["stats"])
            self._refresh_list(lst)
            if lst["stats"] != before:
                changes["lists"].add(lst["id"])
        self.data["account"]["total_subscribers"] = sum(l["stats"]["member_count"] for l in self.data["lists"])
        self._refresh_list_history()
        return changes

    # The real API's edges that a day of changes meets (mutate()): since_* filters are exclusive, so a change in the
    # same second as the newest one a sync read is left out by `since_<cursor>=<that second>`; email activity becomes
    # visible minutes after it happens (up to 226 s measured), so a sync can read a campaign before an earlier event
    # shows; and a bounce moves no time of the report (only `bounces.*` counts), unlike opens and clicks.
    def _change_in_the_same_second(self, list_id: str, newest_member: str, newest_segment: str,
                                   changed_today: set[str], changes: dict[str, set]) -> list[dict]:
        """A member (re-subscribed, or renamed) and a saved segment changed in the second of the newest change
        before today."""
        members = self.data["members"][list_id]
        changed = []
        for position, member in enumerate(members):
            if (member["status"] in ("subscribed", "unsubscribed") and member["id"] not in changed_today
                    and member["last_changed"] < newest_member):
                member = copy.deepcopy(member)
                if member["status"] == "unsubscribed":
                    member["status"] = "subscribed"
                    member.pop("unsubscribe_reason", None)
                else:
                    member["merge_fields"]["FNAME"] = member["merge_fields"].get("FNAME", "") + " (neu)"
                member["last_changed"] = newest_member
                members[position] = member
                changes["members"].add((list_id, member["id"]))
                changed.append(member)
                break
        for segment in self.data["segments"][list_id]:
            if segment["type"] == "saved" and (list_id, segment["id"]) not in changes["segments"] and newest_segment:
                segment["updated_at"] = newest_segment
                segment["name"] = segment["name"].rstrip(" *") + " *"
                changes["segments"].add((list_id, segment["id"]))
                break
        return changed

    def _late_and_same_second_activity(self, sent: list[dict], changes: dict[str, set]) -> None:
        """On two campaigns without other activity today: a click in the second of the newest activity and an open
        100 s before it that became visible only now; a hard bounce 4 s after the newest activity."""
        quiet = [c for c in sent[1:-2] if c["id"] not in changes["reports"]]
        for campaign, items in zip(quiet[:2], (("click", "late open"), ("bounce",))):
            emails = self.data["email_activity"][campaign["id"]]
            newest = max((a["timestamp"] for e in emails for a in e["activity"]), default="")
            if not newest:
                continue
            newest_dt = datetime.fromisoformat(newest)
            for entry, kind in zip([e for e in emails if not e["activity"]] + emails, items):
                if kind == "click":
                    item = {"action": "click", "timestamp": newest, "url": "https://example.com/", "ip": self._ip()}
                elif kind == "late open":
                    item = {"action": "open", "timestamp": iso(newest_dt - timedelta(seconds=100)), "ip": self._ip()}
                else:
                    item = {"action": "bounce", "type": "hard", "timestamp": iso(newest_dt + timedelta(seconds=4))}
                if any((a["action"], a["timestamp"]) == (item["action"], item["timestamp"]) for a in entry["activity"]):
                    continue
                entry["activity"].append(item)
                entry["activity"].sort(key=lambda a: a["timestamp"])
                changes["email_activity"].add((campaign["id"], entry["email_id"], item["action"], item["timestamp"]))
            changes["reports"].add(campaign["id"])

    def _created_in_the_same_second(self, changes: dict[str, set]) -> None:
        """A draft campaign and a draft automation created in the second of the newest one."""
        newest = max(self.data["campaigns"], key=lambda c: c["create_time"])
        lst = next(l for l in self.data["lists"] if l["id"] == newest["recipients"]["list_id"])
        draft = self._add_campaign(lst, "save", newest["create_time"], 0)
        changes["campaigns"].add(draft["id"])
        newest_flow = max(self.data["automations"], key=lambda a: a["create_time"])
        flow = copy.deepcopy(newest_flow)
        flow.update(id=self.ids.hex(10), status="save", start_time="", emails_sent=0)
        flow["settings"]["title"] = "Draft flow (copy)"
        self.data["automations"].append(flow)
        self.data["automations"].sort(key=lambda a: a["create_time"])
        changes["automations"].add(flow["id"])


# --- the HTTP API ----------------------------------------------------------------------------------------------


class MailchimpApp(SandboxApp):
    """Routes of the Marketing API 3.0 and of login.mailchimp.com's OAuth endpoints."""

    def __init__(self, store: MailchimpData, api_key: str, oauth: dict, disabled_api_key: str,
                 burst_html_403: bool = False, forbidden_ecommerce: bool = False) -> None:
        super().__init__()
        self.forbidden_ecommerce = forbidden_ecommerce
        self.store = store
        self.api_key = api_key
        self.disabled_api_key = disabled_api_key
        self.oauth = oauth
        self.access_tokens = {oauth["access_token"]}
        self.codes = {oauth["authorization_code"]}
        self.burst_html_403 = burst_html_403
        self.lock = threading.RLock()
        self.batches: dict[str, dict] = {}
        self._results: OrderedDict = OrderedDict()
        api = [
            ("/3.0/", self.root), ("/3.0", self.root), ("/3.0/ping", self.ping),
            ("/3.0/lists", self.lists), ("/3.0/lists/{list_id}", self.one_list),
            ("/3.0/lists/{list_id}/members", self.members),
            ("/3.0/lists/{list_id}/segments", self.segments),
            ("/3.0/lists/{list_id}/segments/{segment_id}", self.one_segment),
            ("/3.0/lists/{list_id}/segments/{segment_id}/members", self.segment_members),
            ("/3.0/lists/{list_id}/tag-search", self.tag_search),
            ("/3.0/lists/{list_id}/merge-fields", self.merge_fields),
            ("/3.0/lists/{list_id}/growth-history", self.growth_history),
            ("/3.0/lists/{list_id}/activity", self.list_activity),
            ("/3.0/lists/{list_id}/interest-categories", self.interest_categories),
            ("/3.0/lists/{list_id}/interest-categories/{category_id}/interests", self.interests),
            ("/3.0/campaigns", self.campaigns), ("/3.0/campaigns/{campaign_id}", self.one_campaign),
            ("/3.0/templates", self.templates), ("/3.0/landing-pages", self.landing_pages),
            ("/3.0/ecommerce/stores", self.ecommerce_stores),
            ("/3.0/ecommerce/stores/{store_id}/customers", self.ecommerce_customers),
            ("/3.0/ecommerce/stores/{store_id}/orders", self.ecommerce_orders),
            ("/3.0/ecommerce/stores/{store_id}/products", self.ecommerce_products),
            ("/3.0/ecommerce/stores/{store_id}/carts", self.ecommerce_carts),
            ("/3.0/ecommerce/stores/{store_id}/promo-rules", self.ecommerce_promo_rules),
            ("/3.0/ecommerce/stores/{store_id}/promo-rules/{promo_rule_id}/promo-codes", self.ecommerce_promo_codes),
            ("/3.0/automations", self.automations),
            ("/3.0/automations/{workflow_id}/emails", self.automation_emails),
            ("/3.0/automations/{workflow_id}/emails/{workflow_email_id}/queue", self.automation_email_queue),
            ("/3.0/reports", self.reports), ("/3.0/reports/{campaign_id}", self.one_report),
            ("/3.0/reports/{campaign_id}/email-activity", self.email_activity),
            ("/3.0/reports/{campaign_id}/unsubscribed", self.unsubscribed),
            ("/3.0/reports/{campaign_id}/sent-to", self.sent_to),
            ("/3.0/reports/{campaign_id}/click-details", self.click_details),
            ("/3.0/reports/{campaign_id}/domain-performance", self.domain_performance),
            ("/3.0/batches/{batch_id}", self.get_batch),
        ]
        for pattern, handler in api:
            self.route("GET", pattern, self._api(handler))
        self.route("POST", "/3.0/batches", self._api(self.create_batch))
        self.route("GET", "/oauth2/metadata", self.oauth_metadata)
        self.route("POST", "/oauth2/token", self.oauth_token)
        self.route("GET", "/{archive}", self.batch_archive)

    # ---- plumbing
    def credential(self, request: Request) -> str:
        """Who the connection limit counts: the account's user, whether it calls with the API key or an OAuth token
        (and whatever user name goes with the key in basic auth)."""
        secret = self._secret(request)
        if secret == self.api_key or secret in self.access_tokens:
            return "account-user"
        return secret or request.headers.get("authorization", "")

    @staticmethod
    def _secret(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                return base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                return None
        if scheme in ("bearer", "oauth", "apikey"):  # tap-mailchimp sends "OAuth <token>" to the API too
            return value.strip()
        return None

    def overloaded(self, request: Request) -> Response:
        if self.burst_html_403:
            return Response(403, b"<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>"
                                 b"<p>Request blocked.</p></body></html>", content_type="text/html")
        return problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous connections.")

    def server_error(self, request: Request, status: int) -> Response:
        if status == 503:
            return problem(503, "Service Unavailable",
                           "This service is temporarily unavailable. Please try again later.")
        return problem(status, "Internal Server Error",
                       "An unexpected internal error has occurred. Please contact Support for more information.")

    def not_found(self, request: Request) -> Response:
        if request.path.startswith("/3.0") and any(r[1].match(request.path) for r in self.routes):
            return problem(405, "Method Not Allowed", "The requested method and resource are not compatible. "
                                                      "See the Allow header for this resource's available methods.")
        if request.path.startswith("/3.0"):
            auth = self.authenticate(request)
            if auth:
                return auth
        return problem(404, "Resource Not Found", "The requested resource could not be found.")

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme = header.strip().partition(" ")[0].lower()
        secret = self._secret(request)
        if not header:
            return problem(401, "API Key Missing", "Your request did not include an API key.")
        if secret == self.disabled_api_key:
            return problem(403, "User Disabled", "This account has been disabled.")
        if secret == self.api_key or (scheme in ("bearer", "oauth") and secret in self.access_tokens):
            return None
        return problem(401, "API Key Invalid",
                       "Your API key may be invalid, or you've attempted to access the wrong datacenter.")

    def _api(self, handler: Callable[[Request], tuple[dict, int]]) -> Callable[[Request], Response]:
        def serve(request: Request) -> Response:
            denied = self.authenticate(request)
            if denied:
                return denied
            try:
                with self.lock:
                    body, items = handler(request)
                    body = self._project(body, request)
            except ApiError as error:
                return problem(error.status, error.title, error.detail)
            except Exception:  # a sandbox bug: answer as the API answers its own, and say where on stderr
                traceback.print_exc()
                return self.server_error(request, 500)
            return Response(200, body, items=items)

        return serve

    @staticmethod
    def _project(body: dict, request: Request) -> dict:
        fields = path_tree(request.query.get("fields"))
        exclude = path_tree(request.query.get("exclude_fields"))
        if fields:
            body = keep_fields(body, fields)
        if exclude:
            body = drop_fields(body, exclude)
        return body

    @staticmethod
    def _page(request: Request, items: list) -> tuple[list, int]:
        def number(name: str, default: int) -> int:
            raw = request.query.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                raise bad_request(f"The value for '{name}' must be an integer, '{raw}' given.") from None
            if value < 0:
                raise bad_request(f"The value for '{name}' must be zero or more.")
            return value

        if BATCH_OPERATION in request.headers and not request.query.get("count"):
            return items, len(items)  # a GET operation of a batch without count returns the whole collection
        count = number("count", 10)
        if count > MAX_COUNT:
            raise bad_request(f"The value for 'count' must be no more than {MAX_COUNT}; {count} given.")
        offset = number("offset", 0)
        return items[offset: offset + count], len(items)

    @staticmethod
    def _links_wanted(request: Request, collection: str) -> bool:
        fields = path_tree(request.query.get("fields"))
        exclude = path_tree(request.query.get("exclude_fields"))
        if fields is not None:
            sub = fields.get(collection)
            if sub is None or (sub and "_links" not in sub):
                return False
        if exclude is not None and exclude.get(collection, {}).get("_links") == {}:
            return False
        return True

    @staticmethod
    def _time_filter(request: Request, items: list[dict], field: str, since: str, before: str,
                     getter: Callable[[dict], str] | None = None) -> list[dict]:
        get = getter or (lambda item: item.get(field))
        for name, keep in ((since, lambda value, bound: value > bound), (before, lambda value, bound: value <= bound)):
            raw = request.query.get(name) if name else None
            if not raw:
                continue
            try:
                bound = parse_time(raw)
            except ValueError:
                raise bad_request(f"The value for '{name}' is not a valid date-time: '{raw}'.") from None
            items = [item for item in items if get(item) and keep(get(item), bound)]
        return items

    @staticmethod
    def _enum(request: Request, name: str, allowed: Iterable[str]) -> str | None:
        value = request.query.get(name)
        if value in (None, ""):
            return None
        allowed = list(allowed)
        if value not in allowed:
            raise bad_request(f"The value for '{name}' must be one of: {', '.join(allowed)}; '{value}' given.")
        return value

    def _sort(self, request: Request, items: list[dict], fields: Iterable[str]) -> list[dict]:
        field = self._enum(request, "sort_field", fields)
        direction = self._enum(request, "sort_dir", ("ASC", "DESC"))
        if field:  # stable: records with equal values keep their order, so offset paging has no gaps or repeats
            items = sorted(items, key=lambda item: item.get(field) or "", reverse=direction == "DESC")
        return items

    def _cached(self, request: Request, compute: Callable[[], list]) -> list:
        """The filtered, sorted items of a collection request, computed once per data version and set of filter
        parameters, so that reading a large collection page by page does not filter and sort it again per page."""
        key = (request.path, tuple(sorted((k, v) for k, v in request.query.items() if k not in PAGE_PARAMS)),
               self.store.version)
        items = self._results.get(key)
        if items is None:
            items = compute()
            self._results[key] = items
            while len(self._results) > 256:
                self._results.popitem(last=False)
        return items

    def _includes(self, request: Request) -> list[str]:
        return [status for flag, status in (("include_cleaned", "cleaned"),
                                            ("include_transactional", "transactional"),
                                            ("include_unsubscribed", "unsubscribed"))
                if self._bool(request, flag)]

    def _bool(self, request: Request, name: str) -> bool:
        return str(request.query.get(name, "")).lower() == "true"

    def _collection(self, request: Request, key: str, items: list[dict], links: Callable[[dict], list],
                    envelope_links: list, extra: dict | None = None) -> tuple[dict, int]:
        page, total = self._page(request, items)
        if self._links_wanted(request, key):
            page = [{**item, "_links": links(item)} for item in page]
        body = {key: page}
        body.update(extra or {})
        body["total_items"] = total
        body["_links"] = envelope_links
        return body, len(page)

    def _list(self, list_id: str) -> dict:
        for lst in self.store.data["lists"]:
            if lst["id"] == list_id:
                return lst
        raise not_found()

    def _automation(self, workflow_id: str) -> dict:
        for automation in self.store.data["automations"]:
            if automation["id"] == workflow_id:
                return automation
        raise not_found()

    def _campaign_or_automation_email(self, campaign_id: str) -> dict:
        """An automation email's id is a campaign id to the reports endpoints."""
        for emails in self.store.data["automation_emails"].values():
            for email in emails:
                if email["id"] == campaign_id:
                    return email
        return self._campaign(campaign_id)

    def _campaign(self, campaign_id: str) -> dict:
        for campaign in self.store.data["campaigns"]:
            if campaign["id"] == campaign_id:
                return campaign
        raise not_found()

    # ---- API root
    def root(self, request: Request) -> tuple[dict, int]:
        body = dict(self.store.data["account"])
        body["_links"] = [link("self", f"{ROOT}/", target="Definitions/APIRoot/Response.json")]
        return body, 1

    def ping(self, request: Request) -> tuple[dict, int]:
        return {"health_status": "Everything's Chimpy!"}, 1

    # ---- lists
    @staticmethod
    def _list_links(lst: dict) -> list:
        base = f"{ROOT}/lists/{lst['id']}"
        return [link("self", base, target="Lists/Response.json"),
                link("parent", f"{ROOT}/lists", target="Lists/CollectionResponse.json"),
                link("update", base, "PATCH", "Lists/Response.json", "Lists/PATCH.json"),
                link("batch-sub-unsub-members", base, "POST", "Lists/BatchPOST-Response.json", "Lists/BatchPOST.json"),
                link("delete", base, "DELETE"),
                link("abuse-reports", f"{base}/abuse-reports", target="Lists/Abuse/CollectionResponse.json"),
                link("activity", f"{base}/activity", target="Lists/Activity/Response.json"),
                link("members", f"{base}/members", target="Lists/Members/CollectionResponse.json"),
                link("segments", f"{base}/segments", target="Lists/Segments/CollectionResponse.json"),
                link("interest-categories", f"{base}/interest-categories",
                     target="Lists/InterestCategories/CollectionResponse.json")]

    def lists(self, request: Request) -> tuple[dict, int]:
        items = self.store.data["lists"]
        items = self._time_filter(request, items, "date_created", "since_date_created", "before_date_created")
        items = self._time_filter(request, items, "campaign_last_sent", "since_campaign_last_sent",
                                  "before_campaign_last_sent", getter=lambda l: l["stats"].get("campaign_last_sent"))
        email = request.query.get("email")
        if email:
            items = [l for l in items if any(m["email_address"].lower() == email.lower()
                                             for m in self.store.data["members"][l["id"]])]
        items = self._sort(request, items, ("date_created",))
        if self._bool(request, "include_total_contacts"):  # stats.total_contacts only when asked for
            items = [{**l, "stats": {**l["stats"], "total_contacts": len(self.store.data["members"][l["id"]])}}
                     for l in items]
        constraints = {"may_create": True, "max_instances": 5,
                       "current_total_instances": len(self.store.data["lists"])}
        return self._collection(request, "lists", items, self._list_links,
                                [link("self", f"{ROOT}/lists", target="Lists/CollectionResponse.json"),
                                 link("create", f"{ROOT}/lists", "POST", "Lists/Response.json", "Lists/POST.json")],
                                {"constraints": constraints})

    def one_list(self, request: Request) -> tuple[dict, int]:
        lst = self._list(request.params["list_id"])
        return {**lst, "_links": self._list_links(lst)}, 1

    # ---- members
    @staticmethod
    def _member_links(member: dict) -> list:
        parent = f"{ROOT}/lists/{member['list_id']}/members"
        base = f"{parent}/{member['id']}"
        return [link("self", base, target="Lists/Members/Response.json"),
                link("parent", parent, target="Lists/Members/CollectionResponse.json"),
                link("update", base, "PATCH", "Lists/Members/Response.json", "Lists/Members/PATCH.json"),
                link("upsert", base, "PUT", "Lists/Members/Response.json", "Lists/Members/PUT.json"),
                link("delete", base, "DELETE"),
                link("activity", f"{base}/activity", target="Lists/Members/Activity/Response.json"),
                link("goals", f"{base}/goals", target="Lists/Members/Goals/Response.json"),
                link("notes", f"{base}/notes", target="Lists/Members/Notes/CollectionResponse.json"),
                link("events", f"{base}/events", "POST", schema="Lists/Members/Events/POST.json"),
                link("delete_permanent", f"{base}/actions/delete-permanent", "POST")]

    def members(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self._cached(request, lambda: self._filtered_members(request, list_id))
        return self._collection(request, "members", items, self._member_links,
                                [link("self", f"{ROOT}/lists/{list_id}/members",
                                      target="Lists/Members/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json"),
                                 link("create", f"{ROOT}/lists/{list_id}/members", "POST",
                                      "Lists/Members/Response.json", "Lists/Members/POST.json")],
                                {"list_id": list_id})

    def _filtered_members(self, request: Request, list_id: str) -> list[dict]:
        items = self.store.data["members"][list_id]
        status = self._enum(request, "status", MEMBER_STATUSES)
        items = [m for m in items if m["status"] == status] if status else [
            m for m in items if m["status"] != "archived"]
        self._enum(request, "email_type", ("html", "text"))
        if request.query.get("email_type"):
            items = [m for m in items if m["email_type"] == request.query["email_type"]]
        if request.query.get("unique_email_id"):
            items = [m for m in items if m["unique_email_id"] == request.query["unique_email_id"]]
        if self._bool(request, "vip_only"):
            items = [m for m in items if m["vip"]]
        items = self._time_filter(request, items, "timestamp_opt", "since_timestamp_opt", "before_timestamp_opt")
        items = self._time_filter(request, items, "last_changed", "since_last_changed", "before_last_changed")
        if request.query.get("unsubscribed_since"):
            if status != "unsubscribed":
                raise bad_request("unsubscribed_since can only be used with status=unsubscribed.")
            items = self._time_filter(request, items, "last_changed", "unsubscribed_since", "")
        return self._sort(request, items, ("timestamp_opt", "timestamp_signup", "last_changed"))

    # ---- segments and tags
    @staticmethod
    def _segment_links(segment: dict) -> list:
        parent = f"{ROOT}/lists/{segment['list_id']}/segments"
        base = f"{parent}/{segment['id']}"
        return [link("self", base, target="Lists/Segments/Response.json"),
                link("parent", parent, target="Lists/Segments/CollectionResponse.json"),
                link("delete", base, "DELETE"),
                link("update", base, "PATCH", "Lists/Segments/Response.json", "Lists/Segments/PATCH.json"),
                link("segment-members", f"{base}/members", target="Lists/Segments/Members/CollectionResponse.json"),
                link("members", f"{base}/members", target="Lists/Segments/Members/CollectionResponse.json")]

    def _segment(self, list_id: str, segment_id: str) -> dict:
        self._list(list_id)
        for segment in self.store.data["segments"][list_id]:
            if str(segment["id"]) == segment_id:
                return segment
        raise not_found()

    def segments(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self.store.data["segments"][list_id]
        seg_type = self._enum(request, "type", ("saved", "static", "fuzzy"))
        if seg_type:
            items = [s for s in items if s["type"] == seg_type]
        items = self._time_filter(request, items, "created_at", "since_created_at", "before_created_at")
        items = self._time_filter(request, items, "updated_at", "since_updated_at", "before_updated_at")
        include = self._includes(request)
        if include:  # member_count then also counts the statuses asked for
            items = self._cached(request, lambda: [
                {**s, "member_count": sum(1 for m in self.store.segment_members_of(s, include)
                                          if m["status"] != "pending")} for s in items])
        return self._collection(request, "segments", items, self._segment_links,
                                [link("self", f"{ROOT}/lists/{list_id}/segments",
                                      target="Lists/Segments/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json"),
                                 link("create", f"{ROOT}/lists/{list_id}/segments", "POST",
                                      "Lists/Segments/Response.json", "Lists/Segments/POST.json")],
                                {"list_id": list_id})

    def one_segment(self, request: Request) -> tuple[dict, int]:
        segment = self._segment(request.params["list_id"], request.params["segment_id"])
        return {**segment, "_links": self._segment_links(segment)}, 1

    def segment_members(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        segment = self._segment(list_id, request.params["segment_id"])
        include = self._includes(request)
        items = (self.store.data["segment_members"][segment["id"]] if not include
                 else self._cached(request, lambda: self.store.segment_members_of(segment, include)))
        return self._collection(request, "members", items, self._member_links,
                                [link("self", f"{ROOT}/lists/{list_id}/segments/{segment['id']}/members",
                                      target="Lists/Segments/Members/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}/segments/{segment['id']}",
                                      target="Lists/Segments/Response.json")])

    def tag_search(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self.store.data["tags"][list_id]
        name = request.query.get("name")
        if name:
            items = [t for t in items if t["name"].lower().startswith(name.lower())]
        page, total = self._page(request, items)
        return {"tags": page, "total_items": total}, len(page)

    # ---- merge fields, growth history, daily activity
    def merge_fields(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self.store.data["merge_fields"][list_id]
        ftype = self._enum(request, "type", ("text", "number", "address", "phone", "date", "url", "imageurl",
                                              "radio", "dropdown", "birthday", "zip"))
        if ftype:
            items = [f for f in items if f["type"] == ftype]
        if request.query.get("required") not in (None, ""):
            items = [f for f in items if f["required"] == self._bool(request, "required")]
        base = f"{ROOT}/lists/{list_id}/merge-fields"

        def links(field: dict) -> list:
            own = f"{base}/{field['merge_id']}"
            return [link("self", own, target="Lists/MergeFields/Response.json"),
                    link("parent", base, target="Lists/MergeFields/CollectionResponse.json"),
                    link("update", own, "PATCH", "Lists/MergeFields/Response.json", "Lists/MergeFields/PATCH.json"),
                    link("delete", own, "DELETE")]

        return self._collection(request, "merge_fields", items, links,
                                [link("self", base, target="Lists/MergeFields/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json"),
                                 link("create", base, "POST", "Lists/MergeFields/Response.json",
                                      "Lists/MergeFields/POST.json")],
                                {"list_id": list_id})

    def growth_history(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self.store.data["growth_history"][list_id]  # newest month first
        if self._enum(request, "sort_field", ("month",)):
            items = sorted(items, key=lambda h: h["month"], reverse=self._enum(request, "sort_dir", ("ASC", "DESC")) != "ASC")
        base = f"{ROOT}/lists/{list_id}/growth-history"

        def links(entry: dict) -> list:
            return [link("self", f"{base}/{entry['month']}", target="Lists/Growth/Response.json"),
                    link("parent", base, target="Lists/Growth/CollectionResponse.json")]

        return self._collection(request, "history", items, links,
                                [link("self", base, target="Lists/Growth/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json")],
                                {"list_id": list_id})

    def list_activity(self, request: Request) -> tuple[dict, int]:
        """Up to the 180 days before today, newest first (the API keeps no older daily activity)."""
        list_id = request.params["list_id"]
        self._list(list_id)
        base = f"{ROOT}/lists/{list_id}/activity"
        return self._collection(request, "activity", self.store.data["list_activity"][list_id], lambda entry: [],
                                [link("self", base, target="Lists/Activity/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json")],
                                {"list_id": list_id})

    # ---- interests
    def interest_categories(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        self._list(list_id)
        items = self.store.data["interest_categories"][list_id]
        ctype = self._enum(request, "type", ("checkboxes", "dropdown", "radio", "hidden"))
        if ctype:
            items = [c for c in items if c["type"] == ctype]
        base = f"{ROOT}/lists/{list_id}/interest-categories"

        def links(category: dict) -> list:
            own = f"{base}/{category['id']}"
            return [link("self", own, target="Lists/InterestCategories/Response.json"),
                    link("parent", base, target="Lists/InterestCategories/CollectionResponse.json"),
                    link("delete", own, "DELETE"),
                    link("update", own, "PATCH", "Lists/InterestCategories/Response.json",
                         "Lists/InterestCategories/PATCH.json"),
                    link("interests", f"{own}/interests",
                         target="Lists/InterestCategories/Interests/CollectionResponse.json")]

        return self._collection(request, "categories", items, links,
                                [link("self", base, target="Lists/InterestCategories/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/lists/{list_id}", target="Lists/Response.json"),
                                 link("create", base, "POST", "Lists/InterestCategories/Response.json",
                                      "Lists/InterestCategories/POST.json")],
                                {"list_id": list_id})

    def interests(self, request: Request) -> tuple[dict, int]:
        list_id = request.params["list_id"]
        category_id = request.params["category_id"]
        self._list(list_id)
        if not any(c["id"] == category_id for c in self.store.data["interest_categories"][list_id]):
            raise not_found()
        base = f"{ROOT}/lists/{list_id}/interest-categories/{category_id}/interests"

        def links(interest: dict) -> list:
            own = f"{base}/{interest['id']}"
            return [link("self", own, target="Lists/InterestCategories/Interests/Response.json"),
                    link("parent", base, target="Lists/InterestCategories/Interests/CollectionResponse.json"),
                    link("delete", own, "DELETE"),
                    link("update", own, "PATCH", "Lists/InterestCategories/Interests/Response.json",
                         "Lists/InterestCategories/Interests/PATCH.json")]

        return self._collection(request, "interests", self.store.data["interests"][category_id], links,
                                [link("self", base, target="Lists/InterestCategories/Interests/CollectionResponse.json"),
                                 link("parent", base.rsplit("/", 1)[0],
                                      target="Lists/InterestCategories/Response.json")],
                                {"list_id": list_id, "category_id": category_id})

    # ---- campaigns, automations, reports
    @staticmethod
    def _campaign_links(campaign: dict) -> list:
        base = f"{ROOT}/campaigns/{campaign['id']}"
        links = [link("parent", f"{ROOT}/campaigns", target="Campaigns/CollectionResponse.json"),
                 link("self", base, target="Campaigns/Response.json"),
                 link("delete", base, "DELETE"),
                 link("send", f"{base}/actions/send", "POST"),
                 link("cancel_send", f"{base}/actions/cancel-send", "POST"),
                 link("feedback", f"{base}/feedback", target="Campaigns/Feedback/CollectionResponse.json"),
                 link("content", f"{base}/content", target="Campaigns/Content/Response.json"),
                 link("send_checklist", f"{base}/send-checklist", target="Campaigns/Checklist/Response.json")]
        if campaign["status"] == "sent":
            links.append(link("reports", f"{ROOT}/reports/{campaign['id']}", target="Reports/Response.json"))
        return links

    def campaigns(self, request: Request) -> tuple[dict, int]:
        items = self.store.data["campaigns"]
        ctype = self._enum(request, "type", ("regular", "plaintext", "absplit", "rss", "variate"))
        if ctype:
            items = [c for c in items if c["type"] == ctype]
        status = self._enum(request, "status", ("save", "paused", "schedule", "sending", "sent"))
        if status:
            items = [c for c in items if c["status"] == status]
        if request.query.get("list_id"):
            items = [c for c in items if c["recipients"]["list_id"] == request.query["list_id"]]
        items = self._time_filter(request, items, "create_time", "since_create_time", "before_create_time")
        items = self._time_filter(request, items, "send_time", "since_send_time", "before_send_time")
        items = self._sort(request, items, ("create_time", "send_time"))
        return self._collection(request, "campaigns", items, self._campaign_links,
                                [link("self", f"{ROOT}/campaigns", target="Campaigns/CollectionResponse.json"),
                                 link("create", f"{ROOT}/campaigns", "POST", "Campaigns/Response.json",
                                      "Campaigns/POST.json")])

    def one_campaign(self, request: Request) -> tuple[dict, int]:
        campaign = self._campaign(request.params["campaign_id"])
        return {**campaign, "_links": self._campaign_links(campaign)}, 1

    def automations(self, request: Request) -> tuple[dict, int]:
        items = self.store.data["automations"]
        status = self._enum(request, "status", ("save", "paused", "sending"))
        if status:
            items = [a for a in items if a["status"] == status]
        items = self._time_filter(request, items, "create_time", "since_create_time", "before_create_time")
        items = self._time_filter(request, items, "start_time", "since_start_time", "before_start_time")

        def links(automation: dict) -> list:
            base = f"{ROOT}/automations/{automation['id']}"
            return [link("parent", f"{ROOT}/automations", target="Automations/CollectionResponse.json"),
                    link("self", base, target="Automations/Response.json"),
                    link("start-all-emails", f"{base}/actions/start-all-emails", "POST"),
                    link("pause-all-emails", f"{base}/actions/pause-all-emails", "POST"),
                    link("emails", f"{base}/emails", target="Automations/Emails/CollectionResponse.json")]

        return self._collection(request, "automations", items, links,
                                [link("self", f"{ROOT}/automations", target="Automations/CollectionResponse.json"),
                                 link("create", f"{ROOT}/automations", "POST", "Automations/Response.json",
                                      "Automations/POST.json")])

    def automation_emails(self, request: Request) -> tuple[dict, int]:
        """The reference gives this endpoint no count/offset: every email of the workflow in one response."""
        workflow_id = request.params["workflow_id"]
        self._automation(workflow_id)
        items = self.store.data["automation_emails"].get(workflow_id, [])
        base = f"{ROOT}/automations/{workflow_id}/emails"

        def links(email: dict) -> list:
            own = f"{base}/{email['id']}"
            return [link("parent", base, target="Automations/Emails/CollectionResponse.json"),
                    link("self", own, target="Automations/Emails/Response.json"),
                    link("start", f"{own}/actions/start", "POST"), link("pause", f"{own}/actions/pause", "POST"),
                    link("queue", f"{own}/queue", target="Automations/Emails/Queue/CollectionResponse.json")]

        return self._unpaged(request, "emails", items, links,
                             [link("parent", f"{ROOT}/automations/{workflow_id}", target="Automations/Response.json"),
                              link("self", base, target="Automations/Emails/CollectionResponse.json")])

    def automation_email_queue(self, request: Request) -> tuple[dict, int]:
        """No count/offset in the reference either: the whole queue in one response."""
        workflow_id, email_id = request.params["workflow_id"], request.params["workflow_email_id"]
        self._automation(workflow_id)
        if not any(e["id"] == email_id for e in self.store.data["automation_emails"].get(workflow_id, [])):
            raise not_found()
        base = f"{ROOT}/automations/{workflow_id}/emails/{email_id}/queue"

        def links(entry: dict) -> list:
            return [link("parent", base, target="Automations/Emails/Queue/CollectionResponse.json"),
                    link("self", f"{base}/{entry['id']}", target="Automations/Emails/Queue/Response.json")]

        return self._unpaged(request, "queue", self.store.data["automation_queue"].get(email_id, []), links,
                             [link("parent", base.rsplit("/", 1)[0], target="Automations/Emails/Response.json"),
                              link("self", base, target="Automations/Emails/Queue/CollectionResponse.json"),
                              link("create", base, "POST", "Automations/Emails/Queue/Response.json",
                                   "Automations/Emails/Queue/POST.json")],
                             {"workflow_id": workflow_id, "email_id": email_id}, extra_first=True)

    def _unpaged(self, request: Request, key: str, items: list[dict], links: Callable[[dict], list] | None,
                 envelope_links: list, extra: dict | None = None, extra_first: bool = False) -> tuple[dict, int]:
        """A collection the API returns whole: count and offset are ignored (the endpoint has none)."""
        if links is not None and self._links_wanted(request, key):
            items = [{**item, "_links": links(item)} for item in items]
        body = dict(extra or {}) if extra_first else {}
        body[key] = list(items)
        if not extra_first:
            body.update(extra or {})
        body["total_items"] = len(items)
        body["_links"] = envelope_links
        return body, len(items)

    @staticmethod
    def _report_links(report: dict) -> list:
        base = f"{ROOT}/reports/{report['id']}"
        return [link("self", base, target="Reports/Response.json"),
                link("parent", f"{ROOT}/reports", target="Reports/CollectionResponse.json"),
                link("campaign", f"{ROOT}/campaigns/{report['id']}", target="Campaigns/Response.json"),
                link("sent-to", f"{base}/sent-to", target="Reports/SentTo/CollectionResponse.json"),
                link("click-details", f"{base}/click-details", target="Reports/ClickDetails/CollectionResponse.json"),
                link("email-activity", f"{base}/email-activity",
                     target="Reports/EmailActivity/CollectionResponse.json"),
                link("unsubscribed", f"{base}/unsubscribed", target="Reports/Unsubs/CollectionResponse.json")]

    def reports(self, request: Request) -> tuple[dict, int]:
        items = self.store.data["reports"]
        rtype = self._enum(request, "type", ("regular", "plaintext", "absplit", "rss", "variate"))
        if rtype:
            items = [r for r in items if r["type"] == rtype]
        items = self._time_filter(request, items, "send_time", "since_send_time", "before_send_time")
        return self._collection(request, "reports", items, self._report_links,
                                [link("self", f"{ROOT}/reports", target="Reports/CollectionResponse.json")])

    def one_report(self, request: Request) -> tuple[dict, int]:
        campaign_id = request.params["campaign_id"]
        for report in self.store.data["reports"]:
            if report["id"] == campaign_id:
                return {**report, "_links": self._report_links(report)}, 1
        raise not_found()

    def email_activity(self, request: Request) -> tuple[dict, int]:
        campaign_id = request.params["campaign_id"]
        self._campaign_or_automation_email(campaign_id)
        items = self._cached(request, lambda: self._filtered_activity(request, campaign_id))
        base = f"{ROOT}/reports/{campaign_id}/email-activity"

        def links(entry: dict) -> list:
            return [link("parent", base, target="Reports/EmailActivity/CollectionResponse.json"),
                    link("self", f"{base}/{entry['email_id']}", target="Reports/EmailActivity/Response.json"),
                    link("member", f"{ROOT}/lists/{entry['list_id']}/members/{entry['email_id']}",
                         target="Lists/Members/Response.json")]

        return self._collection(request, "emails", items, links,
                                [link("parent", f"{ROOT}/reports/{campaign_id}", target="Reports/Response.json"),
                                 link("self", base, target="Reports/EmailActivity/CollectionResponse.json")],
                                {"campaign_id": campaign_id})

    def _filtered_activity(self, request: Request, campaign_id: str) -> list[dict]:
        items = (self.store.data["email_activity"].get(campaign_id)
                 or self.store.data["automation_email_activity"].get(campaign_id, []))
        since = request.query.get("since")
        if since:
            try:
                bound = parse_time(since)
            except ValueError:
                raise bad_request(f"The value for 'since' is not a valid date-time: '{since}'.") from None
            filtered = []
            for entry in items:
                activity = [a for a in entry["activity"] if a["timestamp"] > bound]
                if activity:
                    filtered.append({**entry, "activity": activity})
            items = filtered
        return items

    def sent_to(self, request: Request) -> tuple[dict, int]:
        campaign_id = request.params["campaign_id"]
        self._campaign_or_automation_email(campaign_id)
        items = (self.store.data["sent_to"].get(campaign_id)
                 or self.store.data["automation_sent_to"].get(campaign_id, []))
        status = self._enum(request, "status", ("sent", "hard", "soft"))
        if status:
            items = [r for r in items if r["status"] == status]
        base = f"{ROOT}/reports/{campaign_id}/sent-to"

        def links(entry: dict) -> list:
            return [link("self", f"{base}/{entry['email_id']}", target="Reports/SentTo/Response.json"),
                    link("parent", base, target="Reports/SentTo/CollectionResponse.json")]

        return self._collection(request, "sent_to", items, links,
                                [link("parent", f"{ROOT}/reports/{campaign_id}", target="Reports/Response.json"),
                                 link("self", base, target="Reports/SentTo/CollectionResponse.json")],
                                {"campaign_id": campaign_id})

    def click_details(self, request: Request) -> tuple[dict, int]:
        campaign_id = request.params["campaign_id"]
        self._campaign(campaign_id)
        base = f"{ROOT}/reports/{campaign_id}/click-details"

        def links(entry: dict) -> list:
            own = f"{base}/{entry['id']}"
            return [link("self", own, target="Reports/ClickDetails/Response.json"),
                    link("parent", base, target="Reports/ClickDetails/CollectionResponse.json"),
                    link("members", f"{own}/members", target="Reports/ClickDetails/Members/CollectionResponse.json")]

        return self._collection(request, "urls_clicked", self.store.data["click_details"].get(campaign_id, []), links,
                                [link("parent", f"{ROOT}/reports/{campaign_id}", target="Reports/Response.json"),
                                 link("self", base, target="Reports/ClickDetails/CollectionResponse.json")],
                                {"campaign_id": campaign_id})

    def domain_performance(self, request: Request) -> tuple[dict, int]:
        """The reference gives this endpoint no count/offset: the campaign's domains in one response."""
        campaign_id = request.params["campaign_id"]
        campaign = self._campaign(campaign_id)
        base = f"{ROOT}/reports/{campaign_id}/domain-performance"
        return self._unpaged(request, "domains", self.store.data["domain_performance"].get(campaign_id, []), None,
                             [link("parent", f"{ROOT}/reports/{campaign_id}", target="Reports/Response.json"),
                              link("self", base, target="Reports/DomainPerformance/CollectionResponse.json")],
                             {"total_sent": campaign["emails_sent"], "campaign_id": campaign_id})

    def templates(self, request: Request) -> tuple[dict, int]:
        items = self.store.data["templates"]
        ttype = self._enum(request, "type", ("user", "base", "gallery"))
        if ttype:
            items = [t for t in items if t["type"] == ttype]
        if request.query.get("created_by"):
            items = [t for t in items if t["created_by"] == request.query["created_by"]]
        if request.query.get("category"):
            items = [t for t in items if t["category"] == request.query["category"]]
        if request.query.get("folder_id"):
            items = [t for t in items if t["folder_id"] == request.query["folder_id"]]
        items = self._time_filter(request, items, "date_created", "since_date_created", "before_date_created")
        items = self._sort(request, items, ("date_created", "name"))

        def links(template: dict) -> list:
            own = f"{ROOT}/templates/{template['id']}"
            return [link("self", own, target="Templates/Response.json"),
                    link("parent", f"{ROOT}/templates", target="Templates/CollectionResponse.json"),
                    link("delete", own, "DELETE"),
                    link("update", own, "PATCH", "Templates/Response.json", "Templates/PATCH.json"),
                    link("default-content", f"{own}/default-content", target="Templates/DefaultContent/Response.json")]

        return self._collection(request, "templates", items, links,
                                [link("self", f"{ROOT}/templates", target="Templates/CollectionResponse.json"),
                                 link("create", f"{ROOT}/templates", "POST", "Templates/Response.json",
                                      "Templates/POST.json")])

    def landing_pages(self, request: Request) -> tuple[dict, int]:
        """The reference gives this endpoint `count` (at most 1000) and no `offset`: an offset is not a parameter
        of it and is ignored, as the API ignores parameters it does not know."""
        items = self.store.data["landing_pages"]
        items = self._sort(request, items, ("created_at", "updated_at"))
        count = request.query.get("count") or "10"
        if not count.isdigit() or int(count) > MAX_COUNT:
            raise bad_request(f"The value for 'count' must be an integer no more than {MAX_COUNT}; '{count}' given.")

        def links(page: dict) -> list:
            own = f"{ROOT}/landing-pages/{page['id']}"
            return [link("self", own, target="LandingPages/Response.json"),
                    link("parent", f"{ROOT}/landing-pages", target="LandingPages/CollectionResponse.json"),
                    link("update", own, "PATCH", "LandingPages/Response.json", "LandingPages/PATCH.json"),
                    link("delete", own, "DELETE"), link("publish", f"{own}/actions/publish", "POST"),
                    link("unpublish", f"{own}/actions/unpublish", "POST"),
                    link("content", f"{own}/content", target="LandingPages/Content/Response.json")]

        body, served = self._unpaged(request, "landing_pages", items[: int(count)], links,
                                     [link("self", f"{ROOT}/landing-pages", target="LandingPages/CollectionResponse.json"),
                                      link("create", f"{ROOT}/landing-pages", "POST", "LandingPages/Response.json",
                                           "LandingPages/POST.json")])
        body["total_items"] = len(items)
        return body, served

    # ---- e-commerce
    def _store(self, store_id: str) -> dict:
        if self.forbidden_ecommerce:
            raise ApiError(403, "Forbidden", "You don't have permission to access this resource.")
        for store in self.store.data["ecommerce_stores"]:
            if store["id"] == store_id:
                return store
        raise not_found()

    def ecommerce_stores(self, request: Request) -> tuple[dict, int]:
        if self.forbidden_ecommerce:
            raise ApiError(403, "Forbidden", "You don't have permission to access this resource.")
        base = f"{ROOT}/ecommerce/stores"

        def links(store: dict) -> list:
            own = f"{base}/{store['id']}"
            return [link("self", own, target="Ecommerce/Stores/Response.json"),
                    link("parent", base, target="Ecommerce/Stores/CollectionResponse.json"),
                    link("update", own, "PATCH", "Ecommerce/Stores/Response.json", "Ecommerce/Stores/PATCH.json"),
                    link("delete", own, "DELETE"),
                    *(link(part, f"{own}/{part}", target=f"Ecommerce/Stores/{part.title()}/CollectionResponse.json")
                      for part in ("customers", "products", "orders", "carts", "promo-rules"))]

        return self._collection(request, "stores", self.store.data["ecommerce_stores"], links,
                                [link("self", base, target="Ecommerce/Stores/CollectionResponse.json"),
                                 link("create", base, "POST", "Ecommerce/Stores/Response.json",
                                      "Ecommerce/Stores/POST.json")])

    def _store_collection(self, request: Request, part: str, key: str, items: list[dict]) -> tuple[dict, int]:
        store_id = request.params["store_id"]
        base = f"{ROOT}/ecommerce/stores/{store_id}/{part}"

        def links(item: dict) -> list:
            own = f"{base}/{item['id']}"
            return [link("self", own, target=f"Ecommerce/Stores/{part}/Response.json"),
                    link("parent", base, target=f"Ecommerce/Stores/{part}/CollectionResponse.json"),
                    link("update", own, "PATCH"), link("delete", own, "DELETE")]

        return self._collection(request, key, items, links,
                                [link("self", base, target=f"Ecommerce/Stores/{part}/CollectionResponse.json"),
                                 link("parent", f"{ROOT}/ecommerce/stores/{store_id}", target="Ecommerce/Stores/Response.json")],
                                {"store_id": store_id})

    def ecommerce_customers(self, request: Request) -> tuple[dict, int]:
        self._store(request.params["store_id"])
        items = self.store.data["ecommerce_customers"][request.params["store_id"]]
        if request.query.get("email_address"):
            items = [c for c in items if c["email_address"].lower() == request.query["email_address"].lower()]
        return self._store_collection(request, "customers", "customers", items)

    def ecommerce_orders(self, request: Request) -> tuple[dict, int]:
        self._store(request.params["store_id"])
        items = self.store.data["ecommerce_orders"][request.params["store_id"]]
        for name, getter in (("customer_id", lambda o: o["customer"].get("id")), ("campaign_id", lambda o: o["campaign_id"]),
                             ("outreach_id", lambda o: o["outreach"].get("id"))):
            if request.query.get(name):
                items = [o for o in items if getter(o) == request.query[name]]
        if request.query.get("has_outreach") not in (None, ""):
            items = [o for o in items if bool(o["outreach"]) == self._bool(request, "has_outreach")]
        return self._store_collection(request, "orders", "orders", items)

    def ecommerce_products(self, request: Request) -> tuple[dict, int]:
        self._store(request.params["store_id"])
        return self._store_collection(request, "products", "products",
                                      self.store.data["ecommerce_products"][request.params["store_id"]])

    def ecommerce_carts(self, request: Request) -> tuple[dict, int]:
        self._store(request.params["store_id"])
        return self._store_collection(request, "carts", "carts",
                                      self.store.data["ecommerce_carts"][request.params["store_id"]])

    def ecommerce_promo_rules(self, request: Request) -> tuple[dict, int]:
        self._store(request.params["store_id"])
        return self._store_collection(request, "promo-rules", "promo_rules",
                                      self.store.data["ecommerce_promo_rules"][request.params["store_id"]])

    def ecommerce_promo_codes(self, request: Request) -> tuple[dict, int]:
        store_id, rule_id = request.params["store_id"], request.params["promo_rule_id"]
        self._store(store_id)
        if not any(r["id"] == rule_id for r in self.store.data["ecommerce_promo_rules"][store_id]):
            raise not_found()
        return self._store_collection(request, f"promo-rules/{rule_id}/promo-codes", "promo_codes",
                                      self.store.data["ecommerce_promo_codes"][rule_id])

    def unsubscribed(self, request: Request) -> tuple[dict, int]:
        campaign_id = request.params["campaign_id"]
        self._campaign(campaign_id)
        items = self.store.data["unsubscribes"].get(campaign_id, [])
        base = f"{ROOT}/reports/{campaign_id}/unsubscribed"

        def links(entry: dict) -> list:
            return [link("self", f"{base}/{entry['email_id']}", target="Reports/Unsubs/Response.json"),
                    link("parent", base, target="Reports/Unsubs/CollectionResponse.json")]

        return self._collection(request, "unsubscribes", items, links,
                                [link("parent", f"{ROOT}/reports/{campaign_id}", target="Reports/Response.json"),
                                 link("self", base, target="Reports/Unsubs/CollectionResponse.json")],
                                {"campaign_id": campaign_id})

    # ---- batch operations (Singer's tap-mailchimp reads email activity through them)
    def create_batch(self, request: Request) -> tuple[dict, int]:
        try:
            operations = request.json()["operations"]
            assert isinstance(operations, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            raise ApiError(400, "JSON Parse Error", "We encountered an unspecified JSON parsing error.") from None
        batch_id = self.store.ids.hex(10)
        results = []
        for operation in operations:
            path = "/3.0/" + str(operation.get("path", "")).lstrip("/")
            params = {k: str(v) for k, v in (operation.get("params") or {}).items()}
            sub = Request("GET", path, params, {**request.headers, BATCH_OPERATION: "1"})
            with self.lock:
                response = self.dispatch(sub)
            results.append({"status_code": response.status, "operation_id": operation.get("operation_id"),
                            "response": json.dumps(response.body, ensure_ascii=False)})
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            payload = json.dumps(results, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(f"{batch_id}.json")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        now = iso(self.store.now)
        self.batches[batch_id] = {
            "archive": buffer.getvalue(),
            "info": {"id": batch_id, "status": "finished", "total_operations": len(operations),
                     "finished_operations": len(operations),
                     "errored_operations": sum(1 for r in results if r["status_code"] != 200),
                     "submitted_at": now, "completed_at": now,
                     "response_body_url": f"https://mailchimp-api-batch.s3.amazonaws.com/{batch_id}-response.tar.gz"},
        }
        return {**self.batches[batch_id]["info"], "status": "pending", "finished_operations": 0,
                "completed_at": "", "response_body_url": ""}, 1

    def get_batch(self, request: Request) -> tuple[dict, int]:
        batch = self.batches.get(request.params["batch_id"])
        if not batch:
            raise not_found()
        return dict(batch["info"]), 1

    def batch_archive(self, request: Request) -> Response:
        name = request.params["archive"]
        batch = self.batches.get(name.removesuffix("-response.tar.gz")) if name.endswith("-response.tar.gz") else None
        if not batch:
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        return Response(200, batch["archive"], content_type="application/x-tar")

    # ---- login.mailchimp.com
    def oauth_metadata(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme != "OAuth" or token.strip() not in self.access_tokens:
            return Response(200, {"error": "invalid_token"})
        account = self.store.data["account"]
        return Response(200, {"dc": DC, "role": "owner", "accountname": account["account_name"],
                              "user_id": int(account["login_id"]),
                              "login": {"email": account["email"], "avatar": None,
                                        "login_id": int(account["login_id"]), "login_name": account["username"],
                                        "login_email": account["email"]},
                              "login_url": "https://login.mailchimp.com", "api_endpoint": API_HOST})

    def oauth_token(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "authorization_code":
            return Response(400, {"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be authorization_code"})
        if form.get("client_id") != self.oauth["client_id"] or form.get("client_secret") != self.oauth["client_secret"]:
            return Response(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        if form.get("redirect_uri") != self.oauth["redirect_uri"]:
            return Response(400, {"error": "invalid_grant", "error_description": "redirect_uri does not match"})
        with self.lock:
            code = form.get("code")
            if code not in self.codes:
                return Response(400, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
            self.codes.discard(code)
        return Response(200, {"access_token": self.oauth["access_token"], "expires_in": 0, "scope": None})


class MailchimpSandbox(Sandbox):
    """A running Mailchimp sandbox: ``with MailchimpSandbox(scale=0.1) as sb: ...`` (see the module docstring)."""

    def __init__(self, scale: float = 1.0, seed: int = 0, latency: float = 0.0, item_latency: float = 0.0,
                 max_connections: int | None = 10, faults: FaultPlan | None = None, port: int = 0,
                 burst_html_403: bool = False, forbidden_ecommerce: bool = False) -> None:
        self.scale, self.seed = scale, seed
        self._store = MailchimpData(scale, seed)
        secrets = random.Random(f"mailchimp-credentials-{seed}")

        def secret(n: int) -> str:
            return "".join(secrets.choice("0123456789abcdef") for _ in range(n))

        self.dc = DC
        key = secret(32)
        self.api_key = f"{key}-{DC}"
        self.wrong_dc_api_key = f"{key}-us1"
        self.disabled_api_key = f"{secret(32)}-{DC}"
        self.oauth = {"client_id": secret(12), "client_secret": secret(40), "access_token": secret(32),
                      "authorization_code": secret(32), "redirect_uri": "https://localhost:8000/auth_flow"}
        self._secrets = secret
        self.app = MailchimpApp(self._store, self.api_key, self.oauth, self.disabled_api_key, burst_html_403,
                                forbidden_ecommerce)
        self.server = SandboxServer(self.app, latency=latency, item_latency=item_latency,
                                    max_connections=max_connections, faults=faults, port=port)
        self.boundary = BOUNDARY
        self.empty_list_id = self._store.empty_list_id
        self.no_activity_campaign_id = next(c["id"] for c in self._store.data["campaigns"]
                                            if c["status"] == "sent" and not c["tracking"]["opens"])

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "api_key": self.api_key, "oauth": self.oauth}

    @property
    def data(self) -> dict[str, Any]:
        return self._store.data

    @property
    def now(self) -> str:
        return iso(self._store.now)

    def new_authorization_code(self) -> str:
        code = self._secrets(32)
        with self.app.lock:
            self.app.codes.add(code)
        return code

    def mutate(self) -> dict[str, set]:
        with self.app.lock:
            return self._store.mutate()

    def archive_members(self, list_id: str, member_ids: set[str]) -> None:
        with self.app.lock:
            self._store.archive_members(list_id, member_ids)
