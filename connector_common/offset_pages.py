"""Offset pages of a collection that may change while it is read, and that our packaged command may request ahead of
the page being read (connector_common.pages_read_ahead).

On its own (Airbyte's stock runtime, the Connector Builder) the CDK requests the pages one after the other. With an
`overlap` (the stream's `$parameters.page_overlap`), each page starts that many items before the end of the previous
one, so that it holds one of the previous page's items: an item removed from the part already read shifts the rest
to earlier offsets, and without the overlap the item at the page boundary was skipped (and, unchanged, never read by
a later incremental sync). `PagesThatOverlap` (kept by the stream's record extractor, which sees each page before the
paginator) drops the items the previous page held and marks a page that holds none of them; the paginator then
requests the page before it again (at most `STEPS_BACK` times a partition), whose items may have moved there.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import parse_qsl, urlsplit

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies import OffsetIncrement
from airbyte_cdk.sources.types import Record, StreamSlice


@dataclass
class OffsetPagesReadAhead(OffsetIncrement):
    """Offset pages that may be requested ahead (see the module). Subclasses say how to count a page's items and
    where its total is; `overlap` and `dedupe_key` as in the module's docstring."""

    overlap: int = 0
    dedupe_key: Optional[str] = None
    pages_can_be_read_ahead = True  # what connector_common.pages_read_ahead looks for

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._parameters = parameters
        self.overlap = int(self.overlap or parameters.get("page_overlap") or 0)
        self.dedupe_key = self.dedupe_key or parameters.get("page_dedupe_key")
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
        """For the CDK's own loop: the pages one after the other, counted in the page's items, `overlap` items
        before the end of the previous page; the page before again when this one did not join it (see the module)."""
        items = self.items_on_page(response)
        page_size = page_size_override or self.fixed_page_size()
        if items == 0 or (page_size and items < page_size):
            return None
        offset = int(last_page_token_value or 0)
        if not self.overlap or (page_size and page_size <= self.overlap):
            return offset + items
        if getattr(response, PAGE_DOES_NOT_JOIN, False):
            # The first page again is offset "0": the CDK's paginator ends the paging on a token that is falsy.
            return max(offset - (items - self.overlap), 0) or "0"
        return offset + items - self.overlap


PAGE_DOES_NOT_JOIN = "_offset_page_does_not_join_the_previous_one"
# Pages a partition may request again because the one after them did not join them (see the module).
STEPS_BACK = 10
logger = logging.getLogger("airbyte")


def page_request(response: requests.Response) -> tuple[int, Optional[int], str]:
    """The page's offset and size, and what identifies the partition's paging: its URL without them."""
    request = getattr(response, "request", None)
    parts = urlsplit(getattr(request, "url", None) or getattr(response, "url", "") or "")
    query = parse_qsl(parts.query, keep_blank_values=True)
    offset = next((value for name, value in query if name == "offset"), "0")
    count = next((value for name, value in query if name == "count"), "")
    paging = parts.path + "?" + "&".join(sorted(f"{n}={v}" for n, v in query if n not in ("offset", "count")))
    return (int(offset) if offset.isdigit() else 0), (int(count) if count.isdigit() else None), paging


class PagesThatOverlap:
    """The items of the last page read of each partition of one stream, to drop them from the next page and to
    see whether the next page joins it (holds one of them). See the module."""

    def __init__(self, stream_name: str, dedupe_key: str, overlap: int) -> None:
        self.stream_name, self.dedupe_key, self.overlap = stream_name, dedupe_key, overlap
        self._lock = threading.Lock()
        self._last_pages: dict[str, tuple[int, set[Any], int]] = {}  # paging -> (next offset, keys, steps back left)

    def new_items(self, response: requests.Response, items: Iterable[Any]) -> list[Any]:
        """The page's items without those the previous page held; marks the page when it holds none of them."""
        items = list(items)
        keys = [item.get(self.dedupe_key) if isinstance(item, Mapping) else None for item in items]
        offset, page_size, paging = page_request(response)
        with self._lock:
            expected, previous, steps_back = self._last_pages.get(paging, (None, set(), STEPS_BACK))
        fresh = items
        if offset == expected and previous:
            if items and previous.isdisjoint(keys):
                if steps_back > 0:
                    setattr(response, PAGE_DOES_NOT_JOIN, True)
                    steps_back -= 1
                else:
                    logger.warning(
                        f"Stream {self.stream_name}: the collection changed faster than it could be paged through "
                        f"(more than {self.overlap} items moved between two pages); items may have been skipped. "
                        "The next full refresh reads them."
                    )
            fresh = [item for item, key in zip(items, keys) if key not in previous]
        with self._lock:
            if page_size is not None and len(items) < page_size:  # the last page
                self._last_pages.pop(paging, None)
            else:
                self._last_pages[paging] = (offset + len(items) - self.overlap, set(keys), steps_back)
        return fresh
