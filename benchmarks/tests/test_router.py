"""The router (benchmarks/peers/router/sitecustomize.py) that sends the peers' https calls to the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from benchmarks.peers import ROUTER_DIR
from benchmarks.tests.stub_api import StubSandbox

sys.path.insert(0, str(ROUTER_DIR))
import sitecustomize as router  # noqa: E402  (the module under test, imported by path)

SANDBOX = "http://127.0.0.1:5000"


def test_mailchimp_data_center_host_goes_to_the_sandbox_with_path_and_query_kept():
    routed = router.route("https://us6.api.mailchimp.com/3.0/lists/abc/members?count=1000&offset=0", SANDBOX)
    assert routed == "http://127.0.0.1:5000/3.0/lists/abc/members?count=1000&offset=0"


def test_login_host_and_batch_archive_host_go_to_the_sandbox():
    assert router.route("https://login.mailchimp.com/oauth2/metadata", SANDBOX) == SANDBOX + "/oauth2/metadata"
    assert (router.route("https://mailchimp-api-batch.s3.amazonaws.com/b1-response.tar.gz", SANDBOX)
            == SANDBOX + "/b1-response.tar.gz")


def test_campaign_monitor_host_goes_to_the_sandbox():
    assert (router.route("https://api.createsend.com/api/v3.3/clients/c1.json", SANDBOX)
            == SANDBOX + "/api/v3.3/clients/c1.json")


def test_other_hosts_and_plain_http_are_left_alone():
    for url in ("https://example.com/3.0/lists", "http://us6.api.mailchimp.com/3.0/lists",
                "https://evil.api.mailchimp.com.example.com/3.0/"):
        assert router.route(url, SANDBOX) == url
    assert router.route("https://us6.api.mailchimp.com/3.0/", "") == "https://us6.api.mailchimp.com/3.0/"


def test_campaign_monitor_v32_calls_become_v33_and_the_sent_campaigns_listing_asks_for_the_largest_page():
    assert router.v32_to_v33(SANDBOX + "/api/v3.2/lists/l1/active.json?page=2") == (
        SANDBOX + "/api/v3.3/lists/l1/active.json?page=2", False)
    assert router.v32_to_v33(SANDBOX + "/api/v3.2/clients/c1/campaigns.json") == (
        SANDBOX + "/api/v3.3/clients/c1/campaigns.json?pagesize=1000", True)
    assert router.v32_to_v33(SANDBOX + "/api/v3.3/clients/c1/campaigns.json")[1] is False


def test_a_v33_sent_campaigns_page_is_answered_as_v32s_bare_array():
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps({"Results": [{"CampaignID": "a"}], "NumberOfPages": 1}).encode()
    router.as_v32_listing(response)
    assert response.json() == [{"CampaignID": "a"}]


def test_in_a_fresh_interpreter_requests_to_the_real_host_reach_the_sandbox_and_each_is_logged(tmp_path: Path):
    log = tmp_path / "requests.log"
    script = (
        "import requests\n"
        "r = requests.get('https://us6.api.mailchimp.com/3.0/lists', params={'count': 1}, auth=('x', 'k'))\n"
        "s = requests.Session(); s.get('https://us6.api.mailchimp.com/3.0/lists/list0/members')\n"
        "print(r.status_code, r.json()['lists'][0]['id'])\n"
    )
    with StubSandbox() as sb:
        env = {**os.environ, "PYTHONPATH": str(ROUTER_DIR), "BENCH_SANDBOX_URL": sb.url, "BENCH_REQUEST_LOG": str(log)}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
        seen = [(r.method, r.path) for r in sb.server.requests()]
    assert done.stdout.split() == ["200", "list0"], done.stderr
    assert seen == [("GET", "/3.0/lists"), ("GET", "/3.0/lists/list0/members")]
    lines = [line.split("\t") for line in log.read_text().splitlines()]
    assert [(fields[2], fields[3]) for fields in lines] == [("GET", "200"), ("GET", "200")]
    assert lines[0][4] == sb.url + "/3.0/lists?count=1"
    assert float(lines[0][0]) <= float(lines[0][1])
