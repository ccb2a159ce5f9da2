"""connector_common.adaptive_concurrency: the AIMD gate of requests in flight, and the requester that sends every
attempt through it."""

import logging
import threading

import pytest
import requests

from connector_common.adaptive_concurrency import (
    AdaptiveConcurrencyRequester,
    RequestsInFlight,
    _GatedAdapter,
    requests_in_flight,
)


def answer(gate: RequestsInFlight, status: int | None, times: int = 1) -> None:
    """`times` requests sent one after the other, each answered with `status`."""
    for _ in range(times):
        gate.release(gate.acquire(), status)


def fill(gate: RequestsInFlight) -> list:
    """As many requests in flight as the limit allows."""
    return [gate.acquire() for _ in range(gate.limit)]


def answer_round(gate: RequestsInFlight, status: int) -> None:
    """One round at the limit: the limit's worth of requests in flight, then all answered."""
    for sent in fill(gate):
        gate.release(sent, status)


def test_starts_at_two_and_doubles_each_round_of_answers_at_the_limit_up_to_the_ceiling():
    gate = RequestsInFlight(10)
    limits = [gate.limit]
    while gate.limit < 10:
        answer_round(gate, 200)
        limits.append(gate.limit)
    assert limits == [2, 4, 8, 10]
    answer_round(gate, 200)
    assert gate.limit == 10


def test_without_adaptation_the_limit_is_the_ceiling_and_429s_change_nothing():
    gate = RequestsInFlight(6, adaptive=False)
    assert gate.limit == 6
    answer_round(gate, 429)
    assert gate.limit == 6 and gate.throttled == 6


def test_a_429_halves_the_limit_once_per_burst():
    gate = RequestsInFlight(10, initial=10)
    sent = fill(gate)  # 10 in flight, all sent at limit 10
    for token in sent[:6]:
        gate.release(token, 429)
    assert gate.limit == 5, "the 6 429s of one burst lower the limit once"
    assert gate.throttled == 6 and gate.decreases == 1
    for token in sent[6:]:
        gate.release(token, 200)
    # A 429 to a request sent under the new limit lowers it again.
    answer(gate, 429)
    assert gate.limit == 2


def test_the_floor_is_one():
    gate = RequestsInFlight(10, initial=10)
    for _ in range(10):
        answer(gate, 429)
    assert gate.limit == 1
    answer(gate, 429)
    assert gate.limit == 1
    # One request still goes: a sync is never stopped by the gate.
    sent = gate.acquire()
    gate.release(sent, 200)


def rounds_to_next_limit(gate: RequestsInFlight) -> int:
    before, rounds = gate.limit, 0
    while gate.limit == before:
        answer_round(gate, 200)
        rounds += 1
    return rounds


def test_after_429s_the_limit_grows_by_one_per_round_of_answers_at_the_limit_and_slower_near_the_refused_one():
    gate = RequestsInFlight(10, initial=8)
    answer(gate, 429)  # 8 -> 4, no longer doubling; 8 was refused
    assert gate.limit == 4
    assert [rounds_to_next_limit(gate) for _ in range(3)] == [1, 1, 1]  # 5, 6, 7
    assert gate.limit == 7
    assert rounds_to_next_limit(gate) == 4, "back to the refused 8: 4 times as many answers"
    assert gate.limit == 8
    # 8 passed without a 429: the other client has left, the usual pace again.
    assert rounds_to_next_limit(gate) == 1
    assert gate.limit == 9
    assert rounds_to_next_limit(gate) == 1
    assert gate.limit == 10
    answer_round(gate, 200)
    assert gate.limit == 10, "never above the ceiling"


def test_a_shared_account_is_probed_less_often_than_it_is_refused_at_first():
    """Another client leaves 4 of 10 connections: every limit above 4 is refused. From the first refusal at 5 on, a
    probe at 5 takes 2 + 3 + 4 x 4 rounds of answers, not 2 + 3 + 4."""
    gate = RequestsInFlight(10, initial=5)
    answer(gate, 429)  # 5 -> 2
    rounds = 0
    while gate.limit <= 4:
        answer_round(gate, 200)
        rounds += 1
    assert gate.limit == 5 and rounds == 1 + 1 + 4


def test_answers_while_fewer_requests_are_in_flight_than_the_limit_raise_nothing():
    gate = RequestsInFlight(10, initial=8)
    answer(gate, 429)  # 4
    answer(gate, 200, times=50)  # one at a time: the limit of 4 is never tested
    assert gate.limit == 4


def test_errors_without_an_answer_and_5xx_neither_lower_nor_raise_the_limit_by_themselves():
    gate = RequestsInFlight(10, initial=8)
    answer(gate, 429)
    for sent in fill(gate):
        gate.release(sent, None)  # connection reset: no answer
    assert gate.limit == 4 and gate.in_flight == 0


