"""EmptyDatesToNull: "" becomes null at the schema's dates, at any depth, and nothing else changes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from connector_common import empty_dates_to_null
from connector_common.empty_dates_to_null import EmptyDatesToNull, compile_date_paths

DATE = {"type": ["null", "string"], "format": "date-time"}
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "title": {"type": ["null", "string"]},
        "send_time": DATE,
        "birthday": {"type": ["null", "string"], "format": "date"},
        "opens": {"type": ["null", "object"], "properties": {"last_open": DATE, "opens_total": {"type": "integer"}}},
        "settings": {"type": ["null", "object"], "properties": {"title": {"type": ["null", "string"]}}},
        "timewarp": {"type": ["null", "array"], "items": {"type": ["null", "object"], "properties": {
            "last_click": DATE, "gmt_offset": {"type": ["null", "integer"]}}}},
        "send_times": {"type": ["null", "array"], "items": DATE},
        "merge_fields": {"type": ["null", "object"], "additionalProperties": True},
    },
}


def normalized(record, schema=SCHEMA):
    record = dict(record)
    EmptyDatesToNull().transform(record, schema)
    return record


def test_the_plan_holds_only_the_branches_with_a_date():
    plan = compile_date_paths(SCHEMA)
    assert [entry[0] for entry in plan] == ["send_time", "birthday", "opens", "timewarp", "send_times"]


def test_empty_dates_become_null_at_the_top_in_nested_objects_and_in_arrays():
    record = {"id": "c1", "title": "", "send_time": "", "birthday": "", "opens": {"last_open": "", "opens_total": 0},
              "settings": {"title": ""}, "timewarp": [{"last_click": "", "gmt_offset": 2}, {"last_click": "x"}],
              "send_times": ["", "2025-01-01T00:00:00+00:00"], "merge_fields": {"BIRTHDAY": ""}}

    assert normalized(record) == {
        "id": "c1", "title": "", "send_time": None, "birthday": None, "opens": {"last_open": None, "opens_total": 0},
        "settings": {"title": ""}, "timewarp": [{"last_click": None, "gmt_offset": 2}, {"last_click": "x"}],
        "send_times": [None, "2025-01-01T00:00:00+00:00"], "merge_fields": {"BIRTHDAY": ""},
    }


def test_real_dates_and_anything_else_are_left_as_they_are():
    record = {"send_time": "2025-06-30T12:00:00+00:00", "opens": {"last_open": "2025-06-30T12:00:01+00:00"},
              "timewarp": [], "send_times": None, "birthday": None, "other": ""}
    assert normalized(record) == record


def test_nested_objects_of_the_parsed_page_are_copied_rather_than_changed():
    page = {"opens": {"last_open": ""}, "timewarp": [{"last_click": ""}], "settings": {"title": ""}}
    before = copy.deepcopy(page)
    record = dict(page)  # what the CDK's selector hands over: its own top-level copy

    EmptyDatesToNull().transform(record, SCHEMA)

    assert page == before
    assert record["opens"] == {"last_open": None} and record["timewarp"] == [{"last_click": None}]
    assert record["settings"] is page["settings"]  # nothing to change: not copied


def test_the_schema_is_compiled_once_not_per_record(monkeypatch):
    calls = []
    compile_once = empty_dates_to_null.compile_date_paths
    def counted(schema):
        calls.extend([1] if "id" in schema.get("properties", {}) else [])  # the whole schema, not its branches
        return compile_once(schema)

    monkeypatch.setattr(empty_dates_to_null, "compile_date_paths", counted)
    normalization = EmptyDatesToNull()
    for _ in range(1000):
        normalization.transform({"send_time": ""}, SCHEMA)
    assert calls == [1]
    other = copy.deepcopy(SCHEMA)
    normalization.transform({"send_time": ""}, other)
    assert calls == [1, 1]


def test_a_schema_without_dates_leaves_records_alone():
    assert compile_date_paths({"type": "object", "properties": {"name": {"type": "string"}}}) == ()
    assert normalized({"name": ""}, {"type": "object", "properties": {"name": {"type": "string"}}}) == {"name": ""}


MAILCHIMP_SCHEMAS = sorted((Path(__file__).resolve().parent.parent / "source_mailchimp" / "schemas").glob("*.json"))


@pytest.mark.parametrize("path", MAILCHIMP_SCHEMAS, ids=lambda path: path.stem)
def test_every_date_of_the_mailchimp_schemas_is_a_nullable_timestamp_with_time_zone(path):
    """A date is declared as the project's schemas declare them: date-time, timestamp_with_timezone, nullable unless
    it is a required key or cursor."""
    schema = json.loads(path.read_text())

    def dates(node, where):
        for name, child in (node.get("properties") or {}).items():
            if child.get("format") in ("date-time", "date"):
                yield f"{where}{name}", child
            yield from dates(child, f"{where}{name}.")
            if isinstance(child.get("items"), dict):
                yield from dates(child["items"], f"{where}{name}[].")

    for where, node in dates(schema, ""):
        assert node["format"] == "date-time" and node["airbyte_type"] == "timestamp_with_timezone", where
        assert "null" in node["type"] or where in schema.get("required", []), where
