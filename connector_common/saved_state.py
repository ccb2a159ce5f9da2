"""Saved states, checked and prepared before a sync reads anything, the same way for both connectors.

A saved cursor the CDK cannot parse fails a sync only once the stream is read, with a parse error that names neither
the stream nor what to do. Here every incremental stream's saved cursor is parsed the way the CDK will parse it (the
stream's `cursor_datetime_formats`, then its `datetime_format`, read from the manifest), and a state that cannot be
resumed from is a config_error naming the stream, before any request.

Keys this version does not know (an older connector's per-list layout, another stream's cursor) are not errors: those
partitions are read from the start.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, MutableMapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from connector_common.saved_stream_state import drop_global_fallback  # noqa: F401  (run.py of Campaign Monitor)


def cursor_formats(resolved_manifest: Mapping[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """{incremental stream: (its cursor field, the formats its saved cursor is parsed with, in the CDK's order)}."""
    streams: dict[str, tuple[str, list[str]]] = {}
    for stream in resolved_manifest.get("streams") or []:
        sync = stream.get("incremental_sync") if isinstance(stream, Mapping) else None
        if not isinstance(sync, Mapping) or not sync.get("datetime_format"):
            continue
        parameters = stream.get("$parameters") or {}
        name = stream.get("name") or parameters.get("name")
        field = sync.get("cursor_field")
        if isinstance(field, str) and "{{" in field:
            field = parameters.get("cursor_field")
        if isinstance(name, str) and isinstance(field, str) and field:
            streams[name] = (field, [*(sync.get("cursor_datetime_formats") or []), sync["datetime_format"]])
    return streams


def state_problem(stream_state: Mapping[str, Any], cursor_field: str, formats: list[str]) -> Optional[str]:
    """What makes a stream's saved state unusable, or None. A cursor is read as a whole-stream `{field: value}`, or
    per partition `{"states": [{"partition": {...}, "cursor": {field: value}}], "state": {field: value}}`."""

    def bad_cursor(cursor: Any) -> Optional[str]:
        if not isinstance(cursor, Mapping) or cursor_field not in cursor:
            return None
        value = cursor[cursor_field]
        if isinstance(value, str) and _parses(value, formats):
            return None
        return f"`{cursor_field}` is {value!r}, not a date-time such as 2024-01-31T12:00:00+00:00"

    if "states" in stream_state:
        entries = stream_state["states"]
        if not isinstance(entries, list):
            return "`states` is not a list"
        for entry in entries:
            if not (
                isinstance(entry, Mapping)
                and isinstance(entry.get("partition"), Mapping)
                and isinstance(entry.get("cursor"), Mapping)
            ):
                return "an entry of `states` is not {partition, cursor}"
            problem = bad_cursor(entry["cursor"])
            if problem:
                return problem
        return bad_cursor(stream_state.get("state"))
    return bad_cursor(stream_state)


def _parses(value: str, formats: list[str]) -> bool:
    parser = DatetimeParser()
    for layout in formats:
        try:
            parser.parse(value, layout)
            return True
        except (TypeError, ValueError):
            continue
    return False


def check_saved_states(resolved_manifest: Mapping[str, Any], state_messages: Iterable[Any]) -> None:
    """Raises a config_error naming the first stream whose saved state (AirbyteStateMessages of type STREAM) cannot
    be resumed from."""
    streams = cursor_formats(resolved_manifest)
    for message in state_messages:
        stream = getattr(message, "stream", None)
        name = getattr(getattr(stream, "stream_descriptor", None), "name", None)
        stream_state = getattr(getattr(stream, "stream_state", None), "__dict__", None)
        if name not in streams or not isinstance(stream_state, Mapping):
            continue
        problem = state_problem(stream_state, *streams[name])
        if problem:
            raise AirbyteTracedException(
                message=f"The saved state of stream `{name}` cannot be resumed from: {problem}. "
                "Reset the stream (or remove its state) to read it again in full.",
                failure_type=FailureType.config_error,
            )
