"""The CDK's per-record bookkeeping, made cheaper without changing any value it computes (cdk_fast_paths)."""

import json
import logging
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from queue import Queue

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStream,
    AirbyteStreamState,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.concurrent_source.concurrent_read_processor import ConcurrentReadProcessor
from airbyte_cdk.sources.concurrent_source.stream_thread_exception import StreamThreadException
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.concurrent.partition_reader import PartitionReader
from airbyte_cdk.sources.types import Record
from airbyte_cdk.sources.utils.slice_logger import DebugSliceLogger
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import StreamSlice

import cdk_fast_paths
from connector_common.json_body import json_loads

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


# ------------------------------------------------------------------------------------------- record batches


class ListedPartition:
    """A partition of `count` records; raises `error` after them when given one."""

    def __init__(self, count, error=None):
        self.count, self.error = count, error

    def read(self):
        for number in range(self.count):
            yield Record(data={"id": number}, stream_name="members", associated_slice=None)
        if self.error:
            raise self.error

    def stream_name(self):
        return "members"


class StateOnClose:
    """A cursor that, like the CDK's, emits its state onto the same queue when the partition closes."""

    def __init__(self, queue):
        self.queue, self.observed = queue, []

    def observe(self, record):
        self.observed.append(record.data["id"])

    def close_partition(self, partition):
        self.queue.put("STATE")


def drained(queue):
    items = []
    while not queue.empty():
        items.append(queue.get())
    return items


def test_a_partitions_records_reach_the_printing_thread_in_batches_before_its_state():
    queue = Queue()
    cursor = StateOnClose(queue)

    PartitionReader(queue).process_partition(ListedPartition(250), cursor)

    items = drained(queue)
    assert [type(item).__name__ for item in items] == ["RecordBatch"] * 3 + ["str", "PartitionCompleteSentinel"]
    assert [len(batch) for batch in items[:3]] == [100, 100, 50]
    assert [record.data["id"] for batch in items[:3] for record in batch] == list(range(250))
    assert items[3] == "STATE" and items[4].is_successful
    assert cursor.observed == list(range(250))


def test_records_read_before_a_partition_fails_are_queued_before_its_error():
    queue = Queue()

    PartitionReader(queue).process_partition(ListedPartition(30, error=RuntimeError("page 2 failed")), StateOnClose(queue))

    batch, error, sentinel = drained(queue)
    assert [record.data["id"] for record in batch] == list(range(30))
    assert isinstance(error, StreamThreadException) and str(error.exception) == "page 2 failed"
    assert not sentinel.is_successful


class Processor:
    """The parts of ConcurrentReadProcessor that record_messages uses; on_record is the CDK's own."""

    on_record = ConcurrentReadProcessor.on_record

    def __init__(self):
        stream = type("Stream", (), {"name": "members", "as_airbyte_stream": lambda self: AirbyteStream(
            name="members", json_schema={}, supported_sync_modes=[SyncMode.full_refresh])})()
        self._record_counter = {"members": 0}
        self._stream_name_to_instance = {"members": stream}
        self._message_repository = InMemoryMessageRepository()
        self._logger = logging.getLogger("test")


def test_a_batch_becomes_the_messages_the_cdk_makes_of_its_records_one_by_one(monkeypatch):
    monkeypatch.setattr(cdk_fast_paths, "OUTPUT_RECORD_LINES", False)
    records = [Record(data={"id": n, "email": f"{n}@example.com"}, stream_name="members", associated_slice=None)
               for n in range(3)]
    ours, theirs = Processor(), Processor()

    batched = list(cdk_fast_paths.record_messages(cdk_fast_paths.RecordBatch(records), ours))
    one_by_one = [message for record in records for message in theirs.on_record(record)]

    def comparable(message):
        serialized = AirbyteMessageSerializer.dump(message)
        serialized.get("record", {}).pop("emitted_at", None)
        serialized.get("trace", {}).pop("emitted_at", None)
        return serialized

    assert [comparable(m) for m in batched] == [comparable(m) for m in one_by_one]
    assert batched[0].type == Type.TRACE  # the stream's first record marks it RUNNING
    assert ours._record_counter == theirs._record_counter == {"members": 3}


def test_the_queue_to_the_printing_thread_holds_a_bounded_number_of_records():
    from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource

    source = ConcurrentSource.create(2, 1, logging.getLogger("test"), DebugSliceLogger(), InMemoryMessageRepository())

    assert source._queue.maxsize * cdk_fast_paths.RECORD_BATCH_SIZE <= 2_000


def printed(messages):
    """What the entrypoint prints for these messages, one JSON object per line, emitted_at left out."""
    objects = []
    for message in messages:
        for line in AirbyteEntrypoint.airbyte_message_to_string(message).split("\n"):
            parsed = json.loads(line)
            parsed.get("record", {}).pop("emitted_at", None)
            parsed.get("trace", {}).pop("emitted_at", None)
            objects.append(parsed)
    return objects


