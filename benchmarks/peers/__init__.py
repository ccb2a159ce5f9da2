"""The connectors the benchmark runs: ours (the installed console scripts of this repository; and, as `ours-stock-*`,
the connector folder's manifest.yaml and components.py injected into airbyte-cdk's stock `source-declarative-manifest`
in .venv-stock, as Airbyte Cloud runs a manifest-only connector) and the peers users would otherwise pick, each
installed from PyPI into its own virtual environment under `.bench/` and routed to the sandbox by
`router/sitecustomize.py`.

Each peer's configuration format comes from its own source:
- airbyte-source-mailchimp 2.0.37 (`source_mailchimp/spec.json`): `credentials` {auth_type: apikey, apikey} and the
  hidden `data_center` that its config migration would otherwise add (the migration wrapper in its `run.py` calls a
  `.json()` that CDK 7 removed, and CDK 6 is pinned for it anyway: `SourceMailchimp` is launched directly).
- tap-mailchimp 1.3.3 (`tap_mailchimp/client.py`, `__init__.py`): `api_key`, `dc`, required `start_date`.
- tap-campaign-monitor 1.1.0 (`tap_campaign_monitor/__init__.py`, `client.py`): `client_id` (the Campaign Monitor
  client), `refresh_token` (it refreshes at start with `POST /oauth/token`), `start_date`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(os.environ.get("BENCH_VENVS", REPO / ".bench"))
ROUTER_DIR = Path(__file__).resolve().parent / "router"
OLD_START = "2000-01-01T00:00:00Z"
STOCK_VENV = Path(os.environ.get("STOCK_VENV", REPO / ".venv-stock"))

# Stream names of each peer -> ours, for the streams both have (only those are compared).
MAILCHIMP_AIRBYTE_STREAMS = {
    "lists": "lists",
    "list_members": "list_members",
    "segments": "list_segments",
    "segment_members": "list_segment_members",
    "campaigns": "campaigns",
    "automations": "automations",
    "email_activity": "reports_email_activity",
    "unsubscribes": "unsubscribes",
    "tags": "tags",
    "interest_categories": "interest_categories",
    "interests": "interests",
    "reports": "reports",
}
MAILCHIMP_TAP_STREAMS = {
    name: name
    for name in (
        "lists",
        "list_members",
        "list_segments",
        "list_segment_members",
        "campaigns",
        "automations",
        "reports_email_activity",
        "unsubscribes",
    )
}
CAMPAIGN_MONITOR_TAP_STREAMS = {
    name: name
    for name in (
        "campaigns",
        "campaign_summary",
        "campaign_email_client_usage",
        "campaign_recipients",
        "campaign_bounces",
        "campaign_clicks",
        "campaign_opens",
        "campaign_spam_complaints",
        "campaign_unsubscribes",
        "lists",
        "list_details",
        "list_active_subscribers",
        "list_bounced_subscribers",
        "list_deleted_subscribers",
        "list_unconfirmed_subscribers",
        "list_unsubscribed_subscribers",
    )
}

AIRBYTE_LAUNCH = (
    "import sys; from airbyte_cdk.entrypoint import launch; from source_mailchimp import SourceMailchimp; "
    "launch(SourceMailchimp(), sys.argv[1:])"
)


@dataclass
class Connector:
    key: str  # short name used on the command line and in tables
    api: str  # "mailchimp" | "campaign_monitor": which sandbox
    protocol: str  # "airbyte" | "singer"
    title: str
    streams: dict[str, str]  # its stream name -> our stream name, for the streams it is compared on
    requirements: list[str] = field(default_factory=list)  # empty: ours, already installed in the project's venv
    routed: bool = True  # its https calls go to the sandbox through the router
    make_config: Callable[[dict[str, Any]], dict[str, Any]] = lambda sandbox: {}
    stock_runtime: bool = False  # ours on airbyte-cdk's source-declarative-manifest (scripts/stock_runtime_setup.sh)

    @property
    def venv(self) -> Path | None:
        return BENCH_DIR / self.key if self.requirements else None

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python") if self.venv else sys.executable

    def command(self) -> list[str]:
        if self.stock_runtime:
            return [str(STOCK_VENV / "bin" / "source-declarative-manifest")]
        if self.key == "airbyte-mailchimp":
            # -P: no current directory on sys.path, so this repository's own source_mailchimp cannot shadow it
            return [self.python, "-P", "-c", AIRBYTE_LAUNCH]
        if self.protocol == "singer":
            return [str(self.venv / "bin" / self.key)]
        return [str(Path(sys.executable).parent / f"source-{self.api.replace('_', '-')}")]

    def installed(self) -> bool:
        if not self.requirements:
            return Path(self.command()[0]).exists()
        marker = self.venv / ".bench-requirements"
        return marker.exists() and marker.read_text() == "\n".join(self.requirements)

    def install(self, log=print) -> None:
        """Creates `.bench/<key>` with exactly the pinned requirements."""
        if self.installed():
            return
        log(f"installing {self.title} into {self.venv} ...")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(self.venv)], check=True)
        subprocess.run(
            [str(self.venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             *self.requirements],
            check=True,
        )
        (self.venv / ".bench-requirements").write_text("\n".join(self.requirements))

    def env(self, sandbox_url: str, request_log: Path) -> dict[str, str]:
        """The environment it runs in: the router on PYTHONPATH, counting every request, and routing the real
        hosts to the sandbox for the peers (ours is pointed at the sandbox by its `sandbox_url` setting)."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PYTHONPATH"] = str(ROUTER_DIR)
        env["BENCH_REQUEST_LOG"] = str(request_log)
        env["PYTHONUNBUFFERED"] = "0"
        if self.stock_runtime:
            env["AIRBYTE_ENABLE_UNSAFE_CODE"] = "true"  # as Airbyte Cloud sets it for injected components
        if self.routed:
            env["BENCH_SANDBOX_URL"] = sandbox_url
            if self.key == "tap-campaign-monitor":  # it calls API v3.2; the sandbox serves v3.3
                env["BENCH_CM_V32"] = "1"
        return env


