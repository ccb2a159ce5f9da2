"""The stock-runtime harness (integration_tests/stock_runtime.py) on a connector small enough to see whole: one stream
against an HTTP server on 127.0.0.1, with one custom component in its components.py.

spec, check, discover and read work on the stock runtime in each of its modes (injected config, the manifest-only
image's layout, the CLI's path options), the custom component runs, the injected code is refused when its checksum
does not match or AIRBYTE_ENABLE_UNSAFE_CODE is unset, and an import of this repository's packages from components.py
fails there: the runtime is isolated from the repository, as it is on Airbyte.

.venv-stock is made by scripts/stock_runtime_setup.sh (about a minute the first time, instant afterwards); the tests
are skipped only when the package registry cannot be reached to make it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from integration_tests.harness import configured_catalog
from integration_tests.stock_runtime import StockRuntimeUnavailable, ensure_stock_runtime, injected_config, run_stock

API_KEY = "stock-runtime-key"
ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 8)]
PAGE_SIZE = 3

MANIFEST = """\
version: 7.39.1
type: DeclarativeSource
check:
  type: CheckStream
  stream_names: [items]
definitions:
  requester:
    type: HttpRequester
    url_base: "{{ config['base_url'] }}"
    http_method: GET
    authenticator:
      type: ApiKeyAuthenticator
      api_token: "{{ config['api_key'] }}"
      inject_into:
        type: RequestOption
        inject_into: header
        field_name: X-Api-Key
streams:
  - type: DeclarativeStream
    name: items
    primary_key: [id]
    retriever:
      type: SimpleRetriever
      requester:
        $ref: "#/definitions/requester"
        path: /items
      record_selector:
        type: RecordSelector
        extractor:
          type: DpathExtractor
          field_path: [items]
      paginator:
        type: DefaultPaginator
        page_token_option:
          type: RequestOption
          inject_into: request_parameter
          field_name: offset
        pagination_strategy:
          type: OffsetIncrement
          page_size: 3
          inject_on_first_request: false
        page_size_option:
          type: RequestOption
          inject_into: request_parameter
          field_name: limit
    transformations:
      - type: CustomTransformation
        class_name: source_declarative_manifest.components.AddNameLength
    schema_loader:
      type: InlineSchemaLoader
      schema:
        $schema: http://json-schema.org/draft-07/schema#
        type: object
        properties:
          id: {type: integer}
          name: {type: string}
          name_length: {type: integer}
spec:
  type: Spec
  connection_specification:
    $schema: http://json-schema.org/draft-07/schema#
    type: object
    required: [api_key, base_url]
    properties:
      api_key: {type: string, airbyte_secret: true}
      base_url: {type: string}
"""

COMPONENTS = """\
from dataclasses import dataclass
from typing import Any, Mapping, MutableMapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation


@dataclass
class AddNameLength(RecordTransformation):
    def transform(self, record: MutableMapping[str, Any], config: Optional[Mapping[str, Any]] = None,
                  stream_state: Optional[Mapping[str, Any]] = None, stream_slice: Optional[Any] = None) -> None:
        record["name_length"] = len(record["name"])
