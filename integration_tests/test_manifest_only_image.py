"""Each bundled connector folder built as Airbyte builds a manifest-only connector (its folder copied onto the
source-declarative-manifest image, manifest.yaml and components.py moved where the runtime loads them: docker/), on a
local stand-in for `airbyte/source-declarative-manifest:7.39.1` (airbyte-cdk from PyPI, nothing of this repository),
and run as Airbyte runs an image: `spec`, `check`, `discover` and `read` answer what our packaged command answers.

The connectors covered are those whose manifest-only artefacts scripts/build_manifest_only.py keeps (manifest.yaml
and components.py self-contained)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest

from integration_tests.harness import configured_catalog, run_source
from integration_tests.test_container import (  # noqa: F401 (pytest fixtures)
    CONNECTORS, PODMAN_RUN, SCRIPT, api_key_config, podman, run_in_container, sandboxes, sorted_records,
)

ROOT = Path(__file__).resolve().parents[1]


def bundled_connectors() -> list[str]:
    spec = importlib.util.spec_from_file_location("build_manifest_only", ROOT / "scripts" / "build_manifest_only.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [folder.replace("_", "-") for folder in module.CONNECTORS]


BUNDLED = bundled_connectors()


@pytest.fixture(scope="module")
def manifest_only_images(podman: None) -> Callable[[str], str]:
    built: dict[str, str] = {}

    def image(connector: str) -> str:
        if connector not in built:
            tag = f"localhost/{connector}:manifest-only-test"
            completed = subprocess.run(["bash", str(SCRIPT), "build-manifest-only", connector, tag],
                                       capture_output=True, text=True, timeout=1200)
            assert completed.returncode == 0, f"building {tag} failed:\n{(completed.stdout + completed.stderr)[-4000:]}"
            built[connector] = tag
        return built[connector]

    return image


def test_the_stand_in_base_holds_airbyte_cdk_7_39_1_and_nothing_of_this_repository(manifest_only_images):
    image = manifest_only_images(BUNDLED[0])
    probe = ("import importlib.util, importlib.metadata as m; "
             "print(m.version('airbyte-cdk')); "
             "print([n for n in ('connector_common', 'cdk_fast_paths', 'source_mailchimp', 'source_campaign_monitor')"
             " if importlib.util.find_spec(n)])")
    completed = subprocess.run([*PODMAN_RUN, "--entrypoint", "python", image, "-c", probe],
                               capture_output=True, text=True, timeout=120)
    assert completed.stdout.split("\n")[:2] == ["7.39.1", "[]"], completed.stderr[-2000:]


@pytest.mark.parametrize("connector", BUNDLED)
def test_the_manifest_only_image_answers_spec_check_and_discover_as_our_command(
        manifest_only_images, sandboxes, tmp_path, connector):
    image = manifest_only_images(connector)
    sb = sandboxes(connector)
    spec = run_source(connector, "spec", tmp_path).spec()
    assert run_in_container(image, "spec", tmp_path).spec() == spec

    config = api_key_config(spec, sb.api_key, sb.url)
    good = run_in_container(image, "check", tmp_path, config=config)
    assert good.connection_status()["status"] == "SUCCEEDED", good.output[-3000:]
    wrong_key = "0" * 32 + "-us6"
    bad = run_in_container(image, "check", tmp_path, config=api_key_config(spec, wrong_key, sb.url))
    assert bad.connection_status()["status"] == "FAILED", bad.output[-3000:]
    assert wrong_key not in bad.output
    # A key that cannot be a key: the config's own checks, not the API, refuse it, with the same reason.
    malformed = api_key_config(spec, "abc", sb.url)
    ours = run_source(connector, "check", tmp_path, config=malformed).connection_status()
    theirs = run_in_container(image, "check", tmp_path, config=malformed)
    assert ours["status"] == "FAILED"
    assert theirs.connection_status()["status"] == "FAILED", theirs.output[-3000:]
    assert ours["message"] in theirs.connection_status()["message"]

    inside = run_in_container(image, "discover", tmp_path, config=config)
    assert inside.returncode == 0, inside.output[-3000:]
    assert inside.catalog() == run_source(connector, "discover", tmp_path, config=config).catalog()


@pytest.mark.parametrize("connector", BUNDLED)
def test_a_full_sync_of_every_stream_in_the_manifest_only_image_emits_the_records_of_our_command(
        manifest_only_images, sandboxes, tmp_path, connector):
    sb = sandboxes(connector)
    spec = run_source(connector, "spec", tmp_path).spec()
    config = api_key_config(spec, sb.api_key, sb.url)
    discovered = run_source(connector, "discover", tmp_path, config=config).catalog()
    catalog = configured_catalog(discovered, sync_mode="incremental")

    ours = run_source(connector, "read", tmp_path, config=config, catalog=catalog)
    image = run_in_container(manifest_only_images(connector), "read", tmp_path, config=config, catalog=catalog,
                             timeout=600)

    assert ours.returncode == 0 and not ours.errors(), ours.output[-3000:]
    assert image.returncode == 0 and not image.errors(), image.output[-3000:]
    assert sorted_records(image) == sorted_records(ours)
    assert {m["stream"]["stream_descriptor"]["name"] for m in image.final_state()} == {
        m["stream"]["stream_descriptor"]["name"] for m in ours.final_state()}
    assert sb.api_key not in image.output
