"""Fast paths through the CDK's per-record bookkeeping, shared by both connectors.

Most of either connector's CPU goes not to our components but to work the CDK repeats for every record: parsing
and formatting the cursor value with strptime/strftime (twice per record in the per-partition cursor's observe),
hashing the record's slice by JSON-encoding it, computing the partition key with json.dumps, a typing.Mapping
isinstance check, and serializing the message through serpyco; and handing every record, one at a time, from the
worker threads through a queue and a chain of generators to the thread that prints. None of these is a component a
manifest can replace, so `install()` wraps them in place, for the pinned airbyte-cdk (7.39.1). Each wrapper takes its
fast path only for inputs whose result it can compute exactly as the CDK does (unit-tested against the CDK's own
functions) and hands anything else to the original; records travel in batches (RecordBatch, RecordLines) in the order
the CDK would print them.

At start-up, it spares the CDK's import the reading of its protocol models' source (see
_skip_protocol_docstring_parsing), the first thing `install()` does. Importing this module changes nothing; the
packaged commands install it (connector_common.speedups), Airbyte's stock runtime never does.

It also lets the per-partition cursor checkpoint more often: the CDK emits its state at most once every 600 s, so a
sync killed after nine minutes would resume from its start. Our states hold one entry per list or campaign: small
enough to emit every `STATE_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import collections.abc
import gc
import json
import re
import time
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

import orjson


def _skip_protocol_docstring_parsing() -> None:
    """Start-up: the CDK builds its protocol serializers when `airbyte_cdk` is imported, and serpyco reads every
    model's attribute docstrings for them (inspect.getsource and ast.parse per class), a cost every command pays. The
    docstrings only become descriptions in serpyco's JSON schema, which the CDK never asks for (dumping and loading
    do not read them), so the lookup answers "no docstrings". It helps only before the first import of airbyte_cdk:
    the console scripts install the fast paths first (connector_common.launch)."""
    try:
        from serpyco_rs import _describe
        from serpyco_rs._json_schema import _convert
    except ImportError:  # another serpyco_rs layout: keep its own lookup
        return
    if hasattr(_describe, "get_attributes_doc") and hasattr(_convert, "get_attributes_doc"):
        _describe.get_attributes_doc = _convert.get_attributes_doc = _no_attribute_docs


def _no_attribute_docs(cls: type) -> dict[str, str]:
    return {}


STATE_INTERVAL_SECONDS = 30
# Records a worker thread hands to the printing thread at once, and items the queue between them holds (see
# RecordBatch): a short queue bounds the records waiting to be printed, hence peak RSS (docs/benchmarks.md).
RECORD_BATCH_SIZE = 100
QUEUE_SIZE = 10
# Set by the connectors' command line (run.py) through use_command_line_paths().
OUTPUT_RECORD_LINES = False  # records reach the entrypoint as RecordLines (see record_messages)
FREEZE_HEAP_AT_READ = False  # see _install_heap_freeze
# Container allocations between two young-generation collections during a read (CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000

ISO_CURSOR_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}|[+-]\d{4})$")
# Cursor formats whose UTC rendering is the date and time followed by a fixed suffix.
_UTC_SUFFIX = {ISO_CURSOR_FORMAT: "+0000", "%Y-%m-%dT%H:%M:%S+00:00": "+00:00"}
_ZERO = timedelta(0)
# The offsets of a record's cursor value that the observe fast path takes: UTC, whose output text orders as time does.
_UTC_OFFSETS = frozenset({"Z", "+00:00", "+0000"})
_installed = False


def install() -> None:
    """Installs every fast path, once per process."""
    global _installed
    if _installed:
        return
    _skip_protocol_docstring_parsing()
    _install_cursor_parsing()
    _install_cursor_formatting()
    _install_slice_keys()
    _install_cursor_observation()
    _install_mapping_check()
    _install_record_output()
    _install_state_interval()
    _install_record_batches()
    _install_heap_freeze()
    _installed = True


def use_command_line_paths() -> None:
    """What only a process that runs one command and exits may do, turned on by the connectors' run.py: records
    printed as RecordLines, and the heap built before the read frozen (callers of the source's `read` in a
    long-lived process, such as the tests, keep the CDK's behaviour)."""
    global OUTPUT_RECORD_LINES, FREEZE_HEAP_AT_READ
    OUTPUT_RECORD_LINES = FREEZE_HEAP_AT_READ = True


def _install_cursor_parsing() -> None:
    """strptime on every record's cursor is costly; for the ISO form, fromisoformat (C) reads the same values."""
    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

    strptime_parse = DatetimeParser.parse

    def parse(self: Any, date: Any, format: str) -> datetime:
        if format == ISO_CURSOR_FORMAT and isinstance(date, str) and _ISO_SECONDS.match(date):
            return datetime.fromisoformat(date[:-1] + "+00:00" if date.endswith("Z") else date)
        return strptime_parse(self, date, format)

    DatetimeParser.parse = parse  # type: ignore[method-assign]


def _install_cursor_formatting() -> None:
    """The per-partition cursor formats every record's cursor back with strftime (to compare it with the global
    cursor). For a UTC value in one of the `_UTC_SUFFIX` formats, an f-string writes the same text."""
    from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser

    strftime_format = DatetimeParser.format

    def format(self: Any, dt: datetime, format: str) -> str:
        suffix = _UTC_SUFFIX.get(format)
        if suffix is not None and dt.tzinfo is not None and dt.year >= 1000 and dt.utcoffset() == _ZERO:
            return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}{suffix}"
        return strftime_format(self, dt, format)

    DatetimeParser.format = format  # type: ignore[method-assign]


