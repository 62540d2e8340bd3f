"""The events table (`events_table: events`): one row per event — name, start, end,
description — so the story can be found in the data itself."""

from __future__ import annotations

import pyarrow as pa

from fabula.generators.story import FixedValuesGenerator
from fabula.plan.model import ColumnPlan, TablePlan
from fabula.spec import ColumnSpec
from fabula.spec.model import DatasetSpec
from fabula.story import Story

_FIXED = ColumnSpec.model_construct(kind="fixed", nulls=0.0, round=None, clip=None, unique=False,
                                    description=None, during=())


def events_table(name: str, spec: DatasetSpec, story: Story, block_rows: int) -> TablePlan:
    windows = [story.events[event] for event in spec.events]
    values = {
        "name": (pa.string(), tuple(spec.events)),
        "start": (pa.date32(), tuple(window.start_date for window in windows)),
        "end": (pa.date32(), tuple(window.end_date for window in windows)),
        "description": (pa.string(), tuple(event.description for event in spec.events.values())),
    }
    columns = tuple(ColumnPlan(column,
                               FixedValuesGenerator(spec=_FIXED, arrow_type=arrow_type, values=column_values), ())
                    for column, (arrow_type, column_values) in values.items())
    return TablePlan(name, len(windows), columns, tuple(values), block_rows)
