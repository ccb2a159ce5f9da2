"""The benchmark: our two connectors against the connectors users would otherwise pick, on the same sandbox and data.

    .venv/bin/python benchmarks/run.py --scale 10 [--markdown docs/benchmarks.md]

For each API a sandbox runs in a process of its own (benchmarks/sandbox_process.py) with a latency model of a remote
API (default 50 ms per request plus a per-item cost, and at most 10 simultaneous requests per credential: Mailchimp
answers 429 beyond). Each connector is run as a subprocess on the streams it shares with its peer; its https calls
are routed to the sandbox (peers) or it is pointed there by `sandbox_url` (ours), and every HTTP request it sends is
counted by benchmarks/peers/router/sitecustomize.py. Runs:

1. latency: full refresh of the shared streams by every connector; records, requests, wall, CPU, peak RSS; our ratios
   to each peer and our distance to the concurrency lower bound; our record counts checked against the sandbox's data.
2. zero latency: the same without latency, for the CPU cost per record.
3. memory: ours at two scales ten times apart (default 1 and 10): peak RSS must stay flat.
4. incremental: ours, a second incremental sync with nothing changed: requests against parents + one per stream.
5. floor: our latency runs replayed with nothing but the JSON work (benchmarks/floor.py).
6. every-stream: ours on every stream it discovers, all at once and each alone (benchmarks/every_stream.py).

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import floor  # noqa: E402
from benchmarks.every_stream import every_stream_report, run_every_stream  # noqa: E402
from benchmarks.measure import parse_output, read_request_log, run_measured  # noqa: E402
from benchmarks.sandbox_process import SandboxProcess  # noqa: E402
from benchmarks.peers import CONNECTORS, Connector, airbyte_catalog, discover, read_argv, singer_catalog  # noqa: E402

# Which peer each of our connectors is compared with; ours reads the streams the peer has (under our names).
COMPARISONS = [
    ("ours-mailchimp", "airbyte-mailchimp"),
    ("ours-mailchimp", "tap-mailchimp"),
    ("ours-stock-mailchimp", "airbyte-mailchimp"),
    ("ours-campaign-monitor", "tap-campaign-monitor"),
    ("ours-stock-campaign-monitor", "tap-campaign-monitor"),
]
# The parents of the incremental streams (those are read per list or per campaign), for the incremental bound.
PARENT_STREAMS = {
    "mailchimp": ["lists", "campaigns"],
    "campaign_monitor": ["lists", "campaigns"],
}
TARGETS = {
    "wall_ratio": 0.25,  # ours / peer
    "bound_ratio": 1.5,  # ours / concurrency lower bound
    "rss_ratio": 1.3,  # peak RSS at 10x / at 1x
}


@dataclass
class RunResult:
    connector: str
    api: str
    label: str  # which run: latency, zero-latency, memory, ...
    scale: float
    latency: float
    item_latency: float
    streams: list[str]  # our stream names
    returncode: int
    wall: float
    cpu: float
    peak_rss: int
    records: dict[str, int]  # our stream name -> records
    requests: int  # HTTP requests sent by the connector (router log), retries included
    outcomes: dict[str, int]  # status code or exception -> count
    max_in_flight: int
    sandbox_requests: int  # what the sandbox saw (cross-check)
    truth: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stderr_tail: str = ""

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def useful_requests(self) -> int:
        """Requests the work needs: all but the ones refused for overload or failed by the server."""
        wasted = sum(n for outcome, n in self.outcomes.items() if outcome == "429" or outcome.startswith("5"))
        return self.requests - wasted

    @property
    def records_per_second(self) -> float:
        return self.total_records / self.wall if self.wall else 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors

    def mismatches(self) -> dict[str, tuple[int, int]]:
        """Streams whose record count differs from the sandbox's data: stream -> (read, expected)."""
        return {
            s: (self.records.get(s, 0), self.truth[s])
            for s in self.streams
            if s in self.truth and self.records.get(s, 0) != self.truth[s]
        }


