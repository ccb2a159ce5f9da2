"""A tiny stand-in for both APIs on `sandbox.server`, only to test the benchmark's plumbing (routing, counting,
measuring) without the real sandboxes: a few lists with members, shaped like the APIs' documented responses."""

from __future__ import annotations

from sandbox.server import Response, SandboxApp


class StubApi(SandboxApp):
    def __init__(self, lists: int = 2, members: int = 3) -> None:
        super().__init__()
        self.lists = [{"id": f"list{i}", "name": f"List {i}", "date_created": "2020-01-01T00:00:00+00:00",
                       "_links": []} for i in range(lists)]
        self.members = {
            lst["id"]: [{"id": f"m{j}", "email_address": f"m{j}@example.com", "list_id": lst["id"],
                         "last_changed": "2020-01-02T00:00:00+00:00", "_links": []} for j in range(members)]
            for lst in self.lists
        }
        self.route("GET", "/3.0/lists", self.get_lists)
        self.route("GET", "/3.0/lists/{list_id}/members", self.get_members)
        self.route("GET", "/oauth2/metadata", lambda r: Response(200, {"dc": "us6", "api_endpoint": "x"}))
        self.route("POST", "/oauth/token", lambda r: Response(200, {"access_token": "tok", "expires_in": 1209600,
                                                                     "refresh_token": "r2"}))
        self.route("GET", "/api/v3.3/clients/{client_id}.json",
                   lambda r: Response(200, {"BasicDetails": {"ClientID": r.params["client_id"],
                                                             "TimeZone": "(GMT) Dublin, Edinburgh, Lisbon, London"}}))

    def page(self, request, items, key):
        count, offset = int(request.query.get("count", 10)), int(request.query.get("offset", 0))
        chunk = items[offset: offset + count]
        return Response(200, {key: chunk, "total_items": len(items)}, items=len(chunk))

    def get_lists(self, request):
        return self.page(request, self.lists, "lists")

    def get_members(self, request):
        return self.page(request, self.members.get(request.params["list_id"], []), "members")


class StubSandbox:
    """The stub behind the sandbox contract (url, api_key, oauth, client_ids, server, data, mutate)."""

    def __init__(self, scale: float = 1.0, seed: int = 0, latency: float = 0.0, item_latency: float = 0.0,
                 max_connections: int | None = 10, faults=None) -> None:
        from sandbox.server import SandboxServer

        self.app = StubApi(lists=max(1, round(2 * scale)), members=max(1, round(3 * scale)))
        self.server = SandboxServer(self.app, latency=latency, item_latency=item_latency,
                                    max_connections=max_connections, faults=faults)
        self.api_key = "0123456789abcdef-us6"
        self.oauth = {"client_id": "c", "client_secret": "s", "access_token": "tok", "refresh_token": "r1"}
        self.client_ids = ["c1"]
        self.data = {"lists": self.app.lists, "members": self.app.members}

    @property
    def url(self) -> str:
        return self.server.url

    def mutate(self) -> dict:
        return {}

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
