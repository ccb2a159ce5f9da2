"""Brings each connector folder's manifest-only artefacts up to date with their sources, or checks that they are.

Airbyte's stock runtime (Airbyte Cloud, the Connector Builder, the source-declarative-manifest image) runs a connector
from two files: manifest.yaml and components.py, nothing else. So:

- components.py is the connector's component modules bundled into one namespace: the connector_common modules they
  use, then the connector's own (`<connector>/parts/`), in the order `<connector>.parts.MODULES` gives (each after those
  it imports), without their docstrings, `__future__` imports and imports of one another;
- a data file a module reads beside itself (Campaign Monitor's timezones.json) is written in as a dict literal in
  place of the assignment that reads it: injected code has no `__file__` to find a file beside it;
- manifest.yaml ends with a `schemas:` section, a copy of schemas/<stream>.json (the source, one file per stream),
  which the streams reference with `$ref: "#/schemas/<stream>"`.

    python scripts/build_manifest_only.py          # rewrite the artefacts
    python scripts/build_manifest_only.py --check  # exit 1, naming the files, if an artefact differs from its sources
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The connectors: each components.py is made whole from the modules its parts package lists.
CONNECTORS = ["source_mailchimp", "source_campaign_monitor"]
# The data files read beside a module: connector folder -> (JSON file in the folder, the variable holding it).
INLINED_DATA = {"source_campaign_monitor": ("timezones.json", "TIMEZONE_NAMES")}
SCHEMAS_HEADER = "# ---- the streams' schemas: a copy of schemas/*.json, made by scripts/build_manifest_only.py\n"
OUR_PACKAGES = ("connector_common", *CONNECTORS)
# Names every module may define alike.
COMMON_NAMES = {"logger"}


def module_path(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def _is_ours(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.module == "__future__" or (node.module or "").split(".")[0] in OUR_PACKAGES
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] in OUR_PACKAGES for alias in node.names)
    return False


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names - COMMON_NAMES


def module_code(module: str, data: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """A module's code for the bundle's one namespace, and the names it defines. `data` maps a variable to the
    literal that replaces its assignment."""
    source = module_path(module).read_text()
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    replace: dict[int, str] = {}
    drop: set[int] = set()
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        drop.update(range(body[0].lineno - 1, body[0].end_lineno))
    for node in body:
        if _is_ours(node):
            drop.update(range(node.lineno - 1, node.end_lineno))
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if data and isinstance(target, ast.Name) and target.id in data:
            drop.update(range(node.lineno, node.end_lineno))
            replace[node.lineno - 1] = f"{target.id}: dict = {data[target.id]}\n"
    kept = "".join(replace.get(number, line) for number, line in enumerate(lines) if number not in drop)
    return kept.strip("\n"), _defined_names(tree)


def connector_modules(folder_name: str) -> list[str]:
    return list(importlib.import_module(f"{folder_name}.parts").MODULES)


def bundled_components(folder_name: str) -> str:
    """The whole components.py of a connector."""
    package = importlib.import_module(f"{folder_name}.parts")
    summary = (package.__doc__ or "").strip()
    data = {}
    if folder_name in INLINED_DATA:
        file, variable = INLINED_DATA[folder_name]
        data[variable] = json.dumps(json.loads((ROOT / folder_name / file).read_text(encoding="utf-8")),
                                    indent=4, ensure_ascii=False)
    parts = [f'"""{summary}\n\nMade by scripts/build_manifest_only.py from the modules named below: edit them there."""\n']
    seen: dict[str, str] = {}
    for module in connector_modules(folder_name):
        code, names = module_code(module, data)
        for name in names:
            if name in seen:
                raise SystemExit(f"{name} is defined by both {seen[name]} and {module}: the bundle has one namespace")
            seen[name] = module
        parts.append(f"\n\n# ---- {module_path(module).relative_to(ROOT)}\n{code}\n")
    return "".join(parts)


def with_schemas(manifest: str, folder: Path) -> str:
    """The manifest with its `schemas:` section (the last one) made from the folder's schema files."""
    head = manifest.split(SCHEMAS_HEADER, 1)[0].rstrip("\n") + "\n\n"
    schemas = {path.stem: json.loads(path.read_text()) for path in sorted((folder / "schemas").glob("*.json"))}
    section = yaml.safe_dump({"schemas": schemas}, sort_keys=False, allow_unicode=True, width=120)
    return head + SCHEMAS_HEADER + section


def artefacts() -> dict[Path, str]:
    """What each artefact must hold."""
    wanted = {}
    for folder_name in CONNECTORS:
        folder = ROOT / folder_name
        wanted[folder / "components.py"] = bundled_components(folder_name)
        wanted[folder / "manifest.yaml"] = with_schemas((folder / "manifest.yaml").read_text(), folder)
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the artefacts are current")
    check = parser.parse_args().check
    stale = []
    for path, text in artefacts().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if not check:
                path.write_text(text)
    if stale and check:
        names = ", ".join(str(path.relative_to(ROOT)) for path in stale)
        print(f"Out of date: {names}. Run: python scripts/build_manifest_only.py", file=sys.stderr)
        return 1
    for path in stale:
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
