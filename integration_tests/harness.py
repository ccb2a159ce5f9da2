"""Runs an installed connector command (`source-mailchimp`, `source-campaign-monitor`) as a subprocess, the way
Airbyte runs it, and parses what it prints into Airbyte messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def command_path(command: str) -> str:
    """The installed console script: next to this interpreter first (the project's venv), then on PATH."""
    beside = Path(sys.executable).parent / command
    if beside.exists():
        return str(beside)
    found = shutil.which(command)
    if not found:
        raise FileNotFoundError(f"{command} is not installed: run `pip install -e .` first")
    return found


TRACEBACK = "Traceback (most recent call last)"


def bare_tracebacks(stdout: str, stderr: str) -> list[str]:
    """Python tracebacks printed outside Airbyte messages: on stderr, or as plain lines on stdout. Inside a message
    (an error's `stack_trace`, the CDK's ERROR log of a failed stream) a traceback is the detail of an error the
    connector reported, beside its TRACE error; outside, it is a crash the platform cannot read."""
    found = [stderr[-2000:]] if TRACEBACK in stderr else []
    for line in stdout.split("\n"):
        if TRACEBACK in line and not _is_message(line):
            found.append(line[:2000])
    return found


def _is_message(line: str) -> bool:
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return isinstance(message, dict) and "type" in message


@dataclass
class SourceRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == message_type]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]["data"]
            for m in self.of_type("RECORD")
            if stream is None or m["record"]["stream"] == stream
        ]

    def records_by_stream(self) -> dict[str, list[dict[str, Any]]]:
        by_stream: dict[str, list[dict[str, Any]]] = {}
        for m in self.of_type("RECORD"):
            by_stream.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
        return by_stream

    def states(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def final_state(self) -> list[dict[str, Any]]:
        """The last state message of each stream: what Airbyte would hand to the next sync."""
        last: dict[str, dict[str, Any]] = {}
        for state in self.states():
            last[state["stream"]["stream_descriptor"]["name"]] = state
        return list(last.values())

    def records_counted_in_states(self) -> dict[str, float]:
        """Per stream, the sum of `sourceStats.recordCount` over its state messages: the records the platform is
        told were sent before each state."""
        counted: dict[str, float] = {}
        for state in self.states():
            name = state["stream"]["stream_descriptor"]["name"]
            counted[name] = counted.get(name, 0.0) + state.get("sourceStats", {}).get("recordCount", 0.0)
        return counted

    def traces(self, trace_type: str | None = None) -> list[dict[str, Any]]:
        return [m["trace"] for m in self.of_type("TRACE") if trace_type is None or m["trace"]["type"] == trace_type]

    def errors(self) -> list[dict[str, Any]]:
        return [t["error"] for t in self.traces("ERROR")]

    def logs(self, level: str | None = None) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG") if level is None or m["log"]["level"] == level]

    def control_configs(self) -> list[dict[str, Any]]:
        return [m["control"]["connectorConfig"]["config"] for m in self.of_type("CONTROL")]

    def connection_status(self) -> dict[str, Any]:
        (status,) = [m["connectionStatus"] for m in self.of_type("CONNECTION_STATUS")]
        return status

    def catalog(self) -> dict[str, Any]:
        (catalog,) = [m["catalog"] for m in self.of_type("CATALOG")]
        return catalog

    def spec(self) -> dict[str, Any]:
        (spec,) = [m["spec"] for m in self.of_type("SPEC")]
        return spec

    def bare_tracebacks(self) -> list[str]:
        return bare_tracebacks(self.stdout, self.stderr)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_source(
    command: str,
    verb: str,
    workdir: Path,
    *,
    config: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> SourceRun:
    """Runs `command verb [--config ...] [--catalog ...] [--state ...]` with the files written to `workdir`."""
    argv = [command_path(command), verb]
    for name, content in (("config", config), ("catalog", catalog), ("state", state)):
        if content is not None:
            path = Path(workdir) / f"{name}.json"
            path.write_text(json.dumps(content))
            argv += [f"--{name}", str(path)]
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    return parse_run(completed)


def parse_run(completed: subprocess.CompletedProcess) -> SourceRun:
    """The Airbyte messages among the lines a connector printed (anything else on stdout is kept in `stdout` only)."""
    messages = []
    for line in completed.stdout.split("\n"):  # Airbyte splits on \n only; a record may hold \u2028
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and "type" in message:
            messages.append(message)
    return SourceRun(completed.returncode, completed.stdout, completed.stderr, messages)


def configured_catalog(
    catalog: dict[str, Any], streams: list[str] | None = None, sync_mode: str = "full_refresh"
) -> dict[str, Any]:
    """A configured catalog for `streams` (all by default) of a discovered catalog. Incremental is used only for
    streams that support it; the others fall back to full refresh."""
    configured = []
    for stream in catalog["streams"]:
        if streams is not None and stream["name"] not in streams:
            continue
        mode = sync_mode if sync_mode in stream["supported_sync_modes"] else "full_refresh"
        entry = {
            "stream": stream,
            "sync_mode": mode,
            "destination_sync_mode": "append_dedup" if stream.get("source_defined_primary_key") else "overwrite",
        }
        if stream.get("source_defined_primary_key"):
            entry["primary_key"] = stream["source_defined_primary_key"]
        if mode == "incremental" and stream.get("default_cursor_field"):
            entry["cursor_field"] = stream["default_cursor_field"]
        configured.append(entry)
    return {"streams": configured}
