"""What the story tests share: writing a spec as Parquet and reading it back, counting rows per
day, and bounds derived from the sample size.

Every bound is ±5 standard errors (Poisson for counts, binomial for shares, the delta method for
ratios, or the spread of the statistic over samples simulated under the declared model), so a
correct generator fails a check about once in 1.7 million. Where a test passes `wrong=`, the
expectation of a plausible mistake (no weekday profile, no ramp, the override ignored, ...) must
fall outside the bound: the check can tell the two apart.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import fabula
from helpers import read_table

SIGMAS = 5.0
AS_OF = "2024-12-31"


def dataset(name: str, tables: dict, *, timelines: dict | None = None, events: dict | None = None,
            **extra: Any) -> dict:
    """A spec as a mapping, pinned to a seed and an as_of."""
    spec = {"name": name, "seed": 20241015, "as_of": AS_OF, **extra}
    if timelines:
        spec["timelines"] = timelines
    if events:
        spec["events"] = events
    spec["tables"] = tables
    return spec


def write(source, out: Path, **options: Any) -> Path:
    """Generate a spec (or plan) as Parquet into `out` and return `out`."""
    fabula.generate(source, out, **options)
    return out


def run_cli(*argv: str) -> None:
    """`fabula ARGV...` as a user runs it, in this process; fails the test unless it succeeds."""
    from fabula.cli.main import main

    try:
        main(list(argv))
    except SystemExit as exited:
        assert exited.code in (0, None), f"fabula {' '.join(argv)} exited with {exited.code}"


def table(out: Path, name: str) -> pa.Table:
    return read_table(out, name)


def connect(out: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB over the written files, one view per table folder."""
    db = duckdb.connect()
    for folder in sorted(path for path in out.iterdir() if path.is_dir()):
        db.execute(f"CREATE VIEW {folder.name} AS SELECT * FROM read_parquet('{folder}/part-*.parquet')")
    return db


# -- days ----------------------------------------------------------------------------------------


def days(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, inclusive."""
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def day_index(times: pa.ChunkedArray | pa.Array, first: date) -> np.ndarray:
    """For dates or timestamps: the day each falls on, counted from `first` (0 = `first`)."""
    values = times.to_numpy() if isinstance(times, (pa.Array, pa.ChunkedArray)) else np.asarray(times)
    on_day = values.astype("datetime64[D]").astype(np.int64)
    return on_day - (first - date(1970, 1, 1)).days


def counts_per_day(times, first: date, last: date) -> np.ndarray:
    """Rows on each day of the window (asserting none fall outside it)."""
    index = day_index(times, first)
    n_days = (last - first).days + 1
    assert index.min() >= 0 and index.max() < n_days, "rows outside the window"
    return np.bincount(index, minlength=n_days)


def hours(times) -> np.ndarray:
    """The hour of the day (0-23) of each timestamp."""
    values = times.to_numpy() if isinstance(times, (pa.Array, pa.ChunkedArray)) else np.asarray(times)
    return ((values - values.astype("datetime64[D]")) // np.timedelta64(1, "h")).astype(np.int64)


# -- bounds --------------------------------------------------------------------------------------


def poisson_bounds(expected: float) -> tuple[float, float]:
    """A Poisson count with this mean."""
    spread = SIGMAS * math.sqrt(expected)
    return expected - spread, expected + spread


def binomial_bounds(n: int, p: float) -> tuple[float, float]:
    """A share of n independent rows, each in with probability p."""
    spread = SIGMAS * math.sqrt(p * (1 - p) / n)
    return p - spread, p + spread


def ratio_bounds(ratio: float, numerator: float, denominator: float) -> tuple[float, float]:
    """The ratio of two independent Poisson counts with these expectations, as `ratio` (which
    already accounts for how many days each covers): delta method on the log."""
    spread = SIGMAS * math.sqrt(1 / numerator + 1 / denominator)
    return ratio * math.exp(-spread), ratio * math.exp(spread)


def mean_bounds(mean: float, sd: float, n: int, *, slack: float = 0.0) -> tuple[float, float]:
    """The mean of n draws; `slack` adds a known bias bound (e.g. rounding)."""
    spread = SIGMAS * sd / math.sqrt(n) + slack
    return mean - spread, mean + spread


def simulated_bounds(statistic, simulate, *, draws: int = 400) -> tuple[float, float]:
    """Mean ± 5 sd of `statistic` over samples from `simulate(rng)` (test-side randomness with a
    fixed seed), for statistics whose spread has no simple formula."""
    rng = np.random.default_rng(8675309)
    values = np.array([statistic(simulate(rng)) for _ in range(draws)])
    return values.mean() - SIGMAS * values.std(), values.mean() + SIGMAS * values.std()


def check(observed: float, bounds: tuple[float, float], *, wrong: dict[str, float] | None = None) -> None:
    """`observed` lies within `bounds`, and each named mistake's expectation does not."""
    low, high = bounds
    assert low <= observed <= high, f"{observed} outside [{low:.4g}, {high:.4g}]"
    for mistake, value in (wrong or {}).items():
        assert not low <= value <= high, f"the bound [{low:.4g}, {high:.4g}] cannot tell {mistake} ({value}) apart"


def shares(values: list | np.ndarray) -> dict[Any, float]:
    """Each distinct value's share of the rows."""
    found, counts = np.unique(np.asarray(values, dtype=object).astype(str), return_counts=True)
    return {value: count / len(values) for value, count in zip(found, counts)}


def check_mix(values, declared: dict[Any, float], what: str) -> None:
    """The shares of `values` match `declared` weights (normalised), each within its binomial
    bound, and no value outside `declared` appears."""
    n = len(values)
    assert n > 0, f"no rows for {what}"
    total = sum(declared.values())
    found = shares(values)
    extra = set(found) - {str(value) for value in declared}
    assert not extra, f"{what}: values {sorted(extra)} are not in {declared}"
    for value, weight in declared.items():
        observed = found.get(str(value), 0.0)
        low, high = binomial_bounds(n, weight / total)
        assert low <= observed <= high, f"{what}: share of {value!r} is {observed:.4f}, outside [{low:.4f}, {high:.4f}] (n={n})"
