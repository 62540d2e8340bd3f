"""The shared generator contract: every registered column kind, through the real path.

spec dict → `build_spec` → `compile_plan` → `generate_block` (or `fabula.generate` to Parquet).
Each kind has one minimal example below; a registered kind without one fails
`test_every_kind_has_an_example`, so a new kind cannot skip the contract. Relation kinds bring
the other tables they need (a parent `p`, children `c` of `t`), and `VARIANTS` run other shapes
of a kind (Zipf picks, one row per parent, `after:` a parent's date, …) through the same contract.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fabula
from fabula.plan.blocks import generate_block
from fabula.generators import GENERATORS, GenerationError
from fabula.plan import Layout, Plan, compile_plan
from fabula.spec import COLUMN_KINDS, build_spec, load_text

DICTIONARY_STRING = pa.dictionary(pa.int32(), pa.string())
TABLE = "t"
COLUMN = "x"
"""The column under test is always `t.x`; an example may add helper columns it reads."""


# -- one minimal example per kind --------------------------------------------------------------


def noisy_double(columns: dict[str, pa.Array], rng: np.random.Generator, n: int) -> np.ndarray:
    """A `python` column: twice its input plus noise from the column's own stream."""
    base = columns["base"].to_numpy(zero_copy_only=False)
    return 2 * base + rng.normal(0.0, 1.0, n)


@dataclass(frozen=True)
class Example:
    columns: dict[str, Any]
    """The table's columns: `x` plus whatever it reads."""
    arrow_type: pa.DataType
    """The type `x` must be declared with."""
    seeded: bool
    """Whether `x` depends on the root seed (False: a pure function of the row id)."""
    tables: dict[str, Any] = field(default_factory=dict)
    """Other tables `x` needs (a parent to reference, children to aggregate). A `rows` of
    `ROWS` there is replaced by the row count under test."""
    rows: Any = None
    """How `t` is sized, when not by the row count under test (e.g. one row per parent)."""


TIERS = {"kind": "categorical", "values": {"Free": 5, "Pro": 3, "Enterprise": 1}}

