import threading

import requests_mock

from airbyte_cdk.sources.types import StreamSlice
from connector_common.shared_answers import OneAnswerPerSyncRequester

URL = "http://127.0.0.1:9/api/campaigns/{{ stream_partition.campaign_id }}/summary.json"


def summary_requester(config, name):
    return OneAnswerPerSyncRequester(name=name, config=config, parameters={}, url=URL, max_requests_in_flight=4)


def campaign(campaign_id):
    return StreamSlice(partition={"campaign_id": campaign_id}, cursor_slice={})


def test_two_components_of_a_sync_asking_for_the_same_summary_send_one_request():
    config = {}
    stream, fingerprints = summary_requester(config, "campaign_summary"), summary_requester(config, "fingerprints")
    with requests_mock.Mocker() as api:
        api.get("http://127.0.0.1:9/api/campaigns/a/summary.json", json={"Recipients": 10})
        api.get("http://127.0.0.1:9/api/campaigns/b/summary.json", json={"Recipients": 20})
        answers = [stream.send_request(stream_slice=campaign("a")), fingerprints.send_request(stream_slice=campaign("a")),
                   fingerprints.send_request(stream_slice=campaign("b"))]
        assert [a.json()["Recipients"] for a in answers] == [10, 10, 20]
        assert [r.path for r in api.request_history] == ["/api/campaigns/a/summary.json", "/api/campaigns/b/summary.json"]


def test_a_new_sync_asks_again_and_concurrent_askers_wait_for_the_one_request():
    with requests_mock.Mocker() as api:
        api.get("http://127.0.0.1:9/api/campaigns/a/summary.json", json={"Recipients": 10})
        first, second = summary_requester({}, "campaign_summary"), summary_requester({}, "campaign_summary")
        threads = [threading.Thread(target=first.send_request, kwargs={"stream_slice": campaign("a")}) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert api.call_count == 1
        second.send_request(stream_slice=campaign("a"))
        assert api.call_count == 2


def test_a_request_that_raises_is_sent_again_by_the_next_caller():
    requester = summary_requester({}, "campaign_summary")
    with requests_mock.Mocker() as api:
        api.get("http://127.0.0.1:9/api/campaigns/a/summary.json",
                [{"exc": ValueError("cut")}, {"json": {"Recipients": 10}}])
        try:
            requester.send_request(stream_slice=campaign("a"))
        except ValueError:
            pass
        assert requester.send_request(stream_slice=campaign("a")).json() == {"Recipients": 10}
        assert api.call_count == 2
