"""Where defects are not written yet, the run is refused with exit code 2 before any work."""

from __future__ import annotations

import pytest

import fabula
import fabula.api
from fabula.errors import UsageError

DIRTY = "saas_support_dirty"


def test_stream_refuses_only_schema_drift(tmp_path):
    # a stream writes every other kind (tests/defects/test_stream_defects.py); drift changes the schema
    # between append batches, and a stream is written with one schema
    spec = fabula.load_spec("""
name: d
seed: 1
tables:
  o:
    rows: 10
    columns: {id: {kind: id, format: "O-{:02d}"}, amount: {kind: lognormal, mean: 3, sigma: 1, round: 2}}
    defects:
      - {kind: drift, form: renamed, column: amount, name: amount_usd, from_batch: 1}
""")
    with pytest.raises(UsageError, match=r"tables.o.defects.0 is a schema drift") as error:
        fabula.api.stream(spec, tmp_path / "stream", batches=1)
    assert error.value.exit_code == 2
    assert not (tmp_path / "stream").exists()


def test_the_spark_engine_refuses_a_sink_without_labels_before_any_work(tmp_path):
    """The Spark engine injects defects (tests/spark/test_defects.py), but only into a sink that can
    write the `_defects` table; a Parquet-only sink is refused before Spark is asked for anything."""
    from fabula.engine.spark import run_spark
    from fabula.sinks.parquet import ParquetSink

    plan = fabula.compile_plan(DIRTY, scale=0.01)
    with pytest.raises(UsageError, match="cannot write the `_defects` table") as error:
        run_spark(plan, None, ParquetSink(tmp_path / "out"))
    assert error.value.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_a_defect_that_does_not_fit_is_refused_before_spark_starts(tmp_path, monkeypatch):
    """Whether a defect fits its column is known from the plan: the Spark engine's run says so
    before it starts a session (a JVM launch), as the local engine does before writing."""
    import fabula.engine.spark
    from fabula.errors import SpecError

    def no_session(master):
        raise AssertionError(f"a Spark session ({master}) was started for a spec that cannot run")

    monkeypatch.setattr(fabula.engine.spark, "cli_session", no_session)
    spec = {"name": "d", "seed": 1, "tables": {"o": {"rows": 10, "columns": {
        "id": {"kind": "id", "format": "O-{:02d}"}, "status": {"kind": "categorical", "values": {"a": 1, "b": 1}}},
        "defects": [{"kind": "outlier", "column": "status", "rate": 0.1, "factor": 2}]}}}
    with pytest.raises(SpecError, match="needs a number"):
        fabula.generate(spec, tmp_path / "out", engine="spark", master="local[1]")
    assert not (tmp_path / "out").exists()