EXAMPLES: dict[str, Example] = {
    # keys: pure functions of the row id; uuid is keyed by the seed too
    "sequence": Example({"x": {"kind": "sequence", "start": 100, "step": 3}}, pa.int64(), seeded=False),
    "id": Example({"x": {"kind": "id", "format": "CUST-{:05d}", "start": 1}}, pa.string(), seeded=False),
    "uuid": Example({"x": {"kind": "uuid"}}, pa.string(), seeded=True),
    # numeric distributions
    "normal": Example({"x": {"kind": "normal", "mean": 50, "std": 10}}, pa.float64(), seeded=True),
    "lognormal": Example({"x": {"kind": "lognormal", "mean": 3, "sigma": 0.5}}, pa.float64(), seeded=True),
    "pareto": Example({"x": {"kind": "pareto", "alpha": 2.5, "scale": 10}}, pa.float64(), seeded=True),
    "exponential": Example({"x": {"kind": "exponential", "scale": 4}}, pa.float64(), seeded=True),
    "gamma": Example({"x": {"kind": "gamma", "shape": 2, "scale": 3}}, pa.float64(), seeded=True),
    "beta": Example({"x": {"kind": "beta", "a": 2, "b": 5}}, pa.float64(), seeded=True),
    "weibull": Example({"x": {"kind": "weibull", "shape": 1.5, "scale": 2}}, pa.float64(), seeded=True),
    "poisson": Example({"x": {"kind": "poisson", "lam": 3}}, pa.int64(), seeded=True),
    "zipf": Example({"x": {"kind": "zipf", "a": 2}}, pa.int64(), seeded=True),
    "uniform": Example({"x": {"kind": "uniform", "low": -5, "high": 5}}, pa.float64(), seeded=True),
    # categorical and simple values
    "categorical": Example({"x": TIERS}, DICTIONARY_STRING, seeded=True),
    "boolean": Example({"x": {"kind": "boolean", "p": 0.3}}, pa.bool_(), seeded=True),
    "constant": Example({"x": {"kind": "constant", "value": "EUR"}}, DICTIONARY_STRING, seeded=False),
    # dates and times
    "date": Example({"x": {"kind": "date", "start": "-6mo", "end": "today"}}, pa.date32(), seeded=True),
    "timestamp": Example({"x": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-03-31"}},
                         pa.timestamp("us"), seeded=True),
    # text and derived values
    "faker": Example({"x": {"kind": "faker", "provider": "city", "pool": 50}}, DICTIONARY_STRING, seeded=True),
    "expression": Example({"amount": {"kind": "lognormal", "mean": 3, "sigma": 0.5},
                           "x": {"kind": "expression", "expr": "round(amount * 1.2, 2)"}},
                          pa.float64(), seeded=True),
    "template": Example({"code": {"kind": "id", "format": "C-{:04d}"}, "tier": TIERS,
                         "x": {"kind": "template", "template": "{code}/{lower(tier)}"}},
                        pa.string(), seeded=True),
    "python": Example({"base": {"kind": "normal", "mean": 0, "std": 1},
                       "x": {"kind": "python", "fn": noisy_double, "depends": ["base"]}},
                      pa.float64(), seeded=True),
    # records: columns of one person, company or address agree (tests/generators/test_people.py)
    "person": Example({"x": {"kind": "person", "part": "email", "locale": "de_DE"}}, pa.string(), seeded=True),
    "company": Example({"x": {"kind": "company"}}, pa.string(), seeded=True),
    "address": Example({"x": {"kind": "address", "part": "city", "locale": "fr_FR"}}, DICTIONARY_STRING,
                       seeded=True),
    # not a registered kind but a column shape every kind can take: parameters by another column
    "conditional": Example({"tier": TIERS,
                            "x": {"kind": "lognormal", "mean": 8, "sigma": 0.5, "by": "tier",
                                  "cases": {"Enterprise": {"mean": 11}, "Pro": {}, "Free": 0}}},
                           pa.float64(), seeded=True),
}

ROWS = "<rows under test>"

PARENT = {"rows": 40, "columns": {
    "key": {"kind": "id", "format": "P-{:04d}"},
    "tier": TIERS,
    "created_at": {"kind": "date", "start": "2023-01-01", "end": "2023-12-31"},
}}
"""A parent for the relation examples: `t.x` references, reads or is compared with it."""

CHILDREN = {"rows": {"per": "t", "count": {"kind": "uniform", "low": 1, "high": 4, "integer": True}},
            "columns": {"amount": {"kind": "lognormal", "mean": 2, "sigma": 0.5, "round": 2},
                        "day": {"kind": "date", "start": "2024-01-01", "end": "2024-06-30"}}}
"""1 to 4 children per row of `t` (never 0, so min/max/mean are never null), to aggregate."""

EXAMPLES.update({
    # relations: a parent `p` to point at, children `c` to add up
    "reference": Example({"x": {"kind": "reference", "to": "p.key"}}, pa.string(), seeded=True,
                         tables={"p": PARENT}),
    "lookup": Example({"ref": {"kind": "reference", "to": "p.key"},
                       "x": {"kind": "lookup", "from": "ref.tier"}},
                      DICTIONARY_STRING, seeded=True, tables={"p": PARENT}),
    "aggregate": Example({"x": {"kind": "aggregate", "fn": "sum", "of": "c.amount"}}, pa.float64(),
                         seeded=True, tables={"c": CHILDREN}),
})

ONE_PER_PARENT = {"per": "p", "count": 1}
"""Sequences per parent with one row each, so `t` has the row count under test."""

EXAMPLES.update({
    # per-entity sequences (spec/sequences.py): one row per parent keeps the row count under test
    "cadence": Example({"x": {"kind": "cadence"}}, pa.timestamp("us"), seeded=True,
                       tables={"p": {**PARENT, "rows": ROWS}},
                       rows={"per": "p", "every": "1d", "start": "2024-08-01", "end": "2024-08-01", "jitter": "1h"}),
    "cadence_count": Example({"x": {"kind": "cadence_count", "table": "t", "every": "6h", "start": "2024-08-01",
                                    "end": "2024-08-02", "dropout": 0.3}}, pa.int64(), seeded=True),
    "position": Example({"x": {"kind": "position"}}, pa.int64(), seeded=False,
                        tables={"p": {**PARENT, "rows": ROWS}}, rows=ONE_PER_PARENT),
    "running": Example({"amount": {"kind": "normal", "mean": 5, "std": 2},
                        "x": {"kind": "running", "fn": "balance", "of": "amount", "start": 10}}, pa.float64(),
                       seeded=True, tables={"p": {**PARENT, "rows": ROWS}}, rows=ONE_PER_PARENT),
    "component": Example({"paid_at": {"kind": "timestamp", "timeline": "both"},
                          "x": {"kind": "component", "timeline": "both", "at": "paid_at"}},
                         DICTIONARY_STRING, seeded=True),
    "duration": Example({"opened": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-03-31"},
                         "closed": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-03-31", "after": "opened"},
                         "x": {"kind": "duration", "from": "opened", "to": "closed", "unit": "hours"}},
                        pa.float64(), seeded=True),
})

VARIANTS: dict[str, Example] = {
    # the other ways a parent is chosen
    "reference/zipf": Example({"x": {"kind": "reference", "to": "p.key", "pick": "zipf", "a": 1.1}},
                              pa.string(), seeded=True, tables={"p": PARENT}),
    "reference/hotspot": Example({"x": {"kind": "reference", "to": "p.key", "pick": "hotspot",
                                        "hot": 0.2, "share": 0.8}},
                                 pa.string(), seeded=True, tables={"p": PARENT}),
    "reference/weighted": Example({"x": {"kind": "reference", "to": "p.key", "pick": "weighted",
                                         "weight_by": "tier",
                                         "weights": {"Enterprise": 5, "Pro": 2, "Free": 1}}},
                                  pa.string(), seeded=True, tables={"p": PARENT}),
    # one row per parent: the owning parent, a pure function of the row
    "reference/owned": Example({"x": {"kind": "reference", "to": "p.key"}}, pa.string(), seeded=False,
                               tables={"p": {**PARENT, "rows": ROWS}}, rows={"per": "p", "count": 1}),
    "aggregate/count": Example({"x": {"kind": "aggregate", "fn": "count", "of": "c"}}, pa.int64(),
                               seeded=True, tables={"c": CHILDREN}),
    "aggregate/min-date": Example({"x": {"kind": "aggregate", "fn": "min", "of": "c.day"}}, pa.date32(),
                                  seeded=True, tables={"c": CHILDREN}),
    "aggregate/mean": Example({"x": {"kind": "aggregate", "fn": "mean", "of": "c.amount"}}, pa.float64(),
                              seeded=True, tables={"c": CHILDREN}),
    # parent-aware and chained columns of the existing kinds
    "date/after-parent": Example({"ref": {"kind": "reference", "to": "p.key"},
                                  "x": {"kind": "date", "start": "2023-06-01", "end": "2024-06-30",
                                        "after": "ref.created_at"}},
                                 pa.date32(), seeded=True, tables={"p": PARENT}),
    "timestamp/after-lag-column": Example({"opened": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-03-31"},
                                           "hours": {"kind": "exponential", "scale": 10},
                                           "x": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-03-31",
                                                 "after": "opened", "lag": "hours", "lag_unit": "hours"}},
                                          pa.timestamp("us"), seeded=True),
    "conditional/by-parent": Example({"ref": {"kind": "reference", "to": "p.key"},
                                      "x": {"kind": "lognormal", "mean": 3, "sigma": 0.5, "by": "ref.tier",
                                            "cases": {"Enterprise": {"mean": 7}, "Pro": {}, "Free": 0}}},
                                     pa.float64(), seeded=True, tables={"p": PARENT}),
    "conditional/bins": Example({"hours": {"kind": "exponential", "scale": 12},
                                 "x": {"kind": "categorical", "values": ["bad"], "by": "hours", "bins": [8, 24],
                                       "cases": {"<8": {"values": {"good": 4, "ok": 1}},
                                                 "<24": {"values": {"good": 1, "ok": 1}},
                                                 ">=24": {}}}},
                                DICTIONARY_STRING, seeded=True),
}
"""More shapes of the kinds above, through the same contract (not needed for registry coverage)."""

