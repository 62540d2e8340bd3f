"""The statistics behind the column checks: every declared distribution, with its modifiers,
passes on data fabula draws from it; summaries merge to the same state in any block order."""

from __future__ import annotations

import json

import numpy as np
import pytest

import fabula
from fabula.plan.blocks import generate_block
from fabula.validate import Validation
from fabula.generators.base import KINDS
from fabula.generators.laws import beta_i, gamma_p, poisson_cdf, zipf_cdf
from fabula.validate.statistics import Moments, merge
from fabula.validate.tolerance import gap_tolerance

EVERY_KIND = {
    "name": "every_kind",
    "seed": 3,
    "as_of": "2024-12-31",
    "tables": {"t": {"rows": 200_000, "columns": {
        "normal": {"kind": "normal", "mean": 10, "std": 2},
        "normal_clipped": {"kind": "normal", "mean": 0, "std": 1, "clip": [-1, 1.5], "round": 1},
        "lognormal": {"kind": "lognormal", "mean": 3, "sigma": 1, "round": 2},
        "exponential": {"kind": "exponential", "scale": 4},
        "gamma_small": {"kind": "gamma", "shape": 0.4, "scale": 2},
        "gamma": {"kind": "gamma", "shape": 3, "scale": 1.5},
        "beta": {"kind": "beta", "a": 0.7, "b": 3, "round": 3},
        "weibull": {"kind": "weibull", "shape": 1.5, "scale": 10},
        "pareto": {"kind": "pareto", "alpha": 1.5, "scale": 5, "clip": {"max": 200}},
        "poisson": {"kind": "poisson", "lam": 1.2},
        "poisson_large": {"kind": "poisson", "lam": 400, "clip": {"min": 380}},
        "zipf": {"kind": "zipf", "a": 1.8},
        "uniform": {"kind": "uniform", "low": -5, "high": 5},
        "uniform_integer": {"kind": "uniform", "low": 1, "high": 6, "integer": True, "nulls": 0.25},
        "level": {"kind": "categorical", "values": {1: 5, 2: 3, 3: 2}},
        "flag": {"kind": "boolean", "p": 0.2},
        "day": {"kind": "date", "start": "2024-01-01", "end": "2024-03-31", "clip": {"max": "2024-03-15"}},
        "moment": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "ms"},
        "by_bins": {"kind": "lognormal", "by": "normal", "bins": [8, 12], "sigma": 0.5,
                    "cases": {"<8": {"mean": 1}, "<12": {"mean": 2}, ">=12": 7}},
        "by_default": {"kind": "categorical", "by": "level",
                       "cases": {1: {"values": {"a": 1, "b": 1}}}, "default": {"values": {"c": 3, "d": 1}}},
    }}},
}


@pytest.fixture(scope="module")
def every_kind_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinds") / "out"
    fabula.generate(EVERY_KIND, out, workers=2)
    return json.loads((out / "report.json").read_text())


def test_every_declared_distribution_passes_on_its_own_draws(every_kind_report):
    checks = [check for check in every_kind_report["checks"] if check["family"] == "columns"]
    assert not [check for check in checks if check["verdict"] != "pass"]
    distributions = [check for check in checks if "~" in check["name"] or " = " in check["name"]]
    columns = {check["column"] for check in distributions}
    assert columns == set(EVERY_KIND["tables"]["t"]["columns"]) - {"level", "flag", "by_default"}
    shares = {check["name"] for check in checks if check["name"].endswith("shares")}
    assert shares == {"t.level shares", "t.flag shares", "t.by_default [level=1] shares",
                      "t.by_default [level=(default)] shares"}


def test_the_checks_are_tight_enough_to_matter(every_kind_report):
    """Correct data sits well inside the tolerance (so a real difference stands out)."""
    for check in every_kind_report["checks"]:
        if isinstance(check["observed"], dict) and "max_gap" in check["observed"] and check["observed"]["values"] > 50_000:
            assert check["observed"]["max_gap"] < 0.6 * check["tolerance"], check["name"]


