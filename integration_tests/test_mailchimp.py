"""The installed `source-mailchimp` command, run as Airbyte runs it (a subprocess), against the Mailchimp sandbox:
spec, check, discover, a full read compared record for record with the sandbox's data, every record validated against
its discovered schema, an incremental read after changes, the email activity date window and a resumed sync."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connector_common.speedups import switched_off as speedups_switched_off
from integration_tests.discovered_streams import discovered_streams
from integration_tests.harness import SourceRun, configured_catalog, run_source
from sandbox.mailchimp import MailchimpSandbox
from sandbox.server import FaultPlan

COMMAND = "source-mailchimp"
SCALE = 0.1

# The streams' contract: the one place that states them, checked against discover. Every other test takes the
# streams, keys and cursors from the connector's discover (STREAMS).
CONTRACT = {
    # name: (primary key, cursor field or None)
    "lists": (["id"], None),
    "list_members": (["id", "list_id"], "last_changed"),
    "list_segments": (["id"], "updated_at"),
    "list_segment_members": (["id", "segment_id"], None),
    "campaigns": (["id"], "create_time"),
    "automations": (["id"], "create_time"),
    "reports": (["id"], None),
    "reports_email_activity": (["action", "campaign_id", "email_id", "timestamp"], "timestamp"),
    "unsubscribes": (["campaign_id", "email_id"], None),
    "tags": (["id", "list_id"], None),
    "interest_categories": (["id"], None),
    "interests": (["id"], None),
    "campaign_recipients": (["campaign_id", "email_id"], None),
    "automation_emails": (["id"], None),
    "automation_email_queue": (["workflow_id", "email_id", "id"], None),
    "automation_recipients": (["campaign_id", "email_id"], None),
    "automation_email_activity": (["action", "campaign_id", "email_id", "timestamp"], "timestamp"),
    "list_merge_fields": (["list_id", "merge_id"], None),
    "list_growth_history": (["list_id", "month"], None),
    "list_activity": (["list_id", "day"], None),
    "campaign_click_details": (["campaign_id", "id"], None),
    "campaign_domain_performance": (["campaign_id", "domain"], None),
    "templates": (["id"], None),
    "landing_pages": (["id"], None),
    "ecommerce_stores": (["id"], None),
    "ecommerce_customers": (["store_id", "id"], None),
    "ecommerce_orders": (["store_id", "id"], None),
    "ecommerce_products": (["store_id", "id"], None),
    "ecommerce_carts": (["store_id", "id"], None),
    "ecommerce_promo_rules": (["store_id", "id"], None),
    "ecommerce_promo_codes": (["store_id", "promo_rule_id", "id"], None),
}
STREAMS = discovered_streams("mailchimp")


def apikey_config(sb: MailchimpSandbox, **settings: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url, **settings}


def oauth_config(sb: MailchimpSandbox, **credentials: Any) -> dict[str, Any]:
    return {
        "credentials": {"auth_type": "oauth2.0", "client_id": sb.oauth["client_id"],
                        "client_secret": sb.oauth["client_secret"], **credentials},
        "sandbox_url": sb.url,
    }


def secrets_of(sb: MailchimpSandbox) -> list[str]:
    return [sb.api_key, sb.oauth["client_secret"], sb.oauth["access_token"], sb.oauth["authorization_code"]]


def assert_no_secret(run: SourceRun, sb: MailchimpSandbox) -> None:
    # A CONTROL message carries the config Airbyte must save; nothing else may show a secret.
    output = "\n".join(line for line in run.output.splitlines() if not line.startswith('{"type":"CONTROL"'))
    assert [s for s in secrets_of(sb) if s in output] == []


def expected_records(data: dict[str, Any], discovered: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What each stream must emit, from the sandbox's ground truth: the API's objects, with null wherever the API
    sends "" for a date that the discovered schema declares."""
    schemas = {stream["name"]: stream["json_schema"] for stream in discovered["streams"]}
    return {stream: [nulled_dates(record, schemas[stream]) for record in records]
            for stream, records in api_records(data).items()}


