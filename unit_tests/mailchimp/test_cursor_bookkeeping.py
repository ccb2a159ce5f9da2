"""The per-record cursor bookkeeping of the CDK, made cheaper without changing any value it computes."""

from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import StreamSlice

import source_mailchimp.components  # noqa: F401  (installs the fast paths)

FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"


@pytest.mark.parametrize("moment", [
    datetime(2015, 10, 21, 15, 41, 36, tzinfo=timezone.utc),
    datetime(2015, 10, 21, 15, 41, 36, 250000, tzinfo=timezone.utc),
    datetime(2015, 10, 21, 15, 41, 36, tzinfo=timezone(timedelta(hours=2))),
    datetime(2015, 10, 21, 15, 41, 36),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
])
def test_cursor_formatting_gives_exactly_what_strftime_gives(moment):
    assert DatetimeParser().format(moment, FORMAT) == moment.strftime(FORMAT)


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
