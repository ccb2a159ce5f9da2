"""Airbyte's own test suite for both connectors, plus what the legacy acceptance tests checked that it does not.

1. `airbyte_cdk.test.standard_tests.DeclarativeSourceTestSuite` (spec, config matches spec, check, discover, basic read
   with every record validated against its schema, bad catalog), with the scenarios of each connector folder's
   `acceptance-test-config.yml`, the file `airbyte-cdk connector test <folder>` reads. The suite runs the connector
   in-process; its Docker tests are skipped (no Docker engine here: integration_tests/test_container.py builds and runs
   the image with podman).
2. Checks of the retired Connector Acceptance Tests the suite does not run, on the installed commands run as Airbyte
   runs them: no problem at all in the discovered catalog (the suite only warns about schemas, primary keys and cursor
   fields missing from the schema), no record field the schema does not declare, the records of a fixed small scale
   equal to the committed `integration_tests/expected_records.jsonl` of the connector folder (ignoring order), the
   committed configured catalog naming every discovered stream as discovered, nothing read again from the committed
   abnormal (future) state, the committed sample and invalid configs valid for the spec, two full refresh reads giving
   the same records,
   incremental state never going backwards, within a read or from one read to the next, and progress visible per
   stream (status traces and log lines). And the stream table of each connector page (docs/) is the discovered
   catalog's.

Not repeated here (see test_mailchimp.py, test_campaign_monitor.py): records against the sandbox's ground truth, reads
after changes, resumed syncs, faults, secrets in debug logs.

The committed expected records, configured catalogs and abnormal states (in source_*/integration_tests/) are
regenerated, after a deliberate change of the sandboxes or connectors, with
`.venv/bin/python -m integration_tests.test_standard_suite --write-expected-records`.
"""

from __future__ import annotations

import atexit
import importlib
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from airbyte_cdk.models.airbyte_protocol_serializers import AirbyteCatalogSerializer
from airbyte_cdk.test.standard_tests import DeclarativeSourceTestSuite
from airbyte_cdk.test.standard_tests._catalog_checks import find_catalog_problems, format_catalog_problems
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  (parametrizes `scenario`)
from boltons.typeutils import classproperty

from integration_tests.harness import SourceRun, configured_catalog, run_source

ROOT = Path(__file__).resolve().parents[1]
# command -> the connector folder (Airbyte's layout: acceptance-test-config.yml, integration_tests/)
FOLDERS = {"source-mailchimp": ROOT / "source_mailchimp", "source-campaign-monitor": ROOT / "source_campaign_monitor"}
ACCEPTANCE_TEST_CONFIG = "acceptance-test-config.yml"
# The configs of this session's sandboxes (see the scenario files): one directory per process, made at import, since
# the scenarios are collected before any fixture runs.
SESSION_CONFIGS = Path(tempfile.mkdtemp(prefix="standard-suite-"))
atexit.register(shutil.rmtree, SESSION_CONFIGS, ignore_errors=True)
NO_DOCKER = (
    "no Docker engine on these machines: integration_tests/test_container.py builds and runs the image with podman"
)


# --- the configs a scenario file can name -----------------------------------------------------------------------------


def _mailchimp_configs(sb: Any) -> dict[str, dict[str, Any]]:
    return {
        "config.json": {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url},
        "config_oauth.json": {
            "credentials": {
                "auth_type": "oauth2.0",
                "client_id": sb.oauth["client_id"],
                "client_secret": sb.oauth["client_secret"],
                "access_token": sb.oauth["access_token"],
            },
            "sandbox_url": sb.url,
        },
        "invalid_config.json": committed_config("source-mailchimp", "invalid_config.json", sb),
    }


