"""Runs a manifest and its components.py on Airbyte's stock manifest runtime: `source-declarative-manifest` of
airbyte-cdk as published on PyPI, in .venv-stock (scripts/stock_runtime_setup.sh), where no package of this repository
is installed. What passes here runs where Airbyte runs manifest-only connectors (docs/airbyte-native.md):

- mode "injected" (Airbyte Cloud, the Connector Builder, a Builder connector published to a workspace): the manifest,
  parsed, and the text of components.py with its md5 travel inside the config (`__injected_declarative_manifest`,
  `__injected_components_py`, `__injected_components_py_checksums`), and AIRBYTE_ENABLE_UNSAFE_CODE=true allows the
  code to run. The CDK registers the code as the modules `components` and `source_declarative_manifest.components`.
  `spec` answers the runtime's generic spec (the manifest's own is read by the platform from the manifest).
- mode "image" (a manifest-only connector's image, FROM airbyte/source-declarative-manifest): manifest.yaml and
  components.py sit in /airbyte/integration_code/source_declarative_manifest/, beside a copy of the CDK's
  `cli/source_declarative_manifest/_run.py` as run.py, and `python /airbyte/integration_code/main.py` runs it. The
  CDK takes this path when that manifest.yaml exists, reads it with pkgutil from the `source_declarative_manifest`
  package and imports `source_declarative_manifest.components` as a plain module: no injection, no unsafe-code flag.
  The layout is rebuilt under the work directory; the one deviation is that the existence check of the absolute
  /airbyte path is answered yes (the machine has no such directory, and the tests must not make one).
- mode "paths": `source-declarative-manifest <verb> --manifest-path ... --components-path ...` (the CLI's local files
  option; the components are untrusted code there too, so AIRBYTE_ENABLE_UNSAFE_CODE=true).

Every run starts in an empty directory with a minimal environment (no PYTHONPATH), and first proves that no module
of this repository is importable by that interpreter in that directory and environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml

from integration_tests.harness import SourceRun, parse_run

ROOT = Path(__file__).resolve().parents[1]
STOCK_VENV = Path(os.environ.get("STOCK_VENV", ROOT / ".venv-stock"))
SETUP = ROOT / "scripts" / "stock_runtime_setup.sh"
REGISTRY_UNREACHABLE = 3  # stock_runtime_setup.sh's exit status when pip cannot reach the package registry
REPO_MODULES = ("source_mailchimp", "source_campaign_monitor", "connector_common", "cdk_fast_paths", "sandbox")
Mode = Literal["injected", "image", "paths"]


class StockRuntimeUnavailable(Exception):
    """The stock runtime cannot be installed because the package registry is unreachable (callers may skip)."""


def ensure_stock_runtime() -> Path:
    """Creates .venv-stock if needed (instant when done) and returns its `source-declarative-manifest`."""
    setup = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=900,
                           env={**os.environ, "STOCK_VENV": str(STOCK_VENV)})
    if setup.returncode == REGISTRY_UNREACHABLE:
        raise StockRuntimeUnavailable(setup.stderr.strip()[-300:])
    if setup.returncode != 0:
        raise RuntimeError(f"scripts/stock_runtime_setup.sh failed:\n{setup.stdout}\n{setup.stderr}")
    return STOCK_VENV / "bin" / "source-declarative-manifest"


def components_checksums(components_text: str) -> dict[str, str]:
    """What the platform sends beside the code: the CDK accepts md5 and sha256 and checks every one given; md5 is
    what the CDK's own test suite injects."""
    return {"md5": hashlib.md5(components_text.encode()).hexdigest()}


def injected_config(
    manifest_path: Path, components_path: Path | None, config: dict[str, Any] | None
) -> dict[str, Any]:
    """The config as Airbyte hands it to the runtime: the user's settings plus the manifest (a parsed mapping, not
    YAML text) and, with custom components, their code and its checksums."""
    injected = dict(config or {})
    injected["__injected_declarative_manifest"] = yaml.safe_load(Path(manifest_path).read_text())
    if components_path is not None:
        text = Path(components_path).read_text()
        injected["__injected_components_py"] = text
        injected["__injected_components_py_checksums"] = components_checksums(text)
    return injected