def test_with_record_lines_a_batch_prints_exactly_what_the_cdk_prints_record_by_record(monkeypatch):
    records = [Record(data={"id": n, "email": f"{n}@example.com", "vip": None, "tags": ["a"]}, stream_name="members",
                      associated_slice=None) for n in range(4)]
    theirs = Processor()
    one_by_one = [message for record in records for message in theirs.on_record(record)]
    monkeypatch.setattr(cdk_fast_paths, "OUTPUT_RECORD_LINES", True)
    ours = Processor()

    batched = list(cdk_fast_paths.record_messages(cdk_fast_paths.RecordBatch(records), ours))

    # the stream's first record goes through on_record (RUNNING, then the record); the other three are one item
    assert [type(m).__name__ for m in batched] == ["AirbyteMessage", "AirbyteMessage", "RecordLines"]
    assert batched[2].count == 3
    assert printed(batched) == printed(one_by_one)
    assert ours._record_counter == theirs._record_counter == {"members": 4}


def test_record_lines_count_toward_the_record_count_of_the_next_state_message():
    counts = defaultdict(float)
    state = AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(
        type=AirbyteStateType.STREAM,
        stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name="members"),
                                  stream_state=AirbyteStateBlob({"updated_at": "2024-01-01T00:00:00+00:00"}))))

    AirbyteEntrypoint.handle_record_counts(cdk_fast_paths.RecordLines("members", ["{}", "{}", "{}"]), counts)
    AirbyteEntrypoint.handle_record_counts(state, counts)

    assert state.state.sourceStats.recordCount == 3.0


@pytest.mark.parametrize("body", [b'{"members": [{"id": "a1", "stats": {"avg_open_rate": 0.25}}], "total_items": 1}',
                                  b'{"Results": [{"Name": "half an emoji \\ud83d"}]}', b'[]', b'"text"'])
def test_a_response_body_is_parsed_to_what_json_gives_even_where_orjson_refuses_it(body):
    assert json_loads(body) == json.loads(body)


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"members": [', b"", b"\xff\xfe"])
def test_a_body_that_is_not_json_raises_value_error(body):
    with pytest.raises(ValueError):
        json_loads(body)


_SERIALIZED_MESSAGES = """
import inspect, sys
calls = []
original_getsource = inspect.getsource
def counting_getsource(obj):
    calls.append(getattr(obj, "__qualname__", obj))
    return original_getsource(obj)
inspect.getsource = counting_getsource
if sys.argv[1] == "connector":
    from connector_common.speedups import switch_on_speedups  # before airbyte_cdk, as the console scripts do
    switch_on_speedups()
from airbyte_cdk.models import AirbyteMessageSerializer
message = {"type": "RECORD", "record": {"stream": "s", "data": {"a": 1, "b": None}, "emitted_at": 1}}
spec = {"type": "SPEC", "spec": {"connectionSpecification": {"type": "object"}, "documentationUrl": "https://x"}}
print(len(calls))
for each in (message, spec):
    print(AirbyteMessageSerializer.dump(AirbyteMessageSerializer.load(each)))
"""


def test_start_up_skips_reading_the_protocol_models_source_and_serializes_messages_as_the_cdk_does():
    def run(mode: str) -> list[str]:
        out = subprocess.run([sys.executable, "-c", _SERIALIZED_MESSAGES, mode], capture_output=True, text=True,
                             check=True, cwd=Path(__file__).resolve().parents[1])
        return out.stdout.splitlines()

    with_fast_start, plain_cdk = run("connector"), run("cdk")
    assert int(plain_cdk[0]) > 20, "the plain CDK reads its models' source at import (the cost this skips)"
    assert int(with_fast_start[0]) == 0
    assert with_fast_start[1:] == plain_cdk[1:]


# ------------------------------------------------------------------------------------------- cursor observation


def per_partition_cursor(datetime_format: str, stream_state: dict):
    """The CDK's own per-partition cursor of a declarative stream with three list partitions (no HTTP involved)."""
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    manifest = {
        "version": "6.0.0",
        "type": "DeclarativeSource",
        "check": {"type": "CheckStream", "stream_names": ["members"]},
        "streams": [{
            "type": "DeclarativeStream",
            "name": "members",
            "primary_key": "id",
            "schema_loader": {"type": "InlineSchemaLoader", "schema": {"type": "object"}},
            "retriever": {
                "type": "SimpleRetriever",
                "requester": {"type": "HttpRequester", "url_base": "http://127.0.0.1:9", "path": "/m"},
                "record_selector": {"type": "RecordSelector",
                                    "extractor": {"type": "DpathExtractor", "field_path": []}},
                "partition_router": {"type": "ListPartitionRouter", "values": ["a", "b", "c"],
                                     "cursor_field": "list_id"},
            },
            "incremental_sync": {
                "type": "DatetimeBasedCursor",
                "cursor_field": "changed",
                "datetime_format": datetime_format,
                "cursor_datetime_formats": [ISO_CURSOR_FORMAT, "%Y-%m-%dT%H:%M:%S.%f%z"],
                "start_datetime": {"type": "MinMaxDatetime", "datetime": "2000-01-01T00:00:00+0000",
                                   "datetime_format": ISO_CURSOR_FORMAT},
            },
        }],
    }
    state = [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name="members"), stream_state=AirbyteStateBlob(**stream_state)))]
    source = ConcurrentDeclarativeSource(source_config=manifest, config={}, catalog=None, state=state)
    (stream,) = source.streams(config={})
    slices = [partition.to_slice() for partition in stream.generate_partitions()]
    return stream.cursor, slices


