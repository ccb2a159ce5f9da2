"""Console entry point `source-campaign-monitor` (spec, check, discover, read), as Airbyte's `launch`.

Before the CDK sees anything, the config, catalog and state files are read and checked here, so that a bad input ends as
a failed `check` or an Airbyte TRACE error naming what is wrong, never as a bare traceback.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Mapping, MutableMapping, Optional
from urllib.parse import urlsplit

import orjson

from connector_common.saved_state import check_saved_states, drop_global_fallback
from connector_common.speedups import switch_on_speedups

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
    Level,
    Status,
    SyncMode,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.source import Source
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets, update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

MANIFEST = Path(__file__).parent / "manifest.yaml"
SECRET_FIELDS = ("api_key", "client_secret", "refresh_token", "access_token", "authorization_code")
LOOPBACK_NAMES = {"localhost"}
# Streams started first: the CDK starts streams in catalog order, a few at a time, and reads the pages of a partition
# one after the other. A list's subscribers (thousands, several pages each) started last were the tail of the sync,
# read with one or two requests in flight; started first, the one-page partitions of the other streams fill the gaps.
READ_FIRST = ("list_active_subscribers", "campaign_recipients", "campaign_opens", "campaign_clicks")


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def normalize_config(config: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """The config with its credentials in the spec's shape. Flat configs (the Singer tap's `client_id`,
    `client_secret`, `refresh_token`, `redirect_uri`, or an `api_key` / `username` at the top) are accepted and moved
    under `credentials`."""
    config = dict(config)
    if not isinstance(config.get("credentials"), dict):
        if config.get("api_key") or config.get("username"):
            config["credentials"] = {"auth_type": "api_key", "api_key": config.get("api_key") or config.get("username")}
        elif config.get("client_id") or config.get("refresh_token") or config.get("authorization_code"):
            config["credentials"] = {
                "auth_type": "oauth2.0",
                **{k: config[k] for k in ("client_id", "client_secret", "refresh_token", "authorization_code",
                                          "redirect_uri", "access_token") if config.get(k)},
            }
    credentials = config.get("credentials")
    if isinstance(credentials, dict):
        credentials = dict(credentials)
        auth_type = str(credentials.get("auth_type") or "").lower().replace("_", "").replace(" ", "")
        if auth_type in ("apikey", "key", "basic", "username"):
            credentials["auth_type"] = "api_key"
        elif auth_type in ("oauth2.0", "oauth2", "oauth"):
            credentials["auth_type"] = "oauth2.0"
        elif not auth_type:
            credentials["auth_type"] = "api_key" if credentials.get("api_key") else "oauth2.0"
        config["credentials"] = credentials
    return config


def register_secrets(config: Mapping[str, Any]) -> None:
    """Masks every secret of the config in all output from here on (the CDK registers them only once it launches)."""
    credentials = config.get("credentials") if isinstance(config.get("credentials"), dict) else {}
    values = [str(v) for source in (config, credentials) for k, v in source.items() if k in SECRET_FIELDS and v]
    update_secrets(values + derived_secrets(config))


def derived_secrets(config: Mapping[str, Any]) -> List[str]:
    """Secrets computed from the config: the Basic authorization value (base64 of "<api_key>:x") that the CDK prints
    with the request headers in --debug logs, where masking the key itself does not help."""
    credentials = config.get("credentials") if isinstance(config.get("credentials"), dict) else {}
    api_key = credentials.get("api_key")
    if not api_key:
        return []
    return [base64.b64encode(f"{api_key}:x".encode("utf-8")).decode("ascii")]


def config_problems(config: Mapping[str, Any]) -> List[str]:
    """What is wrong with the settings, each message naming its field. Empty when the config is usable."""
    problems: List[str] = []
    credentials = config.get("credentials")
    if not isinstance(credentials, dict):
        return ["credentials: missing; give credentials.api_key, or credentials.client_id, client_secret and refresh_token"]
    auth_type = credentials.get("auth_type")
    if auth_type == "api_key":
        if not isinstance(credentials.get("api_key"), str) or not credentials["api_key"].strip():
            problems.append("credentials.api_key: must be a non-empty string")
    elif auth_type == "oauth2.0":
        for name in ("client_id", "client_secret"):
            value = credentials.get(name)
            if not isinstance(value, (str, int)) or not str(value).strip():
                problems.append(f"credentials.{name}: required for OAuth")
        if not credentials.get("refresh_token") and not credentials.get("authorization_code"):
            problems.append("credentials.refresh_token: required for OAuth (or credentials.authorization_code)")
        if credentials.get("authorization_code") and not credentials.get("refresh_token") and not credentials.get("redirect_uri"):
            problems.append("credentials.redirect_uri: required to exchange credentials.authorization_code")
        for name in ("refresh_token", "authorization_code", "redirect_uri"):
            if credentials.get(name) is not None and not isinstance(credentials.get(name), str):
                problems.append(f"credentials.{name}: must be a string")
    else:
        problems.append(f"credentials.auth_type: must be 'api_key' or 'oauth2.0', not {auth_type!r}")
    api_client_id = config.get("api_client_id")
    if api_client_id is not None and not isinstance(api_client_id, str):
        problems.append("api_client_id: must be a string (a Campaign Monitor client id) or empty")
    start_date = config.get("start_date")
    if start_date not in (None, ""):
        parsed = _parse_start_date(start_date)
        if parsed is None:
            problems.append(f"start_date: {start_date!r} is not a date-time such as 2024-01-01T00:00:00Z")
        elif parsed > datetime.now(timezone.utc):
            problems.append(f"start_date: {start_date!r} is in the future")
    num_workers = config.get("num_workers")
    if num_workers is not None and (not isinstance(num_workers, int) or isinstance(num_workers, bool) or not 1 <= num_workers <= 20):
        problems.append("num_workers: must be an integer from 1 to 20")
    lookback = config.get("lookback_window_minutes")
    if lookback is not None and (not isinstance(lookback, int) or isinstance(lookback, bool) or not 0 <= lookback <= 1440):
        problems.append("lookback_window_minutes: must be an integer from 0 to 1440")
    sandbox_url = config.get("sandbox_url")
    if sandbox_url not in (None, "") and not is_loopback_http_url(sandbox_url):
        problems.append("sandbox_url: only an http:// URL on a loopback host (127.0.0.0/8, localhost, [::1]) is accepted")
    return problems


def _parse_start_date(value: Any) -> Optional[datetime]:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def is_loopback_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    if parts.scheme != "http" or not host or parts.username or parts.password:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SourceCampaignMonitor(YamlDeclarativeSource):
    """The manifest source, with the settings checked (and flat configs normalised) before any request."""

    def __init__(self, catalog=None, config=None, state=None, config_path=None) -> None:
        register_sync_inputs(catalog, state)
        super().__init__(path_to_yaml=str(MANIFEST), catalog=catalog, config=config, state=state, config_path=config_path)

    def _select_streams(self, streams, configured_catalog):  # type: ignore[override]
        """The catalog's streams, those with long chains of sequential pages first (see READ_FIRST)."""
        selected = super()._select_streams(streams, configured_catalog)
        rank = {name: index for index, name in enumerate(READ_FIRST)}
        return sorted(selected, key=lambda stream: rank.get(stream.name, len(rank)))

    def read_config(self, config_path: str) -> Mapping[str, Any]:
        return normalize_config(read_json_file(config_path, "config"))

    def read_state(self, state_path: str) -> list:
        if not state_path:
            return []
        raw = read_json_file(state_path, "state")
        return [AirbyteStateMessageSerializer.load(item) for item in without_global_fallback(raw or [])]

    def read(self, logger, config, catalog, state=None):  # type: ignore[override]
        # the entrypoint replaced the secret list with the config's own secrets just before calling this
        for secret in derived_secrets(config):
            add_to_secrets(secret)
        yield from super().read(logger, config, catalog, state)

    def discover(self, logger, config):  # type: ignore[override]
        for secret in derived_secrets(config):
            add_to_secrets(secret)
        return super().discover(logger, config)

    def check(self, logger, config):  # type: ignore[override]
        for secret in derived_secrets(config):
            add_to_secrets(secret)
        problems = config_problems(config)
        if problems:
            return AirbyteConnectionStatus(status=Status.FAILED, message="Invalid settings: " + "; ".join(problems))
        return super().check(logger, config)


