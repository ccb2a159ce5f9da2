"""Offset pages that overlap, read by the CDK's own loop (connector_common.offset_pages): the items the previous page
held are dropped, and a page that holds none of them makes the paginator read the page before it again."""

from typing import Any, Optional

import requests

from connector_common.offset_pages import PAGE_DOES_NOT_JOIN, OffsetPagesReadAhead, PagesThatOverlap


class Page(requests.Response):
    def __init__(self, offset: int, ids: list[str], count: int = 5, path: str = "/3.0/lists/l1/members") -> None:
        super().__init__()
        self.ids = ids
        self.request = requests.Request("GET", f"http://sandbox{path}?count={count}&offset={offset}&status=x").prepare()


class IdPages(OffsetPagesReadAhead):
    def items_on_page(self, response: Any) -> int:
        return len(response.ids)

    def total_items(self, response: Any) -> Optional[int]:
        return None

    def page_keys(self, response: Any) -> list[Any]:
        return list(response.ids)


def paginator(overlap: int = 2) -> IdPages:
    return IdPages(config={}, page_size=5, parameters={"name": "list_members"}, overlap=overlap, dedupe_key="id")


def read(pages: PagesThatOverlap, page: Page) -> list[str]:
    return [item["id"] for item in pages.new_items(page, [{"id": i} for i in page.ids])]


def test_the_next_page_starts_overlap_items_before_the_end_of_the_last_one():
    assert paginator().next_page_token(Page(0, list("abcde")), 5, None, None) == 3
    assert paginator().next_page_token(Page(3, list("defgh")), 5, None, 3) == 6
    assert paginator(overlap=0).next_page_token(Page(0, list("abcde")), 5, None, None) == 5


def test_a_short_page_is_the_last():
    assert paginator().next_page_token(Page(3, list("de")), 2, None, 3) is None


def test_items_the_previous_page_held_are_dropped_from_the_next_one():
    pages = PagesThatOverlap("list_members", "id", overlap=2)
    assert read(pages, Page(0, list("abcde"))) == list("abcde")
    page = Page(3, list("defgh"))
    assert read(pages, page) == list("fgh")
    assert not getattr(page, PAGE_DOES_NOT_JOIN, False)


def test_a_page_after_removals_larger_than_the_overlap_is_marked_and_the_page_before_it_read_again():
    pages = PagesThatOverlap("list_members", "id", overlap=2)
    read(pages, Page(0, list("abcde")))
    # a, b and c were removed after the first page was served: everything moved three places up.
    shifted = Page(3, list("ghijk"))
    assert read(pages, shifted) == list("ghijk")
    assert getattr(shifted, PAGE_DOES_NOT_JOIN) is True
    token = paginator().next_page_token(shifted, 5, None, 3)
    assert token == "0"  # the first page again (a falsy 0 would end the CDK's paging)
    assert read(pages, Page(0, list("defgh"))) == list("defgh")  # f, the item skipped, is read
    assert read(pages, Page(3, list("ghijk"))) == list("ijk")


def test_partitions_are_paged_apart():
    pages = PagesThatOverlap("list_members", "id", overlap=2)
    read(pages, Page(0, list("abcde"), path="/3.0/lists/l1/members"))
    assert read(pages, Page(3, list("vwxyz"), path="/3.0/lists/l2/members")) == list("vwxyz")


def test_after_the_steps_back_allowed_a_page_that_does_not_join_is_taken_with_a_warning(caplog):
    pages = PagesThatOverlap("list_members", "id", overlap=2)
    for attempt in range(12):
        read(pages, Page(0, [f"{attempt}{c}" for c in "abcde"]))
        page = Page(3, [f"{attempt}{c}" for c in "vwxyz"])
        read(pages, page)
        marked = getattr(page, PAGE_DOES_NOT_JOIN, False)
    assert not marked
    assert "changed faster than it could be paged through" in caplog.text
