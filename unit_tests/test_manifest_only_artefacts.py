"""The manifest-only artefacts (components.py's copy of connector_common, manifest.yaml's copy of the schemas) are
what scripts/build_manifest_only.py makes from their sources: Airbyte's stock runtime runs exactly the code we test."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_manifest_only_artefacts_are_current():
    check = subprocess.run([sys.executable, "scripts/build_manifest_only.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True)

    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("folder", ["source_mailchimp", "source_campaign_monitor"])
def test_the_components_import_nothing_of_this_repository_and_the_manifest_names_the_stock_module(folder):
    components = (ROOT / folder / "components.py").read_text()
    manifest = (ROOT / folder / "manifest.yaml").read_text()

    imported = {alias.name for node in ast.walk(ast.parse(components)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(ast.parse(components)) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in ("connector_common", "cdk_fast_paths", folder)}
    assert "from __future__" not in components  # breaks dataclasses in a module the runtime exec()s
    assert "__file__" not in components  # the runtime exec()s the text: there is no file beside it
    class_names = [line.split("class_name:")[1].strip() for line in manifest.splitlines() if "class_name:" in line]
    assert class_names and all(name.startswith("source_declarative_manifest.components.") for name in class_names)
    schemas = yaml.safe_load(manifest)["schemas"]
    assert set(schemas) == {path.stem for path in (ROOT / folder / "schemas").glob("*.json")}
    assert "JsonFileSchemaLoader" not in manifest


def test_the_campaign_monitor_time_zone_names_are_a_copy_of_timezones_json():
    import json

    from source_campaign_monitor.parts.time_zones import TIMEZONE_NAMES

    assert TIMEZONE_NAMES == json.loads((ROOT / "source_campaign_monitor" / "timezones.json").read_text())
