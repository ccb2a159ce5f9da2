"""A Mailchimp account whose 10 simultaneous connections are partly held by another client: the sync lowers the
requests it keeps in flight by itself (said once in the log), and reads exactly the records of an unshared sync.

The other client is the sandbox's `held_connections`: connections of the account counted against its limit for the
whole sync, so that what is asserted (records, log lines, the sandbox's count of our requests in flight) does not
depend on timing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from integration_tests.harness import SourceRun, configured_catalog, run_source
from integration_tests.stock_runtime import StockRuntimeUnavailable, ensure_stock_runtime, run_stock
from sandbox.mailchimp import MailchimpSandbox

FOLDER = Path(__file__).resolve().parents[1] / "source_mailchimp"
SCALE = 0.1
HELD = 7  # of the account's 10: 3 are left for the sync
LOWERING = "answered 429 (too many requests)"


def records(run: SourceRun) -> dict[str, Counter]:
    return {stream: Counter(json.dumps(r, sort_keys=True) for r in rows) for stream, rows in run.records_by_stream().items()}


def logs(run: SourceRun, text: str) -> list[str]:
    return [m["log"]["message"] for m in run.of_type("LOG") if text in m["log"]["message"]]


def ours(sb: MailchimpSandbox):
    return [r for r in sb.server.requests("/3.0/")]


def most_in_flight_after_the_first_429(sb: MailchimpSandbox) -> int:
    """The most of the sync's requests the sandbox saw in flight at once (counted as each arrives), among those that
    arrived after the first 429 was answered."""
    log = ours(sb)
    first = min(r.answered for r in log if r.status == 429)
    return max((r.in_flight for r in log if r.arrived > first), default=0)


def sync(runner, sb: MailchimpSandbox, tmp_path: Path, name: str, catalog: dict, held: int, **settings) -> SourceRun:
    sb.server.reset_log()
    sb.server.held_connections = held
    config = {"credentials": {"auth_type": "apikey", "apikey": sb.api_key}, "sandbox_url": sb.url, **settings}
    workdir = tmp_path / name
    workdir.mkdir()
    try:
        run = runner(config, catalog, workdir)
    finally:
        sb.server.held_connections = 0
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def ours_command(config: dict, catalog: dict, workdir: Path) -> SourceRun:
    return run_source("source-mailchimp", "read", workdir, config=config, catalog=catalog)


def stock_command(config: dict, catalog: dict, workdir: Path) -> SourceRun:
    return run_stock(FOLDER / "manifest.yaml", FOLDER / "components.py", "read", workdir, config=config, catalog=catalog)


@pytest.fixture(scope="module")
def sandbox():
    # 20 ms a request: enough for requests to overlap as they would against the API, so the limit is met.
    with MailchimpSandbox(scale=SCALE, seed=5, latency=0.02) as sb:
        yield sb


@pytest.fixture(scope="module")
def catalog(sandbox, tmp_path_factory):
    config = {"credentials": {"auth_type": "apikey", "apikey": sandbox.api_key}, "sandbox_url": sandbox.url}
    discovered = run_source("source-mailchimp", "discover", tmp_path_factory.mktemp("discover"), config=config).catalog()
    return configured_catalog(discovered)


def test_a_sync_sharing_the_account_lowers_its_requests_in_flight_once_and_reads_the_same_records(sandbox, catalog,
                                                                                                  tmp_path):
    alone = sync(ours_command, sandbox, tmp_path, "alone", catalog, held=0, num_workers=10)
    most_alone = max(r.in_flight for r in ours(sandbox))
    assert not [r for r in ours(sandbox) if r.status == 429]
    assert not logs(alone, LOWERING)

    shared = sync(ours_command, sandbox, tmp_path, "shared", catalog, held=HELD, num_workers=10)
    refused = [r for r in ours(sandbox) if r.status == 429]
    assert refused, "the sandbox refused none of the sync's requests: the account was not shared"
    assert records(shared) == records(alone)
    assert sum(map(len, records(shared).values())) > 1000
    lowered = logs(shared, LOWERING)
    assert len(lowered) == 1, lowered
    assert "another client seems to share the account's allowance" in lowered[0]
    # Alone the sync keeps up to num_workers in flight; shared, once refused, at most half as many (the first 429
    # halves the limit, and each 429 after it halves it again).
    assert most_alone >= 8
    after = most_in_flight_after_the_first_429(sandbox)
    assert after <= 10 // 2 < most_alone, (after, most_alone)


def test_without_adaptation_the_shared_sync_keeps_sending_num_workers_requests(sandbox, catalog, tmp_path):
    """The same sync with the hidden `adaptive_concurrency: false`, as before: more refused, same records."""
    fixed = sync(ours_command, sandbox, tmp_path, "fixed", catalog, held=HELD, num_workers=10, adaptive_concurrency=False)
    refused_fixed = len([r for r in ours(sandbox) if r.status == 429])
    adaptive = sync(ours_command, sandbox, tmp_path, "adaptive", catalog, held=HELD, num_workers=10)
    refused_adaptive = len([r for r in ours(sandbox) if r.status == 429])
    assert records(fixed) == records(adaptive)
    assert not logs(fixed, LOWERING)
    assert refused_adaptive < refused_fixed, (refused_adaptive, refused_fixed)


def test_on_the_stock_runtime_too(sandbox, catalog, tmp_path):
    try:
        ensure_stock_runtime()
    except StockRuntimeUnavailable as unavailable:
        pytest.skip(f"the package registry is unreachable, airbyte-cdk cannot be installed: {unavailable}")
    alone = sync(ours_command, sandbox, tmp_path, "alone", catalog, held=0, num_workers=10)
    shared = sync(stock_command, sandbox, tmp_path, "stock-shared", catalog, held=HELD, num_workers=10)
    assert [r for r in ours(sandbox) if r.status == 429]
    assert records(shared) == records(alone)
    assert len(logs(shared, LOWERING)) == 1
    assert most_in_flight_after_the_first_429(sandbox) <= 10 // 2