def nulled_dates(value: Any, schema: dict[str, Any]) -> Any:
    """`value` with "" made None where `schema` declares a date-time (written apart from the connector's own code)."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {key: None if item == "" and properties.get(key, {}).get("format") == "date-time"
                else nulled_dates(item, properties.get(key, {})) for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [None if item == "" and items.get("format") == "date-time" else nulled_dates(item, items)
                for item in value]
    return value


def api_records(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each stream's records as the API returns them, from the sandbox's ground truth."""
    def flat(mapping: dict[Any, list[dict]]) -> list[dict]:
        return [item for items in mapping.values() for item in items]

    segment_list = {segment["id"]: list_id for list_id, segments in data["segments"].items() for segment in segments}
    return {
        "lists": data["lists"],
        "list_members": flat(data["members"]),
        "list_segments": flat(data["segments"]),
        "list_segment_members": [
            {**member, "segment_id": segment_id, "list_id": segment_list[segment_id]}
            for segment_id, members in data["segment_members"].items() for member in members
        ],
        "campaigns": data["campaigns"],
        "automations": data["automations"],
        "reports": data["reports"],
        "reports_email_activity": [
            {**{k: v for k, v in email.items() if k != "activity"}, **item}
            for email in flat(data["email_activity"]) for item in email["activity"]
        ],
        "unsubscribes": flat(data["unsubscribes"]),
        "tags": [{**tag, "list_id": list_id} for list_id, tags in data["tags"].items() for tag in tags],
        "interest_categories": flat(data["interest_categories"]),
        "interests": flat(data["interests"]),
        "campaign_recipients": flat(data["sent_to"]),
        "automation_emails": flat(data["automation_emails"]),
        "automation_email_queue": flat(data["automation_queue"]),
        "automation_recipients": flat(data["automation_sent_to"]),
        "automation_email_activity": [
            {**{k: v for k, v in email.items() if k != "activity"}, **item}
            for email in flat(data["automation_email_activity"]) for item in email["activity"]
        ],
        "list_merge_fields": flat(data["merge_fields"]),
        "list_growth_history": flat(data["growth_history"]),
        "list_activity": [{**day, "list_id": list_id} for list_id, days in data["list_activity"].items() for day in days],
        "campaign_click_details": flat(data["click_details"]),
        "campaign_domain_performance": [{**domain, "campaign_id": campaign_id}
                                        for campaign_id, domains in data["domain_performance"].items()
                                        for domain in domains],
        "templates": data["templates"],
        "landing_pages": data["landing_pages"],
        "ecommerce_stores": data["ecommerce_stores"],
        **{f"ecommerce_{part}": [{**item, "store_id": store_id}
                                 for store_id, items in data[f"ecommerce_{part}"].items() for item in items]
           for part in ("customers", "orders", "products", "carts", "promo_rules")},
        "ecommerce_promo_codes": [
            {**code, "store_id": store_id, "promo_rule_id": rule["id"]}
            for store_id, rules in data["ecommerce_promo_rules"].items() for rule in rules
            for code in data["ecommerce_promo_codes"][rule["id"]]
        ],
    }


