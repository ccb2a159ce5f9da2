"""What each stream asks the API for: path, parameters, authentication, paging."""

import base64
from urllib.parse import parse_qs, urlsplit

from unit_tests.mailchimp.helpers import (
    API,
    API_KEY,
    SANDBOX,
    SANDBOX_API,
    TOKEN,
    apikey_config,
    catalog,
    invoke,
    state_message,
    oauth_config,
    page,
    per_partition_state,
)


def query(request):
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def requests_to(api, path_suffix):
    return [r for r in api.request_history if urlsplit(r.url).path.endswith(path_suffix)]


def member(member_id, last_changed, status="subscribed", list_id="L1"):
    return {"id": member_id, "list_id": list_id, "email_address": f"{member_id}@example.com", "status": status,
            "last_changed": last_changed}


def test_api_key_requests_go_to_the_keys_data_center_with_basic_auth(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1", "name": "Newsletter"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.records("lists") == [{"id": "L1", "name": "Newsletter"}]
    (request,) = api.request_history
    assert request.url.startswith("https://us6.api.mailchimp.com/3.0/lists?")
    user_and_key = base64.b64decode(request.headers["Authorization"].split(" ", 1)[1]).decode()
    assert user_and_key.endswith(":" + API_KEY)
    assert query(request) == {"count": "1000", "exclude_fields": "lists._links,_links"}


def test_oauth_requests_use_the_bearer_token_and_the_data_center_from_the_metadata_endpoint(api, capsys, tmp_path):
    api.get("https://login.mailchimp.com/oauth2/metadata", json={"dc": "us19", "api_endpoint": "https://us19.api.mailchimp.com"})
    api.get("https://us19.api.mailchimp.com/3.0/lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "read", oauth_config(), catalog(["lists"]))

    assert out.exit_code == 0, out.text
    metadata, lists = api.request_history
    assert metadata.headers["Authorization"] == f"OAuth {TOKEN}"
    assert lists.headers["Authorization"] == f"Bearer {TOKEN}"


def test_sandbox_url_serves_both_the_api_and_the_login_endpoints(api, capsys, tmp_path):
    api.get(SANDBOX + "/oauth2/metadata", json={"dc": "us6"})
    api.get(SANDBOX_API + "lists", json=page("lists", []))

    out = invoke(capsys, tmp_path, "read", oauth_config(sandbox_url=SANDBOX), catalog(["lists"]))

    assert out.exit_code == 0, out.text
    assert [urlsplit(r.url).netloc for r in api.request_history] == ["127.0.0.1:8999", "127.0.0.1:8999"]


def test_paging_continues_on_a_full_page_and_stops_on_a_short_page_whatever_total_items_says(api, capsys, tmp_path):
    first = [{"id": f"C{i}", "create_time": "2024-01-01T00:00:00+00:00"} for i in range(1000)]
    second = [{"id": "C1000", "create_time": "2024-01-02T00:00:00+00:00"}]
    # total_items undercounts: paging must not stop on it
    api.get(API + "campaigns", [{"json": page("campaigns", first, total=1000)}, {"json": page("campaigns", second, total=1000)}])

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["campaigns"]))

    assert len(out.records("campaigns")) == 1001
    offsets = [query(r).get("offset") for r in api.request_history]
    assert offsets == [None, "1000"]
    assert all(query(r)["sort_field"] == "create_time" and query(r)["sort_dir"] == "ASC" for r in api.request_history)


def test_list_members_reads_every_list_sorted_by_last_changed_with_archived_members_asked_for_separately(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}, {"id": "L2"}]))
    for list_id in ("L1", "L2"):
        api.get(
            API + f"lists/{list_id}/members",
            json=page("members", [member(f"{list_id}-a", "2024-02-01T10:00:00+00:00", list_id=list_id)]),
        )
    api.get(
        API + "lists/L1/members?status=archived",
        json=page("members", [member("L1-z", "2024-02-03T10:00:00+00:00", status="archived")]),
    )

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"], incremental=True))

    assert sorted(r["id"] for r in out.records("list_members")) == ["L1-a", "L1-z", "L2-a"]
    member_requests = requests_to(api, "/members")
    assert len(member_requests) == 4
    for request in member_requests:
        params = query(request)
        assert params["sort_field"] == "last_changed" and params["sort_dir"] == "DESC"  # newest first: see manifest
        assert params["since_last_changed"] == "1970-01-01T00:00:00+00:00"
        assert params["exclude_fields"] == "members._links"
    assert sorted(query(r).get("status", "") for r in member_requests) == ["", "", "archived", "archived"]
    # the lists are only listed by id to make partitions
    assert query(requests_to(api, "/lists")[0])["fields"] == "lists.id,total_items"


