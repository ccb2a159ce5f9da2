#!/usr/bin/env bash
# Builds and runs the connectors' Docker image on a machine with no Docker engine and no registry
# (podman with chroot isolation for builds, runc for runs, and a local Debian base image made with
# debootstrap, since Airbyte's base image cannot be pulled here). See ../shared/container-recipe.md.
#
#   scripts/container.sh setup                 install podman/runc/debootstrap if missing, make the local base image once
#   scripts/container.sh build CONNECTOR [TAG] build the image of source-mailchimp or source-campaign-monitor
#   scripts/container.sh build-manifest-only CONNECTOR [TAG]
#                                              build the connector as Airbyte builds a manifest-only connector: its
#                                              folder on a local stand-in for source-declarative-manifest:7.39.1
#                                              (docker/*.Dockerfile; the stand-in is built once)
#   scripts/container.sh run IMAGE ARGS...     run the image (host network, runc, explicit rlimits); mounts
#                                              $SECRETS_DIR (default ./secrets) at /secrets when it exists
#   scripts/container.sh base-image            print the local base image's name
#
# The base image is kept in podman's storage and its root file system as a tarball under .container/ (git-ignored),
# so `setup` is a no-op after the first time. Override the base with BASE_IMAGE=... for `build`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${CONTAINER_CACHE_DIR:-$ROOT/.container}"
LOCAL_BASE="${LOCAL_BASE_IMAGE:-localhost/debian-python:bookworm}"
SUITE="bookworm"

log() { echo "container.sh: $*" >&2; }

install_tools() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if ! command -v apt-get >/dev/null; then
        log "cannot install ${missing[*]}: this machine has no apt-get"
        return 3
    fi
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

make_base_image() {
    if podman image exists "$LOCAL_BASE"; then
        return 0
    fi
    mkdir -p "$CACHE_DIR"
    local tarball="$CACHE_DIR/debian-python-$SUITE.tar"
    if [ ! -s "$tarball" ]; then
        local rootfs="$CACHE_DIR/rootfs-$SUITE"
        rm -rf "$rootfs"
        log "debootstrapping a $SUITE base with python3 into $rootfs (about a minute)"
        debootstrap --variant=minbase \
            --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
            "$SUITE" "$rootfs" >"$CACHE_DIR/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE_DIR/debootstrap.log" >&2; return 1; }
        # Package downloads here go through a proxy that only the machine's CA bundle trusts.
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
        # Airbyte's base image lets `pip install` write to the system Python; make Debian's do the same.
        rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$tarball.partial" .
        mv "$tarball.partial" "$tarball"
        rm -rf "$rootfs"
    fi
    log "importing $tarball as $LOCAL_BASE"
    podman import "$tarball" "$LOCAL_BASE" >/dev/null
}

build() {
    local connector="${1:?usage: build CONNECTOR [TAG]}"
    local tag="${2:-localhost/$connector:dev}"
    local base="${BASE_IMAGE:-$LOCAL_BASE}"
    podman build --isolation chroot --network host \
        --build-arg "CONNECTOR=$connector" --build-arg "BASE_IMAGE=$base" \
        -t "$tag" "$ROOT"
}

# The stand-in for Airbyte's source-declarative-manifest image, built once, with the CDK version of metadata.yaml's
# base image.
SDM_BASE="${SDM_BASE_IMAGE:-localhost/source-declarative-manifest:7.39.1}"

build_manifest_only() {
    local connector="${1:?usage: build-manifest-only CONNECTOR [TAG]}"
    local tag="${2:-localhost/$connector:manifest-only}"
    local folder="$ROOT/${connector//-/_}"
    [ -f "$folder/manifest.yaml" ] || { log "no manifest.yaml in $folder"; return 2; }
    if ! podman image exists "$SDM_BASE"; then
        podman build --isolation chroot --network host --build-arg "BASE_IMAGE=${BASE_IMAGE:-$LOCAL_BASE}" \
            --build-arg "CDK_VERSION=${SDM_BASE##*:}" \
            -f "$ROOT/docker/source-declarative-manifest.Dockerfile" -t "$SDM_BASE" "$ROOT/docker"
    fi
    podman build --isolation chroot --network host --build-arg "BASE_IMAGE=$SDM_BASE" \
        -f "$ROOT/docker/manifest-only-connector.Dockerfile" -t "$tag" "$folder"
}

run() {
    local image="${1:?usage: run IMAGE ARGS...}"
    shift
    local secrets="${SECRETS_DIR:-$PWD/secrets}"
    local mounts=()
    if [ -d "$secrets" ]; then
        mounts=(-v "$secrets:/secrets:ro")
    fi
    podman run --rm --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
        --network host "${mounts[@]}" "$image" "$@"
}

case "${1:-}" in
    setup)
        install_tools
        make_base_image
        log "ready: podman $(podman --version | awk '{print $3}'), base image $LOCAL_BASE"
        ;;
    build) shift; build "$@" ;;
    build-manifest-only) shift; build_manifest_only "$@" ;;
    run) shift; run "$@" ;;
    base-image) echo "$LOCAL_BASE" ;;
    *)
        sed -n '2,17p' "$0" >&2
        exit 2
        ;;
esac
