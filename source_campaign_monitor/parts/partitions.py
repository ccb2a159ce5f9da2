"""Partitions: the clients, each with its time zone known before its partition is handed out."""

from dataclasses import InitVar, dataclass
from typing import Any, Iterable, Mapping

from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.types import Config, StreamSlice

from connector_common.partitions import PartitionsWithoutRequestOptions
from source_campaign_monitor.parts.time_zones import ClientTimeZones


@dataclass
class ClientPartitionRouter(PartitionsWithoutRequestOptions):
    """One partition ``{"client_id": ...}`` per Campaign Monitor client: the configured ``api_client_id``, or, when it is
    empty, every client of ``GET /clients.json``. Each client's time zone (read from ``GET /clients/{id}.json`` by the
    nested ``client_details`` router) is kept in the sync's :class:`ClientTimeZones` before its partition is handed
    out.

    Why not YAML: choosing between a configured value and a parent stream, and flattening the partition to the client id
    alone (so that state keys stay short and stable), are not expressible with the declarative partition routers."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    client_details: PartitionRouter  # SubstreamPartitionRouter over the client_details stream
    time_zone_field: str = "BasicDetails.TimeZone"

    def stream_slices(self) -> Iterable[StreamSlice]:
        for parent in self.client_details.stream_slices():
            client_id = str(parent.partition["client_id"])
            ClientTimeZones.of(self.config).remember(client_id, (parent.extra_fields or {}).get(self.time_zone_field))
            yield StreamSlice(partition={"client_id": client_id}, cursor_slice={})


@dataclass
class ConfiguredOrAllClients(PartitionsWithoutRequestOptions):
    """Partitions ``{"client_id": ...}`` for the client_details stream: the configured ``api_client_id`` without any
    request, or every client of the nested ``all_clients`` router (``GET /clients.json``) when it is empty.

    Why not YAML: the declarative routers cannot choose between a config value and a parent stream at run time."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    all_clients: PartitionRouter

    def stream_slices(self) -> Iterable[StreamSlice]:
        configured = str(self.config.get("api_client_id") or "").strip()
        if configured:
            yield StreamSlice(partition={"client_id": configured}, cursor_slice={})
            return
        for parent in self.all_clients.stream_slices():
            yield StreamSlice(partition={"client_id": str(parent.partition["client_id"])}, cursor_slice={})

