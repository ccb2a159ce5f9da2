"""Campaign Monitor time-zone names, local dates in records, and the local `date` filter."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from source_campaign_monitor.parts.time_zones import ClientTimeZones, LocalTimeConverter, zone_for

SAMPLES = Path("/work/shared/api-samples/campaign_monitor/timezones.json")
PACKAGED = Path(__file__).resolve().parents[2] / "source_campaign_monitor" / "timezones.json"
SYDNEY = "(GMT+10:00) Canberra, Melbourne, Sydney"
NEW_YORK = "(GMT-05:00) Eastern Time (US & Canada)"


def _stated_offset(name: str) -> timedelta:
    """The standard offset a label states: "(GMT-07:00) ..." -> -7 h, "(GMT) ..." -> 0."""
    if name.startswith("(GMT)"):
        return timedelta(0)
    sign, hours, minutes = name[4], int(name[5:7]), int(name[8:10])
    return timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)


def test_every_time_zone_name_of_the_api_maps_to_an_iana_zone_or_a_fixed_offset():
    names = json.loads(PACKAGED.read_text())
    if SAMPLES.exists():
        assert set(names) == set(json.loads(SAMPLES.read_text()))
    assert len(names) == 97
    for name, zone in names.items():
        if zone.startswith("UTC"):  # an offset no region keeps today
            assert zone_for(name).utcoffset(None) == _stated_offset(name), name
            continue
        assert isinstance(zone_for(name), ZoneInfo), name
        ZoneInfo(zone)


def test_each_mapped_zone_keeps_today_the_standard_offset_its_name_states():
    """The label's offset is the evidence of what Campaign Monitor applies: every zone must have it in January or July
    of 2025 (winter in one hemisphere or the other), including those whose region changed its rules since."""
    for name in json.loads(PACKAGED.read_text()):
        zone = zone_for(name)
        offsets = {datetime(2025, month, 15, 12, tzinfo=zone).utcoffset() for month in (1, 7)}
        assert _stated_offset(name) in offsets, name


# name -> (offset on 2025-01-15, offset on 2025-07-15), in hours: what the label states, with the daylight saving of
# the zone that keeps it. Each of these mapped to a zone with other offsets before.
CHANGED = {
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": (-7, -7),  # was America/Chihuahua: -6 all year since 2022-10-30
    "(GMT+02:00) Minsk": (2, 3),  # was Europe/Minsk: +3 all year since 2011
    "(GMT+06:00) Novosibirsk": (6, 6),  # was Asia/Novosibirsk: +7 since 2016-07-24
    "(GMT+06:00) Astana": (6, 6),  # was Asia/Almaty: +5 since 2024-03-01
    "(GMT+02:00) Amman": (2, 3),  # was Asia/Amman: +3 all year since 2022-10-28
    "(GMT+02:00) Damascus": (2, 3),  # was Asia/Damascus: +3 all year since 2022-10-28
    "(GMT) Casablanca": (0, 1),  # was Africa/Casablanca: +1 (0 in Ramadan) since 2018-10-28
    "(GMT-03:00) Greenland": (-3, -2),  # was America/Nuuk: -2 / -1 since 2023
    "(GMT-04:00) Asuncion": (-3, -4),  # was America/Asuncion: -3 all year since 2024-10-15
    "(GMT-04:30) Caracas": (-4.5, -4.5),  # was America/Caracas: -4 since 2016-05-01
}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_names_whose_region_changed_its_rules_keep_the_offsets_the_label_states(name):
    january, july = CHANGED[name]
    converter = LocalTimeConverter(zone_for(name))
    for month, hours in ((1, january), (7, july)):
        local = datetime(2025, month, 15, 12, 0)
        expected = (local - timedelta(hours=hours)).isoformat() + "+00:00"
        assert converter.to_utc(local.strftime("%Y-%m-%d %H:%M:%S")) == expected, (name, month)


def test_chihuahua_la_paz_mazatlan_is_utc_minus_7_in_winter_and_summer_2025():
    converter = LocalTimeConverter(zone_for("(GMT-07:00) Chihuahua, La Paz, Mazatlan"))
    assert converter.to_utc("2025-01-15 10:00:00") == "2025-01-15T17:00:00+00:00"
    assert converter.to_utc("2025-07-15 10:00:00") == "2025-07-15T17:00:00+00:00"
    assert converter.to_local(datetime(2025, 7, 15, 17, tzinfo=timezone.utc)) == datetime(2025, 7, 15, 10)


def test_the_sandbox_applies_the_same_zone_to_every_name():
    """The sandbox keeps its own mapping (sandbox/campaign_monitor_data), checked against the labels by the sandbox's
    tests; a difference here means one of the two was changed alone."""
    sandbox = json.loads((PACKAGED.parents[1] / "sandbox" / "campaign_monitor_data" / "timezone_zones.json").read_text())
    assert sandbox == json.loads(PACKAGED.read_text())


def test_sydney_dates_convert_with_daylight_saving_on_both_sides_of_each_change():
    sydney = LocalTimeConverter(zone_for(SYDNEY))
    assert sydney.to_utc("2024-04-06 20:00:00") == "2024-04-06T09:00:00+00:00"  # AEDT, UTC+11
    assert sydney.to_utc("2024-04-07 20:00:00") == "2024-04-07T10:00:00+00:00"  # AEST, UTC+10 after the change
    assert sydney.to_utc("2024-10-05 20:00:00") == "2024-10-05T10:00:00+00:00"  # AEST
    assert sydney.to_utc("2024-10-06 20:00:00") == "2024-10-06T09:00:00+00:00"  # AEDT again


def test_new_york_dates_convert_with_daylight_saving_in_the_other_direction():
    new_york = LocalTimeConverter(zone_for(NEW_YORK))
    assert new_york.to_utc("2024-03-09 20:00:00") == "2024-03-10T01:00:00+00:00"  # EST, UTC-5
    assert new_york.to_utc("2024-03-10 20:00:00") == "2024-03-11T00:00:00+00:00"  # EDT, UTC-4
    assert new_york.to_utc("2024-11-03 20:00:00") == "2024-11-04T01:00:00+00:00"  # EST again


def test_the_per_hour_offset_cache_does_not_leak_across_a_change():
    sydney = LocalTimeConverter(zone_for(SYDNEY))
    first = sydney.to_utc("2024-04-07 01:59:00")  # AEDT
    after = sydney.to_utc("2024-04-07 03:00:00")  # AEST
    assert (first, after) == ("2024-04-06T14:59:00+00:00", "2024-04-06T17:00:00+00:00")


def test_an_unknown_name_falls_back_to_its_fixed_offset_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        zone = zone_for("(GMT+05:30) Somewhere New")
    assert zone.utcoffset(None) == timedelta(hours=5, minutes=30)
    assert "Somewhere New" in caplog.text
    assert zone_for("(GMT-03:30) Elsewhere").utcoffset(None) == timedelta(hours=-3, minutes=-30)
    assert LocalTimeConverter(zone_for("(GMT+05:30) Somewhere New")).to_utc("2024-01-01 05:30:00") == (
        "2024-01-01T00:00:00+00:00"
    )


def test_an_unreadable_name_is_taken_as_utc_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        zone = zone_for("Mars/Olympus_Mons")
    assert zone.utcoffset(None) == timedelta(0)
    assert "Mars/Olympus_Mons" in caplog.text


def test_empty_dates_become_null_and_dates_with_an_offset_are_only_normalised_to_utc():
    converter = LocalTimeConverter(zone_for(SYDNEY))
    assert converter.to_utc("") is None
    assert converter.to_utc(None) is None
    assert converter.to_utc("2024-01-01T10:00:00+10:00") == "2024-01-01T00:00:00+00:00"
    assert converter.to_utc("not a date") == "not a date"


def test_the_date_filter_is_the_cursor_in_client_local_time_truncated_to_the_minute():
    converter = LocalTimeConverter(zone_for(SYDNEY))
    cursor = datetime(2024, 4, 6, 9, 38, 45, tzinfo=timezone.utc)
    assert converter.to_local(cursor).strftime("%Y-%m-%d %H:%M") == "2024-04-06 20:38"


@pytest.mark.parametrize("utc_minute", [(15, 30), (16, 30)])
def test_a_cursor_in_the_repeated_fall_back_hour_filters_from_before_that_hour(utc_minute):
    """02:00-03:00 on 2024-04-07 happens twice in Sydney. Whichever reading the API takes, the filter must not start
    after the cursor: the connector steps back out of the repeated hour."""
    converter = LocalTimeConverter(zone_for(SYDNEY))
    cursor = datetime(2024, 4, 6, *utc_minute, tzinfo=timezone.utc)
    wall = converter.to_local(cursor)
    assert wall == datetime(2024, 4, 7, 1, 30)
    earliest_reading = wall.replace(tzinfo=ZoneInfo("Australia/Sydney"), fold=0)
    assert earliest_reading <= cursor


def test_client_time_zones_are_kept_per_client_and_an_unknown_client_fails_clearly():
    zones = ClientTimeZones.of({})
    zones.remember("a", SYDNEY)
    zones.remember("b", NEW_YORK)
    assert zones.converter("a").to_utc("2024-01-01 11:00:00") == "2024-01-01T00:00:00+00:00"
    assert zones.converter("b").to_utc("2024-01-01 11:00:00") == "2024-01-01T16:00:00+00:00"
    with pytest.raises(Exception, match="time zone"):
        zones.converter("c")


def test_client_time_zones_belong_to_one_sync_and_another_sync_starts_without_them():
    this_sync, next_sync = {"api_client_id": ""}, {"api_client_id": ""}
    ClientTimeZones.of(this_sync).remember("a", SYDNEY)
    assert ClientTimeZones.of(this_sync).converter("a").zone == ZoneInfo("Australia/Sydney")
    with pytest.raises(Exception, match="time zone"):
        ClientTimeZones.of(next_sync).converter("a")

