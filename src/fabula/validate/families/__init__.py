"""The families of checks, in report order. Each is a module with

- `FAMILY`: its name in the report;
- `checks(evidence) -> list[Check]`: its checks, from the evidence of one output;
- optionally `statistics(plan) -> list[Statistic]`: what it keeps of each block while the data
  streams through (see `validate/statistics.py`).

Adding a family is one module and one entry here.
"""

from fabula.validate.families import (
                                     chronology,
                                     columns,
                                     expectations,
                                     guidance,
                                     matches,
                                     records,
                                     sequences,
                                     story,
                                     structure,
                                     zones,
)

FAMILIES = (structure, columns, records, story, sequences, zones, chronology, matches, expectations, guidance)

__all__ = ["FAMILIES"]
