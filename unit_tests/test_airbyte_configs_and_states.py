"""What Airbyte's UI and OAuth server do with our specs, and the migrations of Airbyte's configs and states, unit by unit.

- Each spec is a valid Draft 7 schema, and passes a strict validator (format checking, `date-time` included) with its
  own examples: each field's examples against the field, and a config made of them against the whole spec.
- Every field has an `order`, inside the authentication `oneOf` too (the UI sorts the form by it).
- Declarative OAuth: the consent URL and token request the platform builds from `oauth_connector_input_specification`
  (its placeholders, as Airbyte's DeclarativeOAuthFlow renders them) reach the sandbox's OAuth endpoints, the values
  `extract_output` names are taken from the token response, and the config the platform assembles (the form's
  `auth_type`, the server output at its paths, the OAuth output at its paths) is valid and passes `check`.
- The config and state migrations, called as the CDK calls them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, quote, urlsplit

import jsonschema
import pytest
import requests
import yaml
from jinja2 import Template

from connector_common.airbyte_migrations import (
    CampaignMonitorConfigFromAirbytes,
    MailchimpConfigFromAirbytes,
    ReadInFullDespiteSavedCursor,
    ResumeAirbytesPerListState,
)
from integration_tests.harness import run_source
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox

ROOT = Path(__file__).resolve().parents[1]
CONNECTORS = {"source-mailchimp": ROOT / "source_mailchimp", "source-campaign-monitor": ROOT / "source_campaign_monitor"}
CHECKER = jsonschema.Draft7Validator.FORMAT_CHECKER


def spec_of(command: str) -> dict[str, Any]:
    return yaml.safe_load((CONNECTORS[command] / "manifest.yaml").read_text())["spec"]


def fields(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field of a connection specification, those of each `oneOf` branch included."""
    for name, field in (schema.get("properties") or {}).items():
        yield f"{path}{name}", field
        yield from fields(field, f"{path}{name}.")
        for number, branch in enumerate(field.get("oneOf") or []):
            yield from fields(branch, f"{path}{name}[{number}].")


# ------------------------------------------------------------------------------------------------------------ specs


def test_the_format_checker_checks_date_times():
    # Without rfc3339-validator installed, jsonschema silently passes any `date-time`: the checks below would prove
    # nothing about the start dates.
    assert "date-time" in CHECKER.checkers
    assert not CHECKER.conforms("2024-01-01", "date-time")


@pytest.mark.parametrize("command", sorted(CONNECTORS))
def test_each_spec_is_a_valid_draft_7_schema_and_its_examples_pass_a_strict_validator(command):
    schema = spec_of(command)["connection_specification"]
    jsonschema.Draft7Validator.check_schema(schema)
    examples = {}
    for path, field in fields(schema):
        for example in field.get("examples") or []:
            errors = list(jsonschema.Draft7Validator(field, format_checker=CHECKER).iter_errors(example))
            assert not errors, (path, example, [e.message for e in errors])
            examples.setdefault(path, example)
    assert examples, "no examples to check"
    config = {path: value for path, value in examples.items() if "." not in path}
    config["credentials"] = spec_of(command)["connection_specification"]["properties"]["credentials"]["oneOf"][-1]
    config["credentials"] = {name: field.get("const", "an-example-key-us6") for name, field in config["credentials"]["properties"].items()}
    jsonschema.Draft7Validator(schema, format_checker=CHECKER).validate(config)


def test_mailchimp_start_date_takes_a_date_or_a_date_time_as_its_pattern_and_examples_say():
    field = spec_of("source-mailchimp")["connection_specification"]["properties"]["start_date"]
    validator = jsonschema.Draft7Validator(field, format_checker=CHECKER)
    for value in ("2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00+02:00"):
        assert validator.is_valid(value), value
    for value in ("yesterday", "2024-1-1", "01/01/2024"):
        assert not validator.is_valid(value), value


