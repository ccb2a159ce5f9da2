"""`python -m sandbox mailchimp|campaign_monitor [--scale S] [--seed N] [--port P] [--latency SEC] [--item-latency SEC]
[--max-connections N] [--fault-rate R] [--fault-seed N]`: serve one API sandbox until killed. The first line printed
is JSON with its URL and credentials (`Sandbox.describe()`)."""

import argparse
import json
import sys
import time

from sandbox.campaign_monitor import CampaignMonitorSandbox
from sandbox.mailchimp import MailchimpSandbox
from sandbox.server import FaultPlan

SANDBOXES = {"mailchimp": MailchimpSandbox, "campaign_monitor": CampaignMonitorSandbox}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("api", choices=sorted(SANDBOXES))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--item-latency", type=float, default=0.0, help="seconds added per record returned")
    parser.add_argument("--max-connections", type=int, default=10, help="simultaneous requests per credential")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered with a fault")
    parser.add_argument("--fault-seed", type=int, default=0)
    args = parser.parse_args(argv)
    faults = FaultPlan(rate=args.fault_rate, seed=args.fault_seed) if args.fault_rate else None
    sandbox = SANDBOXES[args.api](scale=args.scale, seed=args.seed, latency=args.latency, item_latency=args.item_latency,
                                  max_connections=args.max_connections, faults=faults, port=args.port)
    with sandbox:
        print(json.dumps(sandbox.describe()), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