EXAMPLES.update(VARIANTS)

KINDS = sorted(GENERATORS) + ["conditional"] + sorted(VARIANTS)


def base_kind(kind: str) -> str:
    """`reference/zipf` → `reference`."""
    return kind.split("/", 1)[0]

AS_OF = "2024-08-31"

TIMELINES = {"day": {"start": "2024-06-01", "end": "2024-08-31", "rate": 100, "intraday": "daytime"},
             "night": {"start": "2024-06-01", "end": "2024-08-31", "rate": 10, "intraday": [1] * 6 + [0] * 16 + [1] * 2},
             "both": {"mix": {"normal": "day", "fraud": "night"}}}
"""Timelines every contract dataset has (only the examples that name them use them)."""


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def private_pool_cache(tmp_path_factory):
    """Faker pools built here go to a temporary cache, not the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FABULA_CACHE_DIR", str(tmp_path_factory.mktemp("pools")))
        yield


def dataset(columns: dict[str, Any], *, rows: int, seed: int = 7, tables: dict[str, Any] | None = None,
            table_rows: Any = None) -> dict[str, Any]:
    """A dataset with table `t` of `rows` rows (or sized by `table_rows`) and any other `tables`."""
    others = {name: {**table, "rows": rows if table["rows"] == ROWS else table["rows"]}
              for name, table in (tables or {}).items()}
    return {"name": "contract", "seed": seed, "as_of": AS_OF, "timelines": TIMELINES,
            "tables": {TABLE: {"rows": rows if table_rows is None else table_rows, "columns": columns},
                       **others}}


def example_columns(kind: str, **modifiers: Any) -> dict[str, Any]:
    """The kind's example columns, with `modifiers` added to the column under test."""
    columns = dict(EXAMPLES[kind].columns)
    columns[COLUMN] = {**columns[COLUMN], **modifiers}
    return columns


def plan_for(kind: str, *, rows: int, seed: int = 7, block_rows: int = 65_536,
             layout: Layout | None = None, **modifiers: Any) -> Plan:
    example = EXAMPLES[kind]
    spec = build_spec(dataset(example_columns(kind, **modifiers), rows=rows, seed=seed,
                              tables=example.tables, table_rows=example.rows))
    return compile_plan(spec, block_rows=block_rows, layout=layout)


def block_column(plan: Plan, block: int, name: str = COLUMN) -> pa.Array:
    table = plan.table(TABLE)
    return generate_block(plan, table, block).column(table.schema.get_field_index(name))


def all_blocks(plan: Plan) -> pa.Table:
    """The whole table, block by block, in order."""
    table = plan.table(TABLE)
    batches = [generate_block(plan, table, block) for block in range(table.n_blocks)]
    return pa.Table.from_batches(batches, schema=table.schema)


def written(plan: Plan, out: Path, *, workers: int) -> pa.Table:
    """Generate the plan as Parquet under `out` and read the table back with pyarrow."""
    fabula.generate(plan, out, workers=workers)
    parts = sorted((out / TABLE).glob("part-*.parquet"))
    assert parts, f"no part files under {out / TABLE}"
    return pa.concat_tables([pq.read_table(part) for part in parts])


