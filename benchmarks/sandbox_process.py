"""Serves one API sandbox in a process of its own, so that its CPU does not count against the connector measured, and
answers the benchmark's questions about it on stdin/stdout (one JSON line per command):

    python benchmarks/sandbox_process.py mailchimp|campaign_monitor|stub --scale S --seed N --max-connections C

First line printed: {"url", "api_key", "oauth", "client_ids", "truth"}, where truth is the number of records per stream
(our stream names) that a full read must return, computed from the sandbox's ground truth (`sb.data`).
Commands: `latency <seconds per request> <seconds per item>`, `log` (what the sandbox itself saw since the last
`reset`: total, by status), `reset`, `mutate` (ids added or changed per resource), `credentials`, `quit`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.truth import truth_counts  # noqa: E402


class SandboxProcess:
    """A sandbox served by benchmarks/sandbox_process.py in its own process; `ask` sends one command."""

    def __init__(self, api: str, scale: float, seed: int, max_connections: int) -> None:
        self.api = api
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), api, "--scale", str(scale),
             "--seed", str(seed), "--max-connections", str(max_connections)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
        )
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise RuntimeError(f"the {api} sandbox did not start (exit {self.process.returncode})")
        self.info = json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_sandbox(kind: str, scale: float, seed: int, max_connections: int):
    if kind == "mailchimp":
        from sandbox.mailchimp import MailchimpSandbox

        return MailchimpSandbox(scale=scale, seed=seed, latency=0.0, item_latency=0.0, max_connections=max_connections)
    if kind == "campaign_monitor":
        from sandbox.campaign_monitor import CampaignMonitorSandbox

        return CampaignMonitorSandbox(
            scale=scale, seed=seed, latency=0.0, item_latency=0.0, max_connections=max_connections
        )
    if kind == "stub":
        from benchmarks.tests.stub_api import StubSandbox

        return StubSandbox(scale=scale, max_connections=max_connections)
    raise SystemExit(f"unknown sandbox {kind!r}")


def credentials(sb) -> dict:
    return {
        "url": sb.url,
        "api_key": getattr(sb, "api_key", None),
        "oauth": dict(getattr(sb, "oauth", {}) or {}),
        "client_ids": list(getattr(sb, "client_ids", []) or []),
    }


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset, list, tuple)):
        return sorted((jsonable(v) for v in value), key=str)
    return value


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-connections", type=int, default=10)
    args = parser.parse_args(argv)
    with open_sandbox(args.kind, args.scale, args.seed, args.max_connections) as sb:
        first = credentials(sb)
        first["truth"] = truth_counts(args.kind, sb)
        print(json.dumps(first), flush=True)
        for line in sys.stdin:
            command, *rest = line.split()
            if command == "latency":
                sb.server.latency, sb.server.item_latency = float(rest[0]), float(rest[1])
                answer = {"latency": sb.server.latency, "item_latency": sb.server.item_latency}
            elif command == "log":
                logged = sb.server.requests()
                answer = {"total": len(logged), "statuses": dict(Counter(str(r.status) for r in logged))}
            elif command == "reset":
                sb.server.reset_log()
                answer = {"reset": True}
            elif command == "mutate":
                answer = {"changed": jsonable(sb.mutate())}
            elif command == "truth":
                answer = {"truth": truth_counts(args.kind, sb)}
            elif command == "credentials":
                answer = credentials(sb)
            elif command == "quit":
                break
            else:
                answer = {"error": f"unknown command {command!r}"}
            print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
