"""Routes the peer connectors' https calls to a local API sandbox, without changing their code.

Python imports `sitecustomize` at start-up from the first directory on sys.path that has one; the benchmark puts this
directory on the PYTHONPATH of every connector it runs (the peers in their own virtual environments, and ours too, so
that requests are counted the same way for everyone). Environment:

- ``BENCH_SANDBOX_URL``: ``http://127.0.0.1:PORT``. When set, every request whose host is one of the APIs' real hosts is
  sent there instead, keeping path and query:
  ``https://<dc>.api.mailchimp.com/3.0/...`` -> ``{sandbox}/3.0/...``,
  ``https://login.mailchimp.com/oauth2/...`` -> ``{sandbox}/oauth2/...``,
  ``https://api.createsend.com/...`` -> ``{sandbox}/...``.
- ``BENCH_PATH_REWRITES``: optional ``old=new,old2=new2`` path-prefix rewrites applied after routing (e.g. an API
  version the sandbox serves under another prefix). Empty by default.
- ``BENCH_CM_V32``: ``1`` to serve Campaign Monitor API v3.2 calls from the sandbox's v3.3: the path's version is
  rewritten and the one v3.2 difference the tap meets is applied to the response (sent campaigns: v3.3 pages them in
  an envelope, v3.2 answers a bare array; the request asks for the largest page, and more than one page is an error).
- ``BENCH_REQUEST_LOG``: a file to which one line per HTTP request actually sent (retries included) is appended:
  ``<start>\t<end>\t<method>\t<status or error name>\t<url as sent>`` (times: ``time.monotonic()``, which is
  the same clock in every process of the machine, so the benchmark can tell how many requests were in flight at once).

The hook sits at ``requests.adapters.HTTPAdapter.send``: every ``requests`` call goes through it, whether made with
``requests.request``, a ``Session`` or the Airbyte CDK's (cached) session, and the connection pool is chosen from the
URL it receives, so a rewritten https URL gets a plain http connection to the sandbox.
"""

from __future__ import annotations

import os
import re
import threading
import time
from urllib.parse import urlsplit, urlunsplit

ROUTED_HOSTS = re.compile(
    r"^(?:[a-z0-9-]+\.api\.mailchimp\.com|login\.mailchimp\.com|mailchimp-api-batch\.s3\.amazonaws\.com"
    r"|api\.createsend\.com)$",
    re.I,
)
# Campaign Monitor API v3.2, which tap-campaign-monitor calls, differs from the v3.3 the sandbox serves, for the
# endpoints the tap reads, only in the sent-campaigns listing: a bare array in v3.2, a paged envelope in v3.3.
CM_V32 = "/api/v3.2/"
CM_SENT_CAMPAIGNS = re.compile(r"^/api/v3\.3/clients/[^/]+/campaigns\.json$")


def parse_rewrites(spec: str) -> list[tuple[str, str]]:
    rewrites = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        old, _, new = item.partition("=")
        rewrites.append((old, new))
    return rewrites


def v32_to_v33(url: str) -> tuple[str, bool]:
    """A v3.2 Campaign Monitor URL as v3.3, and whether it is the sent-campaigns listing (whose body differs)."""
    parts = urlsplit(url)
    if not parts.path.startswith(CM_V32):
        return url, False
    path = "/api/v3.3/" + parts.path[len(CM_V32):]
    query = parts.query
    listing = bool(CM_SENT_CAMPAIGNS.match(path))
    if listing:
        query = "&".join(filter(None, [query, "pagesize=1000"]))
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment)), listing


def as_v32_listing(response) -> None:
    """Turns a v3.3 sent-campaigns page into v3.2's bare array, in place."""
    import json

    if response.status_code != 200:
        return
    body = response.json()
    if isinstance(body, dict) and "Results" in body:
        if (body.get("NumberOfPages") or 0) > 1:
            raise RuntimeError("BENCH_CM_V32: more than 1000 sent campaigns; v3.2 has no paging to emulate them")
        response._content = json.dumps(body["Results"]).encode("utf-8")


def route(url: str, sandbox: str, rewrites: list[tuple[str, str]] = ()) -> str:
    """The URL a request for `url` is sent to: the sandbox's for the APIs' real hosts, else `url` unchanged."""
    if not sandbox:
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not ROUTED_HOSTS.match(parts.hostname or ""):
        return url
    target = urlsplit(sandbox)
    path = parts.path
    for old, new in rewrites:
        if path.startswith(old):
            path = new + path[len(old):]
            break
    return urlunsplit((target.scheme, target.netloc, path, parts.query, parts.fragment))


class RequestLog:
    """Appends one line per request to a file; a lock keeps lines whole when a connector sends from threads."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, start: float, method: str, outcome: str, url: str) -> None:
        end = time.monotonic()
        with self._lock:
            self._file.write(f"{start:.6f}\t{end:.6f}\t{method}\t{outcome}\t{url}\n")


def install() -> None:
    sandbox = os.environ.get("BENCH_SANDBOX_URL", "")
    log_path = os.environ.get("BENCH_REQUEST_LOG", "")
    if not sandbox and not log_path:
        return
    try:
        import requests.adapters
    except ImportError:  # an interpreter without requests has nothing to route
        return
    rewrites = parse_rewrites(os.environ.get("BENCH_PATH_REWRITES", ""))
    cm_v32 = os.environ.get("BENCH_CM_V32") == "1"
    log = RequestLog(log_path) if log_path else None
    original_send = requests.adapters.HTTPAdapter.send
    if getattr(original_send, "_bench_routed", False):
        return

    def send(self, request, *args, **kwargs):
        request.url = route(request.url, sandbox, rewrites)
        listing = False
        if cm_v32:
            request.url, listing = v32_to_v33(request.url)
        start = time.monotonic()
        try:
            response = original_send(self, request, *args, **kwargs)
        except Exception as error:
            if log:
                log.write(start, request.method, type(error).__name__, request.url)
            raise
        if log:
            log.write(start, request.method, str(response.status_code), request.url)
        if listing:
            as_v32_listing(response)
        return response

    send._bench_routed = True
    requests.adapters.HTTPAdapter.send = send


install()
