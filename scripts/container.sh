#!/usr/bin/env bash
# Builds and runs the connectors' Docker image on a machine with no Docker engine and no registry
# (podman with chroot isolation for builds, runc for runs, and a local Debian base image made with
# debootstrap, since Airbyte's base image cannot be pulled here). See ../shared/container-recipe.md.
#
#   scripts/container.sh setup                 install podman/runc/debootstrap if missing, make the local base image once
#   scripts/container.sh build CONNECTOR [TAG] build the image of source-mailchimp or source-campaign-monitor
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
    run) shift; run "$@" ;;
    base-image) echo "$LOCAL_BASE" ;;
    *)
        sed -n '2,13p' "$0" >&2
        exit 2
        ;;
esac
