"""`fabula validate` rebuilds the plan from the manifest: the canonical spec it stores turns back
into the same spec (mapping keys get their types back from the recorded column types), and a
manifest that does not is refused with a clear error."""

from __future__ import annotations

import json
import shutil

import pytest

import fabula
from fabula.scenarios import builtin_names
from fabula.spec.canonical import from_canonical

TRICKY = {
    "name": "tricky", "seed": 5, "as_of": "2024-12-31",
    "tables": {
        "parents": {"rows": 50, "columns": {
            "key": {"kind": "sequence", "start": 100, "step": 3},
            "flag": {"kind": "boolean", "p": 0.4},
            "size": {"kind": "categorical", "values": {1: 2, 5: 1}},
            "day": {"kind": "categorical", "values": {"2024-01-01": 1, "2024-06-01": 1}},
            "kids": {"kind": "aggregate", "fn": "max", "of": "children.when"},
        }},
        "children": {"rows": {"per": "parents", "count": {"kind": "poisson", "by": "flag",
                                                          "cases": {True: {"lam": 3}, False: 1}}},
                     "columns": {
                         "parent": {"kind": "reference", "to": "parents.key"},
                         "size": {"kind": "lookup", "from": "parent.size"},
                         "when": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "ms",
                                  "clip": {"min": "2024-12-10"}},
                         "score": {"kind": "normal", "mean": 0, "std": 1, "by": "size", "bins": [3],
                                   "cases": {"<3": {"mean": 1}}, "default": {"std": 2}},
                     }},
        "picks": {"rows": 30, "columns": {
            "parent": {"kind": "reference", "to": "parents.key", "pick": "weighted", "weight_by": "size",
                       "weights": {1: 1, 5: 4}},
        }},
    },
}


def _types(plan) -> dict:
    return {table.name: {column.name: str(column.arrow_type) for column in table.outputs} for table in plan.tables}


@pytest.mark.parametrize("source", [*builtin_names(), TRICKY], ids=[*builtin_names(), "tricky"])
def test_the_canonical_spec_rebuilds_into_itself(source):
    spec = fabula.load_spec(source)
    rebuilt = from_canonical(spec.canonical(), column_types=_types(fabula.compile_plan(spec)))
    assert rebuilt.canonical() == spec.canonical()
    assert rebuilt.spec_hash() == spec.spec_hash()


def test_mapping_keys_get_their_types_back():
    spec = fabula.load_spec(TRICKY)
    rebuilt = from_canonical(spec.canonical(), column_types=_types(fabula.compile_plan(spec)))
    assert list(rebuilt.tables["parents"].columns["size"].values) == [1, 5]
    assert rebuilt.tables["picks"].columns["parent"].weights == {1: 1.0, 5: 4.0}


def test_the_folder_of_a_tricky_spec_revalidates(tmp_path):
    out = tmp_path / "out"
    fabula.generate(TRICKY, out)
    before = (out / "report.json").read_bytes()
    report = fabula.validate_output(out)
    assert report.verdict != "fail", [check for check in report.checks if check.verdict == "fail"]
    assert (out / "report.json").read_bytes() == before


def test_an_edited_manifest_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    fabula.generate("retail", out, scale=0.02, validate=False)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["spec"]["tables"]["orders"]["columns"]["status"]["values"] = {"completed": "lots"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(fabula.OutputError) as refused:
        fabula.validate_output(out)
    assert "cannot rebuild the spec recorded in" in str(refused.value)
    assert "regenerate the data" in str(refused.value)


def test_a_missing_part_file_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    fabula.generate("retail", out, scale=0.02, validate=False)
    shutil.rmtree(out / "orders")
    with pytest.raises(fabula.OutputError, match="cannot read .*orders"):
        fabula.validate_output(out)