def _install_slice_keys() -> None:
    """The concurrent cursor hashes every record's slice (JSON + SHA-256) and computes its partition key
    (json.dumps, sort_keys), though both are fixed per slice. Memoized on the slice, which is immutable
    (StreamSlice.__setitem__ raises), and per cursor by the identity of the partition mapping, which the CDK creates
    once per slice and never changes (kept alive beside its key, so that its id cannot be reused)."""
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
    from airbyte_cdk.sources.types import StreamSlice

    compute_hash = StreamSlice.__hash__

    def memoized_hash(self: Any) -> int:
        try:
            return self.__dict__["_memoized_hash"]
        except KeyError:
            value = self.__dict__["_memoized_hash"] = compute_hash(self)
            return value

    compute_key = ConcurrentPerPartitionCursor._to_partition_key

    def memoized_key(self: Any, partition: Mapping[str, Any]) -> str:
        keys = self.__dict__.setdefault("_memoized_partition_keys", {})
        entry = keys.get(id(partition))
        if entry is not None and entry[0] is partition:
            return entry[1]
        key = compute_key(self, partition)
        keys[id(partition)] = (partition, key)
        return key

    StreamSlice.__hash__ = memoized_hash  # type: ignore[method-assign]
    ConcurrentPerPartitionCursor._to_partition_key = memoized_key  # type: ignore[method-assign]


