"""RECORD lines and record counts: the fast path prints and counts exactly what the CDK's own path does."""

from collections import defaultdict

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    Type,
)

from airbyte_cdk.models.airbyte_protocol import AirbyteRecordMessageMeta

from cdk_fast_paths import FastRecordOutput


def cdk_line(message):
    return FastRecordOutput.cdk_airbyte_message_to_string(message)


def record(data, **extra):
    return AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream="list_members", data=data, emitted_at=1700000000123, **extra))


@pytest.mark.parametrize("message", [
    record({"id": "a1", "email_address": "ünï@example.com", "merge_fields": {"FNAME": "Zoë 🌸"}, "stats": {"avg_open_rate": 0.25},
            "tags": [], "last_note": None, "vip": False, "member_rating": 2, "location": {"country_code": None}}),
    record({}),
    record({"id": "a1"}, namespace="ns"),
    record({"id": "a1"}, meta=AirbyteRecordMessageMeta(changes=[])),
    record({"big": 2**70}),
])
def test_a_record_line_is_byte_for_byte_what_the_cdk_prints(message):
    assert AirbyteEntrypoint.airbyte_message_to_string(message) == cdk_line(message)


def test_records_are_counted_per_stream_into_the_next_state_message():
    counts = defaultdict(float)
    for _ in range(3):
        AirbyteEntrypoint.handle_record_counts(record({"id": "a"}), counts)
    state = AirbyteMessage(type=Type.STATE, state=AirbyteStateMessage(
        type=AirbyteStateType.STREAM,
        stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name="list_members"), stream_state=AirbyteStateBlob(x=1))))

    AirbyteEntrypoint.handle_record_counts(state, counts)

    assert state.state.sourceStats.recordCount == 3.0