def register_sync_inputs(catalog: Optional[ConfiguredAirbyteCatalog], state: Optional[list]) -> None:
    """Tells the components which streams this sync reads incrementally and from which states (a new sync: the
    parent listings and summaries shared between streams are forgotten)."""
    from source_campaign_monitor.components import SyncInputs

    incremental = [
        configured.stream.name
        for configured in (catalog.streams if catalog is not None else [])
        if configured.sync_mode == SyncMode.incremental
    ]
    states: dict[str, Mapping[str, Any]] = {}
    for message in state or []:
        raw = AirbyteStateMessageSerializer.dump(message) if not isinstance(message, dict) else message
        stream = raw.get("stream") or {}
        name = (stream.get("stream_descriptor") or {}).get("name")
        if name and isinstance(stream.get("stream_state"), dict):
            states[name] = stream["stream_state"]
    SyncInputs.register(incremental, states)


def manifest_streams() -> tuple[set[str], set[str]]:
    """The names of the manifest's streams and those with an incremental sync, read from the YAML itself (building
    the declarative source only to list its streams costs about a second)."""
    manifest = safe_load_yaml(MANIFEST.read_text(encoding="utf-8"))

    def resolved(node: Mapping[str, Any]) -> dict:
        ref = node.get("$ref")
        base = resolved(manifest["definitions"][ref.split("/")[-1]]) if ref else {}
        merged = {**base, **{k: v for k, v in node.items() if k != "$ref"}}
        merged["$parameters"] = {**base.get("$parameters", {}), **node.get("$parameters", {})}
        return merged

    names: set[str] = set()
    incremental: set[str] = set()
    for node in manifest["streams"]:
        stream = resolved(node)
        name = stream.get("name") or stream["$parameters"]["name"]
        names.add(name)
        if stream.get("incremental_sync"):
            incremental.add(name)
    return names, incremental


