"""The `source-mailchimp` command: Airbyte's spec / check / discover / read over `manifest.yaml`.

Whatever goes wrong before or during the run (a missing or malformed config, catalog or state file, a bad setting,
an API error) ends as an Airbyte message -- a failed connection status for `check`, a TRACE error otherwise -- and an
exit code, never a bare traceback, and never a secret."""

from __future__ import annotations

import base64
import io
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any, List, Mapping, Optional

import orjson

from connector_common.config_problems import config_problem
from connector_common.packaged_manifest import manifest_for_package
from connector_common.saved_state import check_saved_states
from connector_common.speedups import switch_on_speedups
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

MANIFEST = str(Path(__file__).with_name("manifest.yaml"))
SECRET_FIELDS = ("apikey", "access_token", "client_secret", "client_id", "authorization_code", "refresh_token")


class SourceMailchimp(YamlDeclarativeSource):
    """The declarative source over the connector folder's manifest.yaml and components.py, as the stock runtime runs
    them (see connector_common.packaged_manifest)."""

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
        config_path: Optional[str] = None,
    ) -> None:
        super().__init__(
            MANIFEST, catalog=catalog, config=config, state=state, config_path=config_path
        )

    def _read_and_parse_yaml_file(self, path_to_yaml_file: str) -> Any:
        return manifest_for_package(path_to_yaml_file, "source_mailchimp.components")


def _print(message: AirbyteMessage) -> None:
    # One write per line (print() writes the text and the newline separately; a log could land in between).
    sys.stdout.write(filter_secrets(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()) + "\n")
    sys.stdout.flush()


class SecretMaskingStream(io.TextIOBase):
    """Everything the connector prints -- messages, logs, debug logs of outgoing requests -- goes through here, and
    every known secret is replaced by ****. The CDK's own filter only knows the spec's secret fields (not the
    basic-auth header, the base64 of the key), and its print buffer writes to the process's stdout directly."""

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

    def add_config(self, config: Any) -> None:
        credentials = config.get("credentials") if isinstance(config, Mapping) else None
        if not isinstance(credentials, Mapping):
            return
        for name in SECRET_FIELDS:
            self.add(credentials.get(name))
        apikey = credentials.get("apikey")
        if isinstance(apikey, str) and apikey:
            self.add(base64.b64encode(f"anystring:{apikey}".encode()).decode())

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


def _read_json(path: Optional[str], what: str) -> Any:
    if not path:
        raise AirbyteTracedException(
            message=f"The {what} file is required: pass --{what} PATH.", failure_type=FailureType.config_error
        )
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        message = f"The {what} file {path} does not exist."
    except (OSError, UnicodeDecodeError) as error:
        message = f"The {what} file {path} cannot be read ({type(error).__name__})."
    except ValueError as error:
        message = f"The {what} file {path} is not valid JSON (line {getattr(error, 'lineno', '?')})."
    raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)




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


def _build_source(verb: str, parsed: Any, masking: SecretMaskingStream) -> SourceMailchimp:
    if verb == "spec":
        return SourceMailchimp()
    config = _read_json(parsed.config, "config")
    if not isinstance(config, dict):
        raise AirbyteTracedException(
            message="The config file must hold a JSON object.", failure_type=FailureType.config_error
        )
    masking.add_config(config)
    catalog = state = None
    if verb == "read":
        _read_json(parsed.catalog, "catalog")
        try:
            catalog = SourceMailchimp.read_catalog(parsed.catalog)
        except Exception as error:
            raise AirbyteTracedException(
                message=f"The catalog file is not a valid configured catalog ({type(error).__name__}).",
                failure_type=FailureType.config_error,
            ) from None
        if parsed.state:
            _read_json(parsed.state, "state")
            try:
                state = SourceMailchimp.read_state(parsed.state)
            except Exception as error:
                raise AirbyteTracedException(
                    message=f"The state file is not a valid list of Airbyte state messages ({type(error).__name__}).",
                    failure_type=FailureType.config_error,
                ) from None
    # Built with the plain stdout: the only thing printed meanwhile is the CDK's CONTROL message carrying an updated
    # config (the access token an authorization code was exchanged for), which the platform must receive intact.
    sys.stdout = masking.unmasked
    try:
        source = SourceMailchimp(catalog=catalog, config=config, state=state, config_path=parsed.config)
    finally:
        sys.stdout = masking
    problem = config_problem(source._config)
    if problem is not None:  # the manifest's validation raises it too, inside a longer message
        raise problem
    if catalog is not None:
        _check_catalog(source, catalog)
    if state:
        check_saved_states(source.resolved_manifest, state)
    # An access token obtained from an authorization code was printed once, in the CONTROL message; never again.
    masking.add_config(source._config)
    return source


def _check_catalog(source: SourceMailchimp, catalog: ConfiguredAirbyteCatalog) -> None:
    """A catalog naming a stream this source does not have is the user's mistake: say which, instead of silently
    reading something else. Incremental asked of a full-refresh stream (PyAirbyte's default read asks it of every
    stream) reads that stream in full, as Airbyte's CDK does, and says so."""
    # From the manifest, not by building the streams (which the read does anyway).
    incremental = {stream.get("name"): "incremental_sync" in stream for stream in source.resolved_manifest["streams"]}
    unknown = [configured.stream.name for configured in catalog.streams if configured.stream.name not in incremental]
    for configured in catalog.streams:
        name = configured.stream.name
        if configured.sync_mode == SyncMode.incremental and not incremental.get(name, True):
            logging.getLogger("airbyte").warning(f"`{name}` has no incremental sync: it is read in full refresh.")
    if unknown:
        problems = [f"unknown stream `{name}`" for name in unknown]
        raise AirbyteTracedException(
            message="The configured catalog does not match this source: " + "; ".join(problems) + ".",
            failure_type=FailureType.config_error,
        )


def _fail(verb: str, error: Exception) -> int:
    traced = (
        error
        if isinstance(error, AirbyteTracedException)
        else AirbyteTracedException.from_exception(error, message=f"source-mailchimp {verb} failed: {type(error).__name__}")
    )
    if verb == "check" and traced.failure_type == FailureType.config_error:
        _print(
            AirbyteMessage(
                type=Type.CONNECTION_STATUS,
                connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=traced.message),
            )
        )
        return 0
    _print(traced.as_sanitized_airbyte_message())
    return 1


def run(args: Optional[List[str]] = None) -> None:
    speedups_on, speedups = switch_on_speedups()
    args = sys.argv[1:] if args is None else list(args)
    parsed = AirbyteEntrypoint.parse_args(args)
    verb = parsed.command
    original = sys.stdout
    masking = SecretMaskingStream(original)
    rerouted = _route_output_through(masking)
    try:
        if not speedups_on:
            logging.getLogger("airbyte").info(speedups)
        exit_code = _run(verb, parsed, args, masking)
    finally:
        masking.flush()
        _restore_output(original, rerouted)
    if exit_code:
        sys.exit(exit_code)


def _run(verb: str, parsed: Any, args: List[str], masking: SecretMaskingStream) -> int:
    try:
        source = _build_source(verb, parsed, masking)
    except Exception as error:  # every failure becomes an Airbyte message
        return _fail(verb, error)
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
        return _fail(verb, error)
    return 0


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


if __name__ == "__main__":
    run()
