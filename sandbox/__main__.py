"""`python -m sandbox mailchimp|campaign_monitor --scale S --port P [--latency SEC] [--item-latency SEC]`: serve one API
sandbox until killed; the first line printed is JSON with its URL and credentials."""

import importlib
import sys

SANDBOXES = ("mailchimp", "campaign_monitor")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SANDBOXES:
        print(f"usage: python -m sandbox {{{'|'.join(SANDBOXES)}}} [--scale S] [--port P] [--latency SEC]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"sandbox.{argv[0]}")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
