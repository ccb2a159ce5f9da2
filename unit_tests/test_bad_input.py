"""Every entrypoint of both connectors, given bad input, ends with a clear Airbyte message and an exit code, never a
bare traceback (issue 4, "Bad input").

The console scripts' `run()` is called in-process (a subprocess costs seconds of start-up per case on this machine);
file descriptors 1 and 2 are captured, so whatever the CDK prints directly is seen too. An exception escaping `run()`
fails the test like the traceback it would print. Each case says what the message must name.

A clean failure is either
- for `check`: a CONNECTION_STATUS FAILED (exit 0, Airbyte's contract) or a TRACE error, or
- a TRACE error with failure_type config_error or system_error and a non-zero exit code;
and every line on stdout is an Airbyte message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

import source_campaign_monitor.run as campaign_monitor_run
import source_mailchimp.run as mailchimp_run
from integration_tests.discovered_streams import discovered_streams
from integration_tests.harness import bare_tracebacks
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox



@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    messages: list[dict]

    def failure(self) -> tuple[str, str] | None:
        """(kind, message) of the run's failure: ("status", ...) for a failed check, ("config_error" or
        "system_error", ...) for a TRACE error; None if it did not fail."""
        for message in self.messages:
            if message["type"] == "CONNECTION_STATUS" and message["connectionStatus"]["status"] == "FAILED":
                return "status", message["connectionStatus"].get("message", "")
            if message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
                error = message["trace"]["error"]
                return error["failure_type"], error["message"]
        return None


CONNECTORS: dict[str, Callable[[list[str]], None]] = {
    "mailchimp": mailchimp_run.run,
    "campaign_monitor": campaign_monitor_run.run,
}


def invoke(connector: str, argv: list[str], capfd) -> Outcome:
    capfd.readouterr()
    try:
        CONNECTORS[connector](argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    out, err = capfd.readouterr()
    messages = []
    for line in out.split("\n"):
        if not line.strip():
            continue
        message = json.loads(line)  # nothing but Airbyte messages on stdout
        assert isinstance(message, dict) and "type" in message, line[:300]
        messages.append(message)
    return Outcome(code, out, err, messages)


def assert_clean_failure(outcome: Outcome, verb: str, *mentions: str) -> None:
    assert not bare_tracebacks(outcome.stdout, outcome.stderr)
    failure = outcome.failure()
    assert failure is not None, f"did not fail: {outcome.stdout[-1500:]}"
    kind, message = failure
    if kind == "status":
        assert verb == "check" and outcome.exit_code == 0
    else:
        assert kind in ("config_error", "system_error"), failure
        assert outcome.exit_code != 0
    for mention in mentions:
        assert mention.lower() in message.lower(), (mention, message)


# --- the sandboxes a valid config points at (tiny; a case that wrongly got as far as a read would end quickly) --


@pytest.fixture(scope="module")
def mailchimp_sandbox():
    with MailchimpSandbox(scale=0.02, seed=1) as sb:
        yield sb


@pytest.fixture(scope="module")
def campaign_monitor_sandbox():
    with CampaignMonitorSandbox(scale=0.02, seed=1) as sb:
        yield sb


@pytest.fixture
def good_config(request, mailchimp_sandbox, campaign_monitor_sandbox) -> Callable[[str], dict]:
    def make(connector: str) -> dict:
        if connector == "mailchimp":
            return {"credentials": {"auth_type": "apikey", "apikey": mailchimp_sandbox.api_key},
                    "sandbox_url": mailchimp_sandbox.url}
        return {"credentials": {"auth_type": "api_key", "api_key": campaign_monitor_sandbox.api_key},
                "sandbox_url": campaign_monitor_sandbox.url}
    return make


def write(path: Path, content: Any) -> str:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


# --- config files --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("verb", ["check", "discover", "read"])
@pytest.mark.parametrize("content, mention", [
    (None, "config"),  # the file does not exist
    ("{not json", "json"),
    ("", "json"),
    ("[1, 2]", "object"),
    ('"a string"', "object"),
    (b"\xff\xfe\x00garbage", "config"),
], ids=["missing", "malformed", "empty", "array", "string", "binary"])
def test_a_missing_or_malformed_config_file_fails_cleanly_naming_it(connector, verb, content, mention, tmp_path, capfd):
    config = tmp_path / "config.json"
    if isinstance(content, bytes):
        config.write_bytes(content)
    elif content is not None:
        config.write_text(content)
    catalog = write(tmp_path / "catalog.json", {"streams": []})
    argv = [verb, "--config", str(config)] + (["--catalog", catalog] if verb == "read" else [])

    outcome = invoke(connector, argv, capfd)

    assert_clean_failure(outcome, verb, mention)


@pytest.mark.parametrize("connector", CONNECTORS)
def test_a_read_without_a_config_argument_fails_cleanly(connector, tmp_path, capfd):
    outcome = invoke(connector, ["read", "--catalog", write(tmp_path / "catalog.json", {"streams": []})], capfd)

    assert not bare_tracebacks(outcome.stdout, outcome.stderr)
    assert outcome.exit_code != 0


@pytest.mark.parametrize("connector", CONNECTORS)
def test_an_unknown_command_fails_with_usage_and_no_traceback(connector, capfd):
    outcome = invoke(connector, ["frobnicate"], capfd)

    assert outcome.exit_code != 0
    assert not bare_tracebacks(outcome.stdout, outcome.stderr)
    assert "frobnicate" in outcome.stderr or outcome.failure() is not None


# --- each setting wrong --------------------------------------------------------------------------------------------

MAILCHIMP_KEY = "0123456789abcdef0123456789abcdef"
# (settings to merge into a good config, what the message must name). A `credentials` override replaces them whole.
MAILCHIMP_SETTINGS = {
    "credentials missing": ({"credentials": None}, "credentials"),
    "credentials a string": ({"credentials": "key"}, "credentials"),
    "auth_type unknown": ({"credentials": {"auth_type": "password", "apikey": f"{MAILCHIMP_KEY}-us6"}}, "auth_type"),
    "apikey empty": ({"credentials": {"auth_type": "apikey", "apikey": ""}}, "apikey"),
    "apikey a number": ({"credentials": {"auth_type": "apikey", "apikey": 12345678}}, "apikey"),
    "apikey without data center": ({"credentials": {"auth_type": "apikey", "apikey": MAILCHIMP_KEY}}, "apikey"),
    "apikey malformed data center": ({"credentials": {"auth_type": "apikey", "apikey": f"{MAILCHIMP_KEY}-u$"}}, "apikey"),
    "apikey unknown data center": ({"credentials": {"auth_type": "apikey", "apikey": f"{MAILCHIMP_KEY}-zz99"}},
                                   "credentials"),
    "oauth without token": ({"credentials": {"auth_type": "oauth2.0", "client_id": "x", "client_secret": "y"}},
                            "access_token"),
    "oauth token a number": ({"credentials": {"auth_type": "oauth2.0", "access_token": 42}}, "access_token"),
    "start_date not a date": ({"start_date": "yesterday"}, "start_date"),
    "start_date a number": ({"start_date": 20240101}, "start_date"),
    "start_date impossible": ({"start_date": "2024-02-30T00:00:00Z"}, "start_date"),
    "start_date in the future": ({"start_date": "2999-01-01T00:00:00Z"}, "start_date"),
    "date window negative": ({"email_activity_date_window": -1}, "email_activity_date_window"),
    "date window a string": ({"email_activity_date_window": "30"}, "email_activity_date_window"),
    "date window a boolean": ({"email_activity_date_window": True}, "email_activity_date_window"),
    "concurrency zero": ({"num_workers": 0}, "num_workers"),
    "concurrency above the limit": ({"num_workers": 11}, "num_workers"),
    "sandbox_url not loopback": ({"sandbox_url": "http://example.com:8080"}, "sandbox_url"),
    "sandbox_url https": ({"sandbox_url": "https://127.0.0.1:1"}, "sandbox_url"),
    "sandbox_url a number": ({"sandbox_url": 8080}, "sandbox_url"),
    "sandbox_url with credentials": ({"sandbox_url": "http://user:pw@127.0.0.1:1"}, "sandbox_url"),
    "sandbox_url lookalike host": ({"sandbox_url": "http://127.0.0.1.example.com:1"}, "sandbox_url"),
    "sandbox_url malformed port": ({"sandbox_url": "http://127.0.0.1:port"}, "sandbox_url"),
}
CAMPAIGN_MONITOR_SETTINGS = {
    "credentials missing": ({"credentials": None}, "credentials"),
    "credentials a string": ({"credentials": "key"}, "credentials"),
    "auth_type unknown": ({"credentials": {"auth_type": "password", "api_key": "k" * 32}}, "auth_type"),
    "api_key empty": ({"credentials": {"auth_type": "api_key", "api_key": ""}}, "api_key"),
    "api_key blank": ({"credentials": {"auth_type": "api_key", "api_key": "   "}}, "api_key"),
    "api_key a number": ({"credentials": {"auth_type": "api_key", "api_key": 12345678}}, "api_key"),
    "api_key rejected": ({"credentials": {"auth_type": "api_key", "api_key": "f" * 48}}, "api_key"),
    "oauth without client_secret": ({"credentials": {"auth_type": "oauth2.0", "client_id": "1", "refresh_token": "r"}},
                                    "client_secret"),
    "oauth without refresh_token": ({"credentials": {"auth_type": "oauth2.0", "client_id": "1", "client_secret": "s"}},
                                    "refresh_token"),
    "oauth refresh_token a number": ({"credentials": {"auth_type": "oauth2.0", "client_id": "1", "client_secret": "s",
                                                      "refresh_token": 7}}, "refresh_token"),
    "start_date not a date": ({"start_date": "yesterday"}, "start_date"),
    "start_date a number": ({"start_date": 20240101}, "start_date"),
    "start_date impossible": ({"start_date": "2024-02-30T00:00:00Z"}, "start_date"),
    "start_date in the future": ({"start_date": "2999-01-01T00:00:00Z"}, "start_date"),
    "api_client_id a number": ({"api_client_id": 5}, "api_client_id"),
    "api_client_id unknown": ({"api_client_id": "0" * 32}, "api_client_id"),
    "num_workers zero": ({"num_workers": 0}, "num_workers"),
    "num_workers negative": ({"num_workers": -3}, "num_workers"),
    "num_workers a string": ({"num_workers": "4"}, "num_workers"),
    "sandbox_url not loopback": ({"sandbox_url": "http://example.com:8080"}, "sandbox_url"),
    "sandbox_url https": ({"sandbox_url": "https://127.0.0.1:1"}, "sandbox_url"),
    "sandbox_url a number": ({"sandbox_url": 8080}, "sandbox_url"),
    "sandbox_url with credentials": ({"sandbox_url": "http://user:pw@127.0.0.1:1"}, "sandbox_url"),
    "sandbox_url lookalike host": ({"sandbox_url": "http://127.0.0.1.example.com:1"}, "sandbox_url"),
    "sandbox_url malformed port": ({"sandbox_url": "http://127.0.0.1:port"}, "sandbox_url"),
}
SETTING_CASES = [("mailchimp", name, *case) for name, case in MAILCHIMP_SETTINGS.items()] + [
    ("campaign_monitor", name, *case) for name, case in CAMPAIGN_MONITOR_SETTINGS.items()]


def bad_config(good: dict, override: dict) -> dict:
    config = {**good, **override}
    return {k: v for k, v in config.items() if v is not None}


@pytest.mark.parametrize("connector, name, override, field", SETTING_CASES,
                         ids=[f"{c}: {n}" for c, n, *_ in SETTING_CASES])
def test_check_with_a_wrong_setting_fails_naming_the_field(connector, name, override, field, good_config, tmp_path,
                                                            capfd):
    config = write(tmp_path / "config.json", bad_config(good_config(connector), override))

    outcome = invoke(connector, ["check", "--config", config], capfd)

    assert_clean_failure(outcome, "check", field)


@pytest.mark.parametrize("connector, name, override, field",
                         [case for case in SETTING_CASES if "rejected" not in case[1] and "unknown" not in case[1]],
                         ids=[f"{c}: {n}" for c, n, *_ in SETTING_CASES if "rejected" not in n and "unknown" not in n])
def test_read_with_a_wrong_setting_fails_with_a_config_error_before_any_request(
        connector, name, override, field, good_config, mailchimp_sandbox, campaign_monitor_sandbox, tmp_path, capfd):
    sandbox = mailchimp_sandbox if connector == "mailchimp" else campaign_monitor_sandbox
    config = write(tmp_path / "config.json", bad_config(good_config(connector), override))
    catalog = write(tmp_path / "catalog.json", configured(connector, "lists"))
    sandbox.server.reset_log()

    outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog], capfd)

    assert_clean_failure(outcome, "read", field)
    assert outcome.failure()[0] == "config_error"
    assert [r.path for r in sandbox.server.requests()] == []


def test_the_good_configs_used_above_do_succeed(good_config, tmp_path, capfd):
    # the cases fail because of their one wrong setting, not because the base config is wrong
    for connector in CONNECTORS:
        config = write(tmp_path / f"{connector}.json", good_config(connector))
        outcome = invoke(connector, ["check", "--config", config], capfd)
        assert [m["connectionStatus"]["status"] for m in outcome.messages if m["type"] == "CONNECTION_STATUS"] == [
            "SUCCEEDED"], outcome.stdout[-2000:]


# --- catalogs --------------------------------------------------------------------------------------------------------

JSON_SCHEMA = {"type": "object", "properties": {}}


def configured(connector: str, stream: str, sync_mode: str = "full_refresh", cursor: str | None = None) -> dict:
    entry: dict[str, Any] = {
        "stream": {"name": stream, "json_schema": JSON_SCHEMA, "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": sync_mode,
        "destination_sync_mode": "append",
    }
    if cursor:
        entry["cursor_field"] = [cursor]
    return {"streams": [entry]}


CATALOG_CASES = {
    "unknown stream": (lambda c: configured(c, "no_such_stream"), "no_such_stream"),
    "malformed file": (lambda c: "{streams: [", "catalog"),
    "not a catalog": (lambda c: {"streams": "lists"}, "catalog"),
    "a stream without a name": (lambda c: {"streams": [{"stream": {}, "sync_mode": "full_refresh",
                                                        "destination_sync_mode": "append"}]}, "catalog"),
    "unknown sync mode": (lambda c: configured(c, "lists", "sometimes"), "catalog"),
}


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", CATALOG_CASES)
def test_read_with_a_bad_catalog_fails_with_a_config_error_naming_the_problem(connector, case, good_config, tmp_path,
                                                                               capfd):
    make, mention = CATALOG_CASES[case]
    config = write(tmp_path / "config.json", good_config(connector))
    catalog = write(tmp_path / "catalog.json", make(connector))

    outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog], capfd)

    assert_clean_failure(outcome, "read", mention)
    assert outcome.failure()[0] == "config_error"


@pytest.mark.parametrize("connector", CONNECTORS)
def test_incremental_asked_of_a_full_refresh_stream_reads_it_in_full_and_says_so(connector, good_config, tmp_path,
                                                                                  capfd):
    """PyAirbyte's default read asks incremental of every stream; Airbyte's CDK reads such a stream in full."""
    stream = "lists"
    config = write(tmp_path / "config.json", good_config(connector))
    catalog = write(tmp_path / "catalog.json", configured(connector, stream, "incremental"))

    outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog], capfd)

    assert outcome.exit_code == 0 and outcome.failure() is None, outcome.stdout[-2000:]
    assert [m for m in outcome.messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]
    warnings = [m["log"]["message"] for m in outcome.messages if m["type"] == "LOG" and m["log"]["level"] == "WARN"]
    assert any(stream in w and "full refresh" in w for w in warnings), warnings


@pytest.mark.parametrize("connector", CONNECTORS)
def test_read_with_a_missing_catalog_file_fails_cleanly(connector, good_config, tmp_path, capfd):
    config = write(tmp_path / "config.json", good_config(connector))

    outcome = invoke(connector, ["read", "--config", config, "--catalog", str(tmp_path / "nowhere.json")], capfd)

    assert_clean_failure(outcome, "read", "catalog")


# --- states --------------------------------------------------------------------------------------------------------

# The incremental stream each case is about, and its cursor field as discover declares it. A case's mention "STREAM"
# is that stream's name.
INCREMENTAL = {connector: (stream, discovered_streams(connector)[stream].cursor)
               for connector, stream in (("mailchimp", "list_members"), ("campaign_monitor", "campaign_opens"))}


def stream_state(stream: str, blob: Any) -> list[dict]:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": blob}}]


STATE_CASES = {
    "malformed file": (lambda s, c: "[{", "state"),
    "not a list of messages": (lambda s, c: [1, 2], "state"),
    "a message of an unknown type": (lambda s, c: [{"type": "SOMETHING", "stream": 5}], "state"),
    "a cursor that is not a date": (lambda s, c: stream_state(s, {c: "yesterday"}), "yesterday"),
    "a cursor that is a number": (lambda s, c: stream_state(s, {c: 1700000000}), "STREAM"),
    # a date the stream's cursor formats do not read: the CDK would fail mid-sync with a parse error naming nothing
    "a cursor without a time": (lambda s, c: stream_state(s, {"states": [
        {"partition": {"id": "x"}, "cursor": {c: "2024-01-01"}}]}), "2024-01-01"),
    "per-partition states that are not a list": (lambda s, c: stream_state(s, {"states": {"a": 1}}), "STREAM"),
    "a partition entry without a cursor": (lambda s, c: stream_state(s, {"states": [{"partition": {"id": "x"}}]}), "STREAM"),
    "a stream state that is not an object": (lambda s, c: stream_state(s, ["2024-01-01"]), "state"),
}


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("case", STATE_CASES)
def test_read_with_a_bad_state_fails_with_a_config_error_naming_it(connector, case, good_config,
                                                                    mailchimp_sandbox, campaign_monitor_sandbox,
                                                                    tmp_path, capfd):
    stream, cursor = INCREMENTAL[connector]
    make, mention = STATE_CASES[case]
    mention = stream if mention == "STREAM" else mention
    config = write(tmp_path / "config.json", good_config(connector))
    catalog = write(tmp_path / "catalog.json", configured(connector, stream, "incremental", cursor))
    state = write(tmp_path / "state.json", make(stream, cursor))

    outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog, "--state", state], capfd)

    assert_clean_failure(outcome, "read", mention)
    assert outcome.failure()[0] == "config_error"


def records(outcome: Outcome, stream: str) -> list[dict]:
    return [m["record"]["data"] for m in outcome.messages
            if m["type"] == "RECORD" and m["record"]["stream"] == stream]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_a_state_from_another_stream_or_an_older_layout_reads_the_stream_in_full(connector, good_config, tmp_path,
                                                                                   capfd):
    """A documented choice of both connectors: a state whose keys this version does not know (another stream's
    cursor, the per-list dictionary of older Airbyte connectors, the legacy {stream: state} file) is not an error:
    the partitions it does not describe are read from start_date, so nothing is skipped."""
    stream, cursor = INCREMENTAL[connector]
    config = write(tmp_path / "config.json", good_config(connector))
    catalog = write(tmp_path / "catalog.json", configured(connector, stream, "incremental", cursor))
    baseline = invoke(connector, ["read", "--config", config, "--catalog", catalog], capfd)
    assert baseline.exit_code == 0 and records(baseline, stream), baseline.stdout[-2000:]
    other = {"mailchimp": {"create_time": "2030-01-01T00:00:00+00:00"},
             "campaign_monitor": {"SentDate": "2030-01-01T00:00:00+00:00"}}[connector]
    older = {"mailchimp": {"0a1b2c3d4e": {"last_changed": "2030-01-01T00:00:00+00:00"}},
             "campaign_monitor": {"some-campaign-id": {"Date": "2030-01-01 00:00:00"}}}[connector]

    for blob in (other, older):
        state = write(tmp_path / "state.json", stream_state(stream, blob))
        outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog, "--state", state], capfd)
        assert outcome.exit_code == 0 and not bare_tracebacks(outcome.stdout, outcome.stderr), outcome.stdout[-2000:]
        assert len(records(outcome, stream)) == len(records(baseline, stream)), blob


@pytest.mark.parametrize("connector", CONNECTORS)
def test_a_state_of_a_stream_not_in_the_catalog_is_ignored_or_named(connector, good_config, tmp_path, capfd):
    stream, cursor = INCREMENTAL[connector]
    config = write(tmp_path / "config.json", good_config(connector))
    catalog = write(tmp_path / "catalog.json", configured(connector, stream, "incremental", cursor))
    state = write(tmp_path / "state.json", stream_state("no_such_stream", {"x": "2024-01-01T00:00:00Z"}))

    outcome = invoke(connector, ["read", "--config", config, "--catalog", catalog, "--state", state], capfd)

    assert not bare_tracebacks(outcome.stdout, outcome.stderr)
    if outcome.exit_code:
        assert_clean_failure(outcome, "read", "no_such_stream")
    else:
        assert records(outcome, stream)

