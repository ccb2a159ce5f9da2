"""Runs the `source-mailchimp` entrypoint in-process (run.run) against requests-mock and parses what it prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional

import pytest

from integration_tests.discovered_streams import discovered_streams
from source_mailchimp.run import run

API = "https://us6.api.mailchimp.com/3.0/"
SANDBOX = "http://127.0.0.1:8999"
SANDBOX_API = SANDBOX + "/3.0/"
API_KEY = "0123456789abcdef0123456789abcdef-us6"
TOKEN = "oauth-token-7f3a9c"

# The incremental streams, as the connector's discover declares them.
INCREMENTAL = {name for name, stream in discovered_streams("mailchimp").items() if stream.incremental}


def apikey_config(**settings: Any) -> dict[str, Any]:
    return {"credentials": {"auth_type": "apikey", "apikey": API_KEY}, **settings}


def oauth_config(**settings: Any) -> dict[str, Any]:
    return {
        "credentials": {"auth_type": "oauth2.0", "client_id": "cid", "client_secret": "csecret", "access_token": TOKEN},
        **settings,
    }


def page(field: str, items: list[dict[str, Any]], total: Optional[int] = None) -> dict[str, Any]:
    return {field: items, "total_items": len(items) if total is None else total, "_links": []}


def catalog(streams: Iterable[str], incremental: bool = False) -> dict[str, Any]:
    configured = []
    for name in streams:
        mode = "incremental" if incremental and name in INCREMENTAL else "full_refresh"
        configured.append(
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": mode,
                "destination_sync_mode": "append",
            }
        )
    return {"streams": configured}


class Output:
    def __init__(self, text: str, exit_code: int) -> None:
        self.text = text
        self.exit_code = exit_code
        self.messages = []
        for line in text.splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and "type" in message:
                self.messages.append(message)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"]["data"] for m in self.of_type("RECORD") if m["record"]["stream"] == stream]

    def final_state(self, stream: str) -> dict[str, Any]:
        states = [
            m["state"]["stream"]["stream_state"] for m in self.of_type("STATE") if m["state"]["stream"]["stream_descriptor"]["name"] == stream
        ]
        return states[-1]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]

    def logs(self, *levels: str) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG") if not levels or m["log"]["level"] in levels]

    def status(self) -> dict[str, Any]:
        (status,) = [m["connectionStatus"] for m in self.of_type("CONNECTION_STATUS")]
        return status


def invoke(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    verb: str,
    config: Optional[dict[str, Any]] = None,
    catalog: Optional[dict[str, Any]] = None,
    state: Optional[list[dict[str, Any]]] = None,
    raw: Optional[dict[str, str]] = None,
) -> Output:
    """`source-mailchimp VERB --config ... [--catalog ...] [--state ...]`, in this process."""
    args = [verb]
    for name, content in (("config", config), ("catalog", catalog), ("state", state)):
        if raw and name in raw:
            path = tmp_path / f"{name}.json"
            path.write_text(raw[name])
            args += [f"--{name}", str(path)]
        elif content is not None:
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(content))
            args += [f"--{name}", str(path)]
    capsys.readouterr()
    exit_code = 0
    try:
        run(args)
    except SystemExit as exit:
        exit_code = exit.code if isinstance(exit.code, int) else 1
    captured = capsys.readouterr()
    return Output(captured.out + captured.err, exit_code)


def state_message(stream: str, stream_state: dict[str, Any]) -> dict[str, Any]:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": stream_state}}


def per_partition_state(stream: str, cursor_field: str, cursors: dict[tuple, str], keys: tuple) -> dict[str, Any]:
    states = []
    for partition_values, value in cursors.items():
        partition = dict(zip(keys, partition_values))
        partition["parent_slice"] = {}
        states.append({"partition": partition, "cursor": {cursor_field: value}})
    return state_message(stream, {"use_global_cursor": False, "states": states, "lookback_window": 0})