def _install_cursor_observation() -> None:
    """Every record goes through the per-partition cursor's `observe`: its cursor value is parsed, formatted back to
    be compared with the global cursor as text, then parsed again by the partition's own cursor, behind a dozen
    calls.

    The fast path does the same work once, for the common case: a string value in the ISO form that the cursor's first
    input format reads (see _install_cursor_parsing), a UTC output format (see _install_cursor_formatting), a global
    cursor held as that format's own text, and a partition cursor that is the CDK's ConcurrentCursor with the same
    converter and field. It parses the value once, formats it only when it is later than the global cursor (the
    output format is fixed-width UTC text, whose order is the order of time, so a value not later than the global
    one cannot replace it), and applies the partition cursor's own rule to the parsed value. Anything else takes the
    CDK's observe, which the fast path matches value for value (unit-tested against it)."""
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
    from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor, CursorField
    from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
        CustomFormatConcurrentStreamStateConverter,
    )

    cdk_observe = ConcurrentPerPartitionCursor.observe

    def fast_path_applies(self: Any) -> bool:
        return converter_applies(self._connector_state_converter) and type(self._cursor_field) is CursorField

    def partition_cursor_applies(cursor: Any, key: str) -> bool:
        """The partition's cursor is the CDK's, reads the same field and parses an ISO value as the fast path does."""
        return (
            type(cursor) is ConcurrentCursor
            and type(cursor._cursor_field) is CursorField
            and cursor._cursor_field.cursor_field_key == key
            and converter_applies(cursor._connector_state_converter)
        )

    def converter_applies(converter: Any) -> bool:
        return (
            type(converter) is CustomFormatConcurrentStreamStateConverter
            and converter._datetime_format in _UTC_SUFFIX
            and bool(converter._input_datetime_formats)
            and converter._input_datetime_formats[0] == ISO_CURSOR_FORMAT
        )

    def observe(self: Any, record: Any) -> None:
        fast = self.__dict__.get("_fast_observe")
        if fast is None:
            fast = self.__dict__["_fast_observe"] = fast_path_applies(self)
        value = record.data.get(self._cursor_field.cursor_field_key) if fast else None
        stream_slice = record.associated_slice
        if not (
            isinstance(value, str) and value[19:] in _UTC_OFFSETS and stream_slice and _ISO_SECONDS.match(value)
        ):
            return cdk_observe(self, record)
        key = self._cursor_field.cursor_field_key
        converter = self._connector_state_converter
        global_cursor = self._new_global_cursor
        latest_global = None
        if global_cursor is not None:
            known = self.__dict__.get("_fast_global")
            if known is None or known[0] is not global_cursor:
                known = self.__dict__["_fast_global"] = (global_cursor, _as_time(converter, global_cursor.get(key)))
            latest_global = known[1]
            if latest_global is None:  # not text the output format writes: compare as the CDK does
                return cdk_observe(self, record)
        cursor = None
        if not self._use_global_cursor:
            cursor = self._cursor_per_partition.get(self._to_partition_key(stream_slice.partition))
            checked = self.__dict__.setdefault("_fast_partition_cursors", {})
            entry = checked.get(id(cursor))
            if entry is None or entry[0] is not cursor:
                entry = checked[id(cursor)] = (cursor, partition_cursor_applies(cursor, key))
            if not entry[1]:
                return cdk_observe(self, record)
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        self._synced_some_data = True
        if latest_global is None or latest_global < moment:
            text = converter.output_format(moment)
            self._update_global_cursor(text)
            updated = self._new_global_cursor
            if updated is not None and updated.get(key) == text:
                self.__dict__["_fast_global"] = (updated, moment)
        if cursor is not None:
            latest = cursor._most_recent_cursor_value_per_partition.get(stream_slice)
            if latest is None or latest < moment:
                cursor._most_recent_cursor_value_per_partition[stream_slice] = moment
            elif latest > moment:
                cursor._is_ascending_order = False

    observe.cdk_observe = cdk_observe  # type: ignore[attr-defined]  # for the tests that hold them side by side
    ConcurrentPerPartitionCursor.observe = observe  # type: ignore[method-assign]


def _as_time(converter: Any, text: Any) -> Optional[datetime]:
    """`text` as a time, if it is exactly what the converter's output format writes for that time (so that comparing
    times gives what comparing texts, as the CDK does, gives); else None."""
    if not isinstance(text, str):
        return None
    try:
        moment = converter.parse_value(text)
    except ValueError:
        return None
    return moment if isinstance(moment, datetime) and converter.output_format(moment) == text else None


def _install_mapping_check() -> None:
    """The partition reader asks `isinstance(record, typing.Mapping)` of every record; the typing alias forwards to
    collections.abc.Mapping through a slow __instancecheck__. Same answer, asked directly."""
    from airbyte_cdk.sources.declarative.stream_slicers import declarative_partition_generator

    declarative_partition_generator.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]


def record_line(stream: str, data: Any, emitted_at: int) -> Optional[str]:
    """The line the CDK prints for a RECORD message of `data` (a dict; without namespace, meta or file reference),
    byte for byte: its top-level nulls left out, as the CDK's serializer does. None when orjson cannot encode the
    data as is (then the CDK's own serializer must)."""
    if None in data.values():
        data = {key: value for key, value in data.items() if value is not None}
    try:
        return orjson.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": emitted_at}}).decode()
    except TypeError:
        return None


class RecordLines:
    """The RECORD lines of consecutive records of one stream, handed through the CDK's read loop as one item (see
    record_messages): the entrypoint counts them for the next state message and prints `text` as it is."""

    __slots__ = ("stream", "count", "text")
    type = None  # not a message type: every other CDK check on the way passes it by

    def __init__(self, stream: str, lines: list[str]) -> None:
        self.stream, self.count, self.text = stream, len(lines), "\n".join(lines)