def values(array: pa.Array | pa.ChunkedArray) -> list:
    """Python values, dictionaries decoded, so arrays compare by content, not by encoding."""
    return array.to_pylist()


def binomial_bounds(n: int, p: float, sigmas: float = 5.0) -> tuple[float, float]:
    """Counts a Binomial(n, p) stays within with overwhelming probability (±`sigmas` sd)."""
    sd = np.sqrt(n * p * (1 - p))
    return n * p - sigmas * sd, n * p + sigmas * sd


# -- coverage of the registry --------------------------------------------------------------------


def test_every_kind_has_an_example():
    """A registered generator kind without an example here would skip the whole contract."""
    missing = sorted(set(GENERATORS) - set(EXAMPLES))
    assert not missing, f"add an example to EXAMPLES for: {', '.join(missing)}"


def test_every_spec_kind_has_a_generator():
    """Spec models and generators are registered under the same names, no more, no fewer."""
    assert set(COLUMN_KINDS) == set(GENERATORS)


def test_every_kind_has_a_bad_parameter_case():
    """Each kind proves at least one invalid parameter set is rejected."""
    covered = {case[0] for case in BAD_PARAMETERS}
    missing = sorted({base_kind(kind) for kind in KINDS} - covered)
    assert not missing, f"add a BAD_PARAMETERS case for: {', '.join(missing)}"


# -- type and length -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_type_and_length_full_and_partial_blocks(kind):
    """Every block has the declared type and the block's row count, the last partial one too."""
    plan = plan_for(kind, rows=2_500, block_rows=1_000)
    declared = plan.table(TABLE).column(COLUMN).arrow_type
    assert declared == EXAMPLES[kind].arrow_type
    for block, expected_rows in [(0, 1_000), (1, 1_000), (2, 500)]:
        array = block_column(plan, block)
        assert array.type == declared
        assert len(array) == expected_rows
        assert array.null_count == 0


@pytest.mark.parametrize("kind", KINDS)
def test_type_and_length_empty_table(kind, tmp_path):
    """A 0-row table gives a 0-length array of the declared type, in memory and on disk."""
    plan = plan_for(kind, rows=0)
    declared = plan.table(TABLE).column(COLUMN).arrow_type
    array = block_column(plan, 0)
    assert (len(array), array.type) == (0, declared)
    back = written(plan, tmp_path / "out", workers=1)
    assert back.num_rows == 0
    assert back.schema.field(COLUMN).type == declared


# -- determinism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_output(kind):
    """Compiling and generating twice from the same spec and seed gives identical values."""
    first = all_blocks(plan_for(kind, rows=2_500, block_rows=1_000, seed=11))
    second = all_blocks(plan_for(kind, rows=2_500, block_rows=1_000, seed=11))
    assert first.equals(second)


@pytest.mark.parametrize("kind", KINDS)
def test_seed_changes_output_unless_pure_function_of_row(kind):
    """A different seed changes a seeded column; a row-id-only column stays the same."""
    one = values(all_blocks(plan_for(kind, rows=2_500, block_rows=1_000, seed=11)).column(COLUMN))
    other = values(all_blocks(plan_for(kind, rows=2_500, block_rows=1_000, seed=12)).column(COLUMN))
    if EXAMPLES[kind].seeded:
        assert one != other
    else:
        assert one == other


@pytest.mark.parametrize("kind", KINDS)
def test_blocks_do_not_depend_on_call_order(kind):
    """A block is a pure function of its index: generating blocks backwards changes nothing."""
    plan = plan_for(kind, rows=2_500, block_rows=1_000)
    table = plan.table(TABLE)
    forward = [generate_block(plan, table, block) for block in range(table.n_blocks)]
    backward = [generate_block(plan, table, block) for block in reversed(range(table.n_blocks))]
    assert all(a.equals(b) for a, b in zip(forward, reversed(backward)))


# -- chunk invariance ----------------------------------------------------------------------------

LAYOUTS = [
    (Layout(blocks_per_file=1, blocks_per_row_group=1), 1),
    (Layout(blocks_per_file=3, blocks_per_row_group=2), 1),
    (Layout(blocks_per_file=16, blocks_per_row_group=4), 1),
    (Layout(blocks_per_file=2, blocks_per_row_group=1), 2),
    (Layout(blocks_per_file=4, blocks_per_row_group=3), 3),
]


@pytest.mark.parametrize("kind", KINDS)
def test_layout_and_workers_do_not_change_contents(kind, tmp_path):
    """Files, row groups and worker counts group whole blocks: the written table never changes."""
    rows, block_rows = 1_050, 100  # 11 blocks, the last one partial
    reference = all_blocks(plan_for(kind, rows=rows, block_rows=block_rows))
    for number, (layout, workers) in enumerate(LAYOUTS):
        plan = plan_for(kind, rows=rows, block_rows=block_rows, layout=layout)
        back = written(plan, tmp_path / f"out{number}", workers=workers)
        assert back.num_rows == rows
        assert back.schema.field(COLUMN).type == reference.schema.field(COLUMN).type
        assert back.to_pydict() == reference.to_pydict(), f"{layout} with {workers} workers"


