"""Mailchimp's `offset`/`count` pages, requested ahead (connector_common.offset_pages)."""

from dataclasses import dataclass
from typing import Any, Mapping, Optional

import requests

from connector_common.offset_pages import OffsetPagesReadAhead
from connector_common.parsed_body import parsed_body

@dataclass
class MailchimpOffsetPages(OffsetPagesReadAhead):
    """Mailchimp's `offset`/`count` pages, requested ahead of the page being read once the first page has told
    `total_items` (see connector_common.pages_read_ahead).

    A page is counted in the items the API returned under the stream's data field, not in the records made of them:
    the email-activity endpoint pages by emails, each holding an `activity` list that becomes several records (or
    none). Counted in records, a page of emails holding more activity items than emails asked for too high an offset
    and skipped emails, and a page with little activity looked short and ended the paging.

    Why not YAML: OffsetIncrement counts records, and requests one page at a time."""

    data_field: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.data_field = self.data_field or parameters["data_field"]

    def _items(self, response: requests.Response) -> list[Any]:
        body = parsed_body(response)
        items = body.get(self.data_field) if isinstance(body, dict) else None
        return items if isinstance(items, list) else []

    def items_on_page(self, response: requests.Response) -> int:
        return len(self._items(response))

    def page_keys(self, response: requests.Response) -> list[Any]:
        return [item.get(self.dedupe_key) if isinstance(item, dict) else None for item in self._items(response)]

    def total_items(self, response: requests.Response) -> Optional[int]:
        body = parsed_body(response)
        total = body.get("total_items") if isinstance(body, dict) else None
        return total if isinstance(total, int) and not isinstance(total, bool) else None
