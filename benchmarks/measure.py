"""Runs one connector command and measures it from outside: wall seconds, CPU seconds and peak RSS of its whole process
tree, its output saved to a file (parsed afterwards, so that parsing does not compete with the connector for the CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def children_of() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, now."""
    tree = children_of()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * PAGE_SIZE
        except OSError:
            continue
    return total


@dataclass
class Measured:
    argv: list[str]
    returncode: int
    wall: float
    cpu: float  # user + system seconds of the process tree (children reaped by it included)
    peak_rss: int  # bytes, sum over the process tree, sampled
    stdout_path: Path
    stderr_tail: str

    def lines(self):
        with open(self.stdout_path, "rb") as out:
            for line in out:
                yield line


def run_measured(
    argv: list[str],
    *,
    env: dict[str, str],
    stdout_path: Path,
    cwd: Path | None = None,
    timeout: float = 3600,
    sample_every: float = 0.05,
) -> Measured:
    """Runs `argv` to its end, polling the RSS of its process tree every `sample_every` seconds."""
    stderr_path = stdout_path.with_suffix(".stderr")
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(process.pid))
                done.wait(sample_every)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0) if timeout is None else _wait4(process, timeout)
        finally:
            done.set()
            sampler.join()
        wall = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
    stderr = stderr_path.read_bytes()[-4000:].decode("utf-8", "replace")
    return Measured(argv, process.returncode, wall, usage.ru_utime + usage.ru_stime, peak, stdout_path, stderr)


def _wait4(process: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > deadline:
            process.kill()
            return os.wait4(process.pid, 0)
        time.sleep(0.01)


@dataclass
class Output:
    """What a connector printed: records per stream, and the last state (Airbyte per stream, or Singer's)."""

    records: Counter = field(default_factory=Counter)
    airbyte_states: dict = field(default_factory=dict)
    singer_state: dict | None = None
    errors: list = field(default_factory=list)


def parse_output(measured: Measured) -> Output:
    """Counts RECORD messages per stream in Airbyte (`{"type": "RECORD", "record": {"stream": ...}}`) or Singer
    (`{"type": "RECORD", "stream": ...}`) output."""
    output = Output()
    for line in measured.lines():
        if not line.startswith(b"{"):
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        kind = message.get("type")
        if kind == "RECORD":
            stream = message["stream"] if "stream" in message else message["record"]["stream"]
            output.records[stream] += 1
        elif kind == "STATE":
            state = message.get("state") or message.get("value")
            if "state" in message and isinstance(state, dict) and "stream" in state:
                output.airbyte_states[state["stream"]["stream_descriptor"]["name"]] = state
            elif "value" in message:
                output.singer_state = message["value"]
        elif kind == "TRACE" and message.get("trace", {}).get("type") == "ERROR":
            output.errors.append(message["trace"]["error"].get("message"))
    return output


def read_request_log(path: Path) -> dict:
    """Summary of a router request log (lines `start end method outcome url`): total requests, how many of each
    outcome (status code or exception name), and the most requests that were in flight at once."""
    outcomes: Counter = Counter()
    events: list[tuple[float, int]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 5:
                continue
            outcomes[parts[3]] += 1
            events += [(float(parts[0]), 1), (float(parts[1]), -1)]
    in_flight = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        in_flight += delta
        peak = max(peak, in_flight)
    return {"total": sum(outcomes.values()), "outcomes": dict(outcomes), "max_in_flight": peak}
