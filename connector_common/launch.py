"""The console scripts `source-mailchimp` and `source-campaign-monitor`.

The speed-ups are switched on before airbyte_cdk is first imported (one of them spares part of its import), then the
connector's own entrypoint runs. Importing this module changes nothing."""

from __future__ import annotations

from connector_common.speedups import switch_on_speedups


def source_mailchimp() -> None:
    switch_on_speedups()
    from source_mailchimp.run import run

    run()


def source_campaign_monitor() -> None:
    switch_on_speedups()
    from source_campaign_monitor.run import run

    run()
