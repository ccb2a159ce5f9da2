# A local stand-in for Airbyte's `airbyte/source-declarative-manifest:7.39.1` image (which cannot be pulled here), made
# with the recipe of airbyte-python-cdk's Dockerfile: airbyte-cdk from PyPI, and in /airbyte/integration_code a main.py
# running the CDK's source-declarative-manifest with `source_declarative_manifest/` beside it (its run.py a copy of the
# CDK's, its spec.json the runtime's generic spec). Nothing of this repository is copied in.
#   scripts/container.sh build-manifest-only source-mailchimp   (builds this once, then the connector on top of it)
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}
ARG CDK_VERSION=7.39.1

RUN if ! id -u airbyte >/dev/null 2>&1; then \
        groupadd --system --gid 1000 airbyte \
        && useradd --system --uid 1000 --gid airbyte --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin airbyte; \
    fi

WORKDIR /airbyte/integration_code
RUN PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir "airbyte-cdk==${CDK_VERSION}" \
    && cli="$(python3 -c 'import airbyte_cdk.cli.source_declarative_manifest as m, os; print(os.path.dirname(m.__file__))')" \
    && mkdir -p source_declarative_manifest \
    && touch source_declarative_manifest/__init__.py \
    && cp "$cli/_run.py" source_declarative_manifest/run.py \
    && cp "$cli/spec.json" source_declarative_manifest/spec.json \
    && printf 'from source_declarative_manifest.run import run\n\nif __name__ == "__main__":\n    run()\n' > main.py \
    && chown -R airbyte:airbyte /airbyte

LABEL io.airbyte.name="airbyte/source-declarative-manifest" io.airbyte.version="${CDK_VERSION}"
ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]