def test_a_constant_case_is_checked_as_a_constant(every_kind_report):
    (constant,) = [check for check in every_kind_report["checks"] if check["name"].startswith("t.by_bins [normal=>=12]")]
    assert constant["name"] == "t.by_bins [normal=>=12] = 7" and constant["verdict"] == "pass"


@pytest.mark.parametrize("kind,parameters,draw", [
    ("gamma", {"shape": 2.5, "scale": 3.0}, lambda rng, n: rng.gamma(2.5, 3.0, n)),
    ("beta", {"a": 1.2, "b": 12.0}, lambda rng, n: rng.beta(1.2, 12.0, n)),
    ("weibull", {"shape": 0.8, "scale": 2.0}, lambda rng, n: 2.0 * rng.weibull(0.8, n)),
    ("pareto", {"alpha": 3.0, "scale": 2.0}, lambda rng, n: (rng.pareto(3.0, n) + 1) * 2.0),
    ("poisson", {"lam": 30.0}, lambda rng, n: rng.poisson(30.0, n)),
    ("zipf", {"a": 2.2}, lambda rng, n: rng.zipf(2.2, n)),
])
def test_closed_forms_match_numpy(kind, parameters, draw):
    registered = KINDS[kind]
    law = registered.generator(spec=registered.spec(**parameters), arrow_type=None).law()
    cdf, discrete = law.cdf, law.discrete
    values = draw(np.random.default_rng(7), 400_000)
    points = np.quantile(values, [0.1, 0.3, 0.5, 0.7, 0.9])
    if discrete:
        points = np.floor(points)
    gaps = [abs(cdf(point) - np.mean(values <= point)) for point in points]
    assert max(gaps) < gap_tolerance(400_000) - 0.004  # the sampling part of the tolerance alone


def test_special_functions_at_known_values():
    assert gamma_p(1.0, 2.0) == pytest.approx(1 - np.exp(-2.0), abs=1e-12)
    assert gamma_p(0.5, 0.5) == pytest.approx(0.6826894921370859, abs=1e-10)  # erf(sqrt(0.5))
    assert beta_i(1.0, 1.0, 0.3) == pytest.approx(0.3, abs=1e-12)
    assert beta_i(2.0, 3.0, 0.4) == pytest.approx(0.5248, abs=1e-12)
    assert poisson_cdf(2, 1.0) == pytest.approx(np.exp(-1) * 2.5, abs=1e-12)
    assert zipf_cdf(1, 2.0) == pytest.approx(6 / np.pi ** 2, abs=1e-9)


def test_merge_adds_counts_and_keeps_extremes():
    first = {"n": 2, "bins": np.array([1, 2]), "values": Moments.of(np.array([1.0, 5.0]))}
    second = {"n": 3, "bins": np.array([0, 5]), "values": Moments.of(np.array([-1.0, 2.0]))}
    merged = merge(first, second)
    assert merged["n"] == 5 and merged["bins"].tolist() == [1, 7]
    assert (merged["values"].count, merged["values"].low, merged["values"].high) == (4, -1.0, 5.0)


def test_bin_counts_are_the_counts_of_the_sorted_values():
    """Counting per edge (no sort) gives what a binary search of the sorted values gives:
    values on an edge go above it, NaN after every number, infinities at the ends."""
    from fabula.validate.families.columns import bin_counts

    chance = np.random.default_rng(3)
    for size in (0, 1, 7, 1_000):
        values = np.round(chance.normal(0, 3, size))  # whole numbers: many sit on an edge
        values[chance.random(size) < 0.05] = np.nan
        values[chance.random(size) < 0.02] = np.inf
        values[chance.random(size) < 0.02] = -np.inf
        for edges in (np.array([]), np.array([0.0]), np.arange(-5.0, 6.0), np.array([-np.inf, 1.0, np.inf]),
                      np.array([1.0, np.nan])):
            ordered = np.sort(values)
            below = np.searchsorted(ordered, edges, side="left")
            expected = np.diff(np.concatenate([[0], below, [size]]))
            assert bin_counts(values, edges).tolist() == expected.tolist(), (size, edges)


