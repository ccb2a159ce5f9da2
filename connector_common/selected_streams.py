"""Only the streams a read selects, for our packaged command.

The CDK validates and builds every stream of a manifest before it reads one: a start-up cost that grows with each
stream added and buys nothing for the streams the catalog leaves out. Our command hands the CDK a manifest holding only
the selected streams; their parents are definitions, which stay. The stock runtime builds them all, with the same
records."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Set

DEFINITION = "#/definitions/"


def only_selected_streams(manifest: Mapping[str, Any], selected: Optional[Set[str]]) -> Mapping[str, Any]:
    """The manifest with only the streams named in `selected` (all of them when None). A stream whose name is written
    neither in its own block nor in the definition its entry points at is kept."""
    if selected is None:
        return manifest
    definitions = manifest.get("definitions", {})

    def name_of(stream: Any) -> Optional[str]:
        if isinstance(stream, Mapping) and list(stream) == ["$ref"]:
            stream = stream["$ref"]
        if isinstance(stream, str) and stream.startswith(DEFINITION):
            stream = definitions.get(stream[len(DEFINITION):])
        if not isinstance(stream, Mapping):
            return None
        parameters = stream.get("$parameters")
        name = stream.get("name", parameters.get("name") if isinstance(parameters, Mapping) else None)
        return name if isinstance(name, str) else None

    kept = [stream for stream in manifest.get("streams", []) if name_of(stream) in selected or name_of(stream) is None]
    return {**manifest, "streams": kept}
