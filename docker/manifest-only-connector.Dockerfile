# A manifest-only connector image, by the recipe of Airbyte's docker-images/Dockerfile.manifest-only-connector: the
# connector folder (its build context) copied onto the source-declarative-manifest image, then manifest.yaml and
# components.py where the runtime loads them. Airbyte's recipe also wraps the entry point in `ddtrace-run` (Datadog
# tracing, a no-op unless enabled); the stand-in base does not have it, so the entry point is the base's own.
#   scripts/container.sh build-manifest-only source-mailchimp [TAG]
ARG BASE_IMAGE=localhost/source-declarative-manifest:7.39.1
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code
RUN mkdir -p ./source_declarative_manifest
COPY . ./
RUN cp manifest.yaml ./source_declarative_manifest/manifest.yaml \
    && if [ -f components.py ]; then cp components.py ./source_declarative_manifest/components.py; fi

USER airbyte
ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]
