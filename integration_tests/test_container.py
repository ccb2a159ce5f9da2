"""The Docker image of each connector, built from the top-level Dockerfile and run the way Airbyte runs it:
`spec`, `check` and `read` inside the container (host network, config mounted at /secrets) answer exactly what the
same command answers outside it, against the local sandbox.

There is no Docker engine here: scripts/container.sh installs podman/runc/debootstrap with apt-get when they are
missing and builds a local Debian base image once (run `scripts/container.sh setup` beforehand to keep that minute out
of the test). The tests skip only when podman cannot be installed at all (no apt-get); a Dockerfile that does not
build, or an image that misbehaves, fails them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from integration_tests.harness import SourceRun, configured_catalog, parse_run, run_source

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "container.sh"
NO_APT = 3  # scripts/container.sh's exit status when the tools are missing and apt-get is not there to install them
PODMAN_RUN = ["podman", "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=1024:1024",
              "--ulimit", "nproc=4096:4096", "--network", "host"]


def _mailchimp_sandbox() -> Any:
    from sandbox.mailchimp import MailchimpSandbox

    return MailchimpSandbox(scale=0.05, seed=3)


def _campaign_monitor_sandbox() -> Any:
    from sandbox.campaign_monitor import CampaignMonitorSandbox

    return CampaignMonitorSandbox(scale=0.02, seed=3)


# connector -> (sandbox factory, the streams the container read covers)
CONNECTORS: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "source-mailchimp": (_mailchimp_sandbox, ["lists", "campaigns", "list_segments"]),
    "source-campaign-monitor": (_campaign_monitor_sandbox, ["lists", "campaigns", "campaign_summary"]),
}


def metadata(connector: str) -> dict[str, Any]:
    """The connector's own metadata.yaml (the image name and tag are the same for the Python image built here)."""
    return yaml.safe_load((ROOT / connector.replace("-", "_") / "metadata.yaml").read_text())["data"]


@pytest.fixture(scope="module")
def podman() -> None:
    completed = subprocess.run(["bash", str(SCRIPT), "setup"], capture_output=True, text=True, timeout=900)
    if completed.returncode == NO_APT:
        pytest.skip(f"podman cannot be installed on this machine: {completed.stderr.strip()}")
    assert completed.returncode == 0, f"scripts/container.sh setup failed:\n{completed.stderr[-3000:]}"


@pytest.fixture(scope="module")
def images(podman: None) -> Callable[[str], str]:
    """Builds each connector's image once per module (the package layer is shared, so the second build is quick)."""
    built: dict[str, str] = {}

    def image(connector: str) -> str:
        if connector not in built:
            tag = f"localhost/{connector}:test"
            completed = subprocess.run(
                ["bash", str(SCRIPT), "build", connector, tag], capture_output=True, text=True, timeout=900
            )
            assert completed.returncode == 0, f"building {tag} failed:\n{(completed.stdout + completed.stderr)[-4000:]}"
            built[connector] = tag
        return built[connector]

    return image


@pytest.fixture(scope="module")
def sandboxes() -> Any:
    """One running sandbox per connector, started on first use and stopped at the end of the module."""
    started: dict[str, Any] = {}

    def sandbox(connector: str) -> Any:
        if connector not in started:
            sb = CONNECTORS[connector][0]()
            sb.__enter__()
            started[connector] = sb
        return started[connector]

    yield sandbox
    for sb in started.values():
        sb.__exit__(None, None, None)


def run_in_container(
    image: str,
    verb: str,
    workdir: Path,
    *,
    config: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    timeout: float = 300,
) -> SourceRun:
    """`IMAGE verb --config /secrets/config.json ...` with the files mounted read-only at /secrets, as Airbyte's docs
    run a connector image; stdout parsed like the harness parses the installed command's."""
    secrets = workdir / "secrets"
    secrets.mkdir(exist_ok=True)
    secrets.chmod(0o755)  # the image runs as the non-root airbyte user
    argv = [verb]
    for name, content in (("config", config), ("catalog", catalog), ("state", state)):
        if content is not None:
            path = secrets / f"{name}.json"
            path.write_text(json.dumps(content))
            path.chmod(0o644)
            argv += [f"--{name}", f"/secrets/{name}.json"]
    completed = subprocess.run(
        [*PODMAN_RUN, "-v", f"{secrets}:/secrets:ro", image, *argv], capture_output=True, text=True, timeout=timeout
    )
    return parse_run(completed)


