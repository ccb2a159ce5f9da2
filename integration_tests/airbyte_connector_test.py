"""Runs Airbyte's own `airbyte-cdk connector test <connector folder>` against the local sandbox, unchanged.

The connector folder's acceptance-test-config.yml names `secrets/*.json` configs; they must point at a sandbox whose
port changes from run to run. This starts the sandbox the file describes (its `sandbox:` key), writes the configs into
`<folder>/secrets/` (ignored by git and by the image build), runs the command while the sandbox serves, and removes the
configs it wrote. The exit status is the command's.

    .venv/bin/python -m integration_tests.airbyte_connector_test source_mailchimp [--airbyte-cdk PATH] [-- pytest args]

--airbyte-cdk: the CLI to run. Default: `airbyte-cdk` beside this interpreter. The CLI needs the CDK's `dev` extra
(pytest); a throwaway venv with only Airbyte's packages shows what Airbyte's CI would see:
    python3 -m venv /tmp/venv-cdk-dev && /tmp/venv-cdk-dev/bin/pip install "airbyte-cdk[dev]==7.39.1"
The CDK's declarative suite runs the folder's manifest.yaml in-process, with components.py injected (checksummed, with
AIRBYTE_ENABLE_UNSAFE_CODE=true), so components.py must import nothing but the CDK and its dependencies there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from integration_tests.test_standard_suite import CONNECTORS, FOLDERS, start_sandbox, write_secrets

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", choices=sorted(path.name for path in FOLDERS.values()))
    parser.add_argument("--airbyte-cdk", default=str(Path(sys.executable).parent / "airbyte-cdk"))
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    (command,) = [c for c, folder in FOLDERS.items() if folder.name == args.folder]
    folder = FOLDERS[command]
    with start_sandbox(CONNECTORS[command][0]) as sb:
        written = write_secrets(command, sb, folder / "secrets")
        try:
            cli = [args.airbyte_cdk, "connector", "test", str(folder)]
            for extra in args.pytest_args:
                cli += ["--pytest-arg", extra]
            print(f"sandbox {sb.url}; configs {[str(p.relative_to(ROOT)) for p in written]}", flush=True)
            print("running", " ".join(cli), flush=True)
            return subprocess.run(cli, cwd=folder).returncode
        finally:
            for path in written:
                path.unlink(missing_ok=True)
            if (folder / "secrets").is_dir() and not any((folder / "secrets").iterdir()):
                (folder / "secrets").rmdir()


if __name__ == "__main__":
    sys.exit(main())