@pytest.mark.parametrize("many", [False, True], ids=["short", "long"])
@pytest.mark.parametrize("kind", ["string", "large_string", "string-with-null-entry", "int64"])
def test_dictionary_level_counts_are_plain_counts(kind, many):
    """Rows per (case, level) from a dictionary column equal a count of the decoded values:
    undeclared values, dictionary entries no row uses, repeated entries, null rows, and a null
    entry (which reads "None", as a level declared "None")."""
    import pyarrow as pa

    from fabula.validate.families.columns import _codes, _dictionary_level_counts

    chance = np.random.default_rng(5)
    if kind == "int64":
        levels, entries = (1, 2, 3), pa.array([3, 1, 7, 2, 1], pa.int64())
    else:
        levels = ("a", "b", "None", "c", "a")  # "a" twice: the last position counts, as before
        entries = pa.array(["b", "x", "a", None if kind.endswith("null-entry") else "b", "c", "None", "unused"],
                           pa.large_string() if kind == "large_string" else pa.string())
    if many:  # past SHORT_DICTIONARY: looked up by Arrow when the entries are strings
        entries = pa.concat_arrays([entries, pa.array([f"other{i}" if kind != "int64" else 100 + i for i in range(60)],
                                                      entries.type)])
    n, size = 2_000, 3
    indices = chance.integers(0, len(entries) - 1, n)
    nulls = chance.random(n) < 0.1
    array = pa.DictionaryArray.from_arrays(pa.array(indices, mask=nulls), entries)
    groups, valid = chance.integers(0, size, n), ~nulls
    position = {str(level): index for index, level in enumerate(levels)}
    expected = np.zeros((size, len(levels) + 1), dtype=np.int64)
    for group, value in zip(groups[valid], array.dictionary_decode().filter(pa.array(valid)).to_pylist()):
        expected[group, position.get(str(value), len(levels))] += 1
    assert _dictionary_level_counts(array, levels, groups, valid, size).tolist() == expected.tolist()
    decoded = [position.get(str(value), len(levels)) if ok else len(levels)
               for value, ok in zip(array.dictionary_decode().to_pylist(), valid)]
    assert _codes(array, levels).tolist() == decoded


def test_blocks_in_any_order_give_the_same_states():
    plan = fabula.compile_plan(EVERY_KIND, scale=1.0)
    table = plan.table("t")
    blocks = [(block, generate_block(plan, table, block)) for block in range(table.n_blocks)]
    in_order, reversed_ = Validation(plan), Validation(plan)
    for block, batch in blocks:
        in_order.observe("t", block, batch)
    for block, batch in reversed(blocks):
        reversed_.observe("t", block, batch)
    first, second = in_order.accumulator.states(), reversed_.accumulator.states()
    assert first.keys() == second.keys()
    for key in first:
        assert repr(first[key]) == repr(second[key]), key


def test_a_block_observed_twice_is_refused():
    plan = fabula.compile_plan(EVERY_KIND, scale=0.1)
    validation = Validation(plan)
    batch = generate_block(plan, plan.table("t"), 0)
    validation.observe("t", 0, batch)
    with pytest.raises(ValueError, match="observed twice"):
        validation.observe("t", 0, batch)