def api_key_config(spec: dict[str, Any], api_key: str, sandbox_url: str) -> dict[str, Any]:
    """A config that authenticates with an API key, built from the connector's own spec (its credentials option whose
    field is the API key, with that option's constant discriminator), pointed at the sandbox."""
    properties = spec["connectionSpecification"]["properties"]
    for option in properties["credentials"].get("oneOf", []):
        fields = option.get("properties", {})
        key_field = next((name for name in fields if name.replace("_", "").lower() == "apikey"), None)
        if key_field:
            credentials = {name: p["const"] for name, p in fields.items() if "const" in p}
            credentials[key_field] = api_key
            return {"credentials": credentials, "sandbox_url": sandbox_url}
    raise AssertionError("the spec has no API key credentials option")


def sorted_records(run: SourceRun) -> dict[str, list[str]]:
    return {stream: sorted(json.dumps(r, sort_keys=True) for r in records)
            for stream, records in run.records_by_stream().items()}


def test_setup_exits_with_no_apt_status_when_podman_is_missing_and_apt_get_too(tmp_path):
    """The one case in which these tests skip: podman is missing and cannot be installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dirname").symlink_to(shutil.which("dirname"))
    completed = subprocess.run(
        [shutil.which("bash"), str(SCRIPT), "setup"], capture_output=True, text=True, timeout=60,
        env={"PATH": str(bin_dir)},
    )
    assert completed.returncode == NO_APT, completed.stderr
    assert "no apt-get" in completed.stderr


@pytest.mark.parametrize("connector", CONNECTORS)
def test_image_runs_as_non_root_through_airbyte_entrypoint_with_registry_labels(images, connector):
    inspected = subprocess.run(
        ["podman", "image", "inspect", images(connector)], capture_output=True, text=True, check=True
    )
    config = json.loads(inspected.stdout)[0]["Config"]
    env = dict(item.split("=", 1) for item in config.get("Env", []))
    assert config["Entrypoint"] == [env["AIRBYTE_ENTRYPOINT"]]
    assert config["Labels"]["io.airbyte.name"] == metadata(connector)["dockerRepository"]
    assert config["Labels"]["io.airbyte.version"] == metadata(connector)["dockerImageTag"]
    whoami = subprocess.run(
        [*PODMAN_RUN, "--entrypoint", "id", images(connector), "-un"], capture_output=True, text=True, timeout=120
    )
    assert whoami.stdout.strip() == "airbyte", whoami.stderr


@pytest.mark.parametrize("connector", CONNECTORS)
def test_spec_in_container_equals_spec_of_installed_command(images, tmp_path, connector):
    inside = run_in_container(images(connector), "spec", tmp_path)
    outside = run_source(connector, "spec", tmp_path)
    assert inside.returncode == 0, inside.output[-3000:]
    assert inside.spec() == outside.spec()
    assert inside.spec()["connectionSpecification"]["properties"]["sandbox_url"].get("airbyte_hidden") is True


@pytest.mark.parametrize("connector", CONNECTORS)
def test_check_in_container_succeeds_with_sandbox_credentials_and_fails_naming_no_secret(
    images, sandboxes, tmp_path, connector
):
    sb = sandboxes(connector)
    spec = run_source(connector, "spec", tmp_path).spec()
    good = run_in_container(images(connector), "check", tmp_path, config=api_key_config(spec, sb.api_key, sb.url))
    assert good.connection_status()["status"] == "SUCCEEDED", good.output[-3000:]

    wrong_key = "0" * 32 + "-us6"
    bad = run_in_container(images(connector), "check", tmp_path, config=api_key_config(spec, wrong_key, sb.url))
    assert bad.connection_status()["status"] == "FAILED", bad.output[-3000:]
    assert wrong_key not in bad.output and sb.api_key not in bad.output


@pytest.mark.parametrize("connector", CONNECTORS)
def test_discover_in_container_equals_discover_of_installed_command(images, sandboxes, tmp_path, connector):
    sb = sandboxes(connector)
    spec = run_source(connector, "spec", tmp_path).spec()
    config = api_key_config(spec, sb.api_key, sb.url)
    inside = run_in_container(images(connector), "discover", tmp_path, config=config)
    outside = run_source(connector, "discover", tmp_path, config=config)
    assert inside.returncode == 0, inside.output[-3000:]
    assert inside.catalog() == outside.catalog()
    assert inside.catalog()["streams"]


@pytest.mark.parametrize("connector", CONNECTORS)
def test_read_in_container_emits_the_records_of_the_same_read_outside(images, sandboxes, tmp_path, connector):
    sb = sandboxes(connector)
    spec = run_source(connector, "spec", tmp_path).spec()
    config = api_key_config(spec, sb.api_key, sb.url)
    discovered = run_source(connector, "discover", tmp_path, config=config).catalog()
    names = [s["name"] for s in discovered["streams"]]
    streams = CONNECTORS[connector][1]
    assert set(streams) <= set(names)
    catalog = configured_catalog(discovered, streams)

    outside = run_source(connector, "read", tmp_path, config=config, catalog=catalog)
    inside = run_in_container(images(connector), "read", tmp_path, config=config, catalog=catalog)

    assert inside.returncode == 0 and not inside.errors(), inside.output[-3000:]
    assert outside.returncode == 0 and not outside.errors(), outside.output[-3000:]
    assert set(inside.records_by_stream()) == set(streams)
    assert sorted_records(inside) == sorted_records(outside)
    assert sb.api_key not in inside.output


def test_build_refuses_a_connector_the_package_does_not_provide(podman):
    completed = subprocess.run(
        ["bash", str(SCRIPT), "build", "source-mailchimps", "localhost/source-mailchimps:test"],
        capture_output=True, text=True, timeout=900,
    )
    assert completed.returncode != 0
    assert "CONNECTOR must be source-mailchimp or source-campaign-monitor" in completed.stdout + completed.stderr


# Airbyte's python-connector-base, as far as the Dockerfile relies on it: Debian with python3, run as root, and a
# system user `airbyte` with uid 1000 (its group a system group) owning /airbyte, /secrets and /config.
AIRBYTE_LIKE_BASE = """\
FROM {base}
RUN groupadd --system airbyte \\
    && useradd --system --uid 1000 --gid airbyte --no-create-home --home-dir /nonexistent airbyte \\
    && mkdir --mode 755 /airbyte /secrets /config \\
    && chown airbyte:airbyte /airbyte /secrets /config
