"""The packaged commands' entrypoint, one for both connectors: Airbyte's spec / check / discover / read over the
connector folder's manifest.yaml and components.py, with what only makes the messages clearer.

Nothing here shapes a record, a request or a state: the manifest and its components do, as on Airbyte's stock
runtime. What this adds:
- the input files (config, catalog, state) read and checked first, so that a missing file, bad JSON, an unknown
  stream or an unusable saved cursor ends as a config_error naming it, before any request;
- every secret of the config, and those derived from it (the basic-auth header), masked in everything printed,
  logs and debug logs included (the CDK's own filter knows only the spec's secret fields, and its print buffer
  writes past any filter);
- failures normalised to Airbyte's contract: `check` answers FAILED for a config error; a read ends with a
  config_error or system_error trace (the CDK calls a stream whose retries ran out a transient_error) and an exit
  code, never a bare traceback.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Mapping, Optional

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connector_common.config_problems import config_problem
from connector_common.saved_state import check_saved_states
from connector_common.speedups import switch_on_speedups


@dataclass(frozen=True)
class PackagedConnector:
    """What differs between the two commands."""

    command: str  # e.g. "source-mailchimp", for messages
    source: Callable[..., YamlDeclarativeSource]  # (catalog=, config=, state=, config_path=) -> the source
    secrets_of: Callable[[Mapping[str, Any]], Iterable[Any]]  # the config's secrets, and those derived from them


def run(connector: PackagedConnector, args: Optional[List[str]] = None) -> None:
    speedups_on, speedups = switch_on_speedups()
    args = sys.argv[1:] if args is None else list(args)
    parsed = AirbyteEntrypoint.parse_args(args)
    original = sys.stdout
    masking = SecretMaskingStream(original)
    rerouted = _route_output_through(masking)
    try:
        if not speedups_on:
            logging.getLogger("airbyte").info(speedups)
        exit_code = _run(connector, parsed, args, masking)
    finally:
        masking.flush()
        _restore_output(original, rerouted)
    if exit_code:
        sys.exit(exit_code)


def _run(connector: PackagedConnector, parsed: Any, args: List[str], masking: "SecretMaskingStream") -> int:
    verb = parsed.command
    try:
        source = _build_source(connector, verb, parsed, masking)
    except Exception as error:  # every failure becomes an Airbyte message
        return _fail(connector, verb, error)
    stream_failures: list[str] = []
    try:
        # Not the CDK's `launch`: its print buffer writes to the process's stdout directly, past the secret filter.
        entrypoint = AirbyteEntrypoint(source)
        for message in entrypoint.run(entrypoint.parse_args(args)):
            if message.startswith(ERROR_TRACE_PREFIX):
                message = _normalized_error(message, stream_failures)
            sys.stdout.write(f"{message}\n")
    except Exception as error:
        if isinstance(error, AirbyteTracedException) and any(f != "config_error" for f in stream_failures):
            # The CDK's end-of-sync summary can call a sync whose retries ran out a config error.
            error.failure_type = FailureType.system_error
        return _fail(connector, verb, error)
    return 0


def _build_source(connector: PackagedConnector, verb: str, parsed: Any, masking: "SecretMaskingStream") -> Any:
    if verb == "spec":
        return connector.source()
    config = read_json(parsed.config, "config")
    if not isinstance(config, dict):
        raise config_error("The config file must hold a JSON object.")
    masking.add_all(connector.secrets_of(config))
    catalog = state = None
    if verb == "read":
        read_json(parsed.catalog, "catalog")
        try:
            catalog = YamlDeclarativeSource.read_catalog(parsed.catalog)
        except Exception as error:
            raise config_error(f"The catalog file is not a valid configured catalog ({type(error).__name__}).") from None
        if parsed.state:
            read_json(parsed.state, "state")
            try:
                state = YamlDeclarativeSource.read_state(parsed.state)
            except Exception as error:
                raise config_error(
                    f"The state file is not a valid list of Airbyte state messages ({type(error).__name__})."
                ) from None
    # Built with the plain stdout: the only thing printed meanwhile is the CDK's CONTROL message carrying an updated
    # config (a token obtained at start-up), which the platform must receive intact.
    sys.stdout = masking.unmasked
    try:
        source = connector.source(catalog=catalog, config=config, state=state, config_path=parsed.config)
    finally:
        sys.stdout = masking
    problem = config_problem(source._config)
    if problem is not None:  # the manifest's validation raises it too, inside a longer message
        raise problem
    if catalog is not None:
        _check_catalog(source, catalog)
    if state:
        check_saved_states(source.resolved_manifest, state)
    # A token obtained at start-up was printed once, in the CONTROL message; never again.
    masking.add_all(connector.secrets_of(source._config))
    return source


def _check_catalog(source: Any, catalog: ConfiguredAirbyteCatalog) -> None:
    """A catalog naming a stream this source does not have is the user's mistake: say which, instead of silently
    reading something else. Incremental asked of a full-refresh stream (PyAirbyte's default read asks it of every
    stream) reads that stream in full, as Airbyte's CDK does, and says so."""
    incremental = {stream.get("name"): "incremental_sync" in stream for stream in source.resolved_manifest["streams"]}
    unknown = [configured.stream.name for configured in catalog.streams if configured.stream.name not in incremental]
    for configured in catalog.streams:
        name = configured.stream.name
        if configured.sync_mode == SyncMode.incremental and not incremental.get(name, True):
            logging.getLogger("airbyte").warning(f"`{name}` has no incremental sync: it is read in full refresh.")
    if unknown:
        problems = [f"unknown stream `{name}`" for name in unknown]
        raise config_error("The configured catalog does not match this source: " + "; ".join(problems) + ".")


