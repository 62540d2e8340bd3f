"""Change data: applying the feed, the Debezium envelopes or the SCD2 history to the initial
snapshot gives the final snapshot, on every case; changes never move another value."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fabula
from fabula.engine.changes import build_history, change_feed, debezium_feed, scd2_history
from fabula.errors import SpecError


def spec(changes: dict, rows: int = 60, seed: int = 3) -> dict:
    return {"name": "d", "seed": seed, "as_of": "2024-12-31", "tables": {
        "customers": {"rows": rows, "changes": changes, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:04d}"},
            "tier": {"kind": "categorical", "values": {"Free": 6, "Pro": 3, "Enterprise": 1}},
            "arr": {"kind": "lognormal", "mean": 8, "sigma": 0.6, "round": 2, "nulls": 0.1},
            "since": {"kind": "date", "start": "-2y", "end": "today"}}},
        "orders": {"rows": 30, "columns": {
            "order_id": {"kind": "sequence"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id"}}}}}


def history_of(source: dict):
    plan = fabula.compile_plan(source)
    return build_history(plan, plan.table("customers"), plan.spec.tables["customers"].changes)


def by_key(rows: list[dict]) -> dict:
    return {row["customer_id"]: row for row in rows}


def apply_feed(snapshot: list[dict], feed: list[dict]) -> dict:
    """What a MERGE of the feed's versions after 0 into the snapshot does."""
    state = by_key(snapshot)
    for row in feed:
        if row["_commit_version"] == 0:
            continue
        values = {key: value for key, value in row.items() if not key.startswith("_")}
        if row["_change_type"] == "update_postimage":
            state[values["customer_id"]] = values
        elif row["_change_type"] == "delete":
            del state[values["customer_id"]]
        elif row["_change_type"] == "update_preimage":
            assert state[values["customer_id"]] == values  # the preimage is the state it replaces
    return state


def apply_debezium(snapshot: list[dict], events: list[dict]) -> dict:
    state = by_key(snapshot)
    for event in events:
        if event["version"] == 0:
            continue
        if event["op"] == "u":
            assert state[event["before"]["customer_id"]] == event["before"]
            state[event["after"]["customer_id"]] = event["after"]
        elif event["op"] == "d":
            del state[event["before"]["customer_id"]]
    return state


def check_scd2(history_rows: list[dict], initial: list[dict], final: dict, start) -> None:
    versions: dict[str, list[dict]] = {}
    for row in history_rows:
        versions.setdefault(row["customer_id"], []).append(row)
    assert set(versions) == set(by_key(initial))  # every row that ever existed
    for key, rows in versions.items():
        assert rows[0]["valid_from"] == start
        for earlier, later in zip(rows, rows[1:]):
            assert earlier["valid_to"] == later["valid_from"]  # no gap, no overlap
            assert earlier["valid_from"] < earlier["valid_to"] and not earlier["is_current"]
        values = {k: v for k, v in rows[-1].items() if k not in ("valid_from", "valid_to", "is_current")}
        if key in final:
            assert rows[-1]["is_current"] and rows[-1]["valid_to"] is None and values == final[key]
        else:
            assert not rows[-1]["is_current"] and rows[-1]["valid_to"] is not None
    assert {row["customer_id"] for row in history_rows if row["is_current"]} == set(final)


def check_every_form(source: dict) -> None:
    history = history_of(source)
    initial = history.initial.to_pylist()
    final = by_key(history.final.to_pylist())
    assert apply_feed(initial, change_feed(history).to_pylist()) == final
    assert apply_debezium(initial, debezium_feed(history).to_pylist()) == final
    check_scd2(scd2_history(history).to_pylist(), initial, final, history.start)


CASES = {
    "updates only": {"commits": 5, "updates": 0.2},
    "deletes only": {"commits": 4, "updates": 0, "deletes": 0.2},
    "both, every day": {"commits": 10, "updates": 0.1, "deletes": 0.05},
    "one column, weekly": {"commits": 6, "every": 7, "updates": 0.5, "columns": ["tier"]},
    "one commit": {"commits": 1, "updates": 1.0},
    "everything deleted": {"commits": 2, "updates": 0.3, "deletes": 1.0},
    "no change": {"commits": 3, "updates": 0, "deletes": 0},
}


