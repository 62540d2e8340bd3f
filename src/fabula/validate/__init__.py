"""Validation: prove after every run that the story is in the data.

Checks derived from the spec (structure, columns, guidance) and declared in it (`expect:`),
computed from mergeable per-block summaries while the data streams through plus SQL over the
written files, gathered into a report (terminal, report.json, report.html). A layer beside
`sinks`: it reads spec, generators and plan; the engine, API and CLI call it.
"""

from fabula.validate.families.expectations import check_queries, expectation_sql
from fabula.validate.report import (
    FAIL,
    PASS,
    REPORT_HTML,
    REPORT_JSON,
    SKIP,
    WARN,
    Check,
    Report,
)
from fabula.validate.run import (
    Validation,
    read_manifest,
    validate_folder,
    write_reports,
)
from fabula.validate.statistics import BlockView, summarise_block

__all__ = [
    # running it
    "Validation", "validate_folder", "read_manifest", "write_reports", "check_queries",
    # per-block summaries (what an engine calls)
    "BlockView", "summarise_block",
    # results
    "Report", "Check", "PASS", "WARN", "FAIL", "SKIP", "REPORT_JSON", "REPORT_HTML", "expectation_sql",
]
