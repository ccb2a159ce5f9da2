"""Partition routers both connectors need: one whose partitions add nothing to the request, and parent listings read
once per sync and shared by every stream they partition."""

import logging
from dataclasses import InitVar, dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from connector_common.sync_store import note_refused_stream, refusal_of, sync_store

logger = logging.getLogger("airbyte")


class PartitionsWithoutRequestOptions(PartitionRouter):
    """A partition router whose partitions add nothing to the request (the partition is in the path), and which keeps
    no state unless a subclass says otherwise."""

    def get_request_params(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_headers(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def get_request_body_data(self, **kwargs: Any) -> Union[Mapping[str, Any], str]:
        return {}

    def get_request_body_json(self, **kwargs: Any) -> Mapping[str, Any]:
        return {}

    def set_initial_state(self, stream_state: StreamState) -> None:
        pass

    def get_stream_state(self) -> Optional[Mapping[str, StreamState]]:
        return None


def shared_listing(config: Mapping[str, Any], key: Any, read: Callable[[], Iterable[StreamSlice]]) -> Iterable[StreamSlice]:
    """The partitions `read` lists, read once per sync for every router that gives the same `key`: the first to ask
    reads while the others wait, and each gets its own copies. Only the partitions are kept (ids and a few extra
    fields), in the sync's store (connector_common.sync_store): nothing across syncs, and a failed or cut-short read
    keeps nothing, so the next stream reads the parent itself (unlike the CDK's HTTP cache, which kept a cut-short 200
    and replayed it on retries)."""
    for stream_slice in sync_store(config).once(("parent listing", key), lambda: list(read())):
        yield StreamSlice(
            partition=dict(stream_slice.partition),
            cursor_slice=dict(stream_slice.cursor_slice),
            extra_fields=dict(stream_slice.extra_fields or {}),
        )


@dataclass
class SharedParentPartitions(PartitionsWithoutRequestOptions):
    """The partitions of the nested router `partitions`, listed once per sync and handed to every stream whose router
    names the same `key` (shared_listing). Only full listings are shared: a parent read from a child's saved state
    (`incremental_dependency`) is never routed through here.

    Why not YAML: the CDK has no way to share one parent stream's partitions between several child streams; each
    stream's router owns its own parent stream instance."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    partitions: PartitionRouter
    key: str = ""

    def stream_slices(self) -> Iterable[StreamSlice]:
        yield from shared_listing(self.config, self.key or "default", self.partitions.stream_slices)


@dataclass
class SharedParentPartitionRouter(SubstreamPartitionRouter):
    """A SubstreamPartitionRouter whose parent listing is read once per sync and shared by every router with the same
    parents (shared_listing): the same parent stream name, parent key, partition field and extra fields. A parent with
    `incremental_dependency` or a lazy read pointer is read by the router itself, as the CDK does.

    Why not YAML: each stream's router owns its own parent stream instance, and the CDK's HTTP cache is off."""

    def _listing_key(self) -> Optional[tuple[Any, ...]]:
        parents = getattr(self, "parent_stream_configs", None)
        if not parents:
            return None
        key: list[Any] = []
        for parent in parents:
            if parent.incremental_dependency or parent.lazy_read_pointer:
                return None
            extra = tuple(
                tuple(str(part.eval(self.config)) for part in path) for path in (parent.extra_fields or [])
            )
            key.append(
                (parent.stream.name, str(parent.parent_key.eval(self.config)),
                 str(parent.partition_field.eval(self.config)), extra)
            )
        return tuple(key)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream_name = str(parameters.get("name") or "")

    def stream_slices(self) -> Iterable[StreamSlice]:
        key = self._listing_key()
        listing = super().stream_slices() if key is None else shared_listing(self.config, key, super().stream_slices)
        listed = False
        for stream_slice in listing:
            listed = True
            yield stream_slice
        if not listed:
            self._say_if_skipped_for_a_refused_parent()

    def _say_if_skipped_for_a_refused_parent(self) -> None:
        """A stream whose parent the API refused to the account (403) reads nothing: said once, naming the stream,
        and noted for the streams below it."""
        for parent in self.parent_stream_configs:
            reason = refusal_of(self.config, parent.stream.name)
            if reason is not None and self._stream_name:
                if note_refused_stream(self.config, self._stream_name, reason):
                    logger.warning(f"Skipped {self._stream_name}: it is read for each record of {parent.stream.name}, "
                                   f"which the API refused to this account. {reason}")
                return
