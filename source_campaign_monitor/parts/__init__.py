"""Campaign Monitor's Python components, one module per concern: what the low-code YAML of airbyte-cdk cannot say.

Each class says why YAML could not express it; the manifest wires them. Airbyte's stock runtime runs a connector from
manifest.yaml and one components.py, which imports only the CDK and its dependencies: scripts/build_manifest_only.py
writes components.py from the modules below, in this order (each after those it imports). Our packaged command
imports the modules themselves (connector_common.packaged_manifest finds each class the manifest names)."""

MODULES = (
    "connector_common.json_body",
    "connector_common.parsed_body",
    "connector_common.dates",
    "connector_common.sandbox_url",
    "connector_common.saved_stream_state",
    "connector_common.config_problems",
    "connector_common.sync_store",
    "connector_common.http_errors",
    "connector_common.partitions",
    "connector_common.adaptive_concurrency",
    "connector_common.shared_answers",
    "connector_common.airbyte_migrations",
    "source_campaign_monitor.parts.settings",
    "source_campaign_monitor.parts.time_zones",
    "source_campaign_monitor.parts.responses",
    "source_campaign_monitor.parts.partitions",
    "source_campaign_monitor.parts.records",
    "source_campaign_monitor.parts.account_objects",
    "source_campaign_monitor.parts.date_pages",
    "source_campaign_monitor.parts.requester",
    "source_campaign_monitor.parts.oauth",
    "source_campaign_monitor.parts.unchanged_parents",
)