"""


class _Items(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != "/items":
            return self._send(404, {"error": "not found"})
        if self.headers.get("X-Api-Key") != API_KEY:
            return self._send(401, {"error": "bad key"})
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", PAGE_SIZE))
        self._send(200, {"items": ITEMS[offset : offset + limit]})

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def stock() -> Path:
    try:
        return ensure_stock_runtime()
    except StockRuntimeUnavailable as unreachable:
        pytest.skip(f"airbyte-cdk cannot be installed into .venv-stock: the package registry is unreachable ({unreachable})")


@pytest.fixture(scope="module")
def api() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Items)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def connector(tmp_path) -> tuple[Path, Path]:
    manifest, components = tmp_path / "manifest.yaml", tmp_path / "components.py"
    manifest.write_text(MANIFEST)
    components.write_text(COMPONENTS)
    return manifest, components


def config(api: str, key: str = API_KEY) -> dict:
    return {"api_key": key, "base_url": api}


MODES = ["injected", "image", "paths"]


@pytest.mark.parametrize("mode", MODES)
def test_check_discover_and_read_run_the_custom_component_on_the_stock_runtime(stock, api, connector, tmp_path, mode):
    manifest, components = connector
    check = run_stock(manifest, components, "check", tmp_path, config=config(api), mode=mode)
    assert check.connection_status() == {"status": "SUCCEEDED"}, check.output

    failed = run_stock(manifest, components, "check", tmp_path, config=config(api, key="wrong"), mode=mode)
    assert failed.connection_status()["status"] == "FAILED", failed.output

    discovered = run_stock(manifest, components, "discover", tmp_path, config=config(api), mode=mode)
    assert discovered.returncode == 0, discovered.output
    (stream,) = discovered.catalog()["streams"]
    assert stream["name"] == "items" and stream["source_defined_primary_key"] == [["id"]]

    read = run_stock(
        manifest, components, "read", tmp_path, config=config(api),
        catalog=configured_catalog(discovered.catalog()), mode=mode,
    )
    assert read.returncode == 0, read.output
    assert read.records("items") == [{**item, "name_length": len(item["name"])} for item in ITEMS]
    assert not read.errors() and not read.bare_tracebacks()


def test_spec_injected_answers_the_runtimes_generic_spec(stock, connector, tmp_path):
    """Where the manifest is injected, the platform reads the connector's spec from the manifest itself; the runtime's
    own `spec` describes the injected keys."""
    manifest, components = connector
    spec = run_stock(manifest, components, "spec", tmp_path).spec()
    assert "__injected_declarative_manifest" in spec["connectionSpecification"]["properties"]


@pytest.mark.parametrize("mode", ["image"])
def test_spec_in_the_image_is_the_manifests(stock, connector, tmp_path, mode):
    manifest, components = connector
    spec = run_stock(manifest, components, "spec", tmp_path, mode=mode).spec()
    assert spec["connectionSpecification"]["required"] == ["api_key", "base_url"]


@pytest.mark.parametrize("mode", MODES)
def test_components_importing_this_repository_fail_on_the_stock_runtime(stock, api, connector, tmp_path, mode):
    manifest, components = connector
    components.write_text("import connector_common  # noqa: F401\n" + COMPONENTS)
    run = run_stock(manifest, components, "check", tmp_path, config=config(api), mode=mode)
    assert run.returncode != 0 or run.connection_status()["status"] == "FAILED"
    assert "No module named 'connector_common'" in run.output, run.output


def test_injected_components_are_refused_when_the_checksum_does_not_match(stock, api, connector, tmp_path):
    manifest, components = connector
    injected = injected_config(manifest, components, config(api))
    injected["__injected_components_py"] += "\n# changed after the checksum was taken\n"
    # No components path: run_stock keeps the code and checksums the config already carries.
    run = run_stock(manifest, None, "check", tmp_path, config=injected)
    assert run.returncode != 0
    assert "checksum does not match" in run.output, run.output


def test_injected_components_need_the_unsafe_code_flag(stock, api, connector, tmp_path):
    manifest, components = connector
    run = run_stock(
        manifest, components, "check", tmp_path, config=config(api), env={"AIRBYTE_ENABLE_UNSAFE_CODE": "false"}
    )
    assert run.returncode != 0
    assert "AIRBYTE_ENABLE_UNSAFE_CODE" in run.output, run.output


# What injected code cannot do that an imported module can: the CDK exec()s the text into a fresh module object
# before registering it in sys.modules, and that module has no file.
INJECTION_LIMITS = {
    # dataclasses resolves string annotations through sys.modules[cls.__module__], not registered yet
    "future-annotations-dataclass": (
        "from __future__ import annotations\nfrom dataclasses import InitVar\n" + COMPONENTS.replace(
            "class AddNameLength(RecordTransformation):\n",
            "class AddNameLength(RecordTransformation):\n    parameters: InitVar[Mapping[str, Any]] = None\n",
        ),
        "'NoneType' object has no attribute '__dict__'",
    ),
    # data files beside components.py (timezones.json) cannot be found from __file__
    "dunder-file": (
        "from pathlib import Path\nHERE = Path(__file__).parent\n" + COMPONENTS,
        "name '__file__' is not defined",
    ),
}


@pytest.mark.parametrize("limit", INJECTION_LIMITS)
def test_code_that_imports_as_a_module_but_fails_when_injected(stock, api, connector, tmp_path, limit):
    manifest, components = connector
    text, error = INJECTION_LIMITS[limit]
    components.write_text(text)
    image = run_stock(manifest, components, "check", tmp_path, config=config(api), mode="image")
    assert image.connection_status() == {"status": "SUCCEEDED"}, image.output
    injected = run_stock(manifest, components, "check", tmp_path, config=config(api))
    assert injected.returncode != 0
    assert error in injected.output, injected.output
