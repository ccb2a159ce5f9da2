"""Configs and saved states of Airbyte's own Mailchimp and Campaign Monitor connectors, taken over by ours.

A user switching keeps the config and the connection state Airbyte already holds. The config migrations below map
Airbyte's shapes onto ours; the CDK applies them first (the manifest's `config_normalization_rules.config_migrations`)
and, when one changed the config, prints it in a CONTROL message (and rewrites the config file), which the platform
persists: the next run starts from our shape. They never raise: what is still wrong is reported by the settings
checks that follow.

The state migrations decide, per stream, what becomes of a state that Airbyte's connector saved: translated where our
partitions and cursor mean the same thing, refused with a config_error naming the stream where no translation is
safe, and logged then dropped where our stream has no cursor (read in full every sync). Never silently read again,
never carried forward unused.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import InitVar, dataclass, field
from typing import Any, List, Mapping, MutableMapping, Optional

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.transformations.config_transformations.config_transformation import (
    ConfigTransformation,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

migration_logger = logging.getLogger("airbyte")

# What a full-refresh stream saves (CDK): nothing to resume, nothing to say.
NO_CURSOR_STATE = {"__ab_no_cursor_state_message": True}


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass
class MailchimpConfigFromAirbytes(ConfigTransformation):
    """Airbyte's source-mailchimp configs in our shape.

    Its current shape (`credentials` with `auth_type` apikey / oauth2.0, `data_center`, `start_date` such as
    2024-01-01T00:00:00.000Z) is ours already (`data_center` is derived again from the key or token, so it is left
    as it is). Its older flat shape, an `apikey` at the top, which Airbyte's connector still reads, is moved under
    `credentials`: our spec marks only `credentials.apikey` as a secret."""

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if isinstance(config.get("credentials"), Mapping) or not _filled(config.get("apikey")):
            return
        config["credentials"] = {"auth_type": "apikey", "apikey": config.pop("apikey")}


@dataclass
class CampaignMonitorConfigFromAirbytes(ConfigTransformation):
    """Airbyte's source-campaign-monitor config in our shape: `username` is the API key (`password` is any text,
    unused), a top-level `client_id` the Campaign Monitor client to read (our `api_client_id`), so that only the
    client the user chose is synced. A flat `api_key` (the Singer tap's) is moved under `credentials` likewise.
    A top-level `client_id` that comes with OAuth settings (`client_secret`, `refresh_token`) is an OAuth
    application's, and is left to the settings normalisation."""

    OAUTH_KEYS = ("client_secret", "refresh_token", "authorization_code")

    def transform(self, config: MutableMapping[str, Any]) -> None:
        if not isinstance(config.get("credentials"), Mapping):
            key = config.get("username") if _filled(config.get("username")) else config.get("api_key")
            if not _filled(key):
                return
            config["credentials"] = {"auth_type": "api_key", "api_key": key}
            for name in ("username", "password", "api_key"):
                config.pop(name, None)
        credentials = config["credentials"]
        if (
            credentials.get("auth_type") == "api_key"
            and _filled(config.get("client_id"))
            and not any(name in config for name in self.OAUTH_KEYS)
        ):
            client_id = config.pop("client_id")
            if not _filled(config.get("api_client_id")):
                config["api_client_id"] = client_id


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


@dataclass
class ResumeAirbytesPerListState(StateMigration):
    """A per-list state saved by Airbyte's connector, resumed by ours.

    Airbyte's partitions are the lists, `{"id": <list id>, "parent_slice": {}}` (or, older, `{<list id>: {cursor}}`);
    ours add what else splits a list (`resumed_partitions`, e.g. list_members' `member_status`). Each list's saved
    cursor resumes the partitions of ours that read what Airbyte's read; a partition of ours that Airbyte never read
    (list_members' archived members: Airbyte's requests leave them out) is not in the state, so it starts from
    start_date. The global fallback cursor is dropped (see StartNewPartitionsFromTheStartDate) and so are Airbyte's
    partitions: nothing of theirs is carried forward. One cursor for every list (the oldest layout) cannot be split
    per list: refused, naming the stream.

    Why not YAML: the CDK's LegacyToPerPartitionStateMigration keeps the partition's key (`id`), which is not ours."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None
    cursor_field: str = ""
    partition_field: str = "list_id"
    resumed_partitions: List[Mapping[str, Any]] = field(default_factory=lambda: [{}])

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")
        self.cursor_field = self.cursor_field or str(parameters.get("cursor_field") or "")

    def _airbytes_entries(self, stream_state: Mapping[str, Any]) -> Optional[list]:
        """[(list id, cursor)] when the state is Airbyte's per-list layout, else None."""
        states = stream_state.get("states")
        if isinstance(states, list):
            entries = []
            for entry in states:
                partition = entry.get("partition") if isinstance(entry, Mapping) else None
                if not isinstance(partition, Mapping) or self.partition_field in partition or "id" not in partition:
                    return None
                entries.append((partition["id"], entry.get("cursor")))
            return entries or None
        if stream_state and all(
            isinstance(value, Mapping) and self.cursor_field in value for value in stream_state.values()
        ) and self.cursor_field not in stream_state:
            return list(stream_state.items())
        return None

    def _one_cursor_for_every_list(self, stream_state: Mapping[str, Any]) -> bool:
        return set(stream_state) == {self.cursor_field}

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        if not isinstance(stream_state, Mapping) or not stream_state:
            return False
        return self._one_cursor_for_every_list(stream_state) or self._airbytes_entries(stream_state) is not None

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        if self._one_cursor_for_every_list(stream_state):
            raise _config_error(
                f"The saved state of stream `{self._stream_name}` is one `{self.cursor_field}` cursor for every list "
                "(Airbyte's source-mailchimp before its per-list state): it cannot be resumed per list without "
                f"skipping members. Reset the stream `{self._stream_name}` to read it again in full."
            )
        entries = self._airbytes_entries(stream_state) or []
        states = [
            {
                "partition": {self.partition_field: list_id, **dict(extra), "parent_slice": {}},
                "cursor": copy.deepcopy(dict(cursor)),
            }
            for list_id, cursor in entries
            if isinstance(cursor, Mapping) and cursor.get(self.cursor_field)
            for extra in self.resumed_partitions
        ]
        migration_logger.info(
            f"`{self._stream_name}`: resumed from the saved state of Airbyte's connector for {len(entries)} lists"
            + (
                f" ({', '.join(f'{k}={v}' for extra in self.resumed_partitions for k, v in extra.items())}); "
                "what it never read starts from start_date."
                if any(self.resumed_partitions)
                else "."
            )
        )
        return {"use_global_cursor": False, "states": states}


@dataclass
class ReadInFullDespiteSavedCursor(StateMigration):
    """A saved cursor for a stream that this connector reads in full every sync (Airbyte's connector read it
    incrementally): said once in the log, naming the stream and why, then dropped, so that no cursor of theirs is
    carried forward in the states this stream saves.

    Why not YAML: the CDK ignores such a state without a word."""

    config: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]
    declarative_stream: Optional[Any] = None
    reason: str = ""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str(getattr(self.declarative_stream, "name", None) or parameters.get("name") or "")

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        return isinstance(stream_state, Mapping) and bool(stream_state) and dict(stream_state) != NO_CURSOR_STATE

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        migration_logger.warning(
            f"`{self._stream_name}` is read in full every sync: the saved incremental state (cursor "
            f"{', '.join(f'`{name}`' for name in _cursor_fields(stream_state)) or 'unknown'}) is not used. "
            f"{self.reason}".rstrip()
        )
        return {}


def _cursor_fields(stream_state: Mapping[str, Any]) -> List[str]:
    """The cursor fields of a saved state, whole-stream (`{field: value}`) or per partition."""
    if "states" in stream_state or "state" in stream_state:
        entries = stream_state.get("states") if isinstance(stream_state.get("states"), list) else []
        inner = stream_state.get("state") or next(
            (entry.get("cursor") for entry in entries if isinstance(entry, Mapping)), None)
        return sorted(inner) if isinstance(inner, Mapping) else []
    return sorted(name for name in stream_state if name not in ("parent_state", "lookback_window", "use_global_cursor"))
