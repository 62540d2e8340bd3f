"""`fabula.generate` as a Python caller sees it: a result with the manifest, the report, the
strictness and the timings; keyword options that contradict each other refused before any work;
a strict failure that still hands over what was written."""

from __future__ import annotations

import json

import pytest

import fabula
from fabula.errors import UsageError, ValidationFailed

SPEC = {"name": "tiny", "seed": 3, "as_of": "2024-06-30", "tables": {"t": {"rows": 2000, "columns": {
    "id": {"kind": "id", "format": "T-{:04d}"}, "x": {"kind": "normal", "mean": 5, "std": 1}}}}}


def failing(strict: bool | None = None) -> dict:
    spec = {**SPEC, "expect": [{"name": "an impossible mean", "sql": "select avg(x) from t", "between": [100, 200]}]}
    return {**spec, "validation": {"strict": strict}} if strict is not None else spec


def test_the_result_holds_what_was_written_and_found(tmp_path):
    result = fabula.generate(SPEC, tmp_path / "out", scale=0.5)
    assert isinstance(result, fabula.GenerateResult)
    assert result.out == str(tmp_path / "out")
    assert result.manifest.tables["t"].rows == 1000
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == result.report.to_dict()
    assert (result.strict, result.failed, result.created) == (False, False, ())
    timings = result.timings
    assert min(timings.plan, timings.write, timings.validate) >= 0
    assert timings.total == pytest.approx(timings.plan + timings.write + timings.validate, abs=0.05)


def test_without_validation_there_is_no_report(tmp_path):
    result = fabula.generate(SPEC, tmp_path / "out", validate=False)
    assert result.report is None and result.timings.validate == 0 and not result.failed


def test_a_strict_failure_raises_with_the_result_and_keeps_the_output(tmp_path):
    kept = fabula.generate(failing(), tmp_path / "lenient")
    assert kept.report.verdict == "fail" and not kept.strict and not kept.failed
    for spec, strict, out in ((failing(), True, "asked"), (failing(strict=True), None, "spec")):
        with pytest.raises(ValidationFailed) as raised:
            fabula.generate(spec, tmp_path / out, strict=strict)
        result = raised.value.result
        assert isinstance(result, fabula.GenerateResult) and result.strict and result.failed
        assert raised.value.report == f"{tmp_path / out}/report.html"
        assert (tmp_path / out / "manifest.json").is_file()
    assert not fabula.generate(failing(strict=True), tmp_path / "overruled", strict=False).strict


def test_validate_output_raises_with_the_report(tmp_path):
    fabula.generate(failing(), tmp_path / "out")
    with pytest.raises(ValidationFailed) as raised:
        fabula.validate_output(tmp_path / "out", strict=True)
    assert raised.value.result.verdict == "fail"


@pytest.mark.parametrize("options, message", [
    ({"engine": "duckdb"}, "unknown engine 'duckdb'"),
    ({"master": "local[2]"}, "master= applies only with engine='spark'"),
    ({"partitions": 4}, "partitions= applies only with engine='spark'"),
    ({"engine": "spark", "workers": 2}, "workers= applies to the local engine"),
    ({"engine": "spark", "mode": "append"}, "engine='spark' writes a new local folder"),
    ({"engine": "spark", "spark": object(), "master": "local[2]"}, "not both"),
    ({"validate": False, "strict": True}, "strict=True needs the checks"),
])
def test_contradicting_options_are_refused_before_any_work(tmp_path, options, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("(", r"\(")):
        fabula.generate(SPEC, tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


def test_the_spark_engine_takes_no_object_store(tmp_path):
    with pytest.raises(UsageError, match="engine='spark' writes a new local folder"):
        fabula.generate(SPEC, "s3://bucket/out", engine="spark")


def test_a_compiled_plan_refuses_options_it_would_ignore(tmp_path):
    plan = fabula.compile_plan(SPEC)
    with pytest.raises(UsageError, match="this plan is compiled already"):
        fabula.generate(plan, tmp_path / "out", scale=2)
    with pytest.raises(UsageError, match="this plan is compiled already"):
        fabula.preview(plan, seed=1)
    assert fabula.generate(plan, tmp_path / "out").manifest.tables["t"].rows == 2000


def bound_spec(sql: str, column_kind: str = "normal") -> dict:
    column = {"kind": "normal", "mean": 5, "std": 1} if column_kind == "normal" else {"kind": "constant", "value": "a"}
    return {**SPEC, "tables": {"t": {"rows": 100, "columns": {"id": SPEC["tables"]["t"]["columns"]["id"], "x": column}}},
            "expect": [{"name": "a mean", "sql": sql, "between": [0, 10]}]}


def test_queries_that_bound_before_are_not_bound_again_and_a_bad_one_always_is(tmp_path, monkeypatch):
    """issue 16: binding a spec's queries opens a DuckDB; a clean outcome is kept on disk, keyed
    by what the binding reads, and problems are always found afresh."""
    from fabula import api

    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    bound = []
    monkeypatch.setattr(api, "check_queries", lambda plan: bound.append(plan) or fabula.validate.check_queries(plan))
    fabula.compile_plan(bound_spec("select avg(x) from t"))
    fabula.compile_plan(bound_spec("select avg(x) from t"))
    assert len(bound) == 1  # kept
    fabula.compile_plan(bound_spec("select avg(x) from t where x > 1"))
    assert len(bound) == 2  # another query
    with pytest.raises(fabula.SpecError, match="avg.VARCHAR"):
        fabula.compile_plan(bound_spec("select avg(x) from t", column_kind="constant"))  # avg of text: the types count
    for _ in range(2):
        with pytest.raises(fabula.SpecError, match="amont"):
            fabula.compile_plan(bound_spec("select avg(amont) from t"))
    assert len(bound) == 5
    assert [path.read_text() for path in (tmp_path / "bound-queries").glob("*.json")] == ['"bound"'] * 2
