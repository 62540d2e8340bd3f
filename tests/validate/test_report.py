"""The report of a run: built-in scenarios pass, the report does not depend on the worker count,
it is written inside the output before it is committed, and --strict gates on it."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from validate.shop import SHOP

import fabula
from fabula.cli.main import main
from fabula.scenarios import builtin_names
from fabula.validate import Report

FIELDS = {"family", "name", "verdict", "message", "expected", "observed", "tolerance", "table", "column", "details"}


def run_cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
        raise SystemExit(0)
    return exited.value.code


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_report_passes(name, tmp_path):
    out = tmp_path / name
    manifest = fabula.generate(name, out, strict=True).manifest  # strict: a failed check would raise
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] in ("pass", "warn")
    assert not [check for check in report["checks"] if check["verdict"] == "fail"]
    families = {check["family"] for check in report["checks"]}
    assert {"structure", "columns", "guidance"} <= families
    assert [entry.path for entry in manifest.reports] == ["report.json", "report.html"]


def test_every_check_says_what_was_expected_and_seen(shop_output):
    report = json.loads((shop_output / "report.json").read_text())
    assert report["verdict"] == "pass", [c for c in report["checks"] if c["verdict"] != "pass"]
    for check in report["checks"]:
        assert FIELDS <= set(check), check
        assert check["verdict"] in ("pass", "warn", "fail", "skip")
        assert check["message"] and check["name"]
    names = {check["name"] for check in report["checks"]}
    for expected in ("orders.customer_id has no orphans", "orders.order_id is unique",
                     "customers.spend adds up orders.amount", "orders.shipped_at never before ordered_at",
                     "orders.status shares", "orders.amount nulls", "the spring sale spikes orders",
                     "orders.ordered_at [promo=True] ~ date uniform 2024-03-01..2024-03-07",
                     "orders.items ~ poisson(lam=2.5), clip ≥ 1"):
        assert expected in names


def test_expectations_report_their_number_and_bounds(shop_output):
    report = Report.from_dict(json.loads((shop_output / "report.json").read_text()))
    expectations = {check.name: check for check in report.checks if check.family == "expectations"}
    assert list(expectations) == [entry["name"] for entry in yaml.safe_load(SHOP)["expect"]]
    spike = expectations["the spring sale spikes orders"]
    assert spike.expected == [3, 30] and 5 < spike.observed < 9  # 1 + (10% / 7 days) / (90% / 366 days) ≈ 6.8
    share = expectations["most orders complete"]
    assert abs(share.observed - 0.8) < 0.01 and "within [0.75, 0.85]" in share.message
    assert "select avg(case when" in share.details["sql"]


def test_report_is_the_same_for_any_worker_count(tmp_path, shop_output):
    spec = yaml.safe_load(SHOP)
    one, four = tmp_path / "one", tmp_path / "four"
    fabula.generate(spec, one, workers=1)
    fabula.generate(spec, four, workers=4)
    assert (one / "report.json").read_bytes() == (four / "report.json").read_bytes()
    assert (one / "report.json").read_bytes() == (shop_output / "report.json").read_bytes()


def test_revalidating_a_copied_folder_gives_the_same_report(shop_output, tmp_path):
    copy = tmp_path / "elsewhere" / "copied"
    shutil.copytree(shop_output, copy)
    (copy / "report.json").unlink()
    (copy / "report.html").unlink()
    report = fabula.validate_output(copy, workers=3)
    assert report.verdict == "pass"
    assert (copy / "report.json").read_bytes() == (shop_output / "report.json").read_bytes()
    assert (copy / "report.html").is_file()


def test_reports_are_in_the_manifest_and_no_validate_skips_them(tmp_path):
    plain = tmp_path / "plain"
    manifest = fabula.generate(yaml.safe_load(SHOP), plain, validate=False).manifest
    assert manifest.reports == ()
    assert not (plain / "report.json").exists() and not (plain / "report.html").exists()
    written = json.loads((plain / "manifest.json").read_text())
    assert written["reports"] == []
    assert run_cli("generate", "retail", "--out", str(tmp_path / "r"), "--scale", "0.05", "--no-validate", "-q") == 0
    assert not (tmp_path / "r" / "report.json").exists()


def test_strict_needs_validation(tmp_path, capsys):
    assert run_cli("generate", "retail", "--out", str(tmp_path / "r"), "--no-validate", "--strict") == 2
    assert "--strict" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def _failing_spec(strict_setting: bool | None = None) -> dict:
    spec = yaml.safe_load(SHOP)
    spec["expect"].append({"name": "an impossible average", "sql": "select avg(amount) from orders",
                           "between": [1000, 2000]})
    if strict_setting is not None:
        spec["validation"] = {"strict": strict_setting}
    return spec


def test_generate_strict_exits_3_and_keeps_the_output(tmp_path, capsys):
    spec_file = tmp_path / "shop.yaml"
    spec_file.write_text(yaml.safe_dump(_failing_spec(), sort_keys=False))
    out = tmp_path / "out"
    assert run_cli("generate", str(spec_file), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "validation FAIL" in printed and "✗ an impossible average" in printed
    assert run_cli("generate", str(spec_file), "--out", str(out), "--mode", "overwrite", "--strict") == 3
    err = capsys.readouterr().err
    assert "1 check failed:" in err and "an impossible average: " in err and "outside [1000, 2000]" in err
    assert (out / "manifest.json").is_file() and (out / "report.html").is_file()


def test_the_spec_can_ask_for_strict(tmp_path, capsys):
    spec_file = tmp_path / "shop.yaml"
    spec_file.write_text(yaml.safe_dump(_failing_spec(strict_setting=True), sort_keys=False))
    out = tmp_path / "out"
    assert run_cli("generate", str(spec_file), "--out", str(out), "-q") == 3
    assert run_cli("validate", str(out), "-q") == 3  # the recorded spec asks for it too
    with pytest.raises(fabula.ValidationFailed) as failed:
        fabula.validate_output(out)
    assert failed.value.exit_code == 3 and "an impossible average" in str(failed.value)
    assert fabula.validate_output(out, strict=False).verdict == "fail"


def test_validate_refuses_a_folder_fabula_did_not_write(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert run_cli("validate", str(tmp_path / "data")) == 2
    err = capsys.readouterr().err
    assert "has no manifest.json" in err and "hint:" in err


def test_a_failure_while_checking_leaves_nothing(tmp_path):
    """The reports are written in the staged folder: if checking fails, nothing is committed."""
    from fabula.engine.local import run_local
    from fabula.sinks import ParquetSink

    plan = fabula.compile_plan(yaml.safe_load(SHOP), scale=0.05)

    def broken(folder, parts):
        (folder / "report.json").write_text("{}")
        raise RuntimeError("the checks broke")

    with pytest.raises(RuntimeError):
        run_local(plan, ParquetSink(tmp_path / "out"), reports=broken)
    assert list(tmp_path.iterdir()) == []