# The image's entry point, as the CDK's Dockerfile writes it, after answering the local-manifest check for the
# relocated /airbyte/integration_code (see the module docstring).
IMAGE_MAIN = """\
from pathlib import Path

import source_declarative_manifest.run as sdm_run

sdm_run._is_local_manifest_command = lambda args: (Path(__file__).parent / "source_declarative_manifest" / "manifest.yaml").exists()

if __name__ == "__main__":
    sdm_run.run()
"""


def image_layout(manifest_path: Path, components_path: Path | None, app_dir: Path) -> Path:
    """/airbyte/integration_code of a manifest-only image, under app_dir. Returns the main.py to run."""
    cli = STOCK_VENV / "lib"
    (run_py,) = cli.glob("python*/site-packages/airbyte_cdk/cli/source_declarative_manifest/_run.py")
    package = app_dir / "source_declarative_manifest"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    shutil.copyfile(run_py, package / "run.py")
    shutil.copyfile(run_py.parent / "spec.json", package / "spec.json")
    shutil.copyfile(manifest_path, package / "manifest.yaml")
    if components_path is not None:
        shutil.copyfile(components_path, package / "components.py")
    (app_dir / "main.py").write_text(IMAGE_MAIN)
    return app_dir / "main.py"


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Only what a process needs to start: nothing that points Python at this repository."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    return {**keep, **(extra or {})}


def assert_isolated(python: Path, cwd: Path, env: dict[str, str], script_dir: Path | None = None) -> None:
    """Fails unless `python`, started in `cwd` with `env` (and with `script_dir` first on sys.path, as a script
    there would have it), can import none of this repository's packages."""
    probe = (
        "import importlib.util, sys\n"
        + (f"sys.path.insert(0, {str(script_dir)!r})\n" if script_dir else "")
        + f"found = [m for m in {REPO_MODULES!r} if importlib.util.find_spec(m)]\n"
        + "print(found)\n"
    )
    completed = subprocess.run(
        [str(python), "-c", probe], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]", (
        f"the stock runtime can import this repository's {completed.stdout.strip()}: it is not isolated"
    )


def run_stock(
    manifest_path: Path,
    components_path: Path | None,
    verb: str,
    workdir: Path,
    config: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    *,
    mode: Mode = "injected",
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> SourceRun:
    """Runs `verb` (spec, check, discover, read) of the manifest on the stock runtime, with the files written to
    `workdir`, and parses what it prints as `run_source` does."""
    entry = ensure_stock_runtime()
    python = STOCK_VENV / "bin" / "python"
    workdir = Path(workdir)
    run_env = clean_environment(env)
    cwd = Path(tempfile.mkdtemp(prefix="stock-cwd-", dir=workdir))

    if mode == "injected":
        run_env.setdefault("AIRBYTE_ENABLE_UNSAFE_CODE", "true")
        argv = [str(entry), verb]
        if verb != "spec":
            config = injected_config(manifest_path, components_path, config)
        script_dir = entry.parent
    elif mode == "paths":
        run_env.setdefault("AIRBYTE_ENABLE_UNSAFE_CODE", "true")
        argv = [str(entry), verb]
        if verb != "spec":
            argv += ["--manifest-path", str(manifest_path)]
            if components_path is not None:
                argv += ["--components-path", str(components_path)]
            config = dict(config or {})
        script_dir = entry.parent
    elif mode == "image":
        # The image's working directory is /airbyte/integration_code itself; the connector code is trusted there,
        # so the unsafe-code flag is left unset to prove it is not needed.
        main = image_layout(manifest_path, components_path, cwd)
        argv = [str(python), str(main), verb]
        config = dict(config or {}) if verb != "spec" else None
        script_dir = main.parent
    else:
        raise ValueError(f"unknown mode {mode!r}")

    for name, content in (("config", config), ("catalog", catalog), ("state", state)):
        if content is not None and not (verb == "spec" and name == "config"):
            path = workdir / f"{name}.json"
            path.write_text(json.dumps(content))
            argv += [f"--{name}", str(path)]

    # The repository's own packages must not be reachable: only then does a missing import in components.py fail
    # here as it would on Airbyte. (The image's app directory holds only the copied files.)
    assert_isolated(python, cwd, run_env, script_dir)
    completed = subprocess.run(argv, cwd=cwd, env=run_env, capture_output=True, text=True, timeout=timeout)
    return parse_run(completed)