def keyed(stream: str, records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Records by primary key. The CDK's message serializer leaves out a record's top-level fields whose value is
    null (nested nulls stay): absent and null are the same to a destination, so they compare equal here."""
    key = STREAMS[stream].primary_key
    by_key = {tuple(record[k] for k in key): {f: v for f, v in record.items() if v is not None} for record in records}
    assert len(by_key) == len(records), f"{stream}: duplicate primary keys"
    return by_key


@pytest.fixture(scope="module")
def sandbox():
    with MailchimpSandbox(scale=SCALE, seed=0) as sb:
        yield sb


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mailchimp")


@pytest.fixture(scope="module")
def discovered(sandbox, workdir) -> dict[str, Any]:
    run = run_source(COMMAND, "discover", workdir, config=apikey_config(sandbox))
    assert run.returncode == 0, run.output
    return run.catalog()


@pytest.fixture(scope="module")
def full_read(sandbox, workdir, discovered) -> SourceRun:
    sandbox.server.reset_log()
    run = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox),
                     catalog=configured_catalog(discovered, sync_mode="incremental"))
    assert run.returncode == 0, run.output
    run.requests = sandbox.server.requests()  # the requests of this read only
    return run


def test_the_state_messages_count_every_record_sent_before_them(full_read):
    # Airbyte compares these counts with the records it received: a record printed but not counted (or the reverse)
    # is reported as a mismatch by the platform.
    sent = {stream: float(len(records)) for stream, records in full_read.records_by_stream().items()}
    counted = full_read.records_counted_in_states()
    assert sent and all(counted.get(stream) == n for stream, n in sent.items()), (sent, counted)


def test_spec_is_printed_without_a_config(workdir):
    run = run_source(COMMAND, "spec", workdir)

    assert run.returncode == 0
    spec = run.spec()
    assert spec["connectionSpecification"]["properties"]["sandbox_url"]["airbyte_hidden"] is True
    assert spec["advanced_auth"]["auth_flow_type"] == "oauth2.0"


def test_check_succeeds_with_a_good_api_key(sandbox, workdir):
    run = run_source(COMMAND, "check", workdir, config=apikey_config(sandbox))

    assert run.connection_status()["status"] == "SUCCEEDED"
    assert_no_secret(run, sandbox)


def test_check_fails_with_a_rejected_api_key_without_printing_it(sandbox, workdir):
    config = apikey_config(sandbox)
    config["credentials"]["apikey"] = sandbox.wrong_dc_api_key

    run = run_source(COMMAND, "check", workdir, config=config)

    status = run.connection_status()
    assert status["status"] == "FAILED" and "401" in status["message"]
    assert sandbox.wrong_dc_api_key not in run.output


def test_check_succeeds_with_a_good_oauth_token(sandbox, workdir):
    run = run_source(COMMAND, "check", workdir, config=oauth_config(sandbox, access_token=sandbox.oauth["access_token"]))

    assert run.connection_status()["status"] == "SUCCEEDED"
    assert_no_secret(run, sandbox)


def test_check_fails_with_a_bad_oauth_token_as_a_config_error(sandbox, workdir):
    run = run_source(COMMAND, "check", workdir, config=oauth_config(sandbox, access_token="not-a-valid-token-123"))

    status = run.connection_status()
    assert status["status"] == "FAILED" and "invalid_token" in status["message"]


def test_an_authorization_code_is_exchanged_once_and_saved_as_a_token(sandbox, workdir):
    code = sandbox.new_authorization_code()
    config = oauth_config(sandbox, authorization_code=code, redirect_uri=sandbox.oauth["redirect_uri"])

    first = run_source(COMMAND, "check", workdir, config=config)

    assert first.connection_status()["status"] == "SUCCEEDED", first.output
    (saved,) = first.control_configs()
    assert saved["credentials"]["access_token"] == sandbox.oauth["access_token"]
    assert "authorization_code" not in saved["credentials"]
    assert json.loads((workdir / "config.json").read_text()) == saved
    assert code not in first.output
    # the saved config works; the code itself is spent
    assert run_source(COMMAND, "check", workdir, config=saved).connection_status()["status"] == "SUCCEEDED"
    second = run_source(COMMAND, "check", workdir, config=config)
    assert second.connection_status()["status"] == "FAILED"
    assert "`credentials.authorization_code`" in second.connection_status()["message"]


def test_discover_offers_every_stream_with_its_keys_and_cursor(discovered):
    streams = {stream["name"]: stream for stream in discovered["streams"]}

    assert set(streams) == set(CONTRACT)
    for name, (primary_key, cursor) in CONTRACT.items():
        stream = streams[name]
        assert stream["source_defined_primary_key"] == [[k] for k in primary_key], name
        if cursor:
            assert stream["supported_sync_modes"] == ["full_refresh", "incremental"], name
            assert stream["default_cursor_field"] == [cursor], name
            assert stream["source_defined_cursor"] is True
        else:
            assert stream["supported_sync_modes"] == ["full_refresh"], name
        for field in primary_key + ([cursor] if cursor else []):
            assert field in stream["json_schema"]["properties"], (name, field)


def test_every_discovered_stream_has_its_expected_records_and_no_expectation_is_left_over(sandbox):
    # A stream added to the manifest without saying here what it must read fails this test, not silently nothing.
    assert set(api_records(sandbox.data)) == set(STREAMS)


def test_a_full_read_returns_exactly_the_sandbox_data(sandbox, discovered, full_read):
    expected = expected_records(sandbox.data, discovered)
    read = full_read.records_by_stream()

    assert set(read) == set(STREAMS)
    for stream in STREAMS:
        got, want = keyed(stream, read[stream]), keyed(stream, expected[stream])
        assert got.keys() == want.keys(), stream
        mismatched = [key for key in want if got[key] != want[key]]
        assert mismatched == [], (stream, mismatched[:3])


def test_every_record_matches_its_discovered_schema(discovered, full_read):
    validators = {s["name"]: jsonschema.Draft7Validator(s["json_schema"]) for s in discovered["streams"]}

    problems = []
    for stream, records in full_read.records_by_stream().items():
        for record in records:
            problems += [f"{stream}: {error.message}" for error in validators[stream].iter_errors(record)]

    assert problems[:5] == []


def declared_paths(schema: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every property the schema declares, at any depth (`a.b`, `a[].b`), with its schema."""
    paths = {}
    for name, node in (schema.get("properties") or {}).items():
        paths[prefix + name] = node
        paths.update(declared_paths(node, f"{prefix}{name}."))
        if isinstance(node.get("items"), dict):
            paths.update(declared_paths(node["items"], f"{prefix}{name}[]."))
    return paths


def values_by_path(value: Any, prefix: str = "") -> Any:
    """(path, value) of every key of a record, at any depth, in the notation of declared_paths."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + key, item
            yield from values_by_path(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            yield from values_by_path(item, prefix[:-1] + "[]." if prefix else "")


ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _is_date_time(value: str) -> bool:
    try:
        return ISO_DATE_TIME.match(value) is not None and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def test_every_declared_field_is_served_and_every_date_is_typed_and_a_date_time_or_null(discovered, full_read):
    """The schemas declare what the API returns and nothing else: every declared field, nested ones included, is in
    some record of the sandbox (which serves what the real API serves). Every value that is a date is declared
    date-time, and every date-time is a time stamp with its offset, or null ("" never reaches a destination)."""
    read = full_read.records_by_stream()
    problems = []
    for stream in discovered["streams"]:
        declared = declared_paths(stream["json_schema"])
        dates = {path for path, node in declared.items() if node.get("format") == "date-time"}
        seen = set()
        for record in read[stream["name"]]:
            for path, value in values_by_path(record):
                seen.add(path)
                if path in dates:
                    if value is not None and not (isinstance(value, str) and _is_date_time(value)):
                        problems.append(f"{stream['name']}.{path} = {value!r}")
                elif path in declared and isinstance(value, str) and ISO_DATE_TIME.match(value):
                    problems.append(f"{stream['name']}.{path} holds dates but is not declared date-time")
        problems += [f"{stream['name']}.{path} is declared but never served" for path in sorted(set(declared) - seen)]
    assert problems == []


def test_the_cdks_own_code_emits_the_same_records_as_the_command(sandbox, workdir, discovered, full_read):
    """The dates are nulled by the manifest's record selector, not by the command's fast paths: with those switched
    off (the CDK's own code, as Airbyte's stock runtime runs the manifest) the records are the same."""
    run = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox), env={"EMAIL_SOURCES_SPEEDUPS": "off"},
                     catalog=configured_catalog(discovered, sync_mode="full_refresh"))
    assert run.returncode == 0, run.output
    assert any("Speed-ups off" in line for line in run.output.splitlines())
    for stream, records in full_read.records_by_stream().items():
        assert keyed(stream, run.records(stream)) == keyed(stream, records), stream


def test_the_read_asks_for_archived_members_and_sorts_by_last_changed(sandbox, full_read):
    member_requests = [r for r in full_read.requests if r.path.endswith("/members") and "/segments/" not in r.path]

    assert member_requests
    assert {r.query.get("sort_field") for r in member_requests} == {"last_changed"}
    assert {r.query.get("status") for r in member_requests} == {None, "archived"}
    archived = [m for m in full_read.records("list_members") if m["status"] == "archived"]
    assert archived


def test_campaign_recipients_are_requested_once_per_sent_campaign_and_never_for_a_draft(sandbox, full_read):
    campaigns = {c["id"] for c in sandbox.data["campaigns"]}
    sent_to = sorted(r.path for r in full_read.requests if r.path.endswith("/sent-to") and r.path.split("/")[3] in campaigns)

    assert sent_to == sorted(f"/3.0/reports/{report['id']}/sent-to" for report in sandbox.data["reports"])
    drafts = {c["id"] for c in sandbox.data["campaigns"] if c["status"] != "sent"}
    assert drafts and not drafts & {r["campaign_id"] for r in full_read.records("campaign_recipients")}
    assert {r["status"] for r in full_read.records("campaign_recipients")} == {"sent", "hard", "soft"}


def test_automation_emails_are_listed_once_a_sync_and_only_those_sent_to_someone_have_their_report_read(sandbox, full_read):
    automations = sandbox.data["automations"]
    emails = [email for flow in automations for email in sandbox.data["automation_emails"][flow["id"]]]
    listings = [r.path for r in full_read.requests if r.path.startswith("/3.0/automations/") and r.path.endswith("/emails")]
    reports = {r.path.split("/")[3] for r in full_read.requests if r.path.endswith(("/sent-to", "/email-activity"))}
    queues = [r.path for r in full_read.requests if r.path.endswith("/queue")]

    # once for the automation_emails stream, once for the ids its three child streams share
    assert sorted(listings) == sorted(f"/3.0/automations/{flow['id']}/emails" for flow in automations for _ in (1, 2))
    assert any(not sandbox.data["automation_emails"][flow["id"]] for flow in automations)  # a draft has no emails
    assert sorted(queues) == sorted(f"/3.0/automations/{e['workflow_id']}/emails/{e['id']}/queue" for e in emails)
    unsent = {e["id"] for e in emails if e["emails_sent"] == 0}
    assert unsent and not unsent & reports
    assert {e["id"] for e in emails} - unsent <= reports


def test_an_incremental_read_asks_each_automation_email_for_its_activity_since_its_cursor_minus_the_lookback(
        sandbox, workdir, discovered, full_read):
    stream = "automation_email_activity"
    (state,) = [s for s in full_read.final_state() if s["stream"]["stream_descriptor"]["name"] == stream]
    cursors = {entry["partition"]["automation_email_id"]: datetime.fromisoformat(entry["cursor"]["timestamp"])
               for entry in state["stream"]["stream_state"]["states"]}
    sandbox.server.reset_log()

    run = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox), state=[state],
                     catalog=configured_catalog(discovered, [stream], sync_mode="incremental"))

    assert run.returncode == 0, run.output
    asked = {r.path.split("/")[3]: datetime.fromisoformat(r.query["since"])
             for r in sandbox.server.requests() if r.path.endswith("/email-activity")}
    assert asked and asked == {email: cursor - timedelta(minutes=15) for email, cursor in cursors.items()}
    assert all(datetime.fromisoformat(r["timestamp"]) > asked[r["campaign_id"]] for r in run.records(stream))


def test_list_activity_holds_the_180_days_before_today_of_every_list_even_one_without_members(sandbox, full_read):
    today = datetime.fromisoformat(sandbox.now).date()
    days: dict[str, set[str]] = {}
    for record in full_read.records("list_activity"):
        days.setdefault(record["list_id"], set()).add(record["day"])

    assert sandbox.empty_list_id in days
    assert days == {lst["id"]: {(today - timedelta(days=n)).isoformat() for n in range(1, 181)}
                    for lst in sandbox.data["lists"]}


def test_click_details_and_domain_performance_are_read_once_per_sent_campaign_and_domains_in_one_request(sandbox, full_read):
    sent = sorted(report["id"] for report in sandbox.data["reports"])
    for endpoint in ("click-details", "domain-performance"):
        requests = [r for r in full_read.requests if r.path.endswith("/" + endpoint)]
        assert sorted(r.path.split("/")[3] for r in requests) == sent, endpoint
    assert not any({"count", "offset"} & set(r.query) for r in full_read.requests if r.path.endswith("/domain-performance"))
    links = full_read.records("campaign_click_details")
    assert any("last_click" not in link for link in links)  # a link never clicked: "" -> null, left out
    assert any("ab_split" in link for link in links)


def test_landing_pages_are_read_in_one_request_of_1000_without_an_offset_the_api_does_not_take(full_read):
    requests = [r for r in full_read.requests if r.path == "/3.0/landing-pages"]

    assert [(r.query.get("count"), "offset" in r.query) for r in requests] == [("1000", False)]


ECOMMERCE_STREAMS = [name for name in STREAMS if name.startswith("ecommerce_")]


def test_e_commerce_refused_to_the_account_skips_each_of_its_streams_with_one_warning_and_the_sync_succeeds(discovered, workdir):
    with MailchimpSandbox(scale=0.02, seed=0, forbidden_ecommerce=True) as sb:
        run = run_source(COMMAND, "read", workdir, config=apikey_config(sb),
                         catalog=configured_catalog(discovered, ["lists", *ECOMMERCE_STREAMS]))

        assert run.returncode == 0, run.output
        assert run.errors() == []
        assert len(run.records("lists")) == len(sb.data["lists"])
        assert [stream for stream in ECOMMERCE_STREAMS if run.records(stream)] == []
        warnings = [line for line in run.logs("WARN") if "403" in line]
        skipped = [re.match(r"Skipped (\w+):", line).group(1) for line in warnings]
        assert sorted(skipped) == sorted(ECOMMERCE_STREAMS), warnings  # one warning per stream, naming it
        assert all("plan" in line for line in warnings), warnings
        assert len(sb.server.requests("/3.0/ecommerce/")) == 2  # the stream, the shared store listing


def test_a_store_without_orders_carts_or_promo_rules_is_read_and_gives_none(sandbox, full_read):
    new_store = sandbox.data["ecommerce_stores"][1]["id"]
    assert not sandbox.data["ecommerce_orders"][new_store]

    requested = {r.path for r in full_read.requests if f"/ecommerce/stores/{new_store}/" in r.path}
    assert requested == {f"/3.0/ecommerce/stores/{new_store}/{part}"
                         for part in ("customers", "orders", "products", "carts", "promo-rules")}
    assert not [r for stream in ECOMMERCE_STREAMS[1:] for r in full_read.records(stream) if r["store_id"] == new_store]


def test_each_parent_listing_is_read_once_a_sync_beside_its_own_stream(sandbox, full_read):
    """The lists, sent campaigns, automations, automation emails and stores partition 5 to 8 streams each: their ids
    are listed once per sync (with `fields`), and their own stream reads them in full once."""
    listings = {"/3.0/lists", "/3.0/reports", "/3.0/automations", "/3.0/ecommerce/stores"}
    counts = {path: [r.query.get("fields") is not None for r in full_read.requests if r.path == path] for path in listings}

    assert {path: sorted(flags) for path, flags in counts.items()} == {path: [False, True] for path in listings}
    stores = sandbox.data["ecommerce_stores"]
    rules = [r for r in full_read.requests if r.path.endswith("/promo-rules")]
    assert sorted(r.query.get("fields") is not None for r in rules) == [False] * len(stores) + [True] * len(stores)


def test_the_read_leaks_no_secret(sandbox, full_read):
    assert_no_secret(full_read, sandbox)


def keys_of(discovered: dict[str, Any]) -> dict[str, list[str]]:
    """Each stream's primary key (single-field paths), as discover declares it."""
    return {s["name"]: [path[0] for path in s["source_defined_primary_key"]] for s in discovered["streams"]}


def an_hour_later(state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The saved state as a sync an hour later finds it: the reports it remembers were first seen an hour ago."""
    state = json.loads(json.dumps(state))
    for message in state:
        reports = message["stream"]["stream_state"].get("parent_state", {}).get("campaign_reports", {})
        for entry in reports.values():
            if "unsettled_since" in entry:
                entry["unsettled_since"] = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    return state


def test_an_incremental_read_after_a_day_of_changes_reads_every_change_including_those_at_the_apis_edges(discovered, workdir):
    """The day of changes includes changes in the second of the newest one a sync read (since_* is exclusive),
    email activity that became visible only after the first sync read its campaign, and a bounce that moves no time
    of its campaign's report. Every change is read; what else is read again is the lookback's overlap, records the
    first sync read already (the same primary key, so a destination dedupes them)."""
    keys = keys_of(discovered)
    with MailchimpSandbox(scale=SCALE, seed=1) as sb:
        catalog = configured_catalog(discovered, sync_mode="incremental")
        first = run_source(COMMAND, "read", workdir, config=apikey_config(sb), catalog=catalog)
        assert first.returncode == 0, first.output
        changed = sb.mutate()
        sb.server.reset_log()

        second = run_source(COMMAND, "read", workdir, config=apikey_config(sb), catalog=catalog, state=first.final_state())

        assert second.returncode == 0, second.output
        got = second.records_by_stream()
        assert {(m["list_id"], m["id"]) for m in got.get("list_members", [])} >= changed["members"]
        assert {(s["list_id"], s["id"]) for s in got.get("list_segments", [])} >= changed["segments"]
        assert {c["id"] for c in got.get("campaigns", [])} >= changed["campaigns"]
        assert {a["id"] for a in got.get("automations", [])} >= changed["automations"]
        assert {(a["campaign_id"], a["email_id"], a["action"], a["timestamp"])
                for a in got.get("reports_email_activity", [])} >= changed["email_activity"]
        assert any(action == "bounce" for _, _, action, _ in changed["email_activity"])
        first_keys = {stream: {tuple(r[k] for k in keys[stream]) for r in records}
                      for stream, records in first.records_by_stream().items()}
        changed_keys = {"list_members": {(member, list_id) for list_id, member in changed["members"]},
                        "reports_email_activity": {(act, c, e, t) for c, e, act, t in changed["email_activity"]}}
        for stream, records in got.items():
            read_again = {tuple(r[k] for k in keys[stream]) for r in records} - changed_keys.get(stream, set())
            if stream in ("list_members", "reports_email_activity"):
                assert read_again <= first_keys[stream], stream

        # Read again an hour later, every campaign read by the last sync settles; then only changes are read.
        third = run_source(COMMAND, "read", workdir, config=apikey_config(sb), catalog=catalog,
                           state=an_hour_later(second.final_state()))
        assert third.returncode == 0, third.output
        sb.server.reset_log()
        fourth = run_source(COMMAND, "read", workdir, config=apikey_config(sb), catalog=catalog,
                            state=an_hour_later(third.final_state()))
        assert fourth.returncode == 0, fourth.output
        campaigns = {c["id"] for c in sb.data["campaigns"]}  # automation emails are read in every sync
        activity_requests = [r for r in sb.server.requests("/3.0/reports/")
                             if r.path.endswith("/email-activity") and r.path.split("/")[3] in campaigns]
        assert activity_requests == []


def test_the_email_activity_date_window_reads_only_recently_sent_campaigns(sandbox, workdir, discovered):
    sent = sorted(sandbox.data["reports"], key=lambda r: r["send_time"])
    cut = datetime.fromisoformat(sent[len(sent) // 2]["send_time"])
    window = (datetime.now(timezone.utc) - cut).days  # campaigns sent in the last `window` days
    boundary = datetime.now(timezone.utc).timestamp() - window * 86400
    recent = {r["id"] for r in sent if datetime.fromisoformat(r["send_time"]).timestamp() >= boundary}
    assert 0 < len(recent) < len(sent)

    run = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox, email_activity_date_window=window),
                     catalog=configured_catalog(discovered, ["reports_email_activity"]))

    assert run.returncode == 0, run.output
    assert {r["campaign_id"] for r in run.records("reports_email_activity")} <= recent
    expected = [a for a in expected_records(sandbox.data, discovered)["reports_email_activity"] if a["campaign_id"] in recent]
    assert keyed("reports_email_activity", run.records("reports_email_activity")).keys() == keyed(
        "reports_email_activity", expected).keys()


def test_a_sync_resumed_from_a_mid_sync_state_loses_no_record(sandbox, workdir, discovered, full_read):
    stream = "list_members"
    messages = [m for m in full_read.messages if m["type"] in ("RECORD", "STATE")]
    states = [i for i, m in enumerate(messages)
              if m["type"] == "STATE" and m["state"]["stream"]["stream_descriptor"]["name"] == stream]
    cut = states[len(states) // 2]  # a state emitted while the stream was still being read
    before = [m["record"]["data"] for m in messages[:cut] if m["type"] == "RECORD" and m["record"]["stream"] == stream]
    state = messages[cut]["state"]

    resumed = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox),
                         catalog=configured_catalog(discovered, [stream], sync_mode="incremental"), state=[state])

    assert resumed.returncode == 0, resumed.output
    union = keyed(stream, list({(r["id"], r["list_id"]): r for r in before + resumed.records(stream)}.values()))
    assert union.keys() == keyed(stream, expected_records(sandbox.data, discovered)[stream]).keys()
    assert len(resumed.records(stream)) < len(full_read.records(stream)) or len(before) == 0


def test_start_date_keeps_old_lists_and_campaigns_but_filters_their_members_and_activity(sandbox, workdir, discovered):
    start = "2025-01-01T00:00:00Z"  # the sandbox's boundary value: records exactly at start_date are read
    run = run_source(COMMAND, "read", workdir, config=apikey_config(sandbox, start_date=start),
                     catalog=configured_catalog(discovered, ["lists", "campaigns", "list_members", "reports_email_activity"],
                                                sync_mode="incremental"))

    assert run.returncode == 0, run.output
    assert len(run.records("lists")) == len(sandbox.data["lists"])
    assert len(run.records("campaigns")) == len(sandbox.data["campaigns"])
    members = expected_records(sandbox.data, discovered)["list_members"]
    assert keyed("list_members", run.records("list_members")).keys() == keyed(
        "list_members", [m for m in members if m["last_changed"] >= "2025-01-01T00:00:00+00:00"]).keys()
    assert any(m["last_changed"] == sandbox.boundary for m in run.records("list_members"))
    activity = expected_records(sandbox.data, discovered)["reports_email_activity"]
    assert keyed("reports_email_activity", run.records("reports_email_activity")).keys() == keyed(
        "reports_email_activity", [a for a in activity if a["timestamp"] >= "2025-01-01T00:00:00+00:00"]).keys()


def test_a_full_read_under_five_percent_faults_loses_no_record(discovered, workdir):
    faults = FaultPlan(rate=0.05, seed=3, stall_seconds=2.0)
    with MailchimpSandbox(scale=SCALE, seed=0, faults=faults) as sb:
        run = run_source(COMMAND, "read", workdir, config=apikey_config(sb),
                         catalog=configured_catalog(discovered, sync_mode="incremental"))

        injected = [r for r in sb.server.requests() if r.fault]
        assert run.returncode == 0, run.output
        assert len(injected) >= 3, "the plan should inject a few faults at this scale"
        expected = expected_records(sb.data, discovered)
        read = run.records_by_stream()
        for stream in STREAMS:
            assert keyed(stream, read.get(stream, [])) == keyed(stream, expected[stream]), stream
        assert_no_secret(run, sb)


def read_until_killed(config: dict, catalog: dict, workdir: Path, kill_after_states: int) -> list[dict[str, Any]]:
    """Starts a read and kills it (SIGKILL) after it has printed `kill_after_states` state messages; returns the
    messages printed until then."""
    import subprocess

    from integration_tests.harness import command_path

    (workdir / "kill_config.json").write_text(json.dumps(config))
    (workdir / "kill_catalog.json").write_text(json.dumps(catalog))
    process = subprocess.Popen(
        [command_path(COMMAND), "read", "--config", str(workdir / "kill_config.json"),
         "--catalog", str(workdir / "kill_catalog.json")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    messages, states = [], 0
    try:
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            messages.append(message)
            states += message.get("type") == "STATE"
            if states >= kill_after_states:
                process.kill()
                break
    finally:
        process.kill()
        process.wait()
    return messages


@pytest.mark.parametrize("kill_after_states", [2, 6])
def test_a_sync_killed_and_resumed_from_its_last_state_loses_no_record(discovered, workdir, kill_after_states):
    streams = ["list_members", "reports_email_activity", "campaigns", "list_segments"]
    with MailchimpSandbox(scale=SCALE, seed=0, latency=0.05) as sb:
        catalog = configured_catalog(discovered, streams, sync_mode="incremental")
        killed = read_until_killed(apikey_config(sb), catalog, workdir, kill_after_states)
        last_states: dict[str, dict] = {}
        for message in killed:
            if message["type"] == "STATE":
                last_states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]
        assert last_states, "the sync was killed before its first state"
        total = sum(len(expected_records(sb.data, discovered)[stream]) for stream in streams)
        assert len([m for m in killed if m["type"] == "RECORD"]) < total, "the sync ended before it was killed"

        resumed = run_source(COMMAND, "read", workdir, config=apikey_config(sb), catalog=catalog,
                             state=list(last_states.values()))

        assert resumed.returncode == 0, resumed.output
        expected = expected_records(sb.data, discovered)
        before = [m["record"] for m in killed if m["type"] == "RECORD"]
        for stream in streams:
            union = [r["data"] for r in before if r["stream"] == stream] + resumed.records(stream)
            got = {tuple(r[k] for k in STREAMS[stream].primary_key) for r in union}
            assert got == keyed(stream, expected[stream]).keys(), stream


def test_email_activity_of_campaigns_with_more_than_a_page_of_recipients_is_read_in_full(discovered, workdir):
    # At this scale some campaigns have more than 1,000 recipients: more than one page of emails, each holding
    # several activity items (paging counts emails, not the records made of them).
    with MailchimpSandbox(scale=6, seed=0) as sb:
        assert max(len(emails) for emails in sb.data["email_activity"].values()) > 1000
        run = run_source(COMMAND, "read", workdir, config=apikey_config(sb),
                         catalog=configured_catalog(discovered, ["reports_email_activity"]))

        assert run.returncode == 0, run.output
        stream = "reports_email_activity"
        assert keyed(stream, run.records(stream)) == keyed(stream, expected_records(sb.data, discovered)[stream])


def test_the_pages_of_a_large_list_are_requested_in_parallel_and_each_member_is_read_once(discovered, workdir):
    """A list is a chain of offset pages; once its first page has told the total, the next ones are requested
    together (connector_common.pages_read_ahead) instead of one round trip after the other."""
    if speedups_switched_off():  # set by a module fixture
        pytest.skip("pages read ahead are a speed-up of our command, switched off in this run")
    with MailchimpSandbox(scale=2, seed=0) as sb:
        largest = max(sb.data["members"], key=lambda list_id: len(sb.data["members"][list_id]))
        assert len(sb.data["members"][largest]) > 4000  # five pages or more
        app, dispatch, lock = sb.server.app, sb.server.app.dispatch, threading.Lock()
        in_flight, most_in_flight = [0], [0]

        def slow_member_pages(request):
            if request.path != f"/3.0/lists/{largest}/members" or "status" in request.query:
                return dispatch(request)
            with lock:
                in_flight[0] += 1
                most_in_flight[0] = max(most_in_flight[0], in_flight[0])
            try:
                time.sleep(0.2)  # a remote API's page of 1,000 members
                return dispatch(request)
            finally:
                with lock:
                    in_flight[0] -= 1

        app.dispatch = slow_member_pages
        run = run_source(COMMAND, "read", workdir, config=apikey_config(sb),
                         catalog=configured_catalog(discovered, ["list_members"]))

        assert run.returncode == 0, run.output
        assert most_in_flight[0] >= 2
        stream = "list_members"
        assert keyed(stream, run.records(stream)) == keyed(stream, expected_records(sb.data, discovered)[stream])
