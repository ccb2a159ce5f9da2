"""Dates the API leaves "" come out as null, through the `source-mailchimp` command and through the CDK's own read of
the manifest; every other value comes out as the API sent it."""

from __future__ import annotations

import json
import logging

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, Type

from source_mailchimp.run import SourceMailchimp
from unit_tests.mailchimp.helpers import API, apikey_config, catalog, invoke, page

DRAFT = {"id": "c1", "type": "regular", "status": "save", "create_time": "2025-01-02T03:04:05+00:00",
         "send_time": "", "settings": {"title": "", "folder_id": ""},
         "ab_split_opts": {"send_time_a": "", "send_time_b": "2025-02-01T10:00:00+00:00", "subject_a": ""}}
REPORT = {"id": "c2", "send_time": "2025-01-03T00:00:00+00:00", "rss_last_send": "",
          "opens": {"opens_total": 0, "last_open": ""}, "clicks": {"clicks_total": 1, "last_click": "2025-01-04T00:00:00+00:00"},
          "timewarp": [{"gmt_offset": 1, "last_open": "", "last_click": ""}],
          "timeseries": [{"timestamp": "2025-01-03T00:00:00+00:00", "emails_sent": 5}]}
EXPECTED_DRAFT = {**DRAFT, "send_time": None,
                  "ab_split_opts": {"send_time_a": None, "send_time_b": "2025-02-01T10:00:00+00:00", "subject_a": ""}}
EXPECTED_REPORT = {**REPORT, "rss_last_send": None, "opens": {"opens_total": 0, "last_open": None},
                   "timewarp": [{"gmt_offset": 1, "last_open": None, "last_click": None}]}


def mock(api):
    api.get(API + "campaigns", json=page("campaigns", [DRAFT]))
    api.get(API + "reports", json=page("reports", [REPORT]))


def without_nulls(record):
    # The CDK's serializer leaves out top-level nulls; absent and null are the same to a destination.
    return {k: v for k, v in record.items() if v is not None}


def test_the_command_emits_null_for_empty_dates_at_any_depth(api, capsys, tmp_path):
    mock(api)
    out = invoke(capsys, tmp_path, "read", apikey_config(), catalog(["campaigns", "reports"]))

    assert out.exit_code == 0, out.text
    assert out.records("campaigns") == [without_nulls(EXPECTED_DRAFT)]
    assert out.records("reports") == [without_nulls(EXPECTED_REPORT)]


def test_the_cdks_own_read_of_the_manifest_emits_null_for_empty_dates_too(api):
    mock(api)
    source = SourceMailchimp(config=apikey_config())
    configured = ConfiguredAirbyteCatalogSerializer.load(catalog(["campaigns", "reports"]))
    records = {}
    for message in source.read(logging.getLogger("airbyte"), source._config, configured, None):
        text = getattr(message, "text", None)  # a batch of printed lines, when the command's fast paths are on
        if text is not None:
            for line in text.split("\n"):
                record = json.loads(line)["record"]
                records.setdefault(record["stream"], []).append(without_nulls(record["data"]))
        elif message.type == Type.RECORD:
            records.setdefault(message.record.stream, []).append(without_nulls(message.record.data))

    assert records == {"campaigns": [without_nulls(EXPECTED_DRAFT)], "reports": [without_nulls(EXPECTED_REPORT)]}