def test_every_statistic_reads_every_block_of_a_clean_run(tmp_path):
    """No statistic falls back on 'could not read' for data fabula just wrote, whether it is
    handed over while generating or streamed back from the files."""
    import yaml

    from fabula.engine.local import run_local
    from fabula.sinks import ParquetSink
    from fabula.validate.run import _stream, read_manifest
    from fabula.validate.statistics import Unreadable

    from validate.shop import SHOP

    plan = fabula.compile_plan(yaml.safe_load(SHOP), scale=0.5)
    generated = Validation(plan)
    run_local(plan, ParquetSink(tmp_path / "out"), observe=generated.observe)
    reread = Validation(plan)
    _stream(tmp_path / "out", read_manifest(tmp_path / "out"), plan, reread.accumulator, 2)
    for validation in (generated, reread):
        states = validation.accumulator.states()
        assert {statistic.key for statistic in validation.statistics} == set(states)
        unreadable = {key: state.reason for key, state in states.items() if isinstance(state, Unreadable)}
        assert not unreadable
    from fabula.validate.aggregates import PRIME

    fingerprints = {key: state["fingerprint"] % PRIME for key, state in reread.accumulator.states().items()
                    if key.startswith("structure:totals")}
    assert fingerprints["structure:totals:customers.spend"] == fingerprints["structure:totals-of-children:customers.spend"]
    assert fingerprints["structure:totals:customers.n_orders"] == \
        fingerprints["structure:totals-of-children:customers.n_orders"]


# -- the vectorised summaries against plain counting ------------------------------------------------


def _plain_value_counts(values, mask) -> dict[str, int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    counted = pc.value_counts(values.filter(pa.array(mask)))
    return {str(value): int(count) for value, count in zip(counted.field("values").to_pylist(),
                                                            counted.field("counts").to_pylist()) if value is not None}


@pytest.mark.parametrize("ramps", [(0, 0), (2, 0), (0, 3), (1, 2)])
def test_event_mixes_and_day_counts_match_plain_counting(ramps):
    """One bincount of codes per block counts what a filter and a value count per case and side
    of the window count (nulls, ramps, integer and dictionary values, a case with no rows)."""
    import pyarrow as pa

    from fabula.generators.conditional import case_masks
    from fabula.story.events import EventWindow
    from fabula.validate.families.story import DailyCounts, EventMix
    from fabula.validate.statistics import BlockView

    rng = np.random.default_rng(sum(ramps))
    n = 5_000
    ticks = rng.integers(19_700 * 86_400 * 10**6, 19_760 * 86_400 * 10**6, n)
    at = pa.array(ticks, pa.timestamp("us"), mask=rng.random(n) < 0.05)
    window = EventWindow("e", 19_720, 19_726, ramp_up=ramps[0], decay=ramps[1])
    strength = window.strength(np.where(np.asarray(at.is_valid()), ticks / 86_400e6, np.nan))
    by = pa.array(rng.choice(["x", "y", "z", None], n)).dictionary_encode()
    for values in (pa.array(rng.choice(["a", "b", "c", None], n)).dictionary_encode(),
                   pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.1), pa.array(rng.choice(["a", "b"], n))):
        batch = pa.RecordBatch.from_arrays([at, values, by], names=["at", "v", "by"])
        for column, cases in ((None, ()), ("by", ("x", "z", "absent"))):
            state = EventMix("t", "v", "at", window, column, cases).observe(BlockView(None, None, 0, batch))
            groups = dict(zip(map(str, cases), case_masks(by, list(cases)))) if column else {"": np.ones(n, bool)}
            assert state == {name: {"inside": _plain_value_counts(values, mask & (strength >= 1.0)),
                                    "outside": _plain_value_counts(values, mask & (strength <= 0.0))}
                             for name, mask in groups.items()}
    days = DailyCounts("t", "at", "support", 19_705, 40).observe(BlockView(None, None, 0, batch))
    index = ticks[np.asarray(at.is_valid())] // (86_400 * 10**6) - 19_705
    inside = (index >= 0) & (index < 40)
    assert days["outside"] == int((~inside).sum())
    assert days["days"].tolist() == np.bincount(index[inside], minlength=40).tolist()
