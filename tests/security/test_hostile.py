"""Hostile specs through the real command line: each ends in one readable message and the
right exit code, within a time and memory limit, with no traceback and nothing written outside
a temporary folder. The cases are in hostile/cases.yaml; the specs are the files beside it.

Limits are generous (the machine may be busy): they catch a runaway (a billion-laughs file used
to take 73 s and 3.6 GB), not a slow second.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import fabula
from fabula.errors import SpecError

HERE = Path(__file__).resolve().parent
HOSTILE = HERE / "hostile"
CASES = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))

TIMEOUT_SECONDS = 120
MEMORY_BYTES = 3 * 1024**3  # address space: pyarrow and numpy reserve some at import


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_fabula(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "FABULA_DEBUG")}
    done = subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=TIMEOUT_SECONDS, preexec_fn=_limit_memory, env={**env, "COLUMNS": "200"})
    return done, time.perf_counter() - started


def _case_id(case: dict) -> str:
    return "-".join([Path(case.get("file", "")).stem or "cli", *(str(a) for a in case["args"][:1]),
                     *(a for a in case["args"][2:3] if a.startswith("--"))])


def _snapshot(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_hostile_case(case: dict, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    if "file" in case:
        (work / case["file"]).write_bytes((HOSTILE / case["file"]).read_bytes())
    args = [arg.replace("{file}", case.get("file", "")).replace("{tmp}", str(scratch))
            .replace("{long}", "x" * 5000) for arg in case["args"]]
    before = _snapshot(HOSTILE)
    done, elapsed = run_fabula(args, cwd=work)
    shown = done.stdout + done.stderr
    assert done.returncode == case["exit"], f"exit {done.returncode}, expected {case['exit']}:\n{shown}"
    assert case["message"] in shown, f"{case['message']!r} not in:\n{shown}"
    assert "Traceback" not in shown, shown
    assert "internal error" not in shown, shown
    assert elapsed < TIMEOUT_SECONDS
    assert _snapshot(HOSTILE) == before
    written = _snapshot(work) - {case.get("file", "")}
    assert written <= {""} or all(name.startswith(("out", ".")) for name in written) and case["args"][0] == "generate", \
        f"wrote {sorted(written)} in the working folder"


def test_a_billion_laughs_is_refused_quickly(tmp_path):
    done, elapsed = run_fabula(["check", str(HOSTILE / "billion-laughs.yaml")], cwd=tmp_path)
    assert done.returncode == 2
    assert elapsed < 30, f"took {elapsed:.1f}s; it must be refused before expanding (about a second)"


def test_an_oversized_file_is_refused_before_parsing(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("name: d\n" + "# padding\n" * 300_000, encoding="utf-8")  # 3 MB of comments
    done, _ = run_fabula(["check", str(spec)], cwd=tmp_path)
    assert done.returncode == 2
    assert "more than the limit of 2,097,152" in done.stderr


def test_a_million_categorical_values(tmp_path):
    """10^6 values do not fit in a spec file; 120,000 do, and are over the category limit."""
    for count, message in ((1_000_000, "more than the limit"), (120_000, "more than 100,000")):
        spec = tmp_path / f"cats{count}.yaml"
        values = ", ".join(str(i) for i in range(count))
        spec.write_text(f"name: d\ntables:\n  t:\n    rows: 10\n    columns:\n"
                        f"      c: {{kind: categorical, values: [{values}]}}\n", encoding="utf-8")
        done, _ = run_fabula(["check", str(spec)], cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr


def test_four_thousand_columns_check_in_linear_time(tmp_path):
    """Compiling was quadratic in columns (4,000 took 16 s). A chain where each column reads the
    next is the worst case for ordering; it must check well within the timeout."""
    lines = [f"      c{i}: {{kind: expression, expr: \"c{i + 1} + 1\"}}" for i in range(3999)]
    lines.append("      c3999: {kind: sequence}")
    spec = tmp_path / "wide.yaml"
    spec.write_text("name: wide\nseed: 1\ntables:\n  t:\n    rows: 10\n    columns:\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    done, elapsed = run_fabula(["check", str(spec)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4000 columns" in done.stdout
    assert elapsed < 60, f"4,000 columns took {elapsed:.0f}s"


def test_debug_shows_the_traceback(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_bytes((HOSTILE / "expr-multiply.yaml").read_bytes())
    plain, _ = run_fabula(["preview", str(spec)], cwd=tmp_path)
    debug, _ = run_fabula(["--debug", "preview", str(spec)], cwd=tmp_path)
    assert plain.returncode == debug.returncode == 2
    assert "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr and "overflows 64-bit integers" in debug.stderr


def test_allow_large_lets_a_big_plan_through():
    """The size guard refuses a plan past 10^12 rows unless asked; planning itself writes nothing."""
    spec = {"name": "big", "seed": 1, "tables": {"t": {"rows": 900_000_000_000, "columns": {
        "id": {"kind": "sequence"}}}}}
    with pytest.raises(SpecError) as refused:
        fabula.compile_plan(spec, scale=3)
    assert "--allow-large" in str(refused.value)
    assert fabula.compile_plan(spec, scale=3, allow_large=True).total_rows == 2_700_000_000_000


def test_out_dot_is_a_message(tmp_path):
    """`--out .` (the working folder itself) ends in a message, whatever the output-folder rules
    decide (refused as a bad --out, or as a folder that cannot be replaced)."""
    done, _ = run_fabula(["generate", "retail", "--out", "."], cwd=tmp_path)
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert "hint:" in done.stderr


def test_a_disk_error_is_an_environment_error(tmp_path):
    """Exit code 1 with what to do, not a traceback: a read-only output folder."""
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        done, _ = run_fabula(["generate", "retail", "--out", str(locked / "out")], cwd=tmp_path)
    finally:
        locked.chmod(0o700)
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert "hint:" in done.stderr