def lower_bound(requests: int, concurrency: int, latency: float, items: int = 0, item_latency: float = 0.0) -> float:
    """The shortest a sync can take when every request costs `latency` (+ `item_latency` per item returned) and at
    most `concurrency` requests may be in flight: ceil(requests / concurrency) x latency, plus the items' cost spread
    over the same connections."""
    if requests <= 0:
        return 0.0
    return math.ceil(requests / concurrency) * latency + items * item_latency / concurrency


def run_connector(
    connector: Connector,
    sandbox: SandboxProcess,
    workdir: Path,
    *,
    label: str,
    scale: float,
    latency: float,
    item_latency: float,
    streams: dict[str, str],
    sync_mode: str = "full_refresh",
    state: Any = None,
    timeout: float = 3600,
    profile: Path | None = None,
) -> tuple[RunResult, Any]:
    """One measured read of `streams` (its name -> ours). Returns the result and the final state it emitted.
    With `profile`, the read runs under py-spy and its collapsed stacks are written there."""
    workdir.mkdir(parents=True, exist_ok=True)
    info = sandbox.ask("credentials")
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(connector.make_config(info)))
    discovered = discover(connector, config_path, connector.env(info["url"], workdir / "discover-requests.log"))
    if sync_mode == "incremental":  # only the streams that can be read incrementally
        capable = {s["name"] for s in discovered["streams"] if "incremental" in s.get("supported_sync_modes", [])}
        streams = {theirs: ours for theirs, ours in streams.items() if theirs in capable}
    names = list(streams)
    if connector.protocol == "singer":
        catalog = singer_catalog(discovered, names)
    else:
        catalog = airbyte_catalog(discovered, names, sync_mode)
        missing = set(names) - {s["stream"]["name"] for s in catalog["streams"]}
        if missing:
            raise RuntimeError(f"{connector.key} does not offer streams {sorted(missing)}")
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    state_path = None
    if state is not None:
        state_path = workdir / "state.json"
        state_path.write_text(json.dumps(state))
    request_log = workdir / "requests.log"
    request_log.unlink(missing_ok=True)
    sandbox.ask(f"latency {latency} {item_latency}")
    sandbox.ask("reset")
    measured = run_measured(
        profiled(read_argv(connector, config_path, catalog_path, state_path), profile),
        env=connector.env(info["url"], request_log),
        stdout_path=workdir / "read.jsonl",
        cwd=workdir,
        timeout=timeout,
    )
    sandbox.ask("latency 0 0")
    seen_by_sandbox = sandbox.ask("log")["total"]
    output = parse_output(measured)
    log = read_request_log(request_log)
    records = {streams.get(name, name): n for name, n in output.records.items()}
    truth = sandbox.info.get("truth") or {}
    result = RunResult(
        connector=connector.key,
        api=connector.api,
        label=label,
        scale=scale,
        latency=latency,
        item_latency=item_latency,
        streams=sorted(streams.values()),
        returncode=measured.returncode,
        wall=measured.wall,
        cpu=measured.cpu,
        peak_rss=measured.peak_rss,
        records=records,
        requests=log["total"],
        outcomes=log["outcomes"],
        max_in_flight=log["max_in_flight"],
        sandbox_requests=seen_by_sandbox,
        truth={s: truth[s] for s in streams.values() if s in truth},
        errors=output.errors,
        stderr_tail=measured.stderr_tail if measured.returncode else "",
    )
    final_state = list(output.airbyte_states.values()) if connector.protocol == "airbyte" else output.singer_state
    return result, final_state


PY_SPY = ["py-spy==0.4.3"]


def py_spy() -> str:
    """py-spy (a sampling profiler that sees every thread, unlike cProfile; the CDK reads partitions in worker
    threads), installed from PyPI into .bench/tools on first use."""
    from benchmarks.peers import BENCH_DIR

    venv = BENCH_DIR / "tools"
    binary = venv / "bin" / "py-spy"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PY_SPY], check=True)
    return str(binary)


def profiled(argv: list[str], profile: Path | None) -> list[str]:
    """`argv` run under py-spy, which writes collapsed stacks (one line per stack: frames;... count) to `profile`."""
    if profile is None:
        return argv
    return [py_spy(), "record", "--gil", "--format", "raw", "--rate", "250", "--output", str(profile), "--", *argv]