@pytest.mark.parametrize("command", sorted(CONNECTORS))
def test_every_field_has_an_order_inside_the_authentication_one_of_too(command):
    schema = spec_of(command)["connection_specification"]
    missing = [path for path, _ in fields(schema) if "order" not in _]
    assert missing == []
    for branch in schema["properties"]["credentials"]["oneOf"]:
        orders = [field["order"] for field in branch["properties"].values()]
        assert sorted(orders) == list(range(len(orders))), branch["title"]
        assert branch["properties"]["auth_type"]["order"] == 0
    top = [field["order"] for field in schema["properties"].values()]
    assert len(set(top)) == len(top)


def test_campaign_monitor_requires_credentials_again():
    assert spec_of("source-campaign-monitor")["connection_specification"]["required"] == ["credentials"]


# ------------------------------------------------------------------------------------------------ declarative OAuth


def render_platform_placeholders(template: str, values: dict[str, str]) -> str:
    """As Airbyte's DeclarativeOAuthFlow does: `{{x_param}}` becomes `x=<url-encoded value>`, `{{x_value}}` the value."""
    context = {}
    for name, value in values.items():
        context[f"{name}_value"] = value
        context[f"{name}_param"] = f"{name}={quote(value, safe='')}"
    return Template(template).render(**context)


OAUTH = {
    # command: (sandbox class, the real hosts the spec names, the sandbox's token path)
    "source-mailchimp": (MailchimpSandbox, "https://login.mailchimp.com", "/oauth2/token"),
    "source-campaign-monitor": (CampaignMonitorSandbox, "https://api.createsend.com", "/oauth/token"),
}


@pytest.mark.parametrize("command", sorted(OAUTH))
def test_the_declarative_oauth_flow_is_complete_and_yields_a_config_that_passes_check(command, tmp_path):
    spec = spec_of(command)
    auth = spec["advanced_auth"]
    oauth = auth["oauth_config_specification"]
    for part in ("oauth_connector_input_specification", "complete_oauth_output_specification",
                 "complete_oauth_server_input_specification", "complete_oauth_server_output_specification"):
        assert part in oauth, part
    connector_input = oauth["oauth_connector_input_specification"]
    sandbox_class, real_host, token_path = OAUTH[command]
    oauth_branch = next(b for b in spec["connection_specification"]["properties"]["credentials"]["oneOf"]
                        if b["properties"]["auth_type"].get("const") == auth["predicate_value"])
    assert auth["predicate_key"] == ["credentials", "auth_type"]

    # Every output lands on a field of the OAuth branch; the server input is the instance's client id and secret.
    outputs = {**oauth["complete_oauth_output_specification"]["properties"],
               **oauth["complete_oauth_server_output_specification"]["properties"]}
    for name, output in outputs.items():
        assert output["path_in_connector_config"][0] == "credentials", name
        assert output["path_in_connector_config"][1] in oauth_branch["properties"], name
    assert set(oauth["complete_oauth_server_input_specification"]["properties"]) == {"client_id", "client_secret"}
    assert set(connector_input["extract_output"]) <= set(oauth["complete_oauth_output_specification"]["properties"])

    with sandbox_class(scale=0.02) as sb:
        described = sb.describe()
        app = described["oauth"]
        values = {"client_id": app["client_id"], "client_secret": app["client_secret"],
                  "redirect_uri": app["redirect_uri"], "state": "a-state-9f"}
        consent = urlsplit(render_platform_placeholders(connector_input["consent_url"], values))
        assert f"{consent.scheme}://{consent.netloc}" == real_host
        query = {k: v[0] for k, v in parse_qs(consent.query).items()}
        assert query["client_id"] == app["client_id"] and query["redirect_uri"] == app["redirect_uri"]
        assert query["state"] == "a-state-9f" and query.get("response_type", "code") == "code"

        assert connector_input["access_token_url"].startswith(real_host)
        params = {k: render_platform_placeholders(v, {**values, "auth_code": app["authorization_code"]})
                  for k, v in connector_input["access_token_params"].items()}
        assert params["grant_type"] == "authorization_code" and params["code"] == app["authorization_code"]
        answer = requests.post(sb.url + token_path, data=params, headers=connector_input.get("access_token_headers"),
                               timeout=10)
        assert answer.status_code == 200, answer.text
        extracted = {name: answer.json()[name] for name in connector_input["extract_output"]}

        # The config the platform saves: the form's choice, then each output at its path.
        config: dict[str, Any] = {"credentials": {"auth_type": auth["predicate_value"]}, "sandbox_url": sb.url}
        server_output = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
        for name, output in oauth["complete_oauth_server_output_specification"]["properties"].items():
            config["credentials"][output["path_in_connector_config"][1]] = server_output[name]
        for name, output in oauth["complete_oauth_output_specification"]["properties"].items():
            config["credentials"][output["path_in_connector_config"][1]] = extracted[name]
        jsonschema.Draft7Validator(spec["connection_specification"], format_checker=CHECKER).validate(config)

        checked = run_source(command, "check", tmp_path, config=config)
        assert checked.connection_status()["status"] == "SUCCEEDED", checked.output[-2000:]


