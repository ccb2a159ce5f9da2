"""Memory: the process caps glibc's malloc arenas before its worker threads start, and pages keep their parsed body
but not their bytes (peak RSS stays flat with scale)."""

import ctypes
import platform

import pytest

from connector_common.malloc import tune_malloc
from source_mailchimp.parts.errors import ParsedPageResponse
from unit_tests.mailchimp.helpers import API, apikey_config, catalog, invoke, page


def test_without_glibc_the_cap_is_skipped_and_the_connector_still_runs(monkeypatch, capsys, tmp_path):
    def no_libc(name):
        raise OSError("not glibc")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)

    assert tune_malloc() is False
    out = invoke(capsys, tmp_path, "spec")
    assert out.exit_code == 0 and out.of_type("SPEC")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_the_cap_is_applied_on_this_glibc():
    assert tune_malloc() is True


def test_a_read_of_large_member_pages_never_needs_the_bytes_it_let_go_of(api, capsys, tmp_path, monkeypatch):
    members = [{"id": f"m{n:04}", "list_id": "L1", "email_address": f"m{n}@example.com", "status": "subscribed",
                "last_changed": f"2024-01-01T00:00:{n % 60:02}+00:00"} for n in range(2500)]

    def members_page(request, context):
        offset, count = int(request.qs.get("offset", ["0"])[0]), int(request.qs["count"][0])
        return page("members", members[offset:offset + count] if "status" not in request.qs else [], total=len(members))

    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/members", json=members_page)
    let_go, serialized_again = [], []
    original = ParsedPageResponse.let_go_of_the_bytes
    monkeypatch.setattr(ParsedPageResponse, "let_go_of_the_bytes", lambda response: let_go.append(original(response)))
    monkeypatch.setattr(ParsedPageResponse, "content", property(lambda self: serialized_again.append(self.url)))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"]))

    assert out.exit_code == 0, out.text
    assert sorted(r["id"] for r in out.records("list_members")) == [m["id"] for m in members]
    assert len(let_go) == len(api.request_history) > 4  # the lists, 3 pages of members (overlapping), the archived
    assert serialized_again == []
