"""The demo: a real sync of every stream of both connectors against the local API sandboxes.

For each connector: start its sandbox, run the installed command's `discover`, then one `read` of every stream (incremental
where the stream supports it, so the final state is shown), and print per stream the records read and the final state, then
the requests the sandbox served per endpoint.

    python scripts/demo.py [--scale 0.2] [--only mailchimp|campaign_monitor]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integration_tests.harness import configured_catalog, run_source  # noqa: E402
from sandbox.campaign_monitor import CampaignMonitorSandbox  # noqa: E402
from sandbox.mailchimp import MailchimpSandbox  # noqa: E402

ID_SEGMENT = re.compile(r"^(?:[0-9a-f]{6,}|\d+|[0-9a-f-]{20,})$")


def endpoint_of(path: str) -> str:
    """`/3.0/lists/57afe96172/members` -> `/3.0/lists/{id}/members`: requests grouped by endpoint, not by object."""
    parts = []
    for part in path.split("/"):
        stem, dot, ext = part.partition(".json")
        parts.append("{id}" + dot + ext if ID_SEGMENT.match(stem) else part)
    return "/".join(parts)


def mailchimp_config(sb: MailchimpSandbox) -> dict:
    return {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url}


def campaign_monitor_config(sb: CampaignMonitorSandbox) -> dict:
    return {
        "credentials": {"auth_type": "api_key", "api_key": sb.api_key},
        "api_client_id": sb.client_ids[0],
        "sandbox_url": sb.url,
    }


CONNECTORS = {
    "mailchimp": ("source-mailchimp", MailchimpSandbox, mailchimp_config),
    "campaign_monitor": ("source-campaign-monitor", CampaignMonitorSandbox, campaign_monitor_config),
}


def summarize_state(state: dict) -> str:
    blob = json.dumps(state["stream"].get("stream_state", {}), separators=(",", ":"))
    return blob if len(blob) <= 90 else blob[:87] + "..."


def demo(name: str, scale: float, workdir: Path) -> bool:
    command, sandbox_class, make_config = CONNECTORS[name]
    with sandbox_class(scale=scale) as sb:
        config = make_config(sb)
        discovered = run_source(command, "discover", workdir, config=config)
        if discovered.returncode != 0:
            print(f"{command} discover failed:\n{discovered.output[-2000:]}")
            return False
        sb.server.reset_log()
        started = time.monotonic()
        run = run_source(
            command, "read", workdir, config=config, catalog=configured_catalog(discovered.catalog(), sync_mode="incremental")
        )
        seconds = time.monotonic() - started
        requests = Counter(endpoint_of(r.path) for r in sb.server.requests())

    records = Counter({s["name"]: 0 for s in discovered.catalog()["streams"]})
    records.update(m["record"]["stream"] for m in run.of_type("RECORD"))
    states = {s["stream"]["stream_descriptor"]["name"]: s for s in run.final_state()}
    print(f"== {command}: scale {scale}, exit {run.returncode}, {sum(records.values())} records, "
          f"{sum(requests.values())} requests, {seconds:.1f} s")
    print(f"{'stream':34} {'records':>8}  final state")
    for stream, count in sorted(records.items()):
        state = summarize_state(states[stream]) if stream in states else "-"
        print(f"{stream:34} {count:>8}  {state}")
    print(f"\n{'endpoint':60} {'requests':>8}")
    for endpoint, count in sorted(requests.items()):
        print(f"{endpoint:60} {count:>8}")
    for error in run.errors():
        print(f"ERROR: {error.get('message')}")
    print()
    return run.returncode == 0 and not run.errors()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--only", choices=sorted(CONNECTORS))
    args = parser.parse_args()
    ok = True
    names = [args.only] if args.only else list(CONNECTORS)
    print(f"Demo: every stream of {', '.join(CONNECTORS[n][0] for n in names)} synced from the local API sandboxes "
          f"(scale {args.scale}); each sync's records, final states and requests follow.\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            ok &= demo(name, args.scale, Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
