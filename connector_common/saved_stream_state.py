"""A stream's saved state, handed to the components of that stream that decide what to read from it.

In airbyte-cdk 7 only a stream's cursor is given the stream's saved state. A partition router that leaves out the
partitions with nothing new (a campaign whose report has not changed since it was last read) needs that state too. The
one other component the CDK hands the saved state to is a state migration, called while the stream is built and before
its partition router is: `KeepSavedStateForPartitionRouter` keeps the state in the sync's own config (in memory, under a
private key, as plain JSON), where the router finds it with `saved_stream_state`. Nothing is global to the process: a
second source built with another config sees only its own states.
"""

from __future__ import annotations

import copy
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration

SAVED_STATES_KEY = "__saved_stream_states"


def saved_stream_state(config: Mapping[str, Any], stream_name: str) -> Mapping[str, Any]:
    """The state the sync started from for `stream_name` ({} on a first sync, or when the stream has no such
    migration)."""
    states = config.get(SAVED_STATES_KEY) if isinstance(config, Mapping) else None
    state = states.get(stream_name) if isinstance(states, Mapping) else None
    return state if isinstance(state, Mapping) else {}


@dataclass
class KeepSavedStateForPartitionRouter(StateMigration):
    """Keeps the stream's saved state, unchanged, where its partition router reads it (`saved_stream_state`).

    Why not YAML: a declarative partition router is never given the stream's state; a state migration is, and runs
    first. It migrates nothing: `should_migrate` keeps a copy and answers False, so the state reaches the cursor as it
    was saved."""

    config: MutableMapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if isinstance(self.config, MutableMapping) and self._stream_name:
            states = self.config.setdefault(SAVED_STATES_KEY, {})
            states[self._stream_name] = copy.deepcopy(dict(stream_state or {}))
        return False

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        return stream_state


def drop_global_fallback(stream_state: MutableMapping[str, Any]) -> None:
    """Removes the CDK's global fallback (`state`: the newest cursor over all partitions) from a per-partition state.

    The CDK starts a partition the previous sync did not see (a new list, a new campaign) from that fallback, which
    would skip the new partition's records dated before it (a list imported with older subscribers). Without it, such
    a partition starts from start_date, as on a first sync; partitions already seen keep their own cursor. A state
    that the CDK switched to one global cursor (`use_global_cursor`) is left as it is."""
    if "states" in stream_state and not stream_state.get("use_global_cursor"):
        stream_state.pop("state", None)
        stream_state.pop("lookback_window", None)


@dataclass
class StartNewPartitionsFromTheStartDate(StateMigration):
    """A per-partition state without the CDK's global fallback cursor (see drop_global_fallback).

    Why not YAML: the CDK offers no setting for where a partition the state does not know starts."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return "states" in stream_state and not stream_state.get("use_global_cursor") and (
            "state" in stream_state or "lookback_window" in stream_state)

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        migrated = dict(stream_state)
        drop_global_fallback(migrated)
        return migrated
