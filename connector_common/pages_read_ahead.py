"""A partition's offset pages requested ahead, on the sync's own worker pool.

The CDK reads a partition's pages one after the other (SimpleRetriever._read_pages): the next page is requested only
once the last one has been read, so a large partition is one round trip after another, whatever the concurrency
level, while the other workers wait. Yet once the first page has told how many items there are (`total_items`),
every page's offset is known.

For a retriever whose pagination strategy is an `OffsetPagesReadAhead`, this reads the partition's pages itself: the
first page as the CDK would, then up to PAGES_AHEAD pages ahead of the page being read, as tasks of the CDK's own
worker pool, and hands them to the CDK's record pipeline in order. Records, their order within the
partition, the partition's state and errors are what the CDK's loop would produce.

Why not in YAML: no paginator of the CDK requests more than one page at a time, and a CustomRetriever is built
without the wiring the factory gives a SimpleRetriever (the cursor's request options, the paginator's url_base).

- Never more requests in flight than the concurrency level: the pages are tasks of the pool whose size is that level
  (the manifest's `concurrency_level`). A page whose task has not started when its turn comes is cancelled and
  requested by the partition's own thread, so a partition never waits for a task queued behind others: the pool
  cannot end with every worker waiting for tasks behind it. Busy syncs thus read as before; the pages go ahead
  when workers are idle, typically for the last, largest partitions.
- `overlap`: pages start `overlap` items before the end of the previous one, and a record whose `dedupe_key` the
  previous page held is dropped. A collection that changes while it is read shifts its items between two requests,
  and pages requested at about the same time can be served in any order. So each page must hold one of the previous
  page's items; if not, it is requested again after the previous one, and if items were removed, the pages before
  it are (see PageJoiner). No item is then skipped by changes during the read, removals included, which skipped
  items even when pages were read one after the other. Costs `overlap` items a page (1% at 10 of 1,000), and
  requests only when the collection changed between two pages.
- Past the total the first page announced, pages are requested one at a time for as long as they come back full
  (the total can undercount), and a page with fewer items than asked for is the last, as for the CDK's
  OffsetIncrement.
- Outside a concurrent read (no pool), for a page size not larger than the overlap, or for a retriever with
  query-property chunking or page-size reduction, the CDK's own loop runs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Deque, Iterable, Iterator, Optional, Tuple

import requests

from airbyte_cdk.sources.types import Record, StreamSlice
from connector_common.offset_pages import OffsetPagesReadAhead

_pool_lock = threading.Lock()
_pool: Optional[ThreadPoolExecutor] = None  # the worker pool of the concurrent read in progress
_installed = False
# Pages of one partition requested ahead of the one being read. Pages ahead help only when page latency, not CPU,
# bounds the sync; each one more held parsed costs memory, and more than 4 gained little (docs/benchmarks.md).
PAGES_AHEAD = 4
# Requests of earlier pages a partition may make to join a page to the previous one (see PageJoiner).
PAGE_REQUESTS_BACK_TO_JOIN = 10
logger = logging.getLogger("airbyte")


def read_pages_ahead(
    retriever: Any,
    strategy: OffsetPagesReadAhead,
    records_of: Callable[[Optional[requests.Response]], Iterable[Record]],
    stream_slice: StreamSlice,
    pool: ThreadPoolExecutor,
) -> Iterator[Record]:
    """The partition's records, page after page in offset order, its next pages requested ahead on `pool`."""
    page_size = strategy.fixed_page_size() or 0
    stride = page_size - strategy.overlap
    first_token = strategy.initial_token
    ahead = min(PAGES_AHEAD, pool._max_workers)

    def fetch(offset: int) -> Optional[requests.Response]:
        token = {"next_page_token": offset} if offset or first_token is not None else None
        return retriever._fetch_next_page(stream_slice, token)

    response = fetch(0)
    planned_end = strategy.total_items(response) if response else None
    window: Deque[Tuple[int, Future[Optional[requests.Response]]]] = deque()
    next_to_plan = stride
    previous_keys: set[Any] = set()
    offset = 0
    joiner = PageJoiner(strategy, fetch, stride, PAGE_REQUESTS_BACK_TO_JOIN)
    try:
        while True:
            if response and previous_keys and strategy.overlap:
                response, joined_at = joiner.joined(response, offset, previous_keys)
                if joined_at != offset:  # stepped back: the pages ahead were cut from the collection as it was
                    for _, future in window:
                        future.cancel()
                    window.clear()
                    offset, next_to_plan = joined_at, joined_at + stride
            if not response:
                return
            # Request the next pages before reading this one: they are in flight while its records are built.
            while planned_end and next_to_plan < planned_end and len(window) < ahead:
                try:
                    window.append((next_to_plan, pool.submit(fetch, next_to_plan)))
                except RuntimeError:  # the pool is shutting down (the sync is failing): no more ahead
                    planned_end = None
                    break
                next_to_plan += stride
            items = strategy.items_on_page(response)
            keys = strategy.page_keys(response) if strategy.dedupe_key else []
            if previous_keys:
                key = strategy.dedupe_key
                for record in records_of(response):
                    if record.get(key) not in previous_keys:
                        yield record
            else:
                yield from records_of(response)
            if items < page_size:  # a short page (or an empty one) is the last
                return
            previous_keys = set(keys)
            offset += stride
            if window and window[0][0] == offset:
                _, future = window.popleft()
                # Not started yet: this thread requests it rather than wait for a task queued behind others.
                response = fetch(offset) if future.cancel() else future.result()
            else:
                next_to_plan = max(next_to_plan, offset + stride)
                response = fetch(offset)
    finally:
        for _, future in window:
            future.cancel()


