"""The Python floor of a sync: the same GET requests as a logged run of ours, sent by `--threads` threads, each body
parsed with orjson and each record written out as an Airbyte RECORD line, and nothing else (no CDK, no schema, no
state, no paging decisions: every page's URL is known in advance, so no request waits for another).

It answers one question of issue 5: how close can a Python connector come to the concurrency lower bound
(ceil(requests / connections) x latency) on this machine? The floor's wall time is that of a connector with a free
per-record pipeline; ours is measured against it.

    python benchmarks/floor.py --requests-log WORKDIR/latency-ours-mailchimp-10.0-12/requests.log \\
        --api mailchimp --scale 10 [--threads 10] [--latency 0.05] [--item-latency 0.00002]

It starts its own sandbox (same data as the benchmark's for the same scale and seed), prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandbox_process import SandboxProcess  # noqa: E402


def logged_gets(requests_log: Path) -> list[str]:
    """The URLs of the successful GETs of a benchmark request log (tab-separated: start, end, method, status, URL)."""
    urls = []
    for line in requests_log.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) >= 5 and fields[2] == "GET" and fields[3] == "200":
            urls.append(fields[4].strip())
    return urls


def on_sandbox(url: str, sandbox_url: str) -> str:
    base = urlsplit(sandbox_url)
    parts = urlsplit(url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def records_of(body: Any) -> Iterable[Any]:
    """Every object in the body's top-level lists (Mailchimp's `members`, `emails`...; Campaign Monitor's `Results`
    or a bare array), but not the hypermedia `_links`."""
    if isinstance(body, list):
        yield from body
    elif isinstance(body, dict):
        for key, value in body.items():
            if not key.startswith("_") and isinstance(value, list) and value and isinstance(value[0], dict):
                yield from value


def auth_for(api: str, info: dict[str, Any]) -> tuple[str, str]:
    """Basic auth for a sandbox's API key, as each API takes it."""
    return (info["api_key"], "x") if api == "campaign_monitor" else ("anystring", info["api_key"])


def replay(urls: list[str], auth: tuple[str, str], threads: int, out: Any) -> dict[str, Any]:
    local = threading.local()
    lock = threading.Lock()
    counts = {"records": 0, "requests": 0}

    def fetch(url: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.auth = auth
        response = session.get(url, timeout=60)
        response.raise_for_status()
        stream = urlsplit(url).path.rsplit("/", 1)[-1]
        emitted_at = time.time_ns() // 1_000_000
        lines = [
            orjson.dumps({"type": "RECORD", "record": {"stream": stream, "data": record, "emitted_at": emitted_at}})
            for record in records_of(orjson.loads(response.content))
        ]
        with lock:
            out.write(b"\n".join(lines) + b"\n")
            counts["records"] += len(lines)
            counts["requests"] += 1

    cpu, wall = time.process_time(), time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fetch, urls))
    return {**counts, "wall": time.monotonic() - wall, "cpu": time.process_time() - cpu}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests-log", type=Path, required=True)
    parser.add_argument("--api", choices=["mailchimp", "campaign_monitor"], required=True)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--item-latency", type=float, default=0.00002)
    args = parser.parse_args(argv)

    urls = logged_gets(args.requests_log)
    with SandboxProcess(args.api, args.scale, args.seed, args.threads) as sandbox:
        sandbox.ask(f"latency {args.latency} {args.item_latency}")
        info = sandbox.info
        with open("/dev/null", "wb") as out:
            result = replay([on_sandbox(url, info["url"]) for url in urls], auth_for(args.api, info), args.threads, out)
    print(json.dumps({"api": args.api, "scale": args.scale, "threads": args.threads, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
