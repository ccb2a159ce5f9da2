# One image per connector, built the way Airbyte builds its Python connectors:
#   podman build --build-arg CONNECTOR=source-mailchimp -t source-mailchimp:dev .
#   podman build --build-arg CONNECTOR=source-campaign-monitor -t source-campaign-monitor:dev .
# BASE_IMAGE defaults to Airbyte's Python connector base (Python 3.11), pinned by digest, the same value as
# connectorBuildOptions.baseImage in metadata.yaml. Any Debian-like image with python3 and pip also works
# (scripts/container.sh builds a local one where no registry can be reached).
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

FROM ${BASE_IMAGE}

# Airbyte's base image already has the non-root `airbyte` user (uid 1000) and the directories it owns; a plain base
# gets the same here.
RUN if ! id -u airbyte >/dev/null 2>&1; then \
        groupadd --system --gid 1000 airbyte \
        && useradd --system --uid 1000 --gid airbyte --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin airbyte; \
    fi \
    && mkdir -p /airbyte /secrets /config \
    && chown airbyte:airbyte /airbyte /secrets /config

WORKDIR /airbyte/integration_code

# Dependencies first, from pyproject.toml alone, so that a change to the connectors' code reuses this layer.
# Installed into the base's own Python, as on Airbyte's base image; PIP_BREAK_SYSTEM_PACKAGES lets pip do the same on
# a Debian python3 that marks itself externally managed (and changes nothing elsewhere).
COPY pyproject.toml ./
RUN PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

# Then the package itself. Both connectors live in it, so every layer up to here is shared by the two images.
COPY . ./
RUN PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir --no-deps --force-reinstall . \
    && rm -rf build ./*.egg-info

# Everything below depends on the connector being built. As in Airbyte's Python connector images, the entrypoint is a
# script that runs the connector's console script, and AIRBYTE_ENTRYPOINT tells the platform its path.
ARG CONNECTOR=source-mailchimp
RUN case "${CONNECTOR}" in \
        source-mailchimp|source-campaign-monitor) ;; \
        *) echo "CONNECTOR must be source-mailchimp or source-campaign-monitor, not '${CONNECTOR}'" >&2; exit 1 ;; \
    esac \
    && command -v "${CONNECTOR}" >/dev/null \
    && printf '#!/bin/sh\nexec %s "$@"\n' "${CONNECTOR}" > /entrypoint.sh \
    && chmod 755 /entrypoint.sh

LABEL io.airbyte.name="email-marketing-sources/${CONNECTOR}" \
      io.airbyte.version="0.1.0"

# The `airbyte` user, by its uid: Kubernetes' runAsNonRoot can verify only a numeric user.
USER 1000

ENV AIRBYTE_ENTRYPOINT="/entrypoint.sh"
ENTRYPOINT ["/entrypoint.sh"]
