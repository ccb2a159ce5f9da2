"""What the streams of one sync share (connector_common.sync_store, bundled into the components): computed once per
sync and key, never across syncs, and nothing kept from a computation that failed."""

import threading

import pytest

from connector_common.sync_store import sync_store


def test_a_value_is_computed_once_per_sync_while_the_other_callers_wait_for_it():
    config: dict = {}
    calls = []

    def compute():
        calls.append(1)
        return "listing"

    results = []
    threads = [threading.Thread(target=lambda: results.append(sync_store(config).once("k", compute))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["listing"] * 8 and len(calls) == 1


def test_another_sync_has_its_own_store_even_with_equal_settings():
    first, second = {"api_client_id": ""}, {"api_client_id": ""}
    sync_store(first).once("k", lambda: "first")
    assert sync_store(second).once("k", lambda: "second") == "second"
    assert sync_store(first).once("k", lambda: "again") == "first"


def test_a_computation_that_fails_keeps_nothing_and_the_next_caller_computes_again():
    config: dict = {}

    def fail():
        raise ConnectionError("cut short")

    with pytest.raises(ConnectionError):
        sync_store(config).once("k", fail)
    assert sync_store(config).once("k", lambda: "read") == "read"


def test_a_long_lived_process_keeps_only_the_most_recent_syncs_stores():
    from connector_common import sync_store as module

    configs = [{"sync": n} for n in range(module.MAX_STORES + 5)]
    stores = [module.sync_store(config) for config in configs]
    kept = [config for config in configs if module._STORES.get(id(config)) is not None]
    assert kept == configs[-module.MAX_STORES:]
    assert module.sync_store(configs[-1]) is stores[-1]  # a sync in progress keeps its own store
