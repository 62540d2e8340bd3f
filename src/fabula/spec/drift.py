"""Schema drift (issue 14): a `defects:` entry of kind `drift` changes a table's written schema
from one appended batch on — the change a bronze pipeline must survive.

    defects:
      - {kind: drift, form: added, column: coupon, value: NONE, from_batch: 2}  # a new column
      - {kind: drift, form: renamed, column: amount, name: amount_usd, from_batch: 3}
      - {kind: drift, form: retyped, column: quantity, to: string, from_batch: 3}

Only the written files change: every batch is generated from the same spec, so its values are
the clean spec's, and `validate` reads a drifted file back into the spec's schema. A snapshot
(`generate` without `--mode append`) has one schema, so drift needs append batches
(`fabula.defects.drift` applies it; this module is only what the user writes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

DRIFT_FORMS = ("added", "renamed", "retyped")
"""The changes a schema drift makes (`form:`)."""

RETYPES = ("string",)
"""What `retyped` can change a column to (`to:`): text (a number or date written as text, the
drift a bronze layer meets most; text casts back to the value, so validation reads it back)."""


def drift_issues(table: str, defect: Any, columns: Mapping[str, Any]) -> Iterator[tuple[tuple, str, str]]:
    """(path under the entry, message, hint) for each problem of one drift entry."""
    from fabula.errors import did_you_mean

    form = defect.form
    if form is None:
        yield (("form",), "a drift needs its `form`", f"use one of: {', '.join(DRIFT_FORMS)}")
        return
    if defect.from_batch is None or defect.from_batch < 1:
        yield (("from_batch",), f"a drift needs `from_batch` ≥ 1 (the first batch written with the new schema), "
               f"not {defect.from_batch}", "e.g. from_batch: 2; batch 0 is the first run, with the spec's schema")
    if "rate" in defect.model_fields_set and defect.rate:
        yield (("rate",), "a drift changes every row of its batches, so it takes no `rate`", "remove `rate`")
    allowed = {"added": {"value"}, "renamed": {"name"}, "retyped": {"to"}}[form]
    for name in ("value", "name", "to", "factor", "days", "length"):
        if getattr(defect, name) is not None and name not in allowed:
            takes = ", ".join(["column", "from_batch", *sorted(allowed)])
            yield ((name,), f"drift `{form}` takes no `{name}`", f"remove it; drift `{form}` takes: {takes}")
    if defect.column is None:
        yield (("column",), f"drift `{form}` needs the `column` it " + ("adds" if form == "added" else "changes"),
               "e.g. column: amount")
        return
    if form == "added":
        if defect.column in columns:
            yield (("column",), f"table `{table}` already has a column `{defect.column}`",
                   "name the new column something the table does not have")
        return
    if defect.column not in columns:
        yield (("column",), f"table `{table}` has no column `{defect.column}`",
               did_you_mean(defect.column, columns) or f"use one of: {', '.join(columns)}")
    elif getattr(columns[defect.column], "hidden", False):
        yield (("column",), f"`{defect.column}` is hidden (not written), so its schema cannot drift",
               "name a written column")
    if form == "renamed":
        if not defect.name:
            yield (("name",), "a renamed column needs its new `name`", "e.g. name: amount_usd")
        elif defect.name in columns:
            yield (("name",), f"table `{table}` already has a column `{defect.name}`", "choose a new name")
    if form == "retyped" and defect.to not in RETYPES:
        yield (("to",), f"a column cannot be retyped to `{defect.to}`", f"use one of: {', '.join(RETYPES)}")


__all__ = ["DRIFT_FORMS", "RETYPES", "drift_issues"]