def ours_mailchimp_config(sandbox: dict[str, Any]) -> dict[str, Any]:
    return {"credentials": {"auth_type": "apikey", "apikey": sandbox["api_key"]}, "sandbox_url": sandbox["url"]}


def airbyte_mailchimp_config(sandbox: dict[str, Any]) -> dict[str, Any]:
    return {
        "credentials": {"auth_type": "apikey", "apikey": sandbox["api_key"]},
        "data_center": sandbox["api_key"].rsplit("-", 1)[-1],
    }


def injected(folder: str, make_config: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`make_config` plus the connector folder's manifest and components.py, injected as Airbyte Cloud injects them."""

    def config(sandbox: dict[str, Any]) -> dict[str, Any]:
        import yaml

        components = (REPO / folder / "components.py").read_text()
        return {
            **make_config(sandbox),
            "__injected_declarative_manifest": yaml.safe_load((REPO / folder / "manifest.yaml").read_text()),
            "__injected_components_py": components,
            "__injected_components_py_checksums": {"md5": hashlib.md5(components.encode()).hexdigest()},
        }

    return config


def tap_mailchimp_config(sandbox: dict[str, Any]) -> dict[str, Any]:
    return {"api_key": sandbox["api_key"], "dc": sandbox["api_key"].rsplit("-", 1)[-1], "start_date": OLD_START}


def ours_campaign_monitor_config(sandbox: dict[str, Any]) -> dict[str, Any]:
    return {
        "credentials": {"auth_type": "api_key", "api_key": sandbox["api_key"]},
        "api_client_id": sandbox["client_ids"][0],
        "start_date": OLD_START,
        "sandbox_url": sandbox["url"],
    }


def tap_campaign_monitor_config(sandbox: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": sandbox["client_ids"][0],
        "refresh_token": sandbox["oauth"]["refresh_token"],
        "start_date": OLD_START,
    }


CONNECTORS: dict[str, Connector] = {
    c.key: c
    for c in (
        Connector("ours-mailchimp", "mailchimp", "airbyte", "ours: source-mailchimp", MAILCHIMP_AIRBYTE_STREAMS,
                  routed=False, make_config=ours_mailchimp_config),
        Connector("ours-stock-mailchimp", "mailchimp", "airbyte", "ours: source_mailchimp/ on Airbyte's stock runtime",
                  MAILCHIMP_AIRBYTE_STREAMS, routed=False, stock_runtime=True,
                  make_config=injected("source_mailchimp", ours_mailchimp_config)),
        Connector("airbyte-mailchimp", "mailchimp", "airbyte", "airbyte-source-mailchimp 2.0.37 (CDK 6.61.6)",
                  MAILCHIMP_AIRBYTE_STREAMS,
                  requirements=["airbyte-source-mailchimp==2.0.37", "airbyte-cdk==6.61.6"],
                  make_config=airbyte_mailchimp_config),
        Connector("tap-mailchimp", "mailchimp", "singer", "tap-mailchimp 1.3.3 (Singer)", MAILCHIMP_TAP_STREAMS,
                  requirements=["tap-mailchimp==1.3.3"], make_config=tap_mailchimp_config),
        Connector("ours-campaign-monitor", "campaign_monitor", "airbyte", "ours: source-campaign-monitor",
                  CAMPAIGN_MONITOR_TAP_STREAMS, routed=False, make_config=ours_campaign_monitor_config),
        Connector("ours-stock-campaign-monitor", "campaign_monitor", "airbyte",
                  "ours: source_campaign_monitor/ on Airbyte's stock runtime", CAMPAIGN_MONITOR_TAP_STREAMS,
                  routed=False, stock_runtime=True,
                  make_config=injected("source_campaign_monitor", ours_campaign_monitor_config)),
        Connector("tap-campaign-monitor", "campaign_monitor", "singer", "tap-campaign-monitor 1.1.0 (Singer)",
                  CAMPAIGN_MONITOR_TAP_STREAMS, requirements=["tap-campaign-monitor==1.1.0"],
                  make_config=tap_campaign_monitor_config),
    )
}

PEERS = [c for c in CONNECTORS.values() if c.requirements]


def singer_catalog(discovered: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """Selects `streams` and every field of them in a Singer catalog (tap-mailchimp asks the API only for the fields
    selected in the catalog, so a stream selected without its fields would read next to nothing)."""
    for stream in discovered["streams"]:
        selected = stream["tap_stream_id"] in streams
        metadata = stream.setdefault("metadata", [])
        if not any(entry["breadcrumb"] == [] for entry in metadata):  # tap-mailchimp discovers none
            metadata.insert(0, {"breadcrumb": [], "metadata": {}})
        for entry in metadata:
            if entry["breadcrumb"] == [] or selected:
                if entry["metadata"].get("inclusion") != "unsupported":
                    entry["metadata"]["selected"] = selected
    return discovered


def airbyte_catalog(discovered: dict[str, Any], streams: list[str], sync_mode: str = "full_refresh") -> dict[str, Any]:
    """A configured catalog of `streams` (sync_mode where supported, else full refresh)."""
    configured = []
    for stream in discovered["streams"]:
        if stream["name"] not in streams:
            continue
        mode = sync_mode if sync_mode in stream["supported_sync_modes"] else "full_refresh"
        entry = {"stream": stream, "sync_mode": mode, "destination_sync_mode": "overwrite"}
        if mode == "incremental" and stream.get("default_cursor_field"):
            entry["cursor_field"] = stream["default_cursor_field"]
        if stream.get("source_defined_primary_key"):
            entry["primary_key"] = stream["source_defined_primary_key"]
            entry["destination_sync_mode"] = "append_dedup"
        configured.append(entry)
    return {"streams": configured}


def discover(connector: Connector, config_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """The connector's catalog (Airbyte `discover` or Singer `--discover`)."""
    if connector.protocol == "singer":
        argv = connector.command() + ["--config", str(config_path), "--discover"]
    else:
        argv = connector.command() + ["discover", "--config", str(config_path)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600, cwd=config_path.parent)
    if connector.protocol == "singer":
        try:
            return json.loads(done.stdout)
        except ValueError:
            raise RuntimeError(f"{connector.key} discover failed: {done.stderr[-2000:]}") from None
    for line in done.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "CATALOG":
            return message["catalog"]
    raise RuntimeError(f"{connector.key} discover failed: {(done.stdout + done.stderr)[-2000:]}")


def read_argv(connector: Connector, config: Path, catalog: Path, state: Path | None = None) -> list[str]:
    if connector.protocol == "singer":
        argv = connector.command() + ["--config", str(config), "--catalog", str(catalog)]
    else:
        argv = connector.command() + ["read", "--config", str(config), "--catalog", str(catalog)]
    if state is not None:
        argv += ["--state", str(state)]
    return argv


def install_peers(keys: list[str] | None = None, log=print) -> None:
    for peer in PEERS:
        if keys is None or peer.key in keys:
            peer.install(log=log)


if __name__ == "__main__":
    install_peers(sys.argv[1:] or None)
