"""The manifest-only artefacts (components.py's copy of connector_common, manifest.yaml's copy of the schemas) are
what scripts/build_manifest_only.py makes from their sources: Airbyte's stock runtime runs exactly the code we test."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_manifest_only_artefacts_are_current():
    check = subprocess.run([sys.executable, "scripts/build_manifest_only.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True)

    assert check.returncode == 0, check.stderr


def test_the_mailchimp_components_import_nothing_of_this_repository_and_name_the_stock_module():
    components = (ROOT / "source_mailchimp" / "components.py").read_text()
    manifest = (ROOT / "source_mailchimp" / "manifest.yaml").read_text()

    assert "connector_common" not in "\n".join(line for line in components.splitlines() if "import" in line)
    assert "from __future__" not in components  # breaks dataclasses in a module the runtime exec()s
    class_names = [line.split("class_name:")[1].strip() for line in manifest.splitlines() if "class_name:" in line]
    assert class_names and all(name.startswith("source_declarative_manifest.components.") for name in class_names)
    schemas = yaml.safe_load(manifest)["schemas"]
    assert set(schemas) == {path.stem for path in (ROOT / "source_mailchimp" / "schemas").glob("*.json")}