def read_json_file(path: Optional[str], what: str) -> Any:
    if not path:
        raise _config_error(f"The {what} file is missing.")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise _config_error(f"The {what} file {path} cannot be read ({error.strerror or type(error).__name__}).")
    except UnicodeDecodeError:
        raise _config_error(f"The {what} file {path} is not UTF-8 text (not valid JSON).")
    try:
        return json.loads(text)
    except ValueError as error:
        raise _config_error(f"The {what} file {path} is not valid JSON ({error.msg} at line {error.lineno}).")


def _argument(args: List[str], name: str) -> Optional[str]:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _load_catalog(path: str, stream_names: set[str], incremental: set[str]) -> ConfiguredAirbyteCatalog:
    raw = read_json_file(path, "catalog")
    try:
        catalog = ConfiguredAirbyteCatalogSerializer.load(raw)
    except Exception:
        raise _config_error(f"The catalog file {path} is not a configured Airbyte catalog.")
    for configured in catalog.streams:
        name = configured.stream.name
        if name not in stream_names:
            raise _config_error(f"The catalog names an unknown stream {name!r}; streams are: {', '.join(sorted(stream_names))}.")
        if configured.sync_mode == SyncMode.incremental and name not in incremental:
            # PyAirbyte's default read asks incremental of every stream; Airbyte's CDK reads such a stream in full.
            logging.getLogger("airbyte").warning(f"Stream {name!r} has no incremental sync: it is read in full refresh.")
    return catalog


def _load_state(path: Optional[str], stream_names: set[str]) -> list:
    if not path:
        return []
    raw = read_json_file(path, "state")
    if raw in (None, {}, []):
        return []
    if isinstance(raw, dict):
        raise _config_error(
            f"The state file {path} holds a legacy (pre per-stream) state object; give a list of STREAM state messages."
        )
    if not isinstance(raw, list):
        raise _config_error(f"The state file {path} must hold a list of state messages.")
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in ("STREAM", None) or not isinstance(item.get("stream"), dict):
            raise _config_error(f"The state file {path} holds an entry that is not a STREAM state message.")
        stream = item["stream"]
        descriptor = stream.get("stream_descriptor") or {}
        name = descriptor.get("name")
        if name not in stream_names:
            raise _config_error(f"The state file {path} holds state of an unknown stream {name!r}.")
        stream_state = stream.get("stream_state")
        if stream_state is not None and not isinstance(stream_state, dict):
            raise _config_error(f"The state of stream {name!r} in {path} is not an object.")
    try:
        return [AirbyteStateMessageSerializer.load(item) for item in without_global_fallback(raw)]
    except Exception:
        raise _config_error(f"The state file {path} is not a list of Airbyte state messages.")


