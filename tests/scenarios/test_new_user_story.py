"""A story written from the docs alone stays expressible and true: ride-hailing trips in three
cities (see the comment at the top of the spec)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import fabula
from helpers import read_table

SPEC = Path(__file__).parent / "specs" / "ride_hailing.yaml"


def test_ride_hailing_passes_strict_validation_and_tells_its_story(tmp_path):
    out = tmp_path / "rides"
    fabula.generate(fabula.load_spec(SPEC), out, workers=2, scale=0.3)
    checks = json.loads((out / "report.json").read_text())["checks"]
    assert "fail" not in {check["verdict"] for check in checks}
    trips = read_table(out, "trips").to_pandas()
    zones = {"NYC": "America/New_York", "London": "Europe/London", "Berlin": "Europe/Berlin"}
    for city, zone in zones.items():
        rows = trips[trips.city == city]
        local = rows.requested_utc.dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
        assert (local == rows.requested_local).mean() > 0.999  # (a repeated hour maps to its first time)
    assert trips.sort_values("trip_id").requested_utc.is_monotonic_increasing
    day = trips.requested_local.dt.normalize()
    berlin = trips[trips.city == "Berlin"].groupby(day).size()
    assert berlin.loc[pd.Timestamp("2024-09-14")] < 0.1 * berlin.drop(pd.Timestamp("2024-09-14")).mean()
