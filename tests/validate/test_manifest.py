"""The manifest (format 2): typed, listing every file with its size and checksum, sealed by a
digest. `fabula validate` rebuilds the plan from it (the canonical spec turns back into the same
spec: mapping keys get their types back from the recorded column types, dates from
`spec_dates`), trusts none of it (integrity checks), and refuses a manifest it cannot read with
one clear message."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

import fabula
from fabula.cli.main import main
from fabula.manifest import FORMAT, MANIFEST, VERSION, Manifest, read_manifest
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
    assert "re-generate the data" in str(refused.value)


# -- the model ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    out = tmp_path_factory.mktemp("retail") / "out"
    fabula.generate("retail", out, scale=0.02)
    return out


@pytest.fixture
def copy(retail, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(retail, target)
    return target


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
        raise SystemExit(0)
    captured = capsys.readouterr()
    return exited.value.code, captured.out + captured.err


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(report, name):
    found = [entry for entry in report.checks if entry.name == name]
    assert found, [entry.name for entry in report.checks]
    return found[0]


def test_the_manifest_lists_every_file_with_size_and_checksum(retail):
    raw = json.loads((retail / MANIFEST).read_text())
    assert (raw["format"], raw["manifest_version"], raw["engine"]) == (FORMAT, VERSION, "local")
    listed = set()
    for name, table in raw["tables"].items():
        assert table["files"], name
        for entry in table["files"]:
            path = retail / entry["path"]
            assert entry["bytes"] == path.stat().st_size and entry["sha256"] == sha256(path)
            assert entry["rows"] >= 0
            listed.add(entry["path"])
        assert {f"{name}/{p.name}" for p in (retail / name).iterdir()} <= listed
    assert [entry["path"] for entry in raw["reports"]] == ["report.json", "report.html"]
    for entry in raw["reports"]:
        assert entry["sha256"] == sha256(retail / entry["path"]) and entry["rows"] is None
    body = {key: value for key, value in raw.items() if key != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert raw["digest"] == hashlib.sha256(text.encode()).hexdigest()
    assert not {"created", "created_at", "time", "timestamp"} & set(raw)


def test_the_manifest_reads_back_into_the_same_model(retail):
    manifest = read_manifest(retail)
    assert isinstance(manifest, Manifest) and manifest.digest_matches
    assert manifest.to_json() == (retail / MANIFEST).read_text()
    assert manifest.tables["orders"].bytes == sum(e.bytes for e in manifest.tables["orders"].files)


CONSTANT_DATE = {"name": "c", "seed": 1, "as_of": "2024-12-31", "tables": {"t": {"rows": 10, "columns": {
    "d": {"kind": "constant", "value": __import__("datetime").date(2024, 1, 1)},
    "s": {"kind": "constant", "value": "2024-01-01"}}}}}


def test_a_constant_date_round_trips(tmp_path, capsys):
    """A date constant came back as text, and `validate` failed output `generate` had passed."""
    out = tmp_path / "out"
    fabula.generate(CONSTANT_DATE, out, strict=True)
    assert ["tables", "t", "columns", "d", "value"] in json.loads((out / MANIFEST).read_text())["spec_dates"]
    code, printed = run_cli(capsys, "validate", str(out), "--strict")
    assert code == 0, printed
    assert "validation PASS" in printed


def test_a_version_1_manifest_is_refused_with_a_hint(copy, capsys):
    (copy / MANIFEST).write_text(json.dumps({"manifest_version": 1, "dataset": "retail", "tables": {}}))
    code, printed = run_cli(capsys, "validate", str(copy))
    assert code == 2
    assert "older fabula (manifest version 1" in printed and "hint: re-generate the data" in printed
    assert "Traceback" not in printed


@pytest.mark.parametrize("content, message", [
    (b"{" * 1 + b'"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested more than"),
    (b"[" * 100_000, "nested more than"),
    (b"not json at all", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"format": FORMAT, "manifest_version": 2}).encode(), "a field is missing or malformed"),
    (json.dumps({"web": "app"}).encode(), "no \"format\": \"fabula-manifest\" marker"),
])
def test_a_malformed_manifest_is_one_clear_message(copy, capsys, content, message):
    (copy / MANIFEST).write_bytes(content)
    code, printed = run_cli(capsys, "validate", str(copy))
    assert code == 2 and message in printed and "Traceback" not in printed, printed


def test_a_huge_manifest_is_refused_unread(copy, capsys, monkeypatch):
    import fabula.manifest

    monkeypatch.setattr(fabula.manifest, "MAX_BYTES", 1000)  # the bound, not a gigabyte on disk
    code, printed = run_cli(capsys, "validate", str(copy))
    assert code == 2 and "larger than" in printed


def test_a_listed_path_outside_the_folder_is_refused(copy, capsys):
    raw = json.loads((copy / MANIFEST).read_text())
    raw["tables"]["orders"]["files"][0]["path"] = "orders/../../../etc/passwd"
    (copy / MANIFEST).write_text(json.dumps(raw))
    code, printed = run_cli(capsys, "validate", str(copy))
    assert code == 2 and "leaves the output folder" in printed


# -- validate trusts nothing ----------------------------------------------------------------------------


def test_the_untouched_output_passes_integrity(copy):
    report = fabula.validate_output(copy)
    integrity = [entry for entry in report.checks if entry.family == "integrity"]
    assert {entry.name for entry in integrity} >= {"manifest.json is unedited", "orders: files as listed",
                                                   "reports as listed"}
    assert all(entry.verdict == "pass" for entry in integrity), integrity


def test_an_unlisted_file_in_a_table_folder_fails(copy, capsys):
    shutil.copy(copy / "orders" / "part-00000.parquet", copy / "orders" / "part-00001.parquet")
    code, printed = run_cli(capsys, "validate", str(copy), "--strict")
    assert code == 3
    report = fabula.validate_output(copy)
    files = check(report, "orders: files as listed")
    assert files.verdict == "fail"
    assert "orders/part-00001.parquet is not listed in manifest.json" in files.message


def test_a_missing_listed_file_fails(copy, capsys):
    (copy / "orders" / "part-00000.parquet").unlink()
    code, printed = run_cli(capsys, "validate", str(copy), "--strict")
    assert code == 3 and "orders: files as listed" in printed
    report = fabula.validate_output(copy)
    assert "orders/part-00000.parquet is missing" in check(report, "orders: files as listed").message


def test_a_changed_file_fails(copy):
    import pyarrow.parquet as pq

    path = copy / "customers" / "part-00000.parquet"
    rows = pq.read_table(path)
    pq.write_table(rows.slice(1), path)  # a row gone: another size
    report = fabula.validate_output(copy)
    assert "is " in check(report, "customers: files as listed").message
    assert check(report, "customers: files as listed").verdict == "fail"


def test_a_changed_file_of_the_same_size_fails(copy):
    path = copy / "customers" / "part-00000.parquet"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0x01  # a byte of the footer's length: same size, other checksum
    path.write_bytes(bytes(data))
    with pytest.raises(fabula.OutputError):  # unreadable now, which is one clear message too
        fabula.validate_output(copy)
    from fabula.validate.families import integrity
    from fabula.manifest import read_manifest as read

    manifest = read(copy)
    listing = integrity.Listing({name: table.files for name, table in manifest.tables.items()})
    found = {entry.name: entry for entry in integrity.checks(copy, listing)}
    assert found["customers: files as listed"].verdict == "fail"
    assert "has changed (its sha256 is not the recorded one)" in found["customers: files as listed"].message


def test_an_edited_manifest_fails_its_digest(copy, capsys):
    raw = json.loads((copy / MANIFEST).read_text())
    raw["tables"]["orders"]["files"][0]["rows"] += 1  # still readable, still rebuilds
    (copy / MANIFEST).write_text(json.dumps(raw))
    code, printed = run_cli(capsys, "validate", str(copy), "--strict")
    assert code == 3 and "manifest.json is unedited" in printed
    report = json.loads((copy / "report.json").read_text())
    failed = {entry["name"]: entry["message"] for entry in report["checks"] if entry["verdict"] == "fail"}
    assert "digest does not match its contents" in failed["manifest.json is unedited"]


def test_an_edited_report_is_a_warning(copy):
    with open(copy / "report.html", "a") as handle:
        handle.write("<!-- edited -->")
    report = fabula.validate_output(copy)
    reports = check(report, "reports as listed")
    assert reports.verdict == "warn" and "report.html" in reports.message


def test_a_corrupt_data_page_is_one_clear_message(copy, capsys):
    path = copy / "orders" / "part-00000.parquet"
    data = bytearray(path.read_bytes())
    for position in range(8, min(len(data) // 2, 4000)):  # garble the first pages, keep the footer
        data[position] = 0xAB
    path.write_bytes(bytes(data))
    code, printed = run_cli(capsys, "validate", str(copy))
    assert code == 2, printed
    assert "cannot read" in printed and "damaged or was changed" in printed
    assert "Traceback" not in printed


@pytest.mark.parametrize("paths", [[["tables", "t", "columns", "d", "nope"]], [["tables", 7]], [[True]], "x"])
def test_a_bad_spec_dates_entry_is_one_clear_message(tmp_path, capsys, paths):
    out = tmp_path / "out"
    fabula.generate(CONSTANT_DATE, out, validate=False)
    raw = json.loads((out / MANIFEST).read_text())
    raw["spec_dates"] = paths
    (out / MANIFEST).write_text(json.dumps(raw))
    code, printed = run_cli(capsys, "validate", str(out))
    assert code == 2 and "Traceback" not in printed
    assert "cannot rebuild the spec recorded in" in printed or "a field is missing or malformed" in printed
