"""The story stays deterministic and block-parallel: timestamps inside the window and in time
order across block and file boundaries, the same data whatever the workers and files, the same
day counts whatever the block size, and rows outside every event untouched by `during:`.
"""

from __future__ import annotations

import copy
from datetime import datetime

import numpy as np
import pytest

import fabula
from helpers import content_digest, file_digests
from fabula.plan import Layout
from fabula.plan.compile import compile_plan
from story.support import counts_per_day, day_index, days, table, write
from story.incident import DECAY, EVENTS_SPEC, FIRST, LAST, RAMP_UP

SMALL_BLOCKS = 1000
TABLES = ("tickets", "audits", "events")


def _plan(spec, **options):
    return compile_plan(fabula.load_spec(spec), **options)


@pytest.fixture(scope="module")
def small_blocks(tmp_path_factory):
    """The events spec cut into blocks of 1,000 rows, two blocks a file, written by 4 workers."""
    plan = _plan(EVENTS_SPEC, block_rows=SMALL_BLOCKS, layout=Layout(blocks_per_file=2, blocks_per_row_group=1))
    assert plan.table("tickets").n_blocks > 8, "enough blocks to cross many boundaries"
    return write(plan, tmp_path_factory.mktemp("small") / "out", workers=4)


def test_timestamps_stay_inside_the_window(small_blocks):
    for name, column in (("tickets", "created_at"), ("audits", "at")):
        times = table(small_blocks, name).column(column).to_numpy()
        assert times.min() >= np.datetime64(datetime(2024, 1, 1)), name
        assert times.max() < np.datetime64(datetime(2024, 4, 1)), name


def test_arrivals_come_out_in_time_order_across_blocks_and_files(small_blocks):
    """A table sized by a timeline is in time order over the whole table: within a day, across
    the boundaries of blocks and of part files (read back in part order)."""
    assert len(list((small_blocks / "tickets").glob("part-*.parquet"))) > 4
    times = table(small_blocks, "tickets").column("created_at").to_numpy()
    assert (np.diff(times) >= np.timedelta64(0)).all()
    for boundary in range(SMALL_BLOCKS, len(times), SMALL_BLOCKS):
        assert times[boundary - 1] <= times[boundary]


def test_workers_never_change_a_byte(tmp_path):
    plan = _plan(EVENTS_SPEC, block_rows=SMALL_BLOCKS, layout=Layout(blocks_per_file=2, blocks_per_row_group=1))
    one = write(plan, tmp_path / "one", workers=1)
    four = write(plan, tmp_path / "four", workers=4)
    assert file_digests(one) == file_digests(four)


def test_files_and_row_groups_never_change_the_data(small_blocks, tmp_path):
    other = write(_plan(EVENTS_SPEC, block_rows=SMALL_BLOCKS, layout=Layout(blocks_per_file=3, blocks_per_row_group=2)),
                  tmp_path / "other", workers=2)
    for name in TABLES:
        assert content_digest(table(other, name)) == content_digest(table(small_blocks, name)), name


def test_block_size_never_changes_the_days(small_blocks, tmp_path):
    """Values are named by block, so another block size draws other values (docs/how-it-works.md);
    but how many rows each day gets is fixed by the plan, and the events table is the same."""
    default = write(EVENTS_SPEC, tmp_path / "default")
    assert _plan(EVENTS_SPEC).table("tickets").n_blocks == 1
    for out in (default, small_blocks):
        assert (np.diff(table(out, "tickets").column("created_at").to_numpy()) >= np.timedelta64(0)).all()
    np.testing.assert_array_equal(counts_per_day(table(default, "tickets").column("created_at"), FIRST, LAST),
                                  counts_per_day(table(small_blocks, "tickets").column("created_at"), FIRST, LAST))
    assert table(default, "events").equals(table(small_blocks, "events"))


def test_rows_outside_every_event_never_move(small_blocks, tmp_path):
    """The same spec without any `during:` gives the same tickets, except overridden columns of
    rows inside the incident (and its ramps): the base stream never moves."""
    plain = copy.deepcopy(EVENTS_SPEC)
    for column in plain["tables"]["tickets"]["columns"].values():
        column.pop("during", None)
    out = write(_plan(plain, block_rows=SMALL_BLOCKS, layout=Layout(blocks_per_file=2, blocks_per_row_group=1)),
                tmp_path / "plain")
    with_events, without = table(small_blocks, "tickets"), table(out, "tickets")
    assert with_events.num_rows == without.num_rows
    touched = np.isin(day_index(with_events.column("created_at"), FIRST),
                      [(day - FIRST).days for day in days(RAMP_UP[0], DECAY[-1])])
    assert 0 < touched.sum() < len(touched)
    for name in with_events.column_names:
        ours = with_events.column(name).to_numpy(zero_copy_only=False)
        theirs = without.column(name).to_numpy(zero_copy_only=False)
        np.testing.assert_array_equal(ours[~touched], theirs[~touched], err_msg=name)
        if name in ("category", "hours", "mood"):
            assert (ours[touched] != theirs[touched]).mean() > 0.1, f"{name} should change inside the incident"
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{name} has no override: it never moves")
    assert table(out, "audits").equals(table(small_blocks, "audits"))
