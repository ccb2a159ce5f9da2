"""Brings each connector folder's manifest-only artefacts up to date with their sources, or checks that they are.

Airbyte's stock runtime (Airbyte Cloud, the Connector Builder, the source-declarative-manifest image) runs a connector
from two files: manifest.yaml and components.py, nothing else. So:

- components.py holds, between two marker lines, a copy of the generic components it uses from connector_common (the
  source: edit there, then run this);
- manifest.yaml ends with a `schemas:` section, a copy of schemas/<stream>.json (the source, one file per stream),
  which the streams reference with `$ref: "#/schemas/<stream>"`;
- a data file the components read (Campaign Monitor's timezones.json) is written into components.py as a dict
  literal between two marker lines: injected code has no `__file__` to find a file beside it.

    python scripts/build_manifest_only.py          # rewrite the copies
    python scripts/build_manifest_only.py --check  # exit 1, naming the files, if a copy differs from its source
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The connector folders and the connector_common modules their components use, in dependency order.
CONNECTORS = {
    "source_mailchimp": ["json_body", "offset_pages", "saved_stream_state", "empty_dates_to_null", "config_problems",
                         "sync_store"],
    "source_campaign_monitor": ["json_body", "saved_stream_state", "config_problems", "sync_store"],
}
# The data files copied into components.py: connector folder -> (JSON file in the folder, the variable holding it).
INLINED_DATA = {"source_campaign_monitor": ("timezones.json", "TIMEZONE_NAMES")}
BEGIN = "# ---- shared components, copied from connector_common/ by scripts/build_manifest_only.py: edit them there"
END = "# ---- end of the shared components"
DATA_BEGIN = "# ---- {file}, copied by scripts/build_manifest_only.py: edit it there"
DATA_END = "# ---- end of {file}"
SCHEMAS_HEADER = "# ---- the streams' schemas: a copy of schemas/*.json, made by scripts/build_manifest_only.py\n"


def shared_components(modules: list[str]) -> str:
    """The modules' code for one namespace: no docstring, no __future__ import, no import of each other."""
    parts = [BEGIN + "\n"]
    for name in modules:
        source = (ROOT / "connector_common" / f"{name}.py").read_text()
        tree = ast.parse(source)
        lines = source.splitlines(keepends=True)
        drop: set[int] = set()
        body = tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            drop.update(range(body[0].lineno - 1, body[0].end_lineno))
        for node in body:
            if isinstance(node, ast.ImportFrom) and (node.module == "__future__" or
                                                     (node.module or "").startswith("connector_common")):
                drop.update(range(node.lineno - 1, node.end_lineno))
        kept = "".join(line for number, line in enumerate(lines) if number not in drop).strip("\n")
        parts.append(f"\n# connector_common/{name}.py\n{kept}\n")
    parts.append("\n" + END + "\n")
    return "".join(parts)


def with_shared_components(components: str, modules: list[str]) -> str:
    start = components.index(BEGIN)
    end = components.index(END, start) + len(END) + 1
    return components[:start] + shared_components(modules) + components[end:]


def with_inlined_data(components: str, folder: Path) -> str:
    """components.py with the folder's data file written as a dict literal between its marker lines."""
    if folder.name not in INLINED_DATA:
        return components
    file, variable = INLINED_DATA[folder.name]
    begin, end = DATA_BEGIN.format(file=file), DATA_END.format(file=file)
    data = json.loads((folder / file).read_text(encoding="utf-8"))
    literal = json.dumps(data, indent=4, ensure_ascii=False)
    start = components.index(begin)
    stop = components.index(end, start) + len(end) + 1
    return components[:start] + f"{begin}\n{variable}: dict = {literal}\n{end}\n" + components[stop:]


def with_schemas(manifest: str, folder: Path) -> str:
    """The manifest with its `schemas:` section (the last one) made from the folder's schema files."""
    head = manifest.split(SCHEMAS_HEADER, 1)[0].rstrip("\n") + "\n\n"
    schemas = {path.stem: json.loads(path.read_text()) for path in sorted((folder / "schemas").glob("*.json"))}
    section = yaml.safe_dump({"schemas": schemas}, sort_keys=False, allow_unicode=True, width=120)
    return head + SCHEMAS_HEADER + section


def artefacts() -> dict[Path, str]:
    """What each artefact must hold."""
    wanted = {}
    for folder_name, modules in CONNECTORS.items():
        folder = ROOT / folder_name
        components = with_shared_components((folder / "components.py").read_text(), modules)
        wanted[folder / "components.py"] = with_inlined_data(components, folder)
        wanted[folder / "manifest.yaml"] = with_schemas((folder / "manifest.yaml").read_text(), folder)
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the copies are current")
    stale = []
    for path, text in artefacts().items():
        if path.read_text() != text:
            stale.append(path)
            if not parser.parse_args().check:
                path.write_text(text)
    if stale and parser.parse_args().check:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(f"Out of date: {names}. Run: python scripts/build_manifest_only.py", file=sys.stderr)
        return 1
    for path in stale:
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
