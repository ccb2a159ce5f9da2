"""A Mailchimp account shared with another app: our full sync while a second client holds some of the account's 10
simultaneous connections, with and without adaptive concurrency, for several `num_workers`.

    .venv/bin/python benchmarks/shared_account.py --scale 10 [--workers 4 6 8 10] [--shared 0 3 6] [--markdown FILE]

The second client (`OtherClient`) uses the same API key from N threads, each sending a small request again as soon as
the previous one is answered, so that N of the 10 connections are taken nearly all the time, as a busy app's would
be; it waits one request's latency after a 429 of its own, then sends again. Each read is one subprocess of the
installed `source-mailchimp` on the streams the benchmark compares with Airbyte's connector (12), against one sandbox
process with the benchmark's latency model (benchmarks/run.py: 50 ms a request, 20 us an item, 10 connections per
user). Reported per run: wall seconds, our requests and our 429s (retries included: the router's log), the most of our
requests in flight at once, the other client's requests and 429s, and whether every stream's record count matches
the sandbox's data. `--markdown FILE` writes the table to FILE, `--json FILE` every run. The figures and what was
chosen from them are in docs/benchmarks.md (hand-written section).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.peers import CONNECTORS  # noqa: E402
from benchmarks.run import RunResult, our_streams_for, run_connector, table  # noqa: E402
from benchmarks.sandbox_process import SandboxProcess  # noqa: E402

OTHER_APP = "other-app/1.0"
OTHER_PATH = "/3.0/lists?count=1&fields=total_items"


class OtherClient:
    """Another app on the same account: `connections` threads, each sending OTHER_PATH again as soon as the last one
    is answered, on a kept-alive connection. Counts its requests and the 429s it got."""

    def __init__(self, url: str, api_key: str, connections: int, backoff: float = 0.05) -> None:
        split = urlsplit(url)
        self.host, self.port = split.hostname, split.port
        self.headers = {"Authorization": "Basic " + base64.b64encode(f"other:{api_key}".encode()).decode(),
                        "User-Agent": OTHER_APP}
        self.connections = connections
        self.backoff = backoff
        self.answers: list[tuple[float, int | None]] = []  # (monotonic time answered, status)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(connections)]

    def _loop(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        while not self._stop.is_set():
            try:
                connection.request("GET", OTHER_PATH, headers=self.headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                status = None
            with self._lock:
                self.answers.append((time.monotonic(), status))
            if status == 429:
                self._stop.wait(self.backoff)
        connection.close()

    def start(self) -> "OtherClient":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=35)

    def counts(self, start: float, end: float) -> dict[str, int]:
        """Its requests and 429s answered between `start` and `end` (monotonic seconds, as the router logs them)."""
        within = [status for at, status in self.answers if start <= at <= end]
        return {"requests": len(within), "throttled": within.count(429)}

    def __enter__(self) -> "OtherClient":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class SharedRun:
    shared: int  # connections the other client holds
    num_workers: int
    adaptive: bool
    result: RunResult
    other: dict[str, int]
    after_first_429: int  # the most of our requests in flight at once after our first 429

    def row(self) -> list[Any]:
        r = self.result
        return [self.shared, self.num_workers, "yes" if self.adaptive else "no", f"{r.wall:.1f}", r.requests,
                r.outcomes.get("429", 0), r.max_in_flight, self.after_first_429, self.other["requests"], self.other["throttled"],
                "ok" if r.ok and not r.mismatches() else "WRONG"]

    def as_json(self) -> dict[str, Any]:
        return {"shared": self.shared, "num_workers": self.num_workers, "adaptive": self.adaptive,
                "wall": self.result.wall, "requests": self.result.requests,
                "throttled": self.result.outcomes.get("429", 0), "max_in_flight": self.result.max_in_flight,
                "max_in_flight_after_first_429": self.after_first_429,
                "records": self.result.total_records, "records_match": self.result.ok and not self.result.mismatches(),
                "other": self.other}


HEADERS = ["other client holds", "num_workers", "adaptive", "wall s", "our requests", "our 429s", "our max in flight",
           "after our 1st 429", "other's requests", "other's 429s", "records"]


def measure(sandbox: SandboxProcess, workdir: Path, *, shared: int, num_workers: int, adaptive: bool, scale: float,
            latency: float, item_latency: float, timeout: float) -> SharedRun:
    base = CONNECTORS["ours-mailchimp"]

    def make_config(info: dict[str, Any]) -> dict[str, Any]:
        return {**base.make_config(info), "num_workers": num_workers, "adaptive_concurrency": adaptive}

    connector = replace(base, make_config=make_config)
    info = sandbox.ask("credentials")
    label = f"shared-{shared}-workers-{num_workers}-{'adaptive' if adaptive else 'fixed'}"
    # The other client starts first and is already at its pace when the sync starts; latency must be on for it.
    sandbox.ask(f"latency {latency} {item_latency}")
    other = OtherClient(info["url"], info["api_key"], shared, backoff=latency).start() if shared else None
    time.sleep(0.2 if shared else 0)
    try:
        result, _ = run_connector(connector, sandbox, workdir / label, label=label, scale=scale, latency=latency,
                                  item_latency=item_latency, streams=our_streams_for(CONNECTORS["airbyte-mailchimp"]),
                                  timeout=timeout)
    finally:
        if other:
            other.stop()
    spans = request_spans(workdir / label / "requests.log")
    window = (min(s for s, _, _ in spans), max(e for _, e, _ in spans)) if spans else (0.0, 0.0)
    counts = other.counts(*window) if other else {"requests": 0, "throttled": 0}
    return SharedRun(shared, num_workers, adaptive, result, counts, max_in_flight_after_first_429(spans))


def request_spans(log: Path) -> list[tuple[float, float, str]]:
    """(start, end, outcome) of each request in the router's log."""
    spans = []
    for line in log.read_text().splitlines() if log.exists() else []:
        fields = line.split("\t")
        if len(fields) >= 4:
            spans.append((float(fields[0]), float(fields[1]), fields[3]))
    return spans