# ------------------------------------------------------------------------------------------------------ migrations


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"apikey": "k-us6", "start_date": "2024-01-01T00:00:00.000Z"},
         {"credentials": {"auth_type": "apikey", "apikey": "k-us6"}, "start_date": "2024-01-01T00:00:00.000Z"}),
        ({"credentials": {"auth_type": "apikey", "apikey": "k-us6"}, "data_center": "us6"},
         {"credentials": {"auth_type": "apikey", "apikey": "k-us6"}, "data_center": "us6"}),
        ({"credentials": {"auth_type": "oauth2.0", "access_token": "t"}, "data_center": "us6"},
         {"credentials": {"auth_type": "oauth2.0", "access_token": "t"}, "data_center": "us6"}),
        ({"apikey": ""}, {"apikey": ""}),  # nothing to move: the settings check names what is missing
    ],
)
def test_mailchimp_config_migration(config, expected):
    MailchimpConfigFromAirbytes().transform(config)
    assert config == expected


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"username": "key", "password": "x", "start_date": "2024-01-01"},
         {"credentials": {"auth_type": "api_key", "api_key": "key"}, "start_date": "2024-01-01"}),
        ({"username": "key", "password": "x", "client_id": "c1"},
         {"credentials": {"auth_type": "api_key", "api_key": "key"}, "api_client_id": "c1"}),
        ({"api_key": "key", "api_client_id": "c2"}, {"credentials": {"auth_type": "api_key", "api_key": "key"}, "api_client_id": "c2"}),
        # An OAuth application's client id stays where the settings normalisation reads it.
        ({"client_id": "app", "client_secret": "s", "refresh_token": "r"},
         {"client_id": "app", "client_secret": "s", "refresh_token": "r"}),
        ({"credentials": {"auth_type": "api_key", "api_key": "key"}, "api_client_id": "c3"},
         {"credentials": {"auth_type": "api_key", "api_key": "key"}, "api_client_id": "c3"}),
    ],
)
def test_campaign_monitor_config_migration(config, expected):
    CampaignMonitorConfigFromAirbytes().transform(config)
    assert config == expected


def list_members_migration() -> ResumeAirbytesPerListState:
    return ResumeAirbytesPerListState(config={}, parameters={"name": "list_members"}, cursor_field="last_changed",
                                      resumed_partitions=[{"member_status": "all_but_archived"}])