MIXED = {
    "id": {"kind": "id", "format": "ORD-{:06d}"},
    "uuid": {"kind": "uuid", "nulls": 0.1},
    "tier": TIERS,
    "amount": {"kind": "lognormal", "mean": 3, "sigma": 1, "round": 2, "nulls": 0.2,
               "by": "tier", "cases": {"Free": 0, "Pro": {}, "Enterprise": {"mean": 6}}},
    "city": {"kind": "faker", "provider": "city", "pool": 30},
    "when": {"kind": "timestamp", "start": "-1y", "end": "today", "unit": "ms"},
    "label": {"kind": "template", "template": "{id}:{city}"},
    "taxed": {"kind": "expression", "expr": "amount * 1.2"},
}


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks_per_file=st.integers(1, 6), blocks_per_row_group=st.integers(1, 4),
       workers=st.integers(1, 3), rows=st.integers(0, 900))
def test_any_grouping_of_blocks_gives_the_same_table(blocks_per_file, blocks_per_row_group, workers, rows):
    """Property: for any layout, worker count and row count, Parquet holds exactly the blocks."""
    spec = build_spec(dataset(MIXED, rows=rows))
    reference = all_blocks(compile_plan(spec, block_rows=64))
    plan = compile_plan(spec, block_rows=64, layout=Layout(blocks_per_file, blocks_per_row_group))
    with tempfile.TemporaryDirectory() as folder:
        back = written(plan, Path(folder) / "out", workers=workers)
    assert back.to_pydict() == reference.to_pydict()


# -- nulls ---------------------------------------------------------------------------------------

NULL_FRACTION = 0.3
NULL_BLOCK_ROWS = 65_536


@pytest.mark.parametrize("kind", KINDS)
def test_null_fraction_honoured_and_values_never_move(kind):
    """`nulls: 0.3` nulls ~30% of rows (5 sigma) and leaves every other value as it was."""
    plain = block_column(plan_for(kind, rows=NULL_BLOCK_ROWS), 0)
    nulled = block_column(plan_for(kind, rows=NULL_BLOCK_ROWS, nulls=NULL_FRACTION), 0)
    assert plain.null_count == 0
    assert nulled.type == plain.type and len(nulled) == len(plain)
    low, high = binomial_bounds(NULL_BLOCK_ROWS, NULL_FRACTION)
    assert low <= nulled.null_count <= high
    kept = pc.is_valid(nulled)
    assert values(plain.filter(kept)) == values(nulled.filter(kept))


@pytest.mark.parametrize("kind", KINDS)
def test_null_positions_depend_only_on_the_column_address(kind):
    """Nulls come from their own (seed, table, column, block) stream: same rows whatever the kind."""
    nulled = block_column(plan_for(kind, rows=4_096, nulls=NULL_FRACTION), 0)
    reference = block_column(plan_for("sequence", rows=4_096, nulls=NULL_FRACTION), 0)
    assert values(pc.is_null(nulled)) == values(pc.is_null(reference))


# -- the invariants the base class owns ----------------------------------------------------------


def test_python_column_of_wrong_length_is_a_generation_error():
    """A `python` fn returning the wrong number of values fails naming the table and column."""
    def three_values(columns, rng, n):
        return np.zeros(3)

    spec = build_spec(dataset({"x": {"kind": "python", "fn": three_values}}, rows=5))
    plan = compile_plan(spec)
    with pytest.raises(GenerationError, match=r"t\.x \(python\).*3 values.*expected 5"):
        generate_block(plan, plan.table(TABLE), 0)


def test_python_column_result_is_cast_to_declared_type():
    """A `python` fn may return plain lists; the column still has its declared type."""
    def row_numbers(columns, rng, n):
        return [int(i) for i in range(n)]

    spec = build_spec(dataset({"n": {"kind": "sequence"},
                               "x": {"kind": "python", "fn": row_numbers, "depends": ["n"], "type": "string"}},
                              rows=4))
    plan = compile_plan(spec)
    assert values(block_column(plan, 0)) == ["0", "1", "2", "3"]


# -- bad parameters ------------------------------------------------------------------------------

TIER_COLUMN = {"tier": {"kind": "categorical", "values": ["Free", "Pro"]}}
HOURS = {"kind": "exponential", "scale": 12}
BINNED = {"kind": "categorical", "values": ["a"], "by": "h", "bins": [8, 24],
          "cases": {"<8": {}, "<24": {}, ">=24": {}}}
REFERENCE = {"kind": "reference", "to": "p.key"}
WEIGHTED = {**REFERENCE, "pick": "weighted", "weight_by": "tier", "weights": {"Enterprise": 5, "Pro": 2, "Free": 1}}
DAYS = {"kind": "date", "start": "2024-01-01", "end": "2024-02-01"}
BAD_CASE_TABLES = {"p": PARENT, "c": {**CHILDREN, "columns": {**CHILDREN["columns"],
                                                              "label": {"kind": "constant", "value": "a"}}}}
"""Every bad case's spec also has these: a parent to reference, children of `t` to aggregate."""

