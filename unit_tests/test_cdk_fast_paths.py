"""The CDK's per-record bookkeeping, made cheaper without changing any value it computes (cdk_fast_paths)."""

from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import StreamSlice

import cdk_fast_paths

cdk_fast_paths.install()

ISO_CURSOR_FORMAT = cdk_fast_paths.ISO_CURSOR_FORMAT
CURSOR_FORMATS = [ISO_CURSOR_FORMAT, "%Y-%m-%dT%H:%M:%S+00:00"]  # Campaign Monitor's, Mailchimp's


@pytest.mark.parametrize("moment", [
    datetime(2015, 10, 21, 15, 41, 36, tzinfo=timezone.utc),
    datetime(2015, 10, 21, 15, 41, 36, 250000, tzinfo=timezone.utc),
    datetime(2015, 10, 21, 15, 41, 36, tzinfo=timezone(timedelta(hours=2))),
    datetime(2015, 10, 21, 15, 41, 36),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
])
@pytest.mark.parametrize("cursor_format", CURSOR_FORMATS)
def test_cursor_formatting_gives_exactly_what_strftime_gives(moment, cursor_format):
    assert DatetimeParser().format(moment, cursor_format) == moment.strftime(cursor_format)


def test_cursor_formatting_of_other_formats_is_the_cdks():
    moment = datetime(2015, 10, 21, 15, 41, 36, tzinfo=timezone.utc)

    assert DatetimeParser().format(moment, "%Y-%m-%d") == "2015-10-21"
    assert DatetimeParser().format(moment, "%s") == str(int(moment.timestamp()))


def test_a_slice_is_hashed_once_and_to_the_cdks_value(monkeypatch):
    from airbyte_cdk.utils import slice_hasher

    calls = []
    compute = slice_hasher.SliceHasher.hash.__func__

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return compute(cls, *args, **kwargs)

    monkeypatch.setattr(slice_hasher.SliceHasher, "hash", classmethod(counting))
    stream_slice = StreamSlice(partition={"list_id": "L1", "parent_slice": {}}, cursor_slice={"start": "x"})
    twin = StreamSlice(partition={"list_id": "L1", "parent_slice": {}}, cursor_slice={"start": "x"})

    assert {hash(stream_slice) for _ in range(1000)} == {hash(twin)}
    assert len(calls) == 2
    assert {stream_slice: 1}[twin] == 1


def test_a_partition_key_is_serialized_once_per_partition_and_to_the_cdks_value():
    class Serializer:
        calls = 0

        def to_partition_key(self, partition):
            Serializer.calls += 1
            return repr(sorted(partition.items()))

    cursor = ConcurrentPerPartitionCursor.__new__(ConcurrentPerPartitionCursor)
    cursor._partition_serializer = Serializer()
    first, second = {"list_id": "L1"}, {"list_id": "L2"}

    keys = [cursor._to_partition_key(first) for _ in range(1000)] + [cursor._to_partition_key(second)]

    assert set(keys[:1000]) == {"[('list_id', 'L1')]"} and keys[-1] == "[('list_id', 'L2')]"
    assert Serializer.calls == 2


@pytest.mark.parametrize("value", [
    "2024-04-06T09:00:00+00:00", "2024-04-06T09:00:00+0000", "2024-04-06T09:00:00Z", "2024-04-06T20:00:00+11:00",
    "2024-04-06T09:00:00.5+00:00", "2024-04-06 09:00:00+00:00", "2024-04-06", "2024-04-06T09:00:00",
])
def test_cursor_parsing_reads_exactly_what_strptime_reads_and_rejects_what_it_rejects(value):
    try:
        expected = datetime.strptime(value, ISO_CURSOR_FORMAT)
    except ValueError:
        with pytest.raises(ValueError):
            DatetimeParser().parse(value, ISO_CURSOR_FORMAT)
        return
    parsed = DatetimeParser().parse(value, ISO_CURSOR_FORMAT)
    assert parsed == expected and parsed.utcoffset() == expected.utcoffset()


def test_per_partition_state_is_emitted_every_half_minute_not_every_ten_minutes(monkeypatch):
    cursor = ConcurrentPerPartitionCursor.__new__(ConcurrentPerPartitionCursor)
    cursor._last_emission_time = 1_000.0

    monkeypatch.setattr(cdk_fast_paths.time, "time", lambda: 1_000.0 + cdk_fast_paths.STATE_INTERVAL_SECONDS - 1)
    assert cursor._throttle_state_message() is None
    monkeypatch.setattr(cdk_fast_paths.time, "time", lambda: 1_000.0 + cdk_fast_paths.STATE_INTERVAL_SECONDS + 1)
    assert cursor._throttle_state_message() == 1_000.0 + cdk_fast_paths.STATE_INTERVAL_SECONDS + 1
    assert cdk_fast_paths.STATE_INTERVAL_SECONDS < 600