def _campaign_monitor_configs(sb: Any) -> dict[str, dict[str, Any]]:
    return {
        "config.json": {"credentials": {"auth_type": "api_key", "api_key": sb.api_key}, "sandbox_url": sb.url},
        "config_oauth.json": {
            "credentials": {
                "auth_type": "oauth2.0",
                "client_id": sb.oauth["client_id"],
                "client_secret": sb.oauth["client_secret"],
                "refresh_token": sb.oauth["refresh_token"],
            },
            "sandbox_url": sb.url,
        },
        "invalid_config.json": committed_config("source-campaign-monitor", "invalid_config.json", sb),
    }


def committed_config(command: str, name: str, sb: Any) -> dict[str, Any]:
    """A config committed in the connector folder's integration_tests/, pointed at this sandbox."""
    return {**json.loads((FOLDERS[command] / "integration_tests" / name).read_text()), "sandbox_url": sb.url}


def _source_mailchimp(config: dict[str, Any]) -> Any:
    from source_mailchimp.run import SourceMailchimp

    return SourceMailchimp(config=config)


def _source_campaign_monitor(config: dict[str, Any]) -> Any:
    from source_campaign_monitor.run import SourceCampaignMonitor

    return SourceCampaignMonitor(config=config)


# --- the standard suite -----------------------------------------------------------------------------------------------


