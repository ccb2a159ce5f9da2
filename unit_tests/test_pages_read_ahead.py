"""Offset pages requested ahead on the sync's worker pool (connector_common.pages_read_ahead), against a fake API."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import pytest

from connector_common import pages_read_ahead
from connector_common.offset_pages import OffsetPagesReadAhead
from connector_common.pages_read_ahead import read_pages_ahead
from airbyte_cdk.sources.types import StreamSlice


class Page:
    """A response: its items and the collection's total when it was served."""

    def __init__(self, offset: int, items: list[dict], total: int) -> None:
        self.offset, self.items, self.total = offset, items, total

    def __bool__(self) -> bool:
        return True


class ItemPages(OffsetPagesReadAhead):
    def items_on_page(self, response: Page) -> int:
        return len(response.items)

    def total_items(self, response: Page) -> Optional[int]:
        return response.total

    def page_keys(self, response: Page) -> list[Any]:
        return [item["id"] for item in response.items]


class FakeApi:
    """A collection served by offset, one request taking `latency`; counts the requests in flight."""

    def __init__(self, size: int, latency: float = 0.02) -> None:
        self.items = [{"id": f"m{n:03}"} for n in range(size)]
        self.latency = latency
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.offsets: list[int] = []
        self.before_serving: Callable[[int], None] = lambda offset: None
        self.after_serving: Callable[[int], None] = lambda offset: None

    def serve(self, offset: int, count: int) -> Page:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.offsets.append(offset)
        try:
            time.sleep(self.latency)
            self.before_serving(offset)
            with self.lock:
                page = Page(offset, [dict(item) for item in self.items[offset:offset + count]], len(self.items))
            self.after_serving(offset)
            return page
        finally:
            with self.lock:
                self.in_flight -= 1


class FakeRetriever:
    def __init__(self, api: FakeApi, page_size: int) -> None:
        self.api, self.page_size = api, page_size

    def _fetch_next_page(self, stream_slice: StreamSlice, token: Optional[dict]) -> Page:
        return self.api.serve(token["next_page_token"] if token else 0, self.page_size)


def strategy(page_size: int = 10, overlap: int = 2) -> ItemPages:
    return ItemPages(config={}, page_size=page_size, parameters={"name": "list_members"}, overlap=overlap,
                     dedupe_key="id" if overlap else None)


def read_all(api: FakeApi, pages: ItemPages, pool: ThreadPoolExecutor) -> list[str]:
    records = read_pages_ahead(FakeRetriever(api, pages.fixed_page_size()), pages, lambda page: page.items,
                               StreamSlice(partition={"list_id": "a"}, cursor_slice={}), pool)
    return [record["id"] for record in records]


def test_pages_are_requested_ahead_in_parallel_and_every_record_comes_once_in_order():
    api = FakeApi(size=95)
    with ThreadPoolExecutor(max_workers=10) as pool:
        read = read_all(api, strategy(page_size=10, overlap=2), pool)
    assert read == [item["id"] for item in api.items]
    assert 2 <= api.max_in_flight <= pages_read_ahead.PAGES_AHEAD + 1  # the ahead pages and the partition's own
    assert api.offsets[:2] == [0, 8] and sorted(api.offsets) == list(range(0, 95, 8))  # 8 = 10 - overlap


def test_never_more_pages_in_flight_than_the_pool_has_workers():
    api = FakeApi(size=200)
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert len(read_all(api, strategy(), pool)) == 200
    assert api.max_in_flight <= 3  # two workers ahead, at most, and the partition's own thread


def test_a_page_not_started_when_its_turn_comes_is_requested_by_the_partitions_own_thread():
    api = FakeApi(size=50, latency=0)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(release.wait, 10)  # the only worker is busy with something else for the whole read
        started = time.monotonic()
        read = read_all(api, strategy(), pool)
        release.set()
    assert read == [item["id"] for item in api.items]
    assert time.monotonic() - started < 5  # nobody waited for the busy worker