# (kind, columns, expected code, dotted path, a fragment of the message or hint)
BAD_PARAMETERS = [
    ("sequence", {"x": {"kind": "sequence", "step": 0}}, "bad-value", "x.step", "must not be 0"),
    ("sequence", {"x": {"kind": "sequence", "stpe": 2}}, "unknown-key", "x.stpe", "did you mean `step`"),
    ("id", {"x": {"kind": "id", "format": "CUST-{:x}"}}, "bad-value", "x.format", "{:05d}"),
    ("id", {"x": {"kind": "id", "format": "CUST-{}-{}"}}, "bad-value", "x.format", "exactly one field"),
    ("id", {"x": {"kind": "id"}}, "missing-parameter", "x.format", "needs `format`"),
    ("id", {"x": {"kind": "id", "format": "C{:03d}", "start": -1}}, "bad-value", "x.start", "greater than or equal to 0"),
    ("uuid", {"x": {"kind": "uuid", "version": 4}}, "unknown-key", "x.version", "unknown key `version`"),
    ("normal", {"x": {"kind": "normal", "mean": 0, "std": -1}}, "bad-value", "x.std", "greater than 0"),
    ("normal", {"x": {"kind": "normal", "mean": 0, "sd": 1}}, "unknown-key", "x.sd", "did you mean `std`"),
    ("lognormal", {"x": {"kind": "lognormal", "mean": 1, "sigma": -0.5}}, "bad-value", "x.sigma", "greater than 0"),
    ("lognormal", {"x": {"kind": "lognormal", "mean": 1}}, "missing-parameter", "x.sigma", "needs `sigma`"),
    ("lognormal", {"x": {"kind": "lognormal", "mean": 1, "sigmma": 1}}, "unknown-key", "x.sigmma",
     "did you mean `sigma`"),
    ("pareto", {"x": {"kind": "pareto", "alpha": 0}}, "bad-value", "x.alpha", "greater than 0"),
    ("exponential", {"x": {"kind": "exponential"}}, "missing-parameter", "x.scale", "needs `scale`"),
    ("gamma", {"x": {"kind": "gamma", "shape": 2, "scale": 0}}, "bad-value", "x.scale", "greater than 0"),
    ("beta", {"x": {"kind": "beta", "a": 2, "b": -1}}, "bad-value", "x.b", "greater than 0"),
    ("weibull", {"x": {"kind": "weibull", "shape": -1}}, "bad-value", "x.shape", "greater than 0"),
    ("poisson", {"x": {"kind": "poisson", "lam": -1}}, "bad-value", "x.lam", "greater than or equal to 0"),
    ("zipf", {"x": {"kind": "zipf", "a": 1}}, "bad-value", "x.a", "greater than 1"),
    ("uniform", {"x": {"kind": "uniform", "low": 5, "high": 1}}, "bad-value", "x", "must be above low"),
    ("uniform", {"x": {"kind": "uniform", "low": 1}}, "missing-parameter", "x.high", "needs `high`"),
    ("uniform", {"x": {"kind": "uniform", "low": 1.2, "high": 1.8, "integer": True}}, "bad-value", "x",
     "no integer lies between"),
    ("categorical", {"x": {"kind": "categorical", "values": {"a": 1, "b": 0}}}, "bad-value", "x.values",
     "weights must be positive"),
    ("categorical", {"x": {"kind": "categorical", "values": {}}}, "bad-value", "x.values", "values is empty"),
    ("categorical", {"x": {"kind": "categorical", "values": {"a": 1, "b": -2}}}, "bad-value", "x.values",
     "weights must be positive"),
    ("categorical", {"x": {"kind": "categorical", "values": ["a", "a"]}}, "bad-value", "x.values", "twice"),
    ("boolean", {"x": {"kind": "boolean", "p": 1.5}}, "bad-value", "x.p", "less than or equal to 1"),
    ("constant", {"x": {"kind": "constant"}}, "missing-parameter", "x.value", "needs `value`"),
    ("date", {"x": {"kind": "date", "start": "2024-02-01", "end": "2024-01-01"}}, "inverted-dates", "x.start",
     "swap `start` and `end`"),
    ("date", {"x": {"kind": "date", "start": "yesterday", "end": "today"}}, "bad-value", "x.start", "-6mo"),
    ("timestamp", {"x": {"kind": "timestamp", "start": "-1y", "end": "today", "unit": "ns"}}, "bad-value",
     "x.unit", "'us'"),
    ("timestamp", {"x": {"kind": "timestamp", "start": "today", "end": "-1y"}}, "inverted-dates", "x.start",
     "after end"),
    ("faker", {"x": {"kind": "faker", "provider": "citty"}}, "unknown-provider", "x.provider", "did you mean `city`"),
    ("faker", {"x": {"kind": "faker", "provider": "city", "locale": "xx_YY"}}, "unknown-locale", "x.locale",
     "no such locale"),
    ("faker", {"x": {"kind": "faker", "provider": "city", "pool": 0}}, "bad-value", "x.pool",
     "greater than or equal to 1"),
    ("person", {"x": {"kind": "person", "part": "nickname"}}, "bad-value", "x.part", "'first_name'"),
    ("person", {"x": {"kind": "person", "locale": "de_XX"}}, "bad-value", "x.locale", "de_DE"),
    ("person", {"x": {"kind": "person", "part": "email", "domains": ["gmail"]}}, "bad-value", "x.domains",
     "not a domain name"),
    ("person", {"x": {"kind": "person", "middle": 1.5}}, "bad-value", "x.middle", "less than or equal to 1"),
    ("company", {"x": {"kind": "company", "record": "the company"}}, "bad-value", "x.record", "plain name"),
    ("company", {"x": {"kind": "company", "part": "email", "mailbox": "Billing Team"}}, "bad-value",
     "x.mailbox", "local part"),
    ("address", {"x": {"kind": "address", "part": "zip"}}, "bad-value", "x.part", "'postcode'"),
    ("expression", {"x": {"kind": "expression", "expr": "a +"}}, "bad-value", "x.expr", "cannot parse"),
    ("expression", {"y": {"kind": "sequence"}, "x": {"kind": "expression", "expr": "yy * 2"}}, "unknown-column",
     "x.expr", "did you mean `y`"),
    ("template", {"x": {"kind": "template", "template": "{nope"}}, "bad-value", "x.template", "unclosed `{`"),
    ("template", {"x": {"kind": "template", "template": "{x}-1"}}, "cycle", "x", "reads itself"),
    ("python", {"x": {"kind": "python", "fn": 3}}, "wrong-type", "x.fn", "callable"),
    ("python", {"x": {"kind": "python", "fn": noisy_double, "type": "int32"}}, "bad-value", "x.type", "'int64'"),
    ("conditional", {**TIER_COLUMN, "x": {"kind": "normal", "mean": 0, "std": 1, "by": "tier",
                                          "cases": {"Free": {"std": -1}, "Pro": {}}}},
     "bad-value", "x.cases.Free.std", "greater than 0"),
    ("conditional", {**TIER_COLUMN, "x": {"kind": "normal", "mean": 0, "std": 1, "by": "tier",
                                          "cases": {"Free": {}, "Prro": {}}}},
     "unknown-case", "x.cases.Prro", "did you mean `Pro`"),
    ("conditional", {**TIER_COLUMN, "x": {"kind": "normal", "mean": 0, "std": 1, "by": "tier",
                                          "cases": {"Free": {}}}},
     "missing-case", "x.cases", "'Pro'"),
    ("conditional", {**TIER_COLUMN, "x": {"kind": "normal", "mean": 0, "std": 1, "by": "tier"}},
     "missing-parameter", "x.cases", "`by:` needs `cases:`"),
    ("conditional", {"h": HOURS, "x": {**BINNED, "bins": [24, 8]}}, "bad-value", "x.bins", "increasing"),
    ("conditional", {"h": HOURS, "x": {**BINNED, "cases": {"<8": {}, "<12": {}, ">=24": {}}}},
     "unknown-case", "x.cases.<12", "did you mean `<24`"),
    ("conditional", {"h": HOURS, "x": {**BINNED, "cases": {"<8": {}, ">=24": {}}}},
     "missing-case", "x.cases", "'<24'"),
    # relations: the spec has a parent `p` (key, tier, created_at) and children `c` per row of `t`
    ("reference", {"x": {**REFERENCE, "pick": "zipf"}}, "bad-value", "x", "pick: zipf needs `a`"),
    ("reference", {"x": {**REFERENCE, "pick": "hotspot", "hot": 0.2}}, "bad-value", "x", "needs `share`"),
    ("reference", {"x": {**REFERENCE, "pick": "hotspot", "hot": 1.5, "share": 0.8}}, "bad-value", "x.hot",
     "less than 1"),
    ("reference", {"x": {**REFERENCE, "a": 1.2}}, "bad-value", "x", "only applies to pick: zipf"),
    ("reference", {"x": {**WEIGHTED, "weights": {"Enterprise": 5, "Pro": -2, "Free": 1}}}, "bad-value", "x",
     "weights must be zero or positive"),
    ("reference", {"x": {**WEIGHTED, "weights": {"Enterprise": 0, "Pro": 0, "Free": 0}}}, "bad-value", "x",
     "not all zero"),
    ("reference", {"x": {**WEIGHTED, "weights": {"Enterprise": 5, "Pro": 2}}}, "missing-case", "x.weights",
     "'Free'"),
    ("reference", {"x": {**WEIGHTED, "weights": {"Enterprise": 5, "Pro": 2, "Free": 1, "Platinum": 9}}},
     "unknown-case", "x.weights.Platinum", "never takes the value 'Platinum'"),
    ("reference", {"x": {**WEIGHTED, "weight_by": "tire"}}, "unknown-column", "x.weight_by", "did you mean `tier`"),
    ("reference", {"x": {**REFERENCE, "pick": "random"}}, "bad-value", "x.pick", "uniform, zipf, hotspot, weighted"),
    ("reference", {"x": {"kind": "reference", "to": "q.key"}}, "unknown-table", "x.to", "no table named `q`"),
    ("reference", {"x": {"kind": "reference", "to": "p.tier"}}, "not-a-key", "x.to", "not a key"),
    ("reference", {"x": {"kind": "reference", "to": "p.kye"}}, "unknown-column", "x.to", "did you mean `key`"),
    ("reference", {"x": {**REFERENCE, "unique": True}}, "bad-value", "x", "rows: {per: <parent>, count: 1}"),
    ("reference", {"y": {"kind": "sequence"}, "x": {"kind": "reference", "to": "t.y"}}, "cycle", "x.to",
     "references itself"),
    ("lookup", {**TIER_COLUMN, "x": {"kind": "lookup", "from": "tier.name"}}, "unknown-reference", "x.from",
     "not a reference column"),
    ("lookup", {"ref": REFERENCE, "x": {"kind": "lookup", "from": "ref.tire"}}, "unknown-column", "x.from",
     "did you mean `tier`"),
    ("lookup", {"x": {"kind": "lookup", "from": "ref"}}, "wrong-type", "x.from", "should match pattern"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "sum", "of": "c"}}, "bad-value", "x", "of: c.<column>"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "median", "of": "c.amount"}}, "bad-value", "x.fn",
     "count, sum, min, max, mean"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "count", "of": "p"}}, "not-per-parent", "x.of",
     "rows: {per: t, count: ...}"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "sum", "of": "c.amont"}}, "unknown-column", "x.of",
     "did you mean `amount`"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "count", "of": "cc"}}, "unknown-table", "x.of",
     "did you mean `c`"),
    ("aggregate", {"x": {"kind": "aggregate", "fn": "max", "of": "c.label"}}, "bad-column", "x",
     "needs a numeric, date or timestamp child column"),
    # parent-aware dates
    ("date", {"x": {**DAYS, "after": "ref.created_at"}}, "unknown-reference", "x.after", "not a reference column"),
    ("date", {"ref": REFERENCE, "x": {**DAYS, "after": "ref.created"}}, "unknown-column", "x.after",
     "did you mean `created_at`"),
    ("date", {"x": {**DAYS, "lag": 3}}, "bad-value", "x", "add `after:`"),
    ("running", {"x": {"kind": "running", "fn": "sum"}}, "bad-value", "x", "add `of: <column>`"),
    ("running", {"x": {"kind": "running", "fn": "level", "of": "x", "low": 9, "high": 1}}, "bad-value", "x",
     "low < high"),
    ("position", {"x": {"kind": "position", "strat": 1}}, "unknown-key", "x.strat", "did you mean `start`"),
    ("duration", {"x": {"kind": "duration", "from": "a", "to": "b", "unit": "weeks"}}, "bad-value", "x.unit",
     "hours"),
    ("cadence", {"x": {"kind": "cadence", "unit": "h"}}, "bad-value", "x.unit", "ms"),
    ("component", {"x": {"kind": "component", "timeline": "both"}}, "missing-parameter", "x.at", "needs `at`"),
    ("cadence_count", {"x": {"kind": "cadence_count", "every": "15 parsecs", "start": "-1d", "end": "today"}},
     "bad-value", "x.every", "15m"),
    ("date", {"y": DAYS, "x": {**DAYS, "after": "y", "lag": {"kind": "categorical", "values": ["a"]}}},
     "bad-value", "x.lag", "numeric `kind`"),
    ("date", {"y": DAYS, "x": {**DAYS, "after": "y", "lag": {"kind": "exponential", "scale": -1}}},
     "bad-value", "x.lag.scale", "greater than 0"),
    ("timestamp", {"y": DAYS, "x": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-02-01", "after": "y",
                                    "lag": 2, "lag_unit": "weeks"}},
     "bad-value", "x.lag_unit", "days, hours, minutes, seconds"),
]


