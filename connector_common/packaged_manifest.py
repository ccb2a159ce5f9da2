"""The connector folder's manifest.yaml, as our packaged command runs it.

The manifest names its components as Airbyte's stock runtime loads them (`source_declarative_manifest.components.X`:
the runtime registers components.py under that name). Our command imports the same components.py as its package's
module, and reads the manifest with the class names pointing there: the same files, with nothing registered in
sys.modules for anyone else."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Mapping, Optional

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from connector_common.selected_streams import only_selected_streams

STOCK_COMPONENTS_MODULE = "source_declarative_manifest.components"


def manifest_for_package(path: str | Path, components_module: str) -> Mapping[str, Any]:
    text = Path(path).read_text()
    return safe_load_yaml(text.replace(f"{STOCK_COMPONENTS_MODULE}.", f"{components_module}."))


class PackagedManifestSource(YamlDeclarativeSource):
    """The declarative source of a connector folder as our packaged command runs it: the folder's manifest.yaml,
    its class names pointing at the package's own components module, and only the streams a read selects
    (connector_common.selected_streams). Subclasses name the two."""

    manifest_path: str = ""
    components_module: str = ""

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
