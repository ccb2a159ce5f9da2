"""The connector folder's manifest.yaml, as our packaged command runs it.

The manifest names its components as Airbyte's stock runtime loads them (`source_declarative_manifest.components.X`:
the runtime registers the bundled components.py under that name). Our command imports the modules the bundle is made
of, and reads the manifest with each class name pointing at the module that defines the class: the same code, with
nothing registered in sys.modules for anyone else."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from connector_common.selected_streams import only_selected_streams

STOCK_COMPONENTS_MODULE = "source_declarative_manifest.components"
_STOCK_CLASS_NAME = re.compile(re.escape(STOCK_COMPONENTS_MODULE) + r"\.(\w+)")


def manifest_for_package(path: str | Path, components_modules: str | Sequence[str]) -> Mapping[str, Any]:
    """The manifest with every `source_declarative_manifest.components.X` replaced by `<module>.X`, the first of
    `components_modules` that defines X."""
    modules = [components_modules] if isinstance(components_modules, str) else list(components_modules)

    def home_of(match: re.Match[str]) -> str:
        name = match.group(1)
        for module in modules:
            if getattr(importlib.import_module(module), name, None) is not None:
                return f"{module}.{name}"
        raise ValueError(f"No module of {modules} defines {name}, which the manifest {path} names")

    return safe_load_yaml(_STOCK_CLASS_NAME.sub(home_of, Path(path).read_text()))


class PackagedManifestSource(YamlDeclarativeSource):
    """The declarative source of a connector folder as our packaged command runs it: the folder's manifest.yaml,
    its class names pointing at the package's components: one module, or the modules the bundle is made of.
    A read builds only the streams its catalog selects (connector_common.selected_streams). Subclasses name the two."""

    manifest_path: str = ""
    components_module: str | Sequence[str] = ""

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        self._selected_streams = {configured.stream.name for configured in catalog.streams} if catalog else None
        super().__init__(self.manifest_path, catalog=catalog, config=config, state=state, config_path=config_path)

    def _read_and_parse_yaml_file(self, path_to_yaml_file: str) -> Any:
        manifest = manifest_for_package(path_to_yaml_file, self.components_module)
        return only_selected_streams(manifest, self._selected_streams)