def spec_issues(columns: dict[str, Any]) -> list[fabula.Issue]:
    """The issues a spec raises on its way to a plan (loading or compiling)."""
    with pytest.raises(fabula.SpecError) as caught:
        compile_plan(build_spec(dataset(columns, rows=10, tables=BAD_CASE_TABLES)))
    return list(caught.value.issues)


@pytest.mark.parametrize("kind, columns, code, path, fragment", BAD_PARAMETERS,
                         ids=[f"{case[0]}-{case[2]}-{case[3]}" for case in BAD_PARAMETERS])
def test_bad_parameters_rejected(kind, columns, code, path, fragment):
    """An invalid parameter set is a SpecError with the right code, dotted path and a useful text."""
    issues = spec_issues(columns)
    full_path = f"tables.{TABLE}.columns.{path}"
    matching = [issue for issue in issues if (issue.code, issue.path) == (code, full_path)]
    assert matching, f"expected {code} at {full_path}, got {[(i.code, i.path) for i in issues]}"
    text = f"{matching[0].message}\n{matching[0].hint or ''}"
    assert fragment in text
    assert "Column" not in matching[0].message, "messages use the user's words, not class names"


def test_python_column_rejected_in_a_spec_file():
    """A spec file is data: a `python` column there is refused at its `kind`."""
    text = "name: d\ntables:\n  t:\n    rows: 1\n    columns:\n      x: {kind: python}\n"
    with pytest.raises(fabula.SpecError) as caught:
        load_text(text, file="spec.yaml")
    assert [(issue.code, issue.path) for issue in caught.value.issues] == [
        ("python-in-file", "tables.t.columns.x.kind")]
