"""Both connectors read with PyAirbyte, as a notebook user would: `airbyte.get_source(..., local_executable=...)` over
the commands installed in the project's venv, into PyAirbyte's default local DuckDB cache, offline
(AIRBYTE_OFFLINE_MODE=1), against the sandboxes.

PyAirbyte lives in its own venv (.venv-pyairbyte, made by scripts/pyairbyte_setup.sh: about a minute and a half the
first time, instant afterwards). The test is skipped only when that venv cannot be made because the package registry
cannot be reached; any other setup failure fails it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from integration_tests.harness import configured_catalog, run_source
from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-pyairbyte"
SETUP = ROOT / "scripts" / "pyairbyte_setup.sh"
READ = ROOT / "scripts" / "pyairbyte_read.py"
REGISTRY_UNREACHABLE = 3  # pyairbyte_setup.sh's exit status when pip cannot reach the package registry
SCALE = 0.05


@pytest.fixture(scope="module")
def pyairbyte_python() -> Path:
    setup = subprocess.run(
        [str(SETUP)], capture_output=True, text=True, timeout=900, env={**os.environ, "PYAIRBYTE_VENV": str(VENV)}
    )
    if setup.returncode == REGISTRY_UNREACHABLE:
        pytest.skip(
            f"PyAirbyte cannot be installed: the package registry is unreachable ({setup.stderr.strip()[-300:]})"
        )
    assert setup.returncode == 0, f"scripts/pyairbyte_setup.sh failed:\n{setup.stdout}\n{setup.stderr}"
    return VENV / "bin" / "python"


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    """One default cache for both connectors, as a user reading both in the same notebook would have."""
    return tmp_path_factory.mktemp("pyairbyte")


def pyairbyte_read(python: Path, connector: str, config: dict[str, Any], workdir: Path, cache_root: Path) -> dict:
    config_file = workdir / f"{connector}.json"
    config_file.write_text(json.dumps(config))
    env = {**os.environ, "AIRBYTE_OFFLINE_MODE": "1", "DO_NOT_TRACK": "1", "AIRBYTE_CACHE_ROOT": str(cache_root)}
    completed = subprocess.run(
        [str(python), str(READ), connector, "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
        env=env,
    )
    assert completed.returncode == 0, (
        f"PyAirbyte read of {connector} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["output"] = completed.stdout + completed.stderr
    return result


def direct_counts(connector: str, config: dict[str, Any], workdir: Path) -> dict[str, int]:
    discovered = run_source(connector, "discover", workdir, config=config)
    assert discovered.returncode == 0, discovered.output
    catalog = discovered.catalog()
    read = run_source(connector, "read", workdir, config=config, catalog=configured_catalog(catalog))
    assert read.returncode == 0, read.output
    by_stream = read.records_by_stream()
    return {stream["name"]: len(by_stream.get(stream["name"], [])) for stream in catalog["streams"]}


# Both read with PyAirbyte's default `read()`, which is incremental and configures *every* stream with sync_mode
# incremental, the full-refresh-only ones included: those are read in full refresh, as the CDK does.
def test_pyairbyte_reads_every_mailchimp_stream_into_the_default_cache_as_the_command_reads_it(
    pyairbyte_python, cache_root, tmp_path
):
    with MailchimpSandbox(scale=SCALE, seed=0) as sb:
        config = {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url}
        expected = direct_counts("source-mailchimp", config, tmp_path)
        result = pyairbyte_read(pyairbyte_python, "source-mailchimp", config, tmp_path, cache_root)
    assert result["streams"] == expected
    assert all(expected.values()), f"a stream read nothing at scale {SCALE}: {expected}"
    assert Path(result["cache"]).is_relative_to(cache_root), "not PyAirbyte's default cache"
    assert sb.api_key not in result["output"]


def test_pyairbyte_reads_every_campaign_monitor_stream_into_the_same_cache_without_mixing_tables(
    pyairbyte_python, cache_root, tmp_path
):
    """Runs after the Mailchimp read into the same cache: both connectors have `campaigns` and `lists` streams, so
    counts equal to the command's own prove that the Mailchimp rows did not end up in these tables."""
    with CampaignMonitorSandbox(scale=SCALE, seed=0) as sb:
        config = {"credentials": {"auth_type": "api_key", "api_key": sb.api_key}, "sandbox_url": sb.url}
        expected = direct_counts("source-campaign-monitor", config, tmp_path)
        result = pyairbyte_read(pyairbyte_python, "source-campaign-monitor", config, tmp_path, cache_root)
    assert result["streams"] == expected
    assert all(expected.values()), f"a stream read nothing at scale {SCALE}: {expected}"
    assert sb.api_key not in result["output"]