def without_global_fallback(state_messages: list) -> list:
    """Copies of the state messages without the CDK's global fallback cursor (see connector_common.saved_state)."""
    cleaned = []
    for item in state_messages:
        item = json.loads(json.dumps(item))
        stream_state = (item.get("stream") or {}).get("stream_state")
        if isinstance(stream_state, dict):
            drop_global_fallback(stream_state)
        cleaned.append(item)
    return cleaned


ERROR_TRACE_PREFIX = '{"type":"TRACE","trace":{"type":"ERROR"'


def _emit(message: AirbyteMessage) -> None:
    line = orjson.dumps(AirbyteMessageSerializer.dump(message)).decode()
    print(line, flush=True)


def _reported(message: str, stream_failures: List[str]) -> str:
    """A message as printed: a stream error whose retries ran out is a `transient_error` for the CDK, but Airbyte's
    contract for a failed sync is config_error (the user must act) or system_error (everything else)."""
    if message.startswith(ERROR_TRACE_PREFIX):
        try:
            parsed = json.loads(message)
            error = parsed["trace"]["error"]
            if error.get("failure_type") not in ("config_error", "system_error"):
                error["failure_type"] = "system_error"
                message = json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
            stream_failures.append(error["failure_type"])
        except (ValueError, KeyError, TypeError):
            pass
    return message


def _launch(source: Source, args: List[str]) -> None:
    """The CDK's `launch`, with every message passed through `_reported`. The CDK's end-of-sync summary error calls a
    sync whose retries ran out a config error; it is a system error unless every stream failed for config."""
    entrypoint = AirbyteEntrypoint(source)
    parsed = entrypoint.parse_args(args)
    stream_failures: List[str] = []
    with PRINT_BUFFER:
        try:
            for message in entrypoint.run(parsed):
                print(f"{_reported(message, stream_failures)}\n", end="")
        except AirbyteTracedException as error:
            if any(failure != "config_error" for failure in stream_failures):
                error.failure_type = FailureType.system_error
            raise


def run(args: Optional[List[str]] = None) -> None:
    speedups_on, speedups = switch_on_speedups()
    args = list(sys.argv[1:] if args is None else args)
    try:
        if not speedups_on:
            _emit(AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=speedups)))
        verb = args[0] if args else ""
        catalog = None
        state: list = []
        config: Optional[Mapping[str, Any]] = None
        if verb in ("check", "discover", "read"):
            raw_config = read_json_file(_argument(args, "--config"), "config")
            if not isinstance(raw_config, dict):
                raise _config_error("The config file must hold a JSON object.")
            config = normalize_config(raw_config)
            register_secrets(config)
            problems = config_problems(config)
            if problems:
                if verb == "check":
                    status = AirbyteConnectionStatus(status=Status.FAILED, message="Invalid settings: " + "; ".join(problems))
                    _emit(AirbyteMessage(type=Type.CONNECTION_STATUS, connectionStatus=status))
                    return
                raise _config_error("Invalid settings: " + "; ".join(problems))
        if verb == "read":
            names, incremental = manifest_streams()
            catalog = _load_catalog(_argument(args, "--catalog") or "", names, incremental)
            state = _load_state(_argument(args, "--state"), names)
        source = SourceCampaignMonitor(catalog=catalog, config=config, state=state, config_path=_argument(args, "--config"))
        check_saved_states(source.resolved_manifest, state)
        _launch(source, args)
    except AirbyteTracedException as error:
        _emit(error.as_airbyte_message())
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as error:  # a clean TRACE, never a bare traceback
        traced = AirbyteTracedException(
            message=f"source-campaign-monitor failed: {filter_secrets(str(error)) or type(error).__name__}",
            internal_message=filter_secrets(repr(error)),
            failure_type=FailureType.system_error,
        )
        _emit(traced.as_airbyte_message())
        sys.exit(1)


if __name__ == "__main__":
    run()
