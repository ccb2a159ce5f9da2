"""The `source-mailchimp` command: Airbyte's spec / check / discover / read over `manifest.yaml`, through the
entrypoint both connectors share (connector_common.entrypoint)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional

from connector_common import entrypoint
from connector_common.packaged_manifest import PackagedManifestSource
from source_mailchimp.parts import MODULES

MANIFEST = str(Path(__file__).with_name("manifest.yaml"))
SECRET_FIELDS = ("apikey", "access_token", "client_secret", "client_id", "authorization_code", "refresh_token")


class SourceMailchimp(PackagedManifestSource):
    """The declarative source over the connector folder's manifest.yaml and components.py, as the stock runtime runs
    them (see connector_common.packaged_manifest)."""

    manifest_path = MANIFEST
    components_module = MODULES


def secrets_of(config: Mapping[str, Any]) -> Iterator[Any]:
    """The credentials' secrets, and the basic-auth header an API key is sent in."""
    credentials = config.get("credentials") if isinstance(config, Mapping) else None
    if not isinstance(credentials, Mapping):
        return
    for name in SECRET_FIELDS:
        yield credentials.get(name)
    apikey = credentials.get("apikey")
    if isinstance(apikey, str) and apikey:
        yield base64.b64encode(f"anystring:{apikey}".encode()).decode()


CONNECTOR = entrypoint.PackagedConnector("source-mailchimp", SourceMailchimp, secrets_of)


def run(args: Optional[List[str]] = None) -> None:
    entrypoint.run(CONNECTOR, args)


if __name__ == "__main__":
    run()
