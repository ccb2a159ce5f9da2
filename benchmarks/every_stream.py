"""The `every-stream` run: each of our packaged connectors on every stream it discovers, all at once and each alone.

The peer comparisons read only the streams a peer has; this run shows what the streams no peer reads cost. All
streams at once give the sync a user runs (wall against the concurrency lower bound, and CPU against wall: a sync
bound by the API's limits spends most of its wall waiting, not computing); each stream alone gives its records,
requests and wall (parents it needs included, so the per-stream requests add up to more than the all-at-once run's,
where parent listings are read once)."""

from __future__ import annotations

import json
from typing import Any, Callable

from benchmarks.peers import CONNECTORS, discover

OURS = ["ours-mailchimp", "ours-campaign-monitor"]
LABEL_ALL, LABEL_ONE = "every-stream", "one-stream"


def discovered_streams(bench: Any, key: str) -> list[str]:
    connector = CONNECTORS[key]
    info = bench.sandbox(connector.api, bench.args.scale).ask("credentials")
    workdir = bench.workdir / f"{LABEL_ALL}-{key}-discover"
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(connector.make_config(info)))
    catalog = discover(connector, config_path, connector.env(info["url"], workdir / "requests.log"))
    return [stream["name"] for stream in catalog["streams"]]


def run_every_stream(bench: Any) -> None:
    wanted = set(bench.args.connectors or [])
    for key in [k for k in OURS if not wanted or k in wanted]:
        names = bench.only({name: name for name in discovered_streams(bench, key)})
        latency = dict(scale=bench.args.scale, latency=bench.args.latency, item_latency=bench.args.item_latency)
        bench.measure(key, names, label=LABEL_ALL, **latency)
        for name in names:
            bench.measure(key, {name: name}, label=LABEL_ONE, **latency)


def every_stream_report(bench: Any, markdown: bool, heading: Callable[[str], str], table: Callable[..., str],
                        lower_bound: Callable[..., float]) -> list[str]:
    a = bench.args
    runs = [r for r in bench.results if r.label == LABEL_ALL]
    if not runs:
        return []
    out = [heading(f"Every stream of ours (latency {a.latency * 1000:.0f} ms + {a.item_latency * 1e6:.0f} us per "
                   "item): all at once, then each alone")]
    rows = []
    for r in runs:
        bound = lower_bound(r.useful_requests, a.max_connections, r.latency, r.total_records, r.item_latency)
        rows.append([r.connector, len(r.streams), r.total_records, r.requests, f"{r.wall:.1f}", f"{r.cpu:.1f}",
                     f"{r.cpu / r.wall:.0%}" if r.wall else "-", f"{bound:.1f}",
                     f"{r.wall / bound:.2f}x" if bound else "-", r.outcomes.get("429", 0),
                     "ok" if r.ok and not r.mismatches() else "FAILED"])
    out.append(table(["connector", "streams", "records", "requests", "wall s", "CPU s", "CPU/wall", "lower bound s",
                      "wall/bound", "429s", "status"], rows, markdown))
    for r in runs:
        out.append("")
        rows = []
        for one in [o for o in bench.results if o.label == LABEL_ONE and o.connector == r.connector]:
            (stream,) = one.streams
            bound = lower_bound(one.useful_requests, a.max_connections, one.latency, one.total_records,
                                one.item_latency)
            rows.append([stream, one.total_records, one.truth.get(stream, "-"), one.requests, f"{one.wall:.1f}",
                         f"{one.cpu:.1f}", f"{bound:.1f}", "ok" if one.ok and not one.mismatches() else "FAILED"])
        out.append(table([f"{r.connector}: stream alone", "records", "sandbox", "requests", "wall s", "CPU s",
                          "lower bound s", "status"], rows, markdown))
    return out
