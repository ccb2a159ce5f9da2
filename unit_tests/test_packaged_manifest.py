import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer

from source_campaign_monitor.run import SourceCampaignMonitor
from source_mailchimp.run import SourceMailchimp

SOURCES = [SourceMailchimp, SourceCampaignMonitor]


def discovered_names(source_class) -> list[str]:
    return [stream["name"] for stream in source_class().resolved_manifest["streams"]]


def catalog_of(names) -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalogSerializer.load({"streams": [
        {"stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for name in names]})


@pytest.mark.parametrize("source_class", SOURCES, ids=lambda s: s.__name__)
def test_a_read_builds_exactly_the_streams_its_catalog_selects(source_class):
    names = discovered_names(source_class)
    selected = names[1::3]
    source = source_class(catalog=catalog_of(selected))
    assert [stream["name"] for stream in source.resolved_manifest["streams"]] == selected


@pytest.mark.parametrize("source_class", SOURCES, ids=lambda s: s.__name__)
def test_check_and_discover_without_a_catalog_build_every_stream(source_class):
    assert len(discovered_names(source_class)) == len(source_class()._source_config["streams"])