def test_airbytes_list_members_state_becomes_ours_and_ours_is_left_alone():
    migration = list_members_migration()
    airbytes = {"use_global_cursor": False, "state": {"last_changed": "2025-06-28T08:25:36.000000Z"}, "lookback_window": 1,
                "parent_state": {}, "states": [{"partition": {"id": "L1", "parent_slice": {}},
                                                "cursor": {"last_changed": "2025-06-18T21:42:49.000000Z"}}]}
    assert migration.should_migrate(airbytes)
    ours = migration.migrate(airbytes)
    assert ours == {"use_global_cursor": False, "states": [
        {"partition": {"list_id": "L1", "member_status": "all_but_archived", "parent_slice": {}},
         "cursor": {"last_changed": "2025-06-18T21:42:49.000000Z"}}]}
    assert not migration.should_migrate(ours)
    assert not migration.should_migrate({})


def test_reading_in_full_despite_a_saved_cursor_is_logged_once_naming_the_stream(caplog):
    migration = ReadInFullDespiteSavedCursor(config={}, parameters={"name": "unsubscribes"}, reason="Why.")
    assert not migration.should_migrate({"__ab_no_cursor_state_message": True})
    state = {"use_global_cursor": False, "states": [{"partition": {"id": "C1", "parent_slice": {}},
                                                     "cursor": {"timestamp": "2025-02-24T18:21:10+0000"}}]}
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert migration.should_migrate(state) and migration.migrate(state) == {}
    assert [r.getMessage() for r in caplog.records] == [
        "`unsubscribes` is read in full every sync: the saved incremental state (cursor `timestamp`) is not used. Why."]


def test_the_migrations_are_wired_in_both_manifests():
    manifests = {command: (folder / "manifest.yaml").read_text() for command, folder in CONNECTORS.items()}
    assert "MailchimpConfigFromAirbytes" in manifests["source-mailchimp"]
    assert "CampaignMonitorConfigFromAirbytes" in manifests["source-campaign-monitor"]
    mailchimp = yaml.safe_load(manifests["source-mailchimp"])["definitions"]
    assert mailchimp["list_members_stream"]["state_migrations"][0]["class_name"].endswith(".ResumeAirbytesPerListState")
    for stream in ("lists_stream", "reports_stream", "unsubscribes_stream"):
        assert mailchimp[stream]["state_migrations"][0]["class_name"].endswith(".ReadInFullDespiteSavedCursor")
        assert mailchimp[stream]["state_migrations"][0]["reason"]
    assert json.dumps(mailchimp)  # plain data


# ----------------------------------------------------------------------------------------- what users are warned of


METADATA = {"source-mailchimp": [ROOT / "metadata.yaml", ROOT / "source_mailchimp" / "metadata.yaml"],
            "source-campaign-monitor": [ROOT / "source_campaign_monitor" / "metadata.yaml"]}


@pytest.mark.parametrize("command", sorted(METADATA))
def test_metadata_declares_the_differences_from_airbytes_connector_as_a_breaking_change(command):
    manifest = yaml.safe_load((CONNECTORS[command] / "manifest.yaml").read_text())
    streams = set()
    for entry in manifest["streams"]:
        definition = manifest["definitions"][(entry if isinstance(entry, str) else entry["$ref"]).rsplit("/", 1)[-1]]
        streams.add(definition.get("name") or definition["$parameters"]["name"])
    migration_page = (ROOT / "docs" / "migration.md").read_text()
    for path in METADATA[command]:
        releases = yaml.safe_load(path.read_text())["data"]["releases"]
        assert releases["migrationDocumentationUrl"].endswith("/docs/migration.md")
        (version, change), = releases["breakingChanges"].items()
        assert version == yaml.safe_load(path.read_text())["data"]["dockerImageTag"]
        anchor = change["migrationDocumentationUrl"].rsplit("#", 1)[-1]
        assert f"\n## {anchor.replace('-', ' ').title()}\n" in migration_page, anchor
        (scope,) = change["scopedImpact"]
        assert set(scope["impactedScopes"]) <= streams, set(scope["impactedScopes"]) - streams


def test_the_readme_links_the_migration_page():
    assert "(docs/migration.md)" in (ROOT / "README.md").read_text()