def profile_summary(profile: Path, top: int = 20) -> str:
    """From collapsed stacks: the functions with the most samples on top of the stack (own time) and in the stack
    (inclusive time), as shares of all samples."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in profile.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]  # one entry per function
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    if not total:
        return "(no samples)"
    lines = [f"{total} samples; own time:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines.append("inclusive time:")
    lines += [f"  {n / total:6.1%}  {f}" for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(lines)


def our_streams_for(peer: Connector) -> dict[str, str]:
    """Our stream names for the streams `peer` has (ours are named as ours: identity mapping)."""
    return {ours: ours for ours in peer.streams.values()}


def fmt_bytes(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def fmt_ratio(x: float | None, target: float | None = None, at_least: bool = False) -> str:
    """`x` as a ratio, marked against `target` (at most, or at least)."""
    if x is None:
        return "-"
    text = f"{x:.2f}x"
    if target is not None:
        met = x >= target if at_least else x <= target
        text += " ok" if met else " MISSED"
    return text


def table(headers: list[str], rows: list[list[Any]], markdown: bool) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if markdown:
        lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class Bench:
    args: argparse.Namespace
    workdir: Path
    results: list[RunResult] = field(default_factory=list)
    incremental: list[dict[str, Any]] = field(default_factory=list)
    floors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sandboxes: dict[tuple[str, float], SandboxProcess] = field(default_factory=dict)
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def sandbox(self, api: str, scale: float) -> SandboxProcess:
        key = (api, scale)
        if key not in self.sandboxes:
            started = time.monotonic()
            kind = dict(o.split("=", 1) for o in self.args.sandbox_override or []).get(api, api)
            self.sandboxes[key] = SandboxProcess(kind, scale, self.args.seed, self.args.max_connections)
            truth = self.sandboxes[key].info.get("truth") or {}
            self.log(f"{api} sandbox at scale {scale}: {sum(truth.values())} records in {len(truth)} streams, "
                     f"up in {time.monotonic() - started:.1f}s")
        return self.sandboxes[key]

    def close(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.close()

    def measure(self, key: str, streams: dict[str, str], *, label: str, scale: float, latency: float,
                item_latency: float) -> RunResult | None:
        connector = CONNECTORS[key]
        for done in self.results:
            if (done.connector, done.label, done.scale, sorted(streams.values())) == (
                key, label, scale, done.streams
            ):
                return done
        if connector.requirements and not connector.installed():
            connector.install(log=self.log)
        workdir = self.run_dir(label, key, scale, len(streams))
        self.log(f"{label}: {key} on {len(streams)} streams at scale {scale}, latency {latency}s + {item_latency}s/item")
        profile = None
        if self.args.profile and label == "zero-latency" and key.startswith("ours"):
            self.args.profile.mkdir(parents=True, exist_ok=True)
            profile = self.args.profile.resolve() / f"{key}-{len(streams)}-streams-scale-{scale:g}.txt"
        try:
            result, _ = run_connector(connector, self.sandbox(connector.api, scale), workdir, label=label, scale=scale,
                                      latency=latency, item_latency=item_latency, streams=streams,
                                      timeout=self.args.timeout, profile=profile)
        except Exception as error:  # a peer that cannot run is reported, not fatal to the benchmark
            self.notes.append(f"{label}: {key} could not run: {error}")
            self.log(f"{key} could not run: {error}")
            return None
        self.log(f"  -> {result.total_records} records, {result.requests} requests, {result.wall:.1f}s wall, "
                 f"{result.cpu:.1f}s CPU, peak {fmt_bytes(result.peak_rss)}, exit {result.returncode}")
        if profile and profile.exists():
            self.log(f"  profile: {profile} (collapsed stacks, for flamegraph.pl or speedscope)\n"
                     + profile_summary(profile))
        if not result.ok:
            self.notes.append(f"{label}: {key} exited {result.returncode}; errors: {result.errors[:3]}; "
                              f"stderr: {result.stderr_tail[-300:]!r}")
        self.results.append(result)
        return result

    def run_dir(self, label: str, key: str, scale: float, streams: int) -> Path:
        return self.workdir / f"{label}-{key}-{scale}-{streams}"

    def python_floor(self) -> None:
        """Each latency run of ours replayed by benchmarks/floor.py: the same requests, all sent as soon as a
        connection is free, with nothing but the JSON work done on their bodies."""
        for run in [r for r in self.results if r.label == "latency" and r.connector.startswith("ours")]:
            sandbox = self.sandbox(run.api, run.scale)
            info = sandbox.ask("credentials")
            log = self.run_dir("latency", run.connector, run.scale, len(run.streams)) / "requests.log"
            urls = [floor.on_sandbox(url, info["url"]) for url in floor.logged_gets(log)]
            self.log(f"python floor: {len(urls)} requests of {run.connector} ({len(run.streams)} streams)")
            sandbox.ask(f"latency {run.latency} {run.item_latency}")
            try:
                with open(os.devnull, "wb") as out:
                    replayed = floor.replay(urls, floor.auth_for(run.api, info), self.args.max_connections, out)
            finally:
                sandbox.ask("latency 0 0")
            self.floors.append({"connector": run.connector, "streams": len(run.streams), "ours_wall": run.wall,
                                "bound": lower_bound(run.useful_requests, self.args.max_connections, run.latency,
                                                     run.total_records, run.item_latency), **replayed})

    def comparisons(self, label: str, latency: float, item_latency: float) -> None:
        for ours, peer in self.selected_comparisons():
            streams = self.only(our_streams_for(CONNECTORS[peer]))
            self.measure(ours, streams, label=label, scale=self.args.scale, latency=latency, item_latency=item_latency)
            if not self.args.ours_only:
                self.measure(peer, self.only(CONNECTORS[peer].streams), label=label, scale=self.args.scale,
                             latency=latency, item_latency=item_latency)

    def only(self, streams: dict[str, str]) -> dict[str, str]:
        """`streams` restricted to --streams (our names), if given."""
        if not self.args.streams:
            return streams
        return {theirs: ours for theirs, ours in streams.items() if ours in self.args.streams}

    def selected_comparisons(self) -> list[tuple[str, str]]:
        wanted = set(self.args.connectors or [])
        return [(o, p) for o, p in COMPARISONS if not wanted or o in wanted or p in wanted]

    def memory(self) -> None:
        """Ours at the two memory scales, with the latency model; a latency run at the same scale and streams is
        reused. Sandboxes other than the main scale's are closed after use (they hold the data in memory)."""
        for ours in dict.fromkeys(o for o, _ in self.selected_comparisons()):
            api = CONNECTORS[ours].api
            streams = self.all_compared_streams(ours)
            for scale in self.args.memory_scales:
                done = self.find(ours, "latency", list(streams.values()), scale)
                if done:
                    self.results.append(RunResult(**{**asdict(done), "label": "memory"}))
                    continue
                self.measure(ours, streams, label="memory", scale=scale, latency=self.args.latency,
                             item_latency=self.args.item_latency)
                if scale != self.args.scale and (api, scale) in self.sandboxes:
                    self.sandboxes.pop((api, scale)).close()

    def all_compared_streams(self, ours: str) -> dict[str, str]:
        streams: dict[str, str] = {}
        for o, peer in COMPARISONS:
            if o == ours:
                streams.update(our_streams_for(CONNECTORS[peer]))
        return self.only(streams)

    def incremental_check(self) -> None:
        """Ours: an incremental sync, then a second one from its state with nothing changed in the sandbox."""
        for ours in dict.fromkeys(o for o, _ in self.selected_comparisons()):
            connector = CONNECTORS[ours]
            streams = self.all_compared_streams(ours)
            sandbox = self.sandbox(connector.api, self.args.scale)
            workdir = self.workdir / f"incremental-{ours}"
            self.log(f"incremental: {ours}, first sync then a sync with nothing changed")
            try:
                first, state = run_connector(connector, sandbox, workdir / "first", label="incremental-first",
                                             scale=self.args.scale, latency=0.0, item_latency=0.0, streams=streams,
                                             sync_mode="incremental", timeout=self.args.timeout)
                second, _ = run_connector(connector, sandbox, workdir / "second", label="incremental-second",
                                          scale=self.args.scale, latency=0.0, item_latency=0.0, streams=streams,
                                          sync_mode="incremental", state=state, timeout=self.args.timeout)
            except Exception as error:
                self.notes.append(f"incremental: {ours} could not run: {error}")
                continue
            truth = sandbox.info.get("truth") or {}
            parents = sum(truth.get(s, 0) for s in PARENT_STREAMS[connector.api])
            self.incremental.append({
                "connector": ours, "streams": len(second.streams), "first_requests": first.requests,
                "first_records": first.total_records, "second_requests": second.requests,
                "second_records": second.total_records, "parents": parents, "bound": parents + len(second.streams),
                "ok": first.ok and second.ok,
            })
            self.log(f"  -> second sync of {len(second.streams)} incremental streams: {second.requests} requests, "
                     f"{second.total_records} records (bound {parents + len(second.streams)})")

    # --- report ---------------------------------------------------------------------------------------------

    def find(self, key: str, label: str, streams: list[str] | None = None, scale: float | None = None):
        for r in self.results:
            if r.connector == key and r.label == label and (streams is None or r.streams == sorted(streams)) and (
                scale is None or r.scale == scale
            ):
                return r
        return None

    def report(self, markdown: bool) -> str:
        a = self.args
        out: list[str] = []
        h = (lambda title: f"\n## {title}\n") if markdown else (lambda title: f"\n== {title} ==")
        out.append(("# Benchmark results\n" if markdown else "Benchmark results"))
        out.append(f"Command: `{' '.join(['python', 'benchmarks/run.py'] + sys.argv[1:])}`  " if markdown else
                   f"command: python benchmarks/run.py {' '.join(sys.argv[1:])}")
        out.append(f"Scale {a.scale}, seed {a.seed}, latency {a.latency * 1000:.0f} ms per request + "
                   f"{a.item_latency * 1e6:.0f} us per item, at most {a.max_connections} simultaneous requests per "
                   f"credential; machine: {os.cpu_count()} cores, load average {self.load_before:.1f} before and "
                   f"{os.getloadavg()[0]:.1f} after the runs (other work on the machine skews wall and CPU "
                   f"figures); {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
        for label, title in (("latency", f"Full sync with latency ({a.latency * 1000:.0f} ms)"),
                             ("zero-latency", "Full sync without latency (CPU cost)")):
            runs = [r for r in self.results if r.label == label]
            if not runs:
                continue
            out.append(h(title))
            rows = []
            for r in runs:
                bound = lower_bound(r.useful_requests, a.max_connections, r.latency, r.total_records, r.item_latency)
                unloaded = self.find(r.connector, "zero-latency", r.streams, r.scale)
                cpu_bound = max(bound, unloaded.cpu) if unloaded and r.latency else None
                rows.append([
                    r.connector, len(r.streams), r.total_records, r.requests, f"{r.wall:.1f}",
                    f"{r.records_per_second:,.0f}", f"{r.cpu:.1f}",
                    f"{r.cpu / r.total_records * 1e6:.0f}" if r.total_records else "-", fmt_bytes(r.peak_rss),
                    r.outcomes.get("429", 0), r.max_in_flight,
                    f"{bound:.1f}" if r.latency else "-",
                    fmt_ratio(r.wall / bound, TARGETS["bound_ratio"] if r.connector.startswith("ours") else None)
                    if r.latency and bound else "-",
                    fmt_ratio(r.wall / cpu_bound) if cpu_bound else "-",
                    "ok" if r.ok else f"exit {r.returncode}",
                ])
            out.append(table(["connector", "streams", "records", "requests", "wall s", "records/s", "CPU s",
                              "CPU us/record", "peak RSS", "429s", "max in flight", "lower bound s", "wall/bound",
                              "wall/max(bound, own CPU)", "status"], rows, markdown))
            if label == "latency":
                out.append("\nlower bound = ceil(useful requests / max connections) x latency + records x item latency "
                           "/ max connections; own CPU = the connector's CPU seconds in the zero-latency run.")
            ratio_rows = []
            for ours, peer in self.selected_comparisons():
                peer_run = self.find(peer, label)
                our_run = self.find(ours, label, list(self.only(our_streams_for(CONNECTORS[peer])).values()))
                if not (peer_run and our_run):
                    continue
                wall = our_run.wall / peer_run.wall if peer_run.wall else None
                reqs = our_run.requests / peer_run.requests if peer_run.requests else None
                rps = our_run.records_per_second / peer_run.records_per_second if peer_run.records_per_second else None
                ratio_rows.append([f"{ours} / {peer}", len(our_run.streams),
                                   fmt_ratio(wall, TARGETS["wall_ratio"] if label == "latency" else None),
                                   fmt_ratio(reqs, 1.0 if ours == "ours-mailchimp" else None),
                                   fmt_ratio(rps, 1.0 if label == "zero-latency" and peer == "airbyte-mailchimp"
                                             else None, at_least=True)])
            if ratio_rows:
                out.append("")
                out.append(table(["ours / peer", "streams", "wall ratio", "requests ratio", "records/s ratio"],
                                 ratio_rows, markdown))
        runs = [r for r in self.results if r.label == "latency"] or self.results
        if runs:
            out.append(h("Records per stream (our stream names; sandbox = the sandbox's data)"))
            streams = sorted({s for r in runs for s in r.streams})
            keys = list(dict.fromkeys(r.connector + ("" if not r.connector.startswith("ours") else f"[{len(r.streams)}]")
                                      for r in runs))
            by_key = {r.connector + ("" if not r.connector.startswith("ours") else f"[{len(r.streams)}]"): r for r in runs}
            rows = []
            for s in streams:
                truth = next((r.truth[s] for r in runs if s in r.truth), "-")
                rows.append([s, truth] + [by_key[k].records.get(s, 0) if s in by_key[k].streams else "" for k in keys])
            out.append(table(["stream", "sandbox"] + keys, rows, markdown))
            mismatched = [(r, r.mismatches()) for r in self.results if r.connector.startswith("ours") and r.mismatches()]
            if mismatched:
                out.append("")
                for r, bad in mismatched:
                    out.append(f"CORRECTNESS: {r.connector} ({r.label} run, {len(r.streams)} streams, scale {r.scale:g}) "
                               "differs from the sandbox: "
                               + ", ".join(f"{s} read {got} expected {want}" for s, (got, want) in sorted(bad.items()))
                               + ("  " if markdown else ""))
            elif any(r.truth for r in self.results if r.connector.startswith("ours")):
                out.append("\nCorrectness: every run of ours returned exactly the sandbox's record count per stream.")
        memory = [r for r in self.results if r.label == "memory"]
        if memory:
            out.append(h("Memory: ours at two scales"))
            rows = []
            for ours in dict.fromkeys(r.connector for r in memory):
                low, high = (self.find(ours, "memory", scale=s) for s in a.memory_scales)
                if low and high:
                    rows.append([ours, f"{low.scale:g}", low.total_records, fmt_bytes(low.peak_rss), f"{high.scale:g}",
                                 high.total_records, fmt_bytes(high.peak_rss),
                                 fmt_ratio(high.peak_rss / low.peak_rss, TARGETS["rss_ratio"])])
            out.append(table(["connector", "scale", "records", "peak RSS", "scale", "records", "peak RSS",
                              "RSS ratio"], rows, markdown))
        if self.floors:
            out.append(h("Python floor: our requests with nothing but the JSON work (benchmarks/floor.py)"))
            rows = [[f["connector"], f["streams"], f["requests"], f["records"], f"{f['wall']:.1f}", f"{f['cpu']:.1f}",
                     f"{f['bound']:.1f}", fmt_ratio(f["wall"] / f["bound"] if f["bound"] else None),
                     f"{f['ours_wall']:.1f}", fmt_ratio(f["ours_wall"] / f["wall"] if f["wall"] else None)]
                    for f in self.floors]
            out.append(table(["connector", "streams", "requests", "items", "floor wall s", "floor CPU s",
                              "lower bound s", "floor/bound", "our wall s", "ours/floor"], rows, markdown))
            out.append("\nThe floor sends the same GETs on the same connections, every page's URL known in advance, "
                       "and only parses each body and writes each item as a RECORD line (no CDK, schema, state or "
                       "paging): what a connector with a free per-record pipeline would take on this machine.")
        if self.incremental:
            out.append(h("Incremental sync with nothing changed (ours)"))
            rows = [[i["connector"], i["streams"], i["first_requests"], i["second_requests"], i["second_records"],
                     i["parents"], i["bound"], "ok" if i["second_requests"] <= i["bound"] and i["ok"] else "MISSED"]
                    for i in self.incremental]
            out.append(table(["connector", "streams", "requests (1st sync)", "requests (2nd sync)",
                              "records (2nd sync)", "parent objects", "bound (parents + streams)", "target"],
                             rows, markdown))
        out += every_stream_report(self, markdown, h, table, lower_bound)
        if self.notes:
            out.append(h("Notes"))
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


# What follows this line in the markdown file is written by hand (readings of the figures, earlier runs): a new run
# replaces only what comes before it.
KEPT_BELOW = "<!-- Written by hand below this line: benchmarks/run.py --markdown keeps it. -->"


def kept_sections(markdown: Path) -> str:
    text = markdown.read_text() if markdown.exists() else ""
    return "\n" + text[text.index(KEPT_BELOW):] if KEPT_BELOW in text else ""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0, help="sandbox scale of the main runs (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request (default 0.05)")
    parser.add_argument("--item-latency", type=float, default=0.00002,
                        help="seconds per item returned (default 0.00002: 20 ms per 1000-item page)")
    parser.add_argument("--max-connections", type=int, default=10,
                        help="simultaneous requests per credential before the sandbox answers 429 (default 10)")
    parser.add_argument("--connectors", nargs="*", help="only the comparisons involving these connector keys: "
                        + ", ".join(CONNECTORS))
    parser.add_argument("--ours-only", action="store_true", help="run only our connectors (no peers)")
    parser.add_argument("--runs", nargs="*",
                        default=["latency", "zero-latency", "memory", "incremental", "floor", "every-stream"],
                        choices=["latency", "zero-latency", "memory", "incremental", "floor", "every-stream"],
                        help="floor replays the latency runs of ours (benchmarks/floor.py); it needs them")
    parser.add_argument("--memory-scales", type=float, nargs=2, default=[1.0, 10.0], metavar=("LOW", "HIGH"))
    parser.add_argument("--streams", nargs="*", help="only these streams (our names) in every run")
    parser.add_argument("--sandbox-override", nargs="*", metavar="API=KIND", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown to this file")
    parser.add_argument("--json", type=Path, help="also write every measurement as JSON to this file")
    parser.add_argument("--workdir", type=Path, help="keep configs, catalogs, outputs and request logs here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds one connector run may take")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run our connectors' zero-latency reads under py-spy (installed into .bench/tools), write "
                             "DIR/<run>.txt (collapsed stacks) and print the top functions")
    parser.add_argument("--install-peers", action="store_true", help="install the peers' venvs, then exit")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.install_peers:
        from benchmarks.peers import install_peers

        install_peers()
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        bench = Bench(args, workdir)
        try:
            if "latency" in args.runs:
                bench.comparisons("latency", args.latency, args.item_latency)
            if "zero-latency" in args.runs:
                bench.comparisons("zero-latency", 0.0, 0.0)
            if "memory" in args.runs:
                bench.memory()
            if "incremental" in args.runs:
                bench.incremental_check()
            if "floor" in args.runs:
                bench.python_floor()
            if "every-stream" in args.runs:
                run_every_stream(bench)
        finally:
            bench.close()
        print(bench.report(markdown=False))
        if args.markdown:
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(bench.report(markdown=True) + kept_sections(args.markdown))
        if args.json:
            args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                             "results": [asdict(r) for r in bench.results],
                                             "incremental": bench.incremental, "floors": bench.floors,
                                             "notes": bench.notes}, indent=1))
    failed = [r for r in bench.results if r.connector.startswith("ours") and (not r.ok or r.mismatches())]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
