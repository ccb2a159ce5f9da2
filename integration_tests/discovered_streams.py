"""Each connector's streams, primary keys and cursors as its `discover` declares them, for the tests, benchmarks and
demo: taken from the connector rather than restated, so that adding a stream to a manifest needs no list updated.

Discover is run in-process, once per connector and process: it makes no request, the config only has to select an
authenticator."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

CONFIGS = {
    "mailchimp": {"credentials": {"auth_type": "apikey", "apikey": "discover-us6"}},
    "campaign_monitor": {"credentials": {"auth_type": "api_key", "api_key": "discover"}},
}


@dataclass(frozen=True)
class DiscoveredStream:
    name: str
    primary_key: tuple[str, ...]
    cursor: Optional[str]  # None for a stream read in full only
    json_schema: dict[str, Any]

    @property
    def incremental(self) -> bool:
        return self.cursor is not None


def _source_class(connector: str) -> Any:
    if connector == "mailchimp":
        from source_mailchimp.run import SourceMailchimp

        return SourceMailchimp
    if connector == "campaign_monitor":
        from source_campaign_monitor.run import SourceCampaignMonitor

        return SourceCampaignMonitor
    raise ValueError(f"unknown connector {connector!r}")


@lru_cache(maxsize=None)
def discovered_streams(connector: str) -> dict[str, DiscoveredStream]:
    """`connector`'s streams by name, in discover's order."""
    config = CONFIGS[connector]
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # the CDK logs (to stdout) that this config has no config problems noted
    try:
        catalog = _source_class(connector)(config=config).discover(logging.getLogger("discover"), config)
    finally:
        logging.disable(previous)
    return {
        stream.name: DiscoveredStream(
            name=stream.name,
            primary_key=tuple(path[0] for path in stream.source_defined_primary_key or []),
            cursor=stream.default_cursor_field[0] if stream.default_cursor_field else None,
            json_schema=stream.json_schema,
        )
        for stream in catalog.streams
    }


def stream_names(connector: str) -> list[str]:
    return list(discovered_streams(connector))


def from_catalog(catalog: dict[str, Any]) -> dict[str, DiscoveredStream]:
    """The same, from a discover command's printed catalog."""
    return {
        stream["name"]: DiscoveredStream(
            name=stream["name"],
            primary_key=tuple(path[0] for path in stream.get("source_defined_primary_key") or []),
            cursor=(stream.get("default_cursor_field") or [None])[0],
            json_schema=stream["json_schema"],
        )
        for stream in catalog["streams"]
    }
