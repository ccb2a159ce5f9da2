"""Airbyte source for Campaign Monitor (API v3.3): a low-code manifest plus small Python components."""

from source_campaign_monitor.run import SourceCampaignMonitor

__all__ = ["SourceCampaignMonitor"]