def test_lowering_and_coming_back_to_the_ceiling_are_logged_once_each(caplog):
    gate = RequestsInFlight(4, initial=4, api="Mailchimp")
    with caplog.at_level(logging.INFO, logger="airbyte"):
        answer(gate, 429)  # 4 -> 2
        answer(gate, 429)  # 2 -> 1
        answer(gate, 429)
        while gate.limit < 4:
            answer_round(gate, 200)
        answer_round(gate, 200)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("Mailchimp answered 429") and "at most 2 requests in flight" in messages[0]
    assert messages[1].startswith("No 429 from Mailchimp for a while: back to 4 requests in flight")


def test_never_more_in_flight_than_the_limit_with_many_threads():
    gate = RequestsInFlight(8, initial=8)
    seen = []
    lock = threading.Lock()
    release_all = threading.Event()

    def worker(index: int) -> None:
        sent = gate.acquire()
        with lock:
            seen.append(gate.in_flight)
        release_all.wait(5)
        gate.release(sent, 429 if index % 3 == 0 else 200)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    # The first 8 are in flight; the others wait for a slot.
    for _ in range(100):
        if gate.in_flight == 8:
            break
        threading.Event().wait(0.01)
    assert gate.in_flight == 8
    release_all.set()
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads)
    assert max(seen) <= 8 and gate.max_in_flight <= 8
    assert gate.in_flight == 0
    assert 1 <= gate.limit <= 8


def test_concurrent_answers_keep_the_counts_exact():
    gate = RequestsInFlight(10, initial=10)
    barrier = threading.Barrier(10)

    def worker() -> None:
        barrier.wait()
        for n in range(200):
            sent = gate.acquire()
            gate.release(sent, 429 if n % 50 == 0 else 200)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert gate.in_flight == 0
    assert gate.throttled == 40
    assert 1 <= gate.limit <= 10 and gate.max_in_flight <= 10


def test_one_gate_per_sync_config():
    config, other = {"num_workers": 4}, {"num_workers": 4}
    assert requests_in_flight(config, 4) is requests_in_flight(config, 4)
    assert requests_in_flight(config, 4) is not requests_in_flight(other, 4)


class _Adapter(requests.adapters.BaseAdapter):
    def __init__(self, status: int | None) -> None:
        super().__init__()
        self.status = status

    def send(self, request, **kwargs):
        if self.status is None:
            raise requests.ConnectionError("reset")
        response = requests.Response()
        response.status_code = self.status
        response._content = b"{}"
        return response

    def close(self) -> None:
        pass


def test_the_adapter_counts_the_answer_and_gives_the_slot_back_on_errors_too():
    gate = RequestsInFlight(4, initial=4)
    request = requests.Request("GET", "http://127.0.0.1/x").prepare()
    assert _GatedAdapter(_Adapter(429), gate).send(request).status_code == 429
    assert gate.limit == 2 and gate.in_flight == 0
    with pytest.raises(requests.ConnectionError):
        _GatedAdapter(_Adapter(None), gate).send(request)
    assert gate.in_flight == 0


def test_the_requester_sends_through_the_gate_with_its_request_parameters(monkeypatch):
    config = {"num_workers": 3}
    requester = AdaptiveConcurrencyRequester(
        name="lists", config=config, parameters={"data_field": "lists"}, url="http://127.0.0.1:9/3.0/lists",
        request_parameters={"exclude_fields": "{{ parameters.data_field }}._links"},
        max_requests_in_flight="{{ config.get('num_workers', 10) }}", adaptive="{{ config.get('adaptive_concurrency', true) }}",
    )
    gate = requests_in_flight(config, 99)
    assert gate.ceiling == 3 and gate.adaptive
    assert requester.get_request_params() == {"exclude_fields": "lists._links"}
    session = requester._http_client._session
    assert isinstance(session.get_adapter("http://x"), _GatedAdapter)
    assert isinstance(session.get_adapter("https://x"), _GatedAdapter)
    assert session.get_adapter("http://x").gate is gate


def test_adaptive_false_in_the_config_keeps_the_ceiling():
    config = {"num_workers": 5, "adaptive_concurrency": False}
    AdaptiveConcurrencyRequester(name="lists", config=config, parameters={}, url="http://127.0.0.1:9/x",
                                 max_requests_in_flight="{{ config.get('num_workers', 10) }}",
                                 adaptive="{{ config.get('adaptive_concurrency', true) }}")
    gate = requests_in_flight(config, 99)
    assert (gate.adaptive, gate.limit, gate.ceiling) == (False, 5, 5)