class _StandardSuite(DeclarativeSourceTestSuite):
    """The CDK's declarative source suite pointed at one of our connectors.

    What is set explicitly instead of found: the connector root (the connector folder: the CDK's search from this file
    would land on the repository root, whose metadata.yaml describes the Python image), the connector's name, and the
    scenario file's config paths (moved into this session's directory). The connector is our source class (the one
    the console script runs, with its additions to the manifest) rather than the manifest alone, which runs only on
    the stock runtime once the components are bundled (docs/airbyte-native.md)."""

    package: str
    scenario_file: Path
    make_configs: Callable[[Any], dict[str, dict[str, Any]]]
    make_source: Callable[[dict[str, Any]], Any]

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return ROOT / cls.package

    @classproperty
    def connector_name(cls) -> str:
        return cls.package.replace("_", "-")

    @classproperty
    def acceptance_test_config(cls) -> Any:
        config = yaml.safe_load(cls.scenario_file.read_text())
        for section in config["acceptance_tests"].values():
            for test in section.get("tests", []):
                if "config_path" in test:
                    test["config_path"] = str(cls.session_config_path(test["config_path"]))
        return config

    @classmethod
    def session_config_path(cls, declared: str) -> Path:
        assert declared.startswith("secrets/"), f"{cls.scenario_file.name}: configs live under secrets/, not {declared}"
        return SESSION_CONFIGS / cls.package / declared.removeprefix("secrets/")

    @classmethod
    def create_connector(cls, scenario):  # type: ignore[override]
        config = (
            scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True)
            if scenario
            else {}
        )
        return cls.make_source(config)

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def sandbox(cls):
        """Starts the scenario file's sandbox and writes the configs its scenarios name."""
        with start_sandbox(cls.scenario_file) as sb:
            configs = cls.make_configs(sb)
            for path in declared_config_paths(cls.scenario_file):
                name = path.removeprefix("secrets/")
                assert name in configs, f"{cls.scenario_file.name} names {path}, which this test cannot write"
                target = cls.session_config_path(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(configs[name]))
            yield sb

    # The suite's Docker tests: the image is built and run by test_container.py.
    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_spec(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_spec_backward_compatibility(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_check(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_config_matches_spec(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_discover(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_read(self) -> None: ...


class TestMailchimpStandardSuite(_StandardSuite):
    package = "source_mailchimp"
    scenario_file = FOLDERS["source-mailchimp"] / ACCEPTANCE_TEST_CONFIG
    make_configs = staticmethod(_mailchimp_configs)
    make_source = staticmethod(_source_mailchimp)


class TestCampaignMonitorStandardSuite(_StandardSuite):
    package = "source_campaign_monitor"
    scenario_file = FOLDERS["source-campaign-monitor"] / ACCEPTANCE_TEST_CONFIG
    make_configs = staticmethod(_campaign_monitor_configs)
    make_source = staticmethod(_source_campaign_monitor)


# --- what the legacy acceptance tests checked and the suite does not --------------------------------------------------


def scenario_settings(scenario_file: Path) -> dict[str, Any]:
    return yaml.safe_load(scenario_file.read_text())


def declared_config_paths(scenario_file: Path) -> list[str]:
    sections = scenario_settings(scenario_file)["acceptance_tests"].values()
    return sorted(
        {test["config_path"] for section in sections for test in section.get("tests", []) if "config_path" in test}
    )


class start_sandbox:
    """The sandbox a scenario file describes (`sandbox:` module, class, scale, seed), started and stopped."""

    def __init__(self, scenario_file: Path) -> None:
        settings = scenario_settings(scenario_file)["sandbox"]
        sandbox_class = getattr(importlib.import_module(settings["module"]), settings["class"])
        self.sandbox = sandbox_class(scale=settings["scale"], seed=settings["seed"])

    def __enter__(self) -> Any:
        return self.sandbox.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.sandbox.__exit__(*exc)


DOCS = {
    "source-mailchimp": ROOT / "docs" / "mailchimp.md",
    "source-campaign-monitor": ROOT / "docs" / "campaign-monitor.md",
}

CONNECTORS = {
    # command: (scenario file, configs)
    "source-mailchimp": (FOLDERS["source-mailchimp"] / ACCEPTANCE_TEST_CONFIG, _mailchimp_configs),
    "source-campaign-monitor": (FOLDERS["source-campaign-monitor"] / ACCEPTANCE_TEST_CONFIG, _campaign_monitor_configs),
}


class LegacyChecks:
    """One connector's sandbox, its discovered catalog and the reads the checks share (each read is a subprocess of
    a few seconds, so each is made once)."""

    def __init__(self, command: str, sb: Any, workdir: Path) -> None:
        self.command = command
        self.config = CONNECTORS[command][1](sb)["config.json"]
        self.workdir = workdir
        discovered = run_source(command, "discover", workdir, config=self.config)
        assert discovered.returncode == 0, discovered.output
        self.catalog = discovered.catalog()
        self._reads: dict[str, SourceRun] = {}

    def read(self, name: str, sync_mode: str = "full_refresh", state: list[dict] | None = None) -> SourceRun:
        if name not in self._reads:
            run = run_source(
                self.command,
                "read",
                self.workdir,
                config=self.config,
                catalog=configured_catalog(self.catalog, sync_mode=sync_mode),
                state=state,
            )
            assert run.returncode == 0, f"{self.command} read failed: {run.errors()}"
            self._reads[name] = run
        return self._reads[name]

    def incremental_streams(self) -> list[dict[str, Any]]:
        return [s for s in self.catalog["streams"] if "incremental" in s["supported_sync_modes"]]


@pytest.fixture(scope="module", params=sorted(CONNECTORS))
def legacy(request, tmp_path_factory) -> LegacyChecks:
    command = request.param
    with start_sandbox(CONNECTORS[command][0]) as sb:
        yield LegacyChecks(command, sb, tmp_path_factory.mktemp(command))


def comparable(record: dict[str, Any]) -> str:
    """A record as one canonical string. The CDK's serializer leaves out a record's top-level fields whose value is
    null: absent and null are the same to a destination, so nulls are dropped before comparing."""
    return json.dumps({k: v for k, v in record.items() if v is not None}, sort_keys=True, ensure_ascii=False)


def record_multiset(run: SourceRun) -> Counter:
    return Counter((m["record"]["stream"], comparable(m["record"]["data"])) for m in run.of_type("RECORD"))


def expected_records_path(command: str) -> Path:
    return FOLDERS[command] / scenario_settings(CONNECTORS[command][0])["expected_records"]


def configured_catalog_path(command: str) -> Path:
    return FOLDERS[command] / "integration_tests" / "configured_catalog.json"


def abnormal_state_path(command: str) -> Path:
    return FOLDERS[command] / "integration_tests" / "abnormal_state.json"


def write_secrets(command: str, sb: Any, directory: Path) -> list[Path]:
    """Writes the `secrets/<name>.json` the connector's acceptance-test-config.yml names, for this sandbox, into
    `directory` (for `airbyte-cdk connector test`, which reads them from the connector folder)."""
    scenario_file, make_configs = CONNECTORS[command]
    configs = make_configs(sb)
    written = []
    for declared in declared_config_paths(scenario_file):
        target = directory / declared.removeprefix("secrets/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(configs[declared.removeprefix("secrets/")]))
        written.append(target)
    return written


def future_state(state: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The final state of a read with every date moved to 2099 (same format): Airbyte's abnormal state, after
    which an incremental read has nothing left to emit."""

    def move(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: move(v) for k, v in node.items()}
        if isinstance(node, list):
            return [move(v) for v in node]
        if isinstance(node, str) and re.match(r"\d{4}-\d{2}-\d{2}", node):
            return "2099" + node[4:]
        return node

    return [move(message) for message in state]


def test_discovered_catalog_has_none_of_the_problems_the_suite_only_warns_about(legacy):
    """The suite enforces some catalog checks and only warns on others (schemas valid JSON schema, cursor fields and
    primary keys present in the schema, primary keys of scalar types, supported data types); the legacy tests failed
    on them, so do we."""
    problems = find_catalog_problems(AirbyteCatalogSerializer.load(legacy.catalog))
    assert not problems, format_catalog_problems(problems)


def test_every_primary_key_and_cursor_field_is_a_declared_property_of_its_schema(legacy):
    for stream in legacy.catalog["streams"]:
        properties = stream["json_schema"].get("properties", {})
        for key in stream.get("source_defined_primary_key") or []:
            assert key[0] in properties, f"{stream['name']}: primary key {key} is not in its schema"
        if "incremental" in stream["supported_sync_modes"]:
            cursor = stream.get("default_cursor_field")
            assert cursor and cursor[0] in properties, f"{stream['name']}: cursor {cursor} is not in its schema"


def test_records_have_no_field_their_schema_does_not_declare(legacy):
    """What the suite's schema validation lets through: a field missing from the schema (it would reach destinations
    untyped, or be dropped by those that follow the schema)."""
    schemas = {s["name"]: set(s["json_schema"].get("properties", {})) for s in legacy.catalog["streams"]}
    undeclared: dict[str, set[str]] = {}
    for message in legacy.read("first full refresh").of_type("RECORD"):
        extra = set(message["record"]["data"]) - schemas[message["record"]["stream"]]
        if extra:
            undeclared.setdefault(message["record"]["stream"], set()).update(extra)
    assert undeclared == {}


def test_records_at_the_scenario_scale_equal_the_committed_expected_records(legacy):
    path = expected_records_path(legacy.command)
    expected = Counter()
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        expected[(entry["stream"], comparable(entry["data"]))] += 1
    actual = record_multiset(legacy.read("first full refresh"))
    missing, unexpected = expected - actual, actual - expected
    assert not missing and not unexpected, (
        f"{sum(missing.values())} expected records not read, {sum(unexpected.values())} read but not expected; "
        f"streams: {sorted({s for s, _ in missing} | {s for s, _ in unexpected})}. If the change is deliberate, "
        "regenerate with `.venv/bin/python -m integration_tests.test_standard_suite --write-expected-records`."
    )


def test_two_full_refresh_reads_emit_the_same_records(legacy):
    first = record_multiset(legacy.read("first full refresh"))
    second = record_multiset(legacy.read("second full refresh"))
    assert first == second
    streams = {s["name"] for s in legacy.catalog["streams"]}
    assert {stream for stream, _ in first} == streams, "a stream read nothing: the comparison would prove little"


def test_a_read_shows_which_stream_is_being_read_and_when_each_completes(legacy):
    """Progress during long syncs, as Airbyte's UI shows it: a STREAM_STATUS trace STARTED, RUNNING and COMPLETE per
    stream, in that order, and log lines naming the stream as it starts and ends. (Partitions are named only in the
    CDK's debug logs, `slice:{...}`.)"""
    run = legacy.read("first full refresh")
    statuses: dict[str, list[str]] = {}
    for trace in run.traces("STREAM_STATUS"):
        statuses.setdefault(trace["stream_status"]["stream_descriptor"]["name"], []).append(
            trace["stream_status"]["status"]
        )
    logs = run.logs()
    for stream in (s["name"] for s in legacy.catalog["streams"]):
        assert statuses.get(stream) == ["STARTED", "RUNNING", "COMPLETE"], f"{stream}: {statuses.get(stream)}"
        assert f"Syncing stream: {stream}" in logs and f"Finished syncing {stream}" in logs, stream


def documented_streams(page: Path) -> dict[str, tuple[list[str], str, list[str]]]:
    """The "Supported streams" table of a connector page: stream -> (primary key, cursor, sync modes)."""
    section = page.read_text().split("## Supported streams", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[list[str], str, list[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            name, _endpoint, key, cursor, modes = cells
            rows[name.strip("`")] = ([k.strip() for k in key.split(",")], cursor, [m.strip() for m in modes.split(",")])
    return rows


def test_the_connector_page_lists_every_stream_with_its_discovered_keys_cursor_and_sync_modes(legacy):
    documented = documented_streams(DOCS[legacy.command])
    discovered = {
        stream["name"]: (
            [".".join(key) for key in stream.get("source_defined_primary_key") or []],
            ".".join(stream.get("default_cursor_field") or []) or "-",
            [mode.replace("_", " ").title() for mode in stream["supported_sync_modes"]],
        )
        for stream in legacy.catalog["streams"]
    }
    assert documented == discovered


def cursor_values(state: dict[str, Any]) -> dict[str, str]:
    """A stream's state as {partition: cursor value}: per partition (`states`), or the whole stream's cursor."""
    blob = state["stream"]["stream_state"]
    values: dict[str, str] = {}
    for entry in blob.get("states", []):
        for field, value in entry["cursor"].items():
            if isinstance(value, str):
                values[json.dumps([entry["partition"], field], sort_keys=True)] = value
    if "states" not in blob:
        for field, value in blob.items():
            if isinstance(value, str) and not field.startswith("__ab"):
                values[field] = value
    return values


def moment(value: str) -> datetime:
    from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse

    return ab_datetime_parse(value)


def test_incremental_state_never_goes_backwards_within_a_read(legacy):
    run = legacy.read("first incremental", sync_mode="incremental")
    latest: dict[tuple[str, str], datetime] = {}
    for state in run.states():
        stream = state["stream"]["stream_descriptor"]["name"]
        for partition, value in cursor_values(state).items():
            when = moment(value)
            previous = latest.get((stream, partition))
            assert previous is None or when >= previous, f"{stream} {partition}: state went from {previous} to {when}"
            latest[(stream, partition)] = when
    incremental = {s["name"] for s in legacy.incremental_streams()}
    assert {stream for stream, _ in latest} == incremental, "an incremental stream emitted no cursor in its state"


def test_an_incremental_read_from_the_last_state_does_not_move_any_cursor_back_or_reread_everything(legacy):
    first = legacy.read("first incremental", sync_mode="incremental")
    second = legacy.read("second incremental", sync_mode="incremental", state=first.final_state())
    before = {s["stream"]["stream_descriptor"]["name"]: cursor_values(s) for s in first.final_state()}
    after = {s["stream"]["stream_descriptor"]["name"]: cursor_values(s) for s in second.final_state()}
    for stream in (s["name"] for s in legacy.incremental_streams()):
        for partition, value in before[stream].items():
            assert partition in after[stream], f"{stream}: the state of {partition} was lost"
            assert moment(after[stream][partition]) >= moment(value), f"{stream} {partition}: cursor moved back"
        first_count = len(first.records(stream))
        second_count = len(second.records(stream))
        assert second_count < first_count or first_count == 0, (
            f"{stream}: nothing changed, yet the second incremental read emitted {second_count} of "
            f"{first_count} records"
        )


def catalog_entry_shape(entry: dict[str, Any]) -> tuple:
    stream = entry["stream"]
    return (stream["name"], tuple(stream["supported_sync_modes"]), json.dumps(stream.get("source_defined_primary_key")),
            json.dumps(stream.get("default_cursor_field")), entry["sync_mode"])


def test_the_committed_configured_catalog_configures_every_discovered_stream_as_discovered(legacy):
    """The standard tests read the streams the catalog names (with the schemas discover reports); here, the names,
    sync modes, keys and cursors must be discover's too. Schemas are not compared: regenerate after a schema change."""
    committed = json.loads(configured_catalog_path(legacy.command).read_text())
    expected = configured_catalog(legacy.catalog, sync_mode="incremental")
    assert sorted(map(catalog_entry_shape, committed["streams"])) == sorted(map(catalog_entry_shape, expected["streams"]))


def test_an_incremental_read_from_the_committed_abnormal_state_emits_nothing(legacy):
    state = json.loads(abnormal_state_path(legacy.command).read_text())
    assert {s["stream"]["stream_descriptor"]["name"] for s in state} == {s["name"] for s in legacy.incremental_streams()}
    run = legacy.read("abnormal state", sync_mode="incremental", state=state)
    counts = {stream: len(run.records(stream)) for stream in (s["name"] for s in legacy.incremental_streams())}
    assert counts == dict.fromkeys(counts, 0)


@pytest.mark.parametrize("name", ["sample_config.json", "invalid_config.json"])
def test_the_committed_configs_are_valid_for_the_spec(legacy, name, tmp_path):
    import jsonschema

    spec = run_source(legacy.command, "spec", tmp_path).spec()
    config = json.loads((FOLDERS[legacy.command] / "integration_tests" / name).read_text())
    jsonschema.validate(config, spec["connectionSpecification"])


# --- regenerating the expected records --------------------------------------------------------------------------------


def write_expected_records() -> None:
    """Writes, per connector folder, integration_tests/expected_records.jsonl (a full refresh read of the scenario's
    sandbox), configured_catalog.json (discover, incremental where supported) and abnormal_state.json (the final state
    of an incremental read, moved to 2099)."""
    for command, (scenario_file, make_configs) in CONNECTORS.items():
        with start_sandbox(scenario_file) as sb, tempfile.TemporaryDirectory() as workdir:
            checks = LegacyChecks(command, sb, Path(workdir))
            records = sorted(
                (m["record"]["stream"], comparable(m["record"]["data"]))
                for m in checks.read("expected").of_type("RECORD")
            )
            incremental = checks.read("incremental", sync_mode="incremental")
        path = expected_records_path(command)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f'{{"stream": {json.dumps(stream)}, "data": {data}}}\n' for stream, data in records))
        print(f"{path.relative_to(ROOT)}: {len(records)} records")
        catalog = configured_catalog(checks.catalog, sync_mode="incremental")
        configured_catalog_path(command).write_text(json.dumps(catalog, indent=2) + "\n")
        print(f"{configured_catalog_path(command).relative_to(ROOT)}: {len(catalog['streams'])} streams")
        incremental_streams = {stream["name"] for stream in checks.incremental_streams()}
        state = future_state(
            [s for s in incremental.final_state() if s["stream"]["stream_descriptor"]["name"] in incremental_streams]
        )
        abnormal_state_path(command).write_text(json.dumps(state, indent=2) + "\n")
        print(f"{abnormal_state_path(command).relative_to(ROOT)}: {len(state)} streams")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-expected-records"]:
        sys.exit("usage: python -m integration_tests.test_standard_suite --write-expected-records")
    write_expected_records()
