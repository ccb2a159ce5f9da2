"""The shared sandbox machinery: fault injection, connection limit, latency, request log."""

import threading
import time

import pytest
import requests

from sandbox.server import FAULT_KINDS, FaultPlan, Response, SandboxApp, SandboxServer


def slow_app(seconds: float = 0.0) -> SandboxApp:
    app = SandboxApp()

    def item(request):
        time.sleep(seconds)
        return Response(200, {"id": request.params["id"], "query": request.query}, items=1)

    app.route("GET", "/items/{id}", item)
    return app


def test_fault_plan_is_deterministic_by_seed_whatever_the_order_of_requests():
    plan = FaultPlan(rate=0.3, seed=7)
    lines = [f"GET /items/{i}?[]" for i in range(200)]
    forward = {line: plan.draw(line, 1) for line in lines}
    backward = {line: plan.draw(line, 1) for line in reversed(lines)}
    assert forward == backward
    assert forward != {line: FaultPlan(rate=0.3, seed=8).draw(line, 1) for line in lines}


def test_fault_plan_injects_about_the_requested_rate_of_every_kind():
    plan = FaultPlan(rate=0.05, seed=1)
    draws = [plan.draw(f"GET /items/{i}?[]", 1) for i in range(20_000)]
    faults = [d for d in draws if d]
    assert 0.04 < len(faults) / len(draws) < 0.06
    assert set(faults) == set(FAULT_KINDS)


def test_a_retried_request_draws_its_fault_again():
    plan = FaultPlan(rate=0.5, seed=3)
    line = "GET /items/1?[]"
    assert len({plan.draw(line, attempt) for attempt in range(1, 40)}) > 1


def test_no_fault_plan_means_no_faults():
    assert all(FaultPlan().draw(f"GET /{i}", 1) is None for i in range(1000))


def test_server_serves_routes_and_logs_each_request():
    with SandboxServer(slow_app()) as server:
        response = requests.get(f"{server.url}/items/42?a=1", timeout=5)
        missing = requests.get(f"{server.url}/nothing", timeout=5)
    assert response.json() == {"id": "42", "query": {"a": "1"}}
    assert missing.status_code == 404
    assert [(r.path, r.status) for r in server.requests()] == [("/items/42", 200), ("/nothing", 404)]


def test_server_answers_overloaded_beyond_the_connection_limit_of_one_credential():
    statuses = []
    with SandboxServer(slow_app(0.3), max_connections=2) as server:
        def get(user):
            statuses.append((user, requests.get(f"{server.url}/items/1", auth=(user, "k"), timeout=5).status_code))

        threads = [threading.Thread(target=get, args=("alice",)) for _ in range(4)]
        threads.append(threading.Thread(target=get, args=("bob",)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    alice = sorted(status for user, status in statuses if user == "alice")
    assert alice == [200, 200, 429, 429]
    assert [status for user, status in statuses if user == "bob"] == [200]


@pytest.mark.parametrize(
    "kind, check",
    [
        ("truncated", lambda r: r.status_code == 200 and r.text.startswith("{") and not r.text.endswith("}")),
        ("html", lambda r: r.status_code == 200 and r.headers["Content-Type"] == "text/html"),
        ("503", lambda r: r.status_code == 503),
        ("429", lambda r: r.status_code == 429 and r.headers["Retry-After"] == "1"),
    ],
)
def test_server_injects_each_fault_kind_as_a_client_sees_it(kind, check):
    with SandboxServer(slow_app(), faults=FaultPlan(rate=1.0, kinds=(kind,))) as server:
        assert check(requests.get(f"{server.url}/items/1", timeout=5))
        assert server.requests()[0].fault == kind


def test_server_resets_the_connection_on_a_reset_fault():
    with SandboxServer(slow_app(), faults=FaultPlan(rate=1.0, kinds=("reset",))) as server:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.url}/items/1", timeout=5)


def test_server_stalls_past_the_client_timeout_on_a_stall_fault():
    with SandboxServer(slow_app(), faults=FaultPlan(rate=1.0, kinds=("stall",), stall_seconds=1.0)) as server:
        with pytest.raises(requests.Timeout):
            requests.get(f"{server.url}/items/1", timeout=0.3)


def test_server_adds_latency_per_request_and_per_item():
    with SandboxServer(slow_app(), latency=0.1, item_latency=0.1) as server:
        started = time.monotonic()
        requests.get(f"{server.url}/items/1", timeout=5)
        assert time.monotonic() - started >= 0.2


def test_the_sandboxs_own_work_is_part_of_the_latency_not_added_to_it():
    # A remote API answers in its latency however busy the client's machine is; the sandbox shares that machine.
    with SandboxServer(slow_app(seconds=0.15), latency=0.2, item_latency=0.0) as server:
        started = time.monotonic()
        requests.get(f"{server.url}/items/1", timeout=5)
        elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 0.3