def test_list_members_partition_without_status_never_emits_an_archived_member_twice(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    archived = member("gone", "2024-02-03T10:00:00+00:00", status="archived")
    # whether or not the default listing includes archived members, each member is emitted once
    api.get(API + "lists/L1/members", json=page("members", [member("a", "2024-02-01T10:00:00+00:00"), archived]))
    api.get(API + "lists/L1/members?status=archived", json=page("members", [archived]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"]))

    assert sorted(r["id"] for r in out.records("list_members")) == ["a", "gone"]


def test_list_members_incremental_sync_requests_only_changed_members(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/members", json=page("members", [member("new", "2024-03-01T00:00:00+00:00")]))
    api.get(API + "lists/L1/members?status=archived", json=page("members", []))
    state = per_partition_state(
        "list_members", "last_changed",
        {("L1", "all_but_archived"): "2024-02-01T10:00:00+00:00", ("L1", "archived"): "2024-01-05T00:00:00+00:00"},
        keys=("list_id", "member_status"),
    )

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"], incremental=True), [state])

    since = {query(r).get("status", "all"): query(r)["since_last_changed"] for r in requests_to(api, "/members")}
    # since_last_changed is exclusive: each partition reads again from 15 minutes (the default lookback) before its
    # saved cursor, so that a change in the cursor's own second, or one that became visible late, is not skipped.
    assert since == {"all": "2024-02-01T09:45:00+00:00", "archived": "2024-01-04T23:45:00+00:00"}
    final = out.final_state("list_members")
    cursors = {s["partition"]["member_status"]: s["cursor"]["last_changed"] for s in final["states"]}
    assert cursors == {"all_but_archived": "2024-03-01T00:00:00+00:00", "archived": "2024-01-05T00:00:00+00:00"}


def test_every_incremental_stream_reads_again_from_its_saved_cursor_minus_the_configured_lookback(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/segments", json=page("segments", []))
    api.get(API + "campaigns", json=page("campaigns", []))
    api.get(API + "automations", json=page("automations", []))
    saved = "2024-02-01T10:00:00+00:00"
    state = [
        state_message("campaigns", {"create_time": saved}),
        state_message("automations", {"create_time": saved}),
        per_partition_state("list_segments", "updated_at", {("L1",): saved}, keys=("list_id",)),
    ]

    invoke(capsys, tmp_path, "read", apikey_config(lookback_window_minutes=60),
           catalog(["campaigns", "automations", "list_segments"], incremental=True), state)

    since = {urlsplit(r.url).path.rsplit("/", 1)[-1]: {k: v for k, v in query(r).items() if k.startswith("since_")}
             for r in api.request_history if "fields" not in query(r)}
    assert since == {"campaigns": {"since_create_time": "2024-02-01T09:00:00+00:00"},
                     "automations": {"since_create_time": "2024-02-01T09:00:00+00:00"},
                     "segments": {"since_updated_at": "2024-02-01T09:00:00+00:00"}}


def test_a_list_created_after_the_last_sync_is_read_from_the_start_not_from_the_other_lists_cursor(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}, {"id": "NEW"}]))
    api.get(API + "lists/L1/members", json=page("members", []))
    api.get(API + "lists/NEW/members", json=page("members", [member("m", "2023-06-01T00:00:00+00:00", list_id="NEW")]))
    state = per_partition_state("list_members", "last_changed", {("L1", "all_but_archived"): "2024-02-01T10:00:00+00:00"},
                                keys=("list_id", "member_status"))
    state["stream"]["stream_state"]["state"] = {"last_changed": "2024-02-01T10:00:00+00:00"}
    state["stream"]["stream_state"]["lookback_window"] = 3

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_members"], incremental=True), [state])

    new_list_since = {query(r)["since_last_changed"] for r in requests_to(api, "/lists/NEW/members")}
    assert new_list_since == {"1970-01-01T00:00:00+00:00"}
    assert [r["id"] for r in out.records("list_members")] == ["m"]


def test_start_date_filters_members_and_activity_but_never_their_parents(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/members", json=page("members", []))
    api.get(API + "lists/L1/segments", json=page("segments", []))
    api.get(API + "campaigns", json=page("campaigns", []))
    config = apikey_config(start_date="2024-01-15")

    invoke(capsys, tmp_path, "read", config, catalog(["lists", "list_members", "list_segments", "campaigns"], incremental=True))

    assert {query(r)["since_last_changed"] for r in requests_to(api, "/members")} == {"2024-01-14T23:59:59+00:00"}
    assert query(requests_to(api, "/segments")[0])["since_updated_at"] == "1970-01-01T00:00:00+00:00"
    assert query(requests_to(api, "/campaigns")[0])["since_create_time"] == "1970-01-01T00:00:00+00:00"
    assert all("since" not in "".join(query(r)) for r in requests_to(api, "/3.0/lists"))


def test_segment_members_carry_their_segment_and_list_ids(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/segments", json=page("segments", [{"id": 11, "list_id": "L1"}, {"id": 12, "list_id": "L1"}]))
    for segment in (11, 12):
        api.get(API + f"lists/L1/segments/{segment}/members", json=page("members", [{"id": "same-member", "email_address": "a@b.c"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["list_segment_members"]))

    records = sorted(out.records("list_segment_members"), key=lambda r: r["segment_id"])
    assert [(r["id"], r["segment_id"], r["list_id"]) for r in records] == [("same-member", 11, "L1"), ("same-member", 12, "L1")]
    assert query(requests_to(api, "/segments")[0])["fields"] == "segments.id,segments.list_id,total_items"


def test_tags_interests_and_their_categories_are_read_per_list(api, capsys, tmp_path):
    api.get(API + "lists", json=page("lists", [{"id": "L1"}]))
    api.get(API + "lists/L1/tag-search", json=page("tags", [{"id": 7, "name": "VIP"}]))
    api.get(API + "lists/L1/interest-categories", json=page("categories", [{"id": "c1", "list_id": "L1", "title": "Topics"}]))
    api.get(API + "lists/L1/interest-categories/c1/interests",
            json=page("interests", [{"id": "i1", "list_id": "L1", "category_id": "c1", "name": "Food"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["tags", "interest_categories", "interests"]))

    assert out.records("tags") == [{"id": 7, "name": "VIP", "list_id": "L1"}]
    assert [r["id"] for r in out.records("interest_categories")] == ["c1"]
    assert [r["id"] for r in out.records("interests")] == ["i1"]


def test_automations_and_reports_are_top_level_listings(api, capsys, tmp_path):
    api.get(API + "automations", json=page("automations", [{"id": "A1", "create_time": "2024-01-01T00:00:00+00:00"}]))
    api.get(API + "reports", json=page("reports", [{"id": "C1", "send_time": "2024-01-01T00:00:00+00:00"}]))

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["automations", "reports"], incremental=True))

    assert [r["id"] for r in out.records("automations")] == ["A1"]
    assert [r["id"] for r in out.records("reports")] == ["C1"]
    assert query(requests_to(api, "/automations")[0])["since_create_time"] == "1970-01-01T00:00:00+00:00"
    assert out.final_state("automations") == {"create_time": "2024-01-01T00:00:00+00:00"}


def test_a_page_with_a_broken_emoji_escape_is_read_not_retried_as_undecodable(api, capsys, tmp_path):
    # A lone surrogate escape (half an emoji, as some web forms truncate it) is valid JSON that orjson refuses.
    body = '{"lists": [{"id": "L1", "name": "Newsletter \\ud83d"}], "total_items": 1}'
    api.get(API + "lists", text=body)

    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["lists"]))

    assert out.exit_code == 0 and len(api.request_history) == 1
    assert out.records("lists") == [{"id": "L1", "name": "Newsletter \ud83d"}]