def max_in_flight_after_first_429(spans: list[tuple[float, float, str]]) -> int:
    """The most requests in flight at once among those sent after the first 429 was answered (0: no 429)."""
    answered = [end for _, end, outcome in spans if outcome == "429"]
    if not answered:
        return 0
    after = sorted(answered)[0]
    events = sorted([(s, 1) for s, _, _ in spans if s >= after] + [(e, -1) for s, e, _ in spans if s >= after],
                    key=lambda event: (event[0], event[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--item-latency", type=float, default=0.00002)
    parser.add_argument("--workers", type=int, nargs="*", default=[4, 6, 8, 10])
    parser.add_argument("--shared", type=int, nargs="*", default=[0, 3, 6],
                        help="connections the other client holds (of the 10 Mailchimp allows a user)")
    parser.add_argument("--adaptive", choices=["both", "on", "off"], default="both")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each combination (the table gives each)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-shared-"))
    modes = {"both": [False, True], "on": [True], "off": [False]}[args.adaptive]
    runs: list[SharedRun] = []
    with SandboxProcess("mailchimp", args.scale, args.seed, 10) as sandbox:
        for _ in range(args.repeat):
            for shared in args.shared:
                for num_workers in args.workers:
                    for adaptive in modes:
                        run = measure(sandbox, workdir, shared=shared, num_workers=num_workers, adaptive=adaptive,
                                      scale=args.scale, latency=args.latency, item_latency=args.item_latency,
                                      timeout=args.timeout)
                        print(json.dumps(run.as_json()), file=sys.stderr, flush=True)
                        runs.append(run)
    load = os.getloadavg()[0]
    text = (f"Mailchimp sandbox at scale {args.scale:g}, {args.latency * 1000:g} ms a request + "
            f"{args.item_latency * 1e6:g} us an item, 10 connections per user; load average {load:.1f} at the end.\n\n"
            + table(HEADERS, [run.row() for run in runs], markdown=bool(args.markdown)))
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps([run.as_json() for run in runs], indent=2))
    return 0 if all(run.result.ok and not run.result.mismatches() for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
