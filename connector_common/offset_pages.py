"""Offset pages that our packaged command may request ahead of the page being read (connector_common.pages_read_ahead).

On its own (Airbyte's stock runtime, the Connector Builder) this is a plain offset paginator counted in the page's
items: the CDK requests the pages one after the other.
"""

from dataclasses import dataclass
from typing import Any, Mapping, Optional

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
