"""The hidden `sandbox_url` setting, which sends every request of a connector to a local sandbox of the API."""

import ipaddress
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost"}


def is_loopback_http_url(value: Any) -> bool:
    """An http:// URL on a loopback host, without credentials, query or fragment: the only place `sandbox_url` may send
    the API's credentials over plain http (user:password@ would be sent as basic auth in their place)."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a malformed port raises here rather than at the first request
    except ValueError:
        return False
    if parts.scheme != "http" or not host or parts.username is not None or parts.password is not None:
        return False
    if parts.query or parts.fragment:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