def test_paging_goes_on_past_an_undercounted_total_while_pages_are_full_and_stops_at_a_short_page():
    api = FakeApi(size=35, latency=0)
    serve = api.serve
    api.serve = lambda offset, count: Page(offset, serve(offset, count).items, 12)  # the API says 12
    with ThreadPoolExecutor(max_workers=4) as pool:
        read = read_all(api, strategy(page_size=10, overlap=0), pool)
    assert read == [item["id"] for item in api.items]
    assert sorted(api.offsets) == [0, 10, 20, 30]


def test_a_failed_page_requested_ahead_fails_the_partition_with_its_own_error():
    api = FakeApi(size=60)
    serve = api.serve

    def failing(offset: int, count: int) -> Page:
        if offset == 24:
            raise RuntimeError("Mailchimp answered 500 three times for page 24")
        return serve(offset, count)

    api.serve = failing
    with ThreadPoolExecutor(max_workers=4) as pool, pytest.raises(RuntimeError, match="page 24"):
        read_all(api, strategy(page_size=10, overlap=2), pool)


def move_to_front(api: FakeApi, how_many: int) -> None:
    """Members edited: read newest first, they move to the front of the list."""
    with api.lock:
        moved = api.items[-how_many:]
        api.items[:] = moved + api.items[:-how_many]


def without_joining(monkeypatch) -> None:
    monkeypatch.setattr(pages_read_ahead.PageJoiner, "joined", lambda self, response, offset, tail: (response, offset))


@pytest.mark.parametrize("joining", [True, False])
def test_a_page_served_before_the_previous_one_while_members_moved_is_requested_again_and_skips_nobody(
        monkeypatch, joining):
    """Page 2 is served first, then 5 members (more than the overlap of 2) move to the front, then page 1: the
    members that page 1's view pushed past its end were on page 2 only in the view it no longer has."""
    if not joining:
        without_joining(monkeypatch)
    api = FakeApi(size=40, latency=0)
    unchanged = [item["id"] for item in api.items[:-5]]
    page_two_served, done = threading.Event(), []

    def page_one_after_page_two(offset: int) -> None:
        if offset == 8 and not done:
            page_two_served.wait(5)
            move_to_front(api, 5)
            done.append(True)

    api.before_serving = page_one_after_page_two
    api.after_serving = lambda offset: page_two_served.set() if offset == 16 else None
    with ThreadPoolExecutor(max_workers=4) as pool:
        read = set(read_all(api, strategy(page_size=10, overlap=2), pool))
    lost = [member for member in unchanged if member not in read]
    assert done
    assert bool(lost) is not joining, lost


@pytest.mark.parametrize("joining", [True, False])
def test_members_removed_from_the_part_already_read_make_no_unread_member_skipped(monkeypatch, joining):
    """25 members of the first pages are deleted (more than two pages' stride) after page 1 was served: every later
    member moves 25 places up, past the next page's start."""
    if not joining:
        without_joining(monkeypatch)
    api = FakeApi(size=60, latency=0)
    removed = {item["id"] for item in api.items[:25]}
    remaining = [item["id"] for item in api.items[25:]]

    def remove_after_page_one(offset: int) -> None:
        if offset == 8:
            with api.lock:
                api.items[:] = [item for item in api.items if item["id"] not in removed]

    api.after_serving = remove_after_page_one
    with ThreadPoolExecutor(max_workers=1) as pool:  # pages one after the other: the removal lands between them
        read = read_all(api, strategy(page_size=10, overlap=2), pool)
    lost = [member for member in remaining if member not in read]
    assert bool(lost) is not joining, lost


def test_without_overlap_no_page_is_requested_again():
    api = FakeApi(size=40, latency=0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        read_all(api, strategy(page_size=10, overlap=0), pool)
    assert sorted(api.offsets) == [0, 10, 20, 30, 40]


def test_an_overlap_without_a_key_to_drop_the_records_read_twice_is_refused():
    with pytest.raises(ValueError, match="dedupe_key"):
        ItemPages(config={}, page_size=10, parameters={}, overlap=2)