class PageJoiner:
    """Makes each page join the previous one: hold one of its items.

    Such an item x joins the two pages, because an unchanged item keeps its place relative to the others: the
    unchanged items before x were on the previous page or before it, those after x are on this page or after it.
    Without one, the collection shifted by more than the overlap between the two requests:
    - items moved to the front (additions, edits in a list read newest first) after this page was served and before
      the previous one was (a page requested ahead can be served first): requested again, after the previous one,
      the page sees every change the previous one saw and joins it;
    - items removed from the part already read after the previous page was served: the previous page's items now lie
      earlier, and the pages before this one are requested again, one at a time, back to one that joins or to the
      first page (the previous page's items are dropped again; those of the pages before it are emitted again). At
      most `requests_back` such requests in a partition; beyond, the page is taken as it is and a warning names the
      stream."""

    def __init__(self, strategy: OffsetPagesReadAhead, fetch: Callable[[int], Optional[requests.Response]],
                 stride: int, requests_back: int) -> None:
        self.strategy, self.fetch, self.stride, self.requests_back = strategy, fetch, stride, requests_back

    def joined(self, response: requests.Response, offset: int, previous_keys: set[Any]) -> Tuple[Any, int]:
        """The page that joins the previous one, and its offset."""
        def joins(page: requests.Response) -> bool:
            return not previous_keys.isdisjoint(self.strategy.page_keys(page))

        if joins(response):
            return response, offset
        again = self.fetch(offset)
        if not again or joins(again):
            return again, offset
        earlier = offset
        while earlier > 0 and self.requests_back > 0:
            self.requests_back -= 1
            earlier = max(earlier - self.stride, 0)
            page = self.fetch(earlier)
            if not page:
                break
            if earlier == 0 or joins(page):
                return page, earlier
        logger.warning(
            f"Stream {self.strategy.stream_name}: the collection changed faster than it could be paged through (more "
            f"than {self.strategy.overlap} items moved between two pages); items may have been skipped. The next full "
            "refresh reads them."
        )
        return again, offset


def _worker_pool() -> Optional[ThreadPoolExecutor]:
    with _pool_lock:
        return _pool


def install() -> None:
    """Routes the reads of retrievers paged by an OffsetPagesReadAhead through read_pages_ahead, and makes the
    worker pool of the concurrent read in progress known to them. Once per process."""
    global _installed
    if _installed:
        return
    from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
    from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever

    cdk_read_pages = SimpleRetriever._read_pages

    def read_pages(self: Any, records_generator_fn: Any, stream_slice: StreamSlice) -> Iterable[Record]:
        strategy = getattr(self._paginator, "pagination_strategy", None)
        pool = _worker_pool()
        if (
            # Not isinstance: the manifest's components hold their own copy of the class (see offset_pages).
            getattr(strategy, "pages_can_be_read_ahead", False)
            and pool is not None
            and (strategy.fixed_page_size() or 0) > strategy.overlap
            and not self.additional_query_properties
            and not self.page_size_reduction
        ):
            return read_pages_ahead(self, strategy, records_generator_fn, stream_slice, pool)
        return cdk_read_pages(self, records_generator_fn, stream_slice)

    cdk_read = ConcurrentSource.read

    def read(self: Any, streams: Any) -> Any:
        global _pool
        with _pool_lock:
            _pool = self._threadpool._threadpool
        try:
            yield from cdk_read(self, streams)
        finally:
            with _pool_lock:
                _pool = None

    SimpleRetriever._read_pages = read_pages  # type: ignore[method-assign]
    ConcurrentSource.read = read  # type: ignore[method-assign]
    _installed = True
