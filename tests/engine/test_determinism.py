"""The determinism contract (DESIGN.md): one seed, one output, however the work is split."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import fabula
from fabula.plan.blocks import generate_block
from fabula.plan import Layout
from fabula.plan.compile import compile_plan as compile_with_options

from helpers import content_digest, file_digests, read_table


def _plan(spec, **options):
    return compile_with_options(fabula.load_spec(spec), **options)


def test_worker_count_never_changes_a_byte(small_spec, tmp_path):
    """Part files are byte-identical for 1, 2 and 5 workers."""
    plan = _plan(small_spec, block_rows=1000, layout=Layout(blocks_per_file=2, blocks_per_row_group=1))
    digests = []
    for workers in (1, 2, 5):
        out = tmp_path / f"w{workers}"
        fabula.generate(plan, out, workers=workers)
        digests.append(file_digests(out))
    assert len(digests[0]) > 4, "the layout should give several part files"
    assert digests[0] == digests[1] == digests[2]


def test_physical_layout_never_changes_the_data(small_spec, tmp_path):
    """Grouping blocks into other files and row groups gives the same rows, in the same order."""
    contents = []
    for index, layout in enumerate([Layout(1, 1), Layout(3, 2), Layout(16, 4)]):
        out = tmp_path / f"layout{index}"
        fabula.generate(_plan(small_spec, block_rows=1000, layout=layout), out)
        contents.append({table: content_digest(read_table(out, table)) for table in ("customers", "events")})
    assert contents[0] == contents[1] == contents[2]


def test_blocks_are_pure_functions_of_their_index(small_spec):
    """Generating a block again, alone or after others, gives the same batch."""
    plan = _plan(small_spec, block_rows=1000)
    table = plan.table("customers")
    first = [generate_block(plan, table, block) for block in range(table.n_blocks)]
    again = [generate_block(plan, table, block) for block in reversed(range(table.n_blocks))][::-1]
    assert all(a.equals(b) for a, b in zip(first, again))


def _column(spec, table, column):
    plan = _plan(spec)
    return [generate_block(plan, plan.table(table), 0).column(column).to_pylist()]


def test_adding_and_reordering_never_moves_other_columns(small_spec):
    """Other tables and columns, and their order, do not change a column's values."""
    before = {name: _column(small_spec, "customers", name) for name in ("tier", "arr", "city", "active")}
    changed = json.loads(json.dumps(small_spec))
    columns = changed["tables"]["customers"]["columns"]
    columns["extra"] = {"kind": "normal", "mean": 0, "std": 1}
    changed["tables"]["customers"]["columns"] = dict(reversed(list(columns.items())))
    changed["tables"] = {"zzz": {"rows": 10, "columns": {"x": {"kind": "beta", "a": 2, "b": 3}}},
                         **dict(reversed(list(changed["tables"].items())))}
    del changed["tables"]["events"]
    after = {name: _column(changed, "customers", name) for name in before}
    assert after == before


def test_another_seed_gives_other_data(small_spec):
    one = _column(small_spec, "customers", "arr")
    small_spec["seed"] = 8
    assert _column(small_spec, "customers", "arr") != one


def test_no_wall_clock_inside_generation(small_spec, monkeypatch):
    """With as_of pinned the data is the same on any day; without it, today is read once, at
    plan time, and recorded."""
    pinned = _column(small_spec, "customers", "signup")

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date(2031, 1, 1)

    import fabula.plan.compile as compile_module

    monkeypatch.setattr(compile_module, "date", Tomorrow)
    assert _column(small_spec, "customers", "signup") == pinned
    del small_spec["as_of"]
    plan = _plan(small_spec)
    assert plan.as_of == date(2031, 1, 1)
    signup = generate_block(plan, plan.table("customers"), 0).column("signup").to_pylist()
    assert min(signup) >= date(2029, 1, 1) and max(signup) <= date(2030, 7, 1)


def test_python_hash_seed_does_not_matter(tmp_path):
    """Streams are keyed by BLAKE2b of names, never Python's salted hash()."""
    script = (
        "import sys, fabula\n"
        "from helpers import SMALL_SPEC, content_digest, read_table\n"
        "from pathlib import Path\n"
        "fabula.generate(SMALL_SPEC, sys.argv[1])\n"
        "print(content_digest(read_table(Path(sys.argv[1]), 'customers')),"
        " content_digest(read_table(Path(sys.argv[1]), 'events')))\n"
    )
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": str(Path(__file__).parents[1])}
        result = subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)],
                                env=env, capture_output=True, text=True, check=True)
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


def test_manifest_records_what_reproduces_the_run(small_spec, tmp_path):
    manifest = fabula.generate(small_spec, tmp_path / "out", scale=0.5).manifest
    written = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert written == manifest.to_dict()
    assert written["seed"] == 7 and written["as_of"] == "2024-06-30" and written["scale"] == 0.5
    assert written["spec_hash"] == fabula.load_spec(small_spec).spec_hash()
    assert {"fabula", "numpy", "pyarrow", "faker"} <= set(written["versions"])
    assert written["tables"]["customers"]["rows"] == 2500
    assert written["tables"]["events"]["rows"] == 4500
    assert read_table(tmp_path / "out", "events").num_rows == 4500


def test_same_plan_writes_the_same_manifest(small_spec, tmp_path):
    fabula.generate(small_spec, tmp_path / "a")
    fabula.generate(small_spec, tmp_path / "b")
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()


@pytest.mark.parametrize("scale,expected", [(0.001, 5), (1, 5000), (3, 15000)])
def test_scale_multiplies_rows(small_spec, scale, expected):
    assert _plan(small_spec, scale=scale).table("customers").rows == expected
