"""A partition's offset pages requested ahead, on the sync's own worker pool.

The CDK reads a partition's pages one after the other (SimpleRetriever._read_pages): the next page is requested only
once the last one has been read. A Mailchimp list of 27,613 members is then 28 round trips in a row, whatever the
concurrency level, and at the real API's second or so per 1,000-member page a list of a million members is a quarter
of an hour of one request at a time while the other workers wait. Yet once the first page has told how many items
there are (`total_items`), every page's offset is known.

For a retriever whose pagination strategy is an `OffsetPagesReadAhead`, this reads the partition's pages itself: the
first page as the CDK would, then up to one page per worker of the pool ahead of the page being read, as tasks of the
CDK's own worker pool, and hands them to the CDK's record pipeline in order. Records, their order within the
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
  page's last `overlap` items; if not, it is requested again, after the previous one (see _joined_to_previous_page).
  Changes that only move items to the front of a list read newest first then lose nothing, however many, as when
  pages are read one after the other; up to `overlap` removed items between two pages lose nothing either. Costs
  `overlap` items a page (1% at 10 of 1,000).
- Past the total the first page announced, pages are requested one at a time for as long as they come back full
  (the total can undercount), and a page with fewer items than asked for is the last, as for the CDK's
  OffsetIncrement.
- Outside a concurrent read (no pool), or for a retriever with query-property chunking or page-size reduction,
  the CDK's own loop runs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Deque, Iterable, Iterator, Mapping, Optional, Tuple

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies import OffsetIncrement
from airbyte_cdk.sources.types import Record, StreamSlice

_pool_lock = threading.Lock()
_pool: Optional[ThreadPoolExecutor] = None  # the worker pool of the concurrent read in progress
_installed = False
# Pages of one partition requested ahead of the one being read. Sandbox, scale 10: at ~1 s a 1,000-member page (the
# real API's order of magnitude; 0.3 s + 0.7 ms an item) 4 cut the sync from 29.7 s to 19.2 s (bound 17.6 s; 10 ahead:
# 18.6 s). At 50 ms the sync is bound by its CPU and the wall time does not change; the pages parsed ahead cost some
# 0.3 s of CPU (of ~5) without latency, and 10 ahead raised peak RSS by about 6 MiB more than 4.
PAGES_AHEAD = 4
# Requests of a page that does not join the previous one (see _joined_to_previous_page) before going on without.
PAGE_REQUESTS_TO_JOIN = 2
logger = logging.getLogger("airbyte")


@dataclass
class OffsetPagesReadAhead(OffsetIncrement):
    """Offset pages that may be requested ahead (see the module). Subclasses say how to count a page's items and
    where its total is; `overlap` and `dedupe_key` as in the module's docstring."""

    overlap: int = 0
    dedupe_key: Optional[str] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._parameters = parameters
        self.overlap = int(self.overlap or 0)
        if self.overlap and not self.dedupe_key:
            raise ValueError("An overlap between pages needs a dedupe_key to drop the records read twice.")

    def items_on_page(self, response: requests.Response) -> int:
        """The items the API returned on this page (before any record filter or expansion)."""
        raise NotImplementedError

    def total_items(self, response: requests.Response) -> Optional[int]:
        """The number of items the first page announced for the whole collection, if it did."""
        raise NotImplementedError

    def page_keys(self, response: requests.Response) -> list[Any]:
        """The `dedupe_key` of each item of the page, in order."""
        raise NotImplementedError

    @property
    def stream_name(self) -> str:
        return str(self._parameters.get("name", "this stream"))

    def fixed_page_size(self) -> Optional[int]:
        size = self.get_page_size()
        return int(size) if size else None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any] = None,
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        """For the CDK's own loop (a test read with page limits): pages one after the other, without overlap (the
        CDK's loop would emit the overlapping records twice), counted in the page's items."""
        items = self.items_on_page(response)
        page_size = page_size_override or self.fixed_page_size()
        if items == 0 or (page_size and items < page_size):
            return None
        return (last_page_token_value or 0) + items


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
    previous_tail: set[Any] = set()
    offset = 0
    try:
        while True:
            if response and previous_tail:
                response = _joined_to_previous_page(response, previous_tail, strategy, fetch, offset)
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
            if items < page_size or items == 0:
                return
            previous_keys = set(keys)
            previous_tail = set(keys[len(keys) - strategy.overlap:]) if strategy.overlap else set()
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


def _joined_to_previous_page(
    response: requests.Response,
    previous_tail: set[Any],
    strategy: OffsetPagesReadAhead,
    fetch: Callable[[int], Optional[requests.Response]],
    offset: int,
) -> Optional[requests.Response]:
    """The page, requested again (now that the previous page has been served) while it does not start within the
    previous page's last `overlap` items.

    An item of the previous page's tail found in this page joins the two: the items before it were on the previous
    page, the items after it are on this one (an unchanged item keeps its place relative to the others). Not found,
    the collection shifted by more than the overlap between the two requests; a page requested ahead may even have
    been served before the previous one. Requested again after it, the page sees every change the previous page saw,
    so changes that only move items to the front (additions, edits in a list read newest first) can no longer open
    a gap. Items removed faster than the overlap still can: that is logged, as nothing can be done here."""
    for _ in range(PAGE_REQUESTS_TO_JOIN):
        if previous_tail.intersection(strategy.page_keys(response)):
            return response
        again = fetch(offset)
        if not again:
            return again
        response = again
    if not previous_tail.intersection(strategy.page_keys(response)):
        logger.warning(
            f"Stream {strategy.stream_name}: the collection changed faster than it could be paged through (more than "
            f"{strategy.overlap} items moved between two pages, even requested again); items may have been "
            "skipped. The next full refresh reads them."
        )
    return response


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
            isinstance(strategy, OffsetPagesReadAhead)
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
