"""The story checks: the built-in saas_support as written passes them, and each way its story
can be lost in the data — no spike, no category shift, no weekend dip, times outside the
window — is caught by name when the folder is re-validated."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from validate.shop import rewrite, with_values

import fabula
from fabula.cli.main import main

INCIDENT = (datetime(2024, 10, 15), datetime(2024, 10, 26))


@pytest.fixture(scope="module")
def saas_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("saas") / "out"
    fabula.generate("saas_support", out, workers=2)
    return out


@pytest.fixture
def saas_copy(saas_output, tmp_path):
    copy = tmp_path / "saas"
    shutil.copytree(saas_output, copy)
    return copy


def revalidate(out, capsys) -> tuple[int, str, dict]:
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(out), "--strict"])
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code, captured.out + captured.err, json.loads((out / "report.json").read_text())


def story(report: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in report["checks"] if entry["family"] == "story"}


def with_times(rows: pa.Table, change) -> pa.Table:
    """`rows` with `created_at` replaced by `change(created_at)` (same type)."""
    position = rows.schema.get_field_index("created_at")
    field = rows.schema.field(position)
    return rows.set_column(position, field, pa.array(change(rows.column("created_at")), type=field.type))


def in_incident(rows: pa.Table) -> list[bool]:
    return [INCIDENT[0] <= value < INCIDENT[1] for value in rows.column("created_at").to_pylist()]


def test_the_written_story_passes_and_is_printed(saas_output, capsys):
    code, printed, report = revalidate(saas_output, capsys)
    assert code == 0, printed
    checks = story(report)
    assert {entry["verdict"] for entry in checks.values()} == {"pass"}
    assert set(checks) == {
        "tickets.created_at: inside the window of support",
        "tickets.created_at: weekday profile of timeline support",
        "tickets.created_at: volume during auth_incident (×3)",
        "tickets.category: mix during auth_incident",
        "tickets.csat_score (category = Authentication): mix during auth_incident",
    }
    spike = checks["tickets.created_at: volume during auth_incident (×3)"]
    assert "spike ×" in spike["message"] and "/day during auth_incident" in spike["message"]
    assert "Authentication" in checks["tickets.category: mix during auth_incident"]["message"]
    assert "volume during auth_incident" in printed and "mix during auth_incident" in printed  # always shown
    daily = checks["tickets.created_at: weekday profile of timeline support"]["details"]
    assert daily["plot"] == "daily" and len(daily["observed"]) == 366 and daily["windows"][0][2] == "auth_incident"
    assert "rows per day" in (saas_output / "report.html").read_text()


def test_a_missing_spike(saas_copy, capsys):
    def thinned(rows):  # keep a third of the incident's tickets: no spike left
        keep = [not inside or index % 3 == 0 for index, inside in enumerate(in_incident(rows))]
        return rows.filter(pa.array(keep))

    rewrite(saas_copy, "tickets", thinned)
    code, printed, report = revalidate(saas_copy, capsys)
    assert code == 3
    spike = story(report)["tickets.created_at: volume during auth_incident (×3)"]
    assert spike["verdict"] == "fail"
    assert "standard errors off what the timeline declares" in spike["message"]
    assert "spike ×1." in spike["message"]


def test_a_category_mix_that_did_not_shift(saas_copy, capsys):
    def unshifted(rows):
        inside = in_incident(rows)
        return with_values(rows, "category", lambda values: [
            "Network" if flag and value == "Authentication" and index % 2 else value
            for index, (value, flag) in enumerate(zip(values, inside))])

    rewrite(saas_copy, "tickets", unshifted)
    code, _, report = revalidate(saas_copy, capsys)
    assert code == 3
    mix = story(report)["tickets.category: mix during auth_incident"]
    assert mix["verdict"] == "fail"
    assert mix["observed"]["Authentication"] < 0.45 and mix["expected"]["Authentication"] == 0.65


def test_a_flat_week(saas_copy, capsys):
    def weekends_on_monday(times):  # every weekend ticket moved to the Monday after
        return [time + timedelta(days=7 - time.weekday()) if time.weekday() >= 5 and time.month < 12 else time
                for time in times.to_pylist()]

    rewrite(saas_copy, "tickets", lambda rows: with_times(rows, weekends_on_monday))
    code, _, report = revalidate(saas_copy, capsys)
    assert code == 3
    weekday = story(report)["tickets.created_at: weekday profile of timeline support"]
    assert weekday["verdict"] == "fail"
    assert "weekend ×0.0" in weekday["message"]


def test_times_outside_the_window(saas_copy, capsys):
    def first_25_a_year_early(times):
        early = pc.subtract(times, pa.scalar(timedelta(days=400)))
        return pc.if_else(pa.array([index < 25 for index in range(len(times))]), early, times).combine_chunks()

    rewrite(saas_copy, "tickets", lambda rows: with_times(rows, first_25_a_year_early))
    code, _, report = revalidate(saas_copy, capsys)
    assert code == 3
    window = story(report)["tickets.created_at: inside the window of support"]
    assert window["verdict"] == "fail" and window["observed"] == 25
    assert "25 values outside the timeline's window" in window["message"]