CURSOR_VALUES = [
    "2024-03-01T10:00:00+00:00", "2024-03-01T09:00:00Z", "2024-03-02T00:00:00+0000", "2024-03-01T10:00:00+00:00",
    "2024-03-01T12:00:00+02:00",  # later as text, earlier as time: the CDK compares the global cursor as text
    "2024-03-01T10:30:00.250000+00:00", "not a date", None, 17, "1999-12-31T23:59:59+00:00", "2024-02-29T23:00:00Z",
]


@pytest.mark.parametrize("datetime_format", CURSOR_FORMATS)
@pytest.mark.parametrize("stream_state", [
    {},
    {"use_global_cursor": False, "state": {"changed": "2024-03-01T11:00:00+0000"},
     "states": [{"partition": {"list_id": "b"}, "cursor": {"changed": "2024-03-01T11:00:00+0000"}}]},
    {"use_global_cursor": False, "state": {"changed": "2024-03-01T11:00:00Z"}},  # a global cursor in another format
    {"use_global_cursor": True, "state": {"changed": "2024-03-01T11:00:00+0000"}},
], ids=["no state", "per partition", "global text in another format", "global cursor"])
def test_cursor_observation_leaves_the_cursor_exactly_as_the_cdks_observe_does(datetime_format, stream_state):
    import random

    fast, fast_slices = per_partition_cursor(datetime_format, stream_state)
    cdk, cdk_slices = per_partition_cursor(datetime_format, stream_state)
    cdk_observe = ConcurrentPerPartitionCursor.observe.cdk_observe
    draw = random.Random(7)
    for _ in range(400):
        value, index = draw.choice(CURSOR_VALUES), draw.randrange(3)
        data = {"id": 1} if value is None else {"id": 1, "changed": value}
        fast.observe(Record(data=data, stream_name="members", associated_slice=fast_slices[index]))
        cdk_observe(cdk, Record(data=data, stream_name="members", associated_slice=cdk_slices[index]))

        assert fast._new_global_cursor == cdk._new_global_cursor
        assert fast._synced_some_data == cdk._synced_some_data
        for key, partition_cursor in cdk._cursor_per_partition.items():
            mine = fast._cursor_per_partition[key]
            assert list(mine._most_recent_cursor_value_per_partition.values()) == list(
                partition_cursor._most_recent_cursor_value_per_partition.values())
            assert mine._is_ascending_order == partition_cursor._is_ascending_order
    assert fast.state == cdk.state


class GcDuringRead:
    """What the garbage collector looked like while a ConcurrentSource read its (empty) list of streams."""

    def __init__(self):
        import gc

        from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource

        from airbyte_cdk.models import AirbyteLogMessage, Level

        source = ConcurrentSource.create(2, 1, logging.getLogger("test"), DebugSliceLogger(), InMemoryMessageRepository())
        # one message for the read to yield, so that it can be looked at mid-read; with no stream it then ends
        source._queue.put(AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="reading")))
        self.before = (gc.get_threshold(), gc.get_freeze_count())
        reading = source.read([])
        assert next(reading).log.message == "reading"
        self.during = (gc.get_threshold(), gc.get_freeze_count())
        list(reading)
        self.after = (gc.get_threshold(), gc.get_freeze_count())


def test_a_command_line_read_freezes_the_heap_built_before_it_and_collects_young_objects_less_often(monkeypatch):
    monkeypatch.setattr(cdk_fast_paths, "FREEZE_HEAP_AT_READ", True)

    gc_state = GcDuringRead()

    (threshold, frozen) = gc_state.during
    assert frozen > 10_000  # the imported CDK alone holds far more tracked objects
    assert threshold[0] == cdk_fast_paths.GC_YOUNG_THRESHOLD and threshold[1:] == gc_state.before[0][1:]
    assert gc_state.after == gc_state.before  # unfrozen and restored: a long-lived process keeps collecting


def test_a_read_in_a_long_lived_process_leaves_the_garbage_collector_alone(monkeypatch):
    monkeypatch.setattr(cdk_fast_paths, "FREEZE_HEAP_AT_READ", False)

    gc_state = GcDuringRead()

    assert gc_state.during == gc_state.before == gc_state.after