"""


def podman_build(context: Path, tag: str, *build_args: str) -> None:
    completed = subprocess.run(
        ["podman", "build", "--isolation", "chroot", "-q", "-t", tag,
         *[f"--build-arg={arg}" for arg in build_args], str(context)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def test_dockerfile_base_setup_keeps_the_airbyte_user_of_a_base_that_has_it(podman, tmp_path):
    """The images above are built on a plain Debian base, where the Dockerfile creates the airbyte user; on Airbyte's
    base the user already exists. This builds the Dockerfile's base setup (everything before its first WORKDIR: no
    package install, so it takes seconds) on a base made like Airbyte's, and checks the user is kept as it was."""
    local_base = subprocess.run(["bash", str(SCRIPT), "base-image"], capture_output=True, text=True, check=True)
    base_dir, setup_dir = tmp_path / "base", tmp_path / "setup"
    base_dir.mkdir()
    setup_dir.mkdir()
    (base_dir / "Containerfile").write_text(AIRBYTE_LIKE_BASE.format(base=local_base.stdout.strip()))
    podman_build(base_dir, "localhost/airbyte-like-python-connector-base:test")

    dockerfile = (ROOT / "Dockerfile").read_text()
    (setup_dir / "Containerfile").write_text(dockerfile[: dockerfile.index("\nWORKDIR ")] + "\n")
    podman_build(setup_dir, "localhost/dockerfile-base-setup:test",
                 "BASE_IMAGE=localhost/airbyte-like-python-connector-base:test")

    probe = subprocess.run(
        [*PODMAN_RUN, "--entrypoint", "sh", "localhost/dockerfile-base-setup:test", "-c",
         "getent passwd airbyte | cut -d: -f3; getent group airbyte | cut -d: -f3; stat -c %U /secrets /config"],
        capture_output=True, text=True, timeout=120,
    )
    uid, gid, *owners = probe.stdout.split()
    assert uid == "1000"
    assert int(gid) < 1000, "the base's system group was replaced"
    assert owners == ["airbyte", "airbyte"]
