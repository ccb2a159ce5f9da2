"""The HTTP machinery both API sandboxes share.

A sandbox is a :class:`SandboxApp` (routes that turn a :class:`Request` into a :class:`Response`) served by
:class:`SandboxServer` on 127.0.0.1 with a free port. The server adds what a remote API has and a local one lacks:

- latency per request and per returned item, so benchmarks can model a remote API;
- a limit of simultaneous requests per credential, answered the way the API answers it (Mailchimp: 429 beyond 10);
- fault injection, deterministic by seed: 5xx, 429 with Retry-After, connection reset, a stall past the client's
  timeout, a truncated JSON body, an HTML page with status 200 (as proxies send);
- a log of every request, for tests and benchmarks that count requests, with how many requests of the same client
  (credential and User-Agent) were in flight when it arrived, so that a test can tell one client's concurrency from
  another's on a shared credential.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import orjson

FAULT_KINDS = ("500", "502", "503", "429", "reset", "stall", "truncated", "html")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # last value of each parameter, as the APIs read them
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # named groups of the matched route

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    items: int = 0  # records in the body, for the per-item latency
    content_type: str = "application/json; charset=utf-8"

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        try:  # the same compact UTF-8 JSON as json.dumps(ensure_ascii=False), at a fraction of the sandbox's CPU
            return orjson.dumps(self.body, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


Route = tuple[str, "re.Pattern[str]", Callable[[Request], Response]]


class SandboxApp:
    """Routes of one API. Subclasses add routes with :meth:`route` and say how the API answers overload and
    unknown paths."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, handler: Callable[[Request], Response]) -> None:
        """`pattern` is a path with `{name}` placeholders, matched whole: `/3.0/lists/{list_id}/members`."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self.routes.append((method, re.compile(f"^{regex}$"), handler))

    def dispatch(self, request: Request) -> Response:
        for method, regex, handler in self.routes:
            match = regex.match(request.path)
            if match and method == request.method:
                request.params = match.groupdict()
                return handler(request)
        return self.not_found(request)

    def credential(self, request: Request) -> str:
        """The key that the connection limit counts by: the Authorization header (one user, one key)."""
        return request.headers.get("authorization", "")

    def not_found(self, request: Request) -> Response:
        return Response(404, {"error": "not found", "path": request.path})

    def overloaded(self, request: Request) -> Response:
        return Response(429, {"error": "too many requests"})

    def server_error(self, request: Request, status: int) -> Response:
        return Response(status, {"error": f"server error {status}"})

    def throttled(self, request: Request, wait_seconds: int) -> Response:
        """A rate-limit answer that tells the client how long to wait: by default `Retry-After`."""
        response = self.overloaded(request)
        response.headers["Retry-After"] = str(wait_seconds)
        return response


@dataclass
class FaultPlan:
    """Which requests fail, and how. The decision for a request is a hash of the seed, the request line and how
    many times that same request line was seen before, so it does not depend on the order of concurrent requests,
    and a retry draws again."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: int = 1
    stall_seconds: float = 5.0

    def draw(self, request_line: str, attempt: int) -> str | None:
        if self.rate <= 0:
            return None
        digest = hashlib.sha256(f"{self.seed}|{request_line}|{attempt}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= self.rate:
            return None
        return self.kinds[digest[8] % len(self.kinds)]


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    status: int
    fault: str | None
    user_agent: str = ""
    in_flight: int = 0  # requests of this credential and User-Agent in flight when it arrived, itself included
    arrived: float = 0.0  # time.monotonic() when it arrived
    answered: float = 0.0  # and when its answer was ready


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    # The standard library queues 5 pending connections; a burst of concurrent clients would then wait for SYN
    # retries (about a second each) instead of reaching the connection limit the API enforces.
    request_queue_size = 128


class SandboxServer:
    """Serves a :class:`SandboxApp` on 127.0.0.1, in threads, until :meth:`stop`. Usable as a context manager."""

    def __init__(
        self,
        app: SandboxApp,
        *,
        latency: float = 0.0,
        item_latency: float = 0.0,
        max_connections: int | None = None,
        faults: FaultPlan | None = None,
        port: int = 0,
    ) -> None:
        self.app = app
        self.latency = latency
        self.item_latency = item_latency
        self.max_connections = max_connections
        # Connections of each credential that another client holds for as long as this is set: they count against
        # `max_connections` as the account's other apps would.
        self.held_connections = 0
        self.faults = faults or FaultPlan()
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()
        self._client_in_flight: Counter[tuple[str, str]] = Counter()
        self._attempts: Counter[str] = Counter()
        self._httpd = _Listener(("127.0.0.1", port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests(self, path_prefix: str = "") -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(path_prefix)]

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    def max_in_flight(self, user_agent_prefix: str = "", path_prefix: str = "") -> int:
        """The most requests of one client (credential and User-Agent starting with the prefix) that were in flight at
        once, among the logged requests."""
        with self._lock:
            return max((r.in_flight for r in self.log
                        if r.user_agent.startswith(user_agent_prefix) and r.path.startswith(path_prefix)), default=0)

    # --- request handling -------------------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[Response, str | None]:
        """The response to one request and the fault injected, if any (`reset` and `stall` are carried out by the
        handler, which owns the socket)."""
        response, fault, _ = self._handle(request)
        return response, fault

    def _handle(self, request: Request) -> tuple[Response, str | None, int]:
        """`handle`, and how many requests of the request's client were in flight when it arrived."""
        credential = self.app.credential(request)
        client = (credential, request.headers.get("user-agent", ""))
        request_line = f"{request.method} {request.path}?{sorted(request.query.items())}"
        with self._lock:
            self._attempts[request_line] += 1
            attempt = self._attempts[request_line]
            self._in_flight[credential] += 1
            self._client_in_flight[client] += 1
            client_in_flight = self._client_in_flight[client]
            over_limit = (self.max_connections is not None
                          and self._in_flight[credential] + self.held_connections > self.max_connections)
        # A request takes `latency` + `item_latency` per item returned, the sandbox's own work included: a remote
        # API's answer time does not grow with the CPU load of the client's machine, which this sandbox shares.
        started = time.monotonic()
        try:
            if over_limit:
                return self._answered_by(started, self.latency, self.app.overloaded(request)), None, client_in_flight
            fault = self.faults.draw(request_line, attempt)
            if fault in ("500", "502", "503"):
                response = self.app.server_error(request, int(fault))
                return self._answered_by(started, self.latency, response), fault, client_in_flight
            if fault == "429":
                response = self.app.throttled(request, self.faults.retry_after)
                return self._answered_by(started, self.latency, response), fault, client_in_flight
            response = self.app.dispatch(request)
            latency = self.latency + self.item_latency * response.items
            return self._answered_by(started, latency, response), fault, client_in_flight
        finally:
            with self._lock:
                self._in_flight[credential] -= 1
                self._client_in_flight[client] -= 1

    @staticmethod
    def _answered_by(started: float, seconds: float, response: Response) -> Response:
        """`response`, its body encoded, returned no sooner than `seconds` after `started`."""
        response.body = response.encode()
        remaining = started + seconds - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        return response

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately: with Nagle's algorithm on, each response of a kept-alive
            # connection would wait ~40 ms for the client's delayed ACK, a stall no real API has.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the log list is the record
                pass

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=split.path,
                    query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                arrived = time.monotonic()
                response, fault, in_flight = server._handle(request)
                with server._lock:
                    server.log.append(LoggedRequest(request.method, request.path, request.query, response.status,
                                                    fault, request.headers.get("user-agent", ""), in_flight, arrived,
                                                    time.monotonic()))
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault == "stall":
                    time.sleep(server.faults.stall_seconds)
                body = response.encode()
                content_type = response.content_type
                if fault == "truncated" and body:
                    body = body[: max(1, len(body) // 2)]
                elif fault == "html":
                    body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    content_type = "text/html"
                self.send_response(response.status)
                if body:
                    self.send_header("Content-Type", content_type)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        return Handler



class Sandbox:
    """What every API sandbox is to its users: a started server (`server`, `url`), usable as a context manager.
    Subclasses build `self.server` in their constructor."""

    server: SandboxServer

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> "Sandbox":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def describe(self) -> dict[str, Any]:
        """What a client needs to use the sandbox: its URL and credentials."""
        raise NotImplementedError

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