class FastRecordOutput:
    """RECORD messages serialized straight to their JSON line, and counted without a new key object per record.

    The CDK dumps every record message to a dict with serpyco, then to JSON, and counts it under a
    HashableStreamDescriptor built per record, all in the single thread that prints. For a
    record without namespace, meta or file reference (every record of these sources) the line is the JSON of
    {"type": "RECORD", "record": {"stream", "data", "emitted_at"}} with the data's top-level nulls left out, byte for
    byte what the CDK prints; any other message, or a record orjson cannot encode as is, takes the CDK's path."""

    cdk_airbyte_message_to_string: Any = None
    cdk_handle_record_counts: Any = None

    @classmethod
    def install(cls) -> None:
        from airbyte_cdk.entrypoint import AirbyteEntrypoint
        from airbyte_cdk.models import Type
        from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor

        to_string = AirbyteEntrypoint.airbyte_message_to_string
        count = AirbyteEntrypoint.handle_record_counts
        descriptors: dict[tuple[str, Optional[str]], Any] = {}
        record_type = Type.RECORD

        def airbyte_message_to_string(message: Any) -> str:
            if type(message) is RecordLines:
                return message.text
            record = message.record
            if (
                message.type is record_type
                and record is not None
                and record.namespace is None
                and record.meta is None
                and record.file_reference is None
                and type(record.data) is dict
            ):
                line = record_line(record.stream, record.data, record.emitted_at)
                if line is not None:
                    return line
            return to_string(message)

        def counted(stream: str, namespace: Optional[str], records: int, stream_message_count: Any) -> None:
            descriptor = descriptors.get((stream, namespace))
            if descriptor is None:
                descriptor = descriptors[(stream, namespace)] = HashableStreamDescriptor(name=stream, namespace=namespace)
            stream_message_count[descriptor] += float(records)

        def handle_record_counts(message: Any, stream_message_count: Any) -> Any:
            if type(message) is RecordLines:
                counted(message.stream, None, message.count, stream_message_count)
                return message
            record = message.record
            if message.type is record_type and record is not None:
                counted(record.stream, record.namespace, 1, stream_message_count)
                return message
            return count(message, stream_message_count)

        cls.cdk_airbyte_message_to_string = staticmethod(to_string)
        cls.cdk_handle_record_counts = staticmethod(count)
        AirbyteEntrypoint.airbyte_message_to_string = staticmethod(airbyte_message_to_string)  # type: ignore[method-assign]
        AirbyteEntrypoint.handle_record_counts = staticmethod(handle_record_counts)  # type: ignore[method-assign]


def _install_record_output() -> None:
    FastRecordOutput.install()


def _install_state_interval() -> None:
    """Per-partition state every STATE_INTERVAL_SECONDS instead of every 600 s (see the module docstring)."""
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor

    def throttle_state_message(self: Any) -> Optional[float]:
        now = time.time()
        return None if now - self._last_emission_time <= STATE_INTERVAL_SECONDS else now

    ConcurrentPerPartitionCursor._throttle_state_message = throttle_state_message  # type: ignore[method-assign]


class RecordBatch(list):
    """Up to RECORD_BATCH_SIZE records of one partition, in the order read, moved through the CDK's queue as one item.

    The CDK puts every record on the queue between the worker threads and the thread that prints, one at a time: a
    lock, a condition notified and a thread woken per record. A worker now puts a batch when it is full, when the
    partition ends and before anything else it queues for that partition (its state is emitted by close_partition,
    its error by the exception handler), so the printing thread sees each partition's records, state and errors in
    the same order as before.

    The queue holds QUEUE_SIZE items instead of the CDK's 10,000: printing is the slower side, so that backlog is
    what would grow with the size of a sync (peak RSS). Only worker threads ever wait on a full queue; the printing
    thread never does (the CDK's ConcurrentMessageRepository), so a small queue cannot deadlock."""


