"""The connector folder's manifest.yaml, as our packaged command runs it.

The manifest names its components as Airbyte's stock runtime loads them (`source_declarative_manifest.components.X`:
the runtime registers components.py under that name). Our command imports the same components.py as its package's
module, and reads the manifest with the class names pointing there: the same files, with nothing registered in
sys.modules for anyone else."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from airbyte_cdk.utils.yaml_loader import safe_load_yaml

STOCK_COMPONENTS_MODULE = "source_declarative_manifest.components"


def manifest_for_package(path: str | Path, components_module: str) -> Mapping[str, Any]:
    text = Path(path).read_text()
    return safe_load_yaml(text.replace(f"{STOCK_COMPONENTS_MODULE}.", f"{components_module}."))