@pytest.mark.parametrize("name", CASES)
def test_applying_the_changes_gives_the_final_snapshot(name):
    check_every_form(spec(CASES[name]))


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 80), commits=st.integers(1, 8), updates=st.floats(0, 1), deletes=st.floats(0, 0.5),
       seed=st.integers(0, 2**32))
def test_applying_the_changes_gives_the_final_snapshot_whatever_the_rates(rows, commits, updates, deletes, seed):
    check_every_form(spec({"commits": commits, "updates": updates, "deletes": deletes}, rows=rows, seed=seed))


def test_changes_never_move_another_value(tmp_path):
    plain = spec({"commits": 3})
    del plain["tables"]["customers"]["changes"]
    fabula.generate(plain, tmp_path / "plain", validate=False)
    fabula.generate(spec({"commits": 3, "updates": 0.4, "emit": ["cdf", "scd2"]}), tmp_path / "changes",
                    validate=False)
    for table in ("customers", "orders"):
        assert pq.read_table(tmp_path / "plain" / table).equals(pq.read_table(tmp_path / "changes" / table))


def test_same_spec_same_changes_and_a_version_of_its_own():
    first, second = change_feed(history_of(spec({"commits": 4}))), change_feed(history_of(spec({"commits": 4})))
    assert first.equals(second)
    assert not first.equals(change_feed(history_of(spec({"commits": 4}, seed=4))))
    timestamps = change_feed(history_of(spec({"commits": 4, "every": 2}))).column("_commit_timestamp").to_pylist()
    assert str(max(timestamps)) == "2024-12-31 00:00:00" and str(min(timestamps)) == "2024-12-23 00:00:00"


@pytest.mark.parametrize("output_format", ["parquet", "delta", "csv", "json"])
def test_written_beside_the_table_in_every_format(tmp_path, output_format):
    manifest = fabula.generate(spec({"commits": 3, "updates": 0.3, "deletes": 0.1, "emit": ["cdf", "scd2"]}),
                               tmp_path / "out", output_format=output_format).manifest
    assert manifest.tables["customers_changes"].rows == len(change_feed(history_of(
        spec({"commits": 3, "updates": 0.3, "deletes": 0.1}))))
    assert [name for name, _ in manifest.tables["customers_history"].columns][-3:] == ["valid_from", "valid_to",
                                                                                       "is_current"]
    assert not fabula.validate_output(tmp_path / "out").failed
    if output_format == "delta":
        deltalake = pytest.importorskip("deltalake")
        feed = deltalake.DeltaTable(str(tmp_path / "out" / "customers_changes")).to_pyarrow_table()
        history = history_of(spec({"commits": 3, "updates": 0.3, "deletes": 0.1}))
        assert feed.equals(change_feed(history))


def test_bad_changes_are_refused_with_their_path():
    with pytest.raises(SpecError) as error:
        fabula.load_spec(spec({"columns": ["customer_id", "tierr"]}))
    text = str(error.value)
    assert "tables.customers.changes.columns.0" in text and "is a key" in text
    assert "no column 'tierr'" in text
    with pytest.raises(SpecError, match="cdf or debezium"):
        fabula.load_spec(spec({"emit": ["cdf", "debezium"]}))
    taken = spec({"emit": ["scd2"]})
    taken["tables"]["customers_history"] = {"rows": 1, "columns": {"x": {"kind": "sequence"}}}
    with pytest.raises(SpecError, match="customers_history' already exists"):
        fabula.load_spec(taken)


def test_the_spark_engine_refuses_change_data(tmp_path):
    """The Spark engine writes snapshots only: a spec with `changes:` is refused before any work
    (exit code 2), never written without its change feed."""
    from fabula.engine.spark import write_spark
    from fabula.errors import UsageError

    plan = fabula.compile_plan(spec({"commits": 2, "updates": 0.2}))
    for call in (lambda: write_spark(plan, None, tmp_path / "out"),
                 lambda: fabula.generate(plan, tmp_path / "out2", engine="spark", master="local[1]")):
        with pytest.raises(UsageError, match="does not write change data") as error:
            call()
        assert error.value.exit_code == 2
    assert not (tmp_path / "out").exists() and not (tmp_path / "out2").exists()