def record_messages(batch: RecordBatch, processor: Any) -> Any:
    """What ConcurrentReadProcessor.on_record yields for each record of the batch, built directly: a RECORD message
    holding the record's data (stream_data_to_airbyte_message with its default, the no-op TypeTransformer, and no
    schema) and the stream's record count incremented. A stream's first record (which marks the stream RUNNING) and
    a record with a file reference go through on_record itself. The message repository, which on_record drains after
    every record, is drained once after the batch: it holds only what the printing thread itself could not queue.

    With OUTPUT_RECORD_LINES on (the connectors' command line turns it on), the records' lines are written here and
    handed on as one RecordLines per batch instead of one message each: the entrypoint's loop, its record count and
    the print then run once per batch. Off, every record is its own message, for callers of the source's `read`.
    (The CDK's memory monitor counts entrypoint messages: it then reads the cgroup's memory every 5,000 batches
    instead of every 5,000 records.)"""
    from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

    counter = processor._record_counter
    streams = processor._stream_name_to_instance
    record_type = Type.RECORD
    lines: list[str] = []
    lines_stream = ""
    for record in batch:
        stream = record.stream_name
        name = streams[stream].name
        if counter[name] == 0 or record.file_reference is not None:
            if lines:
                yield RecordLines(lines_stream, lines)
                lines = []
            yield from processor.on_record(record)
            continue
        counter[name] += 1
        emitted_at = time.time_ns() // 1_000_000
        line = record_line(stream, record.data, emitted_at) if OUTPUT_RECORD_LINES and type(record.data) is dict else None
        if line is not None:
            if lines and stream != lines_stream:
                yield RecordLines(lines_stream, lines)
                lines = []
            lines_stream = stream
            lines.append(line)
            continue
        if lines:
            yield RecordLines(lines_stream, lines)
            lines = []
        yield AirbyteMessage(
            type=record_type,
            record=AirbyteRecordMessage(stream=stream, data=dict(record.data), emitted_at=emitted_at),
        )
    if lines:
        yield RecordLines(lines_stream, lines)
    yield from processor._message_repository.consume_queue()


def _install_record_batches() -> None:
    from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
    from airbyte_cdk.sources.concurrent_source.stream_thread_exception import StreamThreadException
    from airbyte_cdk.sources.streams.concurrent.partition_reader import PartitionReader
    from airbyte_cdk.sources.streams.concurrent.partitions.types import PartitionCompleteSentinel

    def process_partition(self: Any, partition: Any, cursor: Any) -> None:
        queue = self._queue
        batch = RecordBatch()
        try:
            if self._partition_logger:
                self._partition_logger.log(partition)
            observe = cursor.observe
            for record in partition.read():
                batch.append(record)
                observe(record)
                if len(batch) >= RECORD_BATCH_SIZE:
                    queue.put(batch)
                    batch = RecordBatch()
            if batch:
                queue.put(batch)
                batch = RecordBatch()
            cursor.close_partition(partition)
            queue.put(PartitionCompleteSentinel(partition, PartitionReader._IS_SUCCESSFUL))
        except Exception as e:
            if batch:
                queue.put(batch)
            queue.put(StreamThreadException(e, partition.stream_name()))
            queue.put(PartitionCompleteSentinel(partition, not PartitionReader._IS_SUCCESSFUL))

    create_source = ConcurrentSource.__init__

    def create_with_small_queue(self: Any, *args: Any, **kwargs: Any) -> None:
        create_source(self, *args, **kwargs)
        self._queue.maxsize = QUEUE_SIZE

    handle_item = ConcurrentSource._handle_item

    def handle_batches(self: Any, queue_item: Any, concurrent_stream_processor: Any) -> Any:
        if type(queue_item) is RecordBatch:
            yield from record_messages(queue_item, concurrent_stream_processor)
        else:
            yield from handle_item(self, queue_item, concurrent_stream_processor)

    PartitionReader.process_partition = process_partition  # type: ignore[method-assign]
    ConcurrentSource.__init__ = create_with_small_queue  # type: ignore[method-assign]
    ConcurrentSource._handle_item = handle_batches  # type: ignore[method-assign]


def _install_heap_freeze() -> None:
    """CPython's cyclic garbage collector runs a young collection every 700 container allocations, and every few of
    those a full one over every tracked object, including the many that live as long as the process (the imports,
    the manifest, the built streams and their schemas). A Mailchimp page parses into many nested containers that live
    until its records are printed, so they survive into the older generations and keep triggering full collections
    (Campaign Monitor's flat records do not).

    When the read starts, with FREEZE_HEAP_AT_READ, everything built so far moves to the permanent generation
    (gc.freeze: never scanned again, nothing freed that a collection would have freed but start-up garbage), and young
    collections run every GC_YOUNG_THRESHOLD allocations. Cyclic garbage made during the read is still collected, and
    when the read ends the heap is unfrozen and the thresholds restored (a process that reads again, such as a test
    run, does not keep every earlier sync's garbage)."""
    from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource

    cdk_read = ConcurrentSource.read

    def read(self: Any, streams: Any) -> Any:
        if not FREEZE_HEAP_AT_READ:
            yield from cdk_read(self, streams)
            return
        threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
        try:
            yield from cdk_read(self, streams)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()

    ConcurrentSource.read = read  # type: ignore[method-assign]