def config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def read_json(path: Optional[str], what: str) -> Any:
    if not path:
        raise config_error(f"The {what} file is required: pass --{what} PATH.")
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        message = f"The {what} file {path} does not exist."
    except (OSError, UnicodeDecodeError) as error:
        message = f"The {what} file {path} cannot be read ({type(error).__name__})."
    except ValueError as error:
        message = f"The {what} file {path} is not valid JSON (line {getattr(error, 'lineno', '?')})."
    raise config_error(message)


def _fail(connector: PackagedConnector, verb: str, error: Exception) -> int:
    traced = (
        error
        if isinstance(error, AirbyteTracedException)
        else AirbyteTracedException.from_exception(error, message=f"{connector.command} {verb} failed: {type(error).__name__}")
    )
    if verb == "check" and traced.failure_type == FailureType.config_error:
        _print(AirbyteMessage(type=Type.CONNECTION_STATUS,
                              connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=traced.message)))
        return 0
    _print(traced.as_sanitized_airbyte_message())
    return 1


def _print(message: AirbyteMessage) -> None:
    # One write per line (print() writes the text and the newline separately; a log could land in between).
    sys.stdout.write(filter_secrets(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()) + "\n")
    sys.stdout.flush()


ERROR_TRACE_PREFIX = '{"type":"TRACE","trace":{"type":"ERROR"'


def _normalized_error(message: str, stream_failures: list[str]) -> str:
    """A stream error whose retries ran out is a `transient_error` for the CDK; Airbyte's contract for a failed
    sync is config_error (the user must act) or system_error (everything else)."""
    try:
        parsed = json.loads(message)
        error = parsed["trace"]["error"]
    except (ValueError, KeyError, TypeError):
        return message
    if error.get("failure_type") not in ("config_error", "system_error"):
        error["failure_type"] = "system_error"
        message = json.dumps(parsed, separators=(",", ":"))
    stream_failures.append(error["failure_type"])
    return message


class SecretMaskingStream(io.TextIOBase):
    """Everything the connector prints -- messages, logs, debug logs of outgoing requests -- goes through here, and
    every known secret is replaced by ****."""

    MINIMUM_LENGTH = 6

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self.secrets: list[str] = []
        # Records are printed by the main thread and logs by the worker threads: a long write (a debug log of a
        # response body) is not atomic on a pipe, and a record written in the middle of it was lost with the line.
        self._lock = threading.Lock()

    @property
    def unmasked(self) -> Any:
        return self._stream

    def add(self, secret: Any) -> None:
        if isinstance(secret, str) and len(secret) >= self.MINIMUM_LENGTH and secret not in self.secrets:
            self.secrets.append(secret)
            add_to_secrets(secret)

    def add_all(self, secrets: Iterable[Any]) -> None:
        for secret in secrets:
            self.add(secret)

    def write(self, text: str) -> int:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "****")
        with self._lock:
            return self._stream.write(text)

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()

    def writable(self) -> bool:
        return True


def _route_output_through(stream: SecretMaskingStream) -> list[tuple[logging.StreamHandler, Any]]:
    """Points stdout and the log handlers that write to stdout (Airbyte's logger) at the masking stream."""
    sys.stdout = stream
    rerouted = []
    loggers = [logging.getLogger(), *[logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if type(handler) is logging.StreamHandler and handler.stream not in (sys.stderr, sys.__stderr__, stream):
                rerouted.append((handler, handler.setStream(stream)))
    return rerouted


def _restore_output(original: Any, rerouted: list[tuple[logging.StreamHandler, Any]]) -> None:
    sys.stdout = original
    for handler, previous in rerouted:
        handler.setStream(previous)
