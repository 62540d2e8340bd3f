"""Labelled bad data (issue 14): a table's `defects:`, each a kind of damage at a rate.

    tables:
      orders:
        defects:
          - {kind: missing, column: customer_id, rate: 0.02}
          - {kind: outlier, column: amount, rate: 0.01, value: -999.99}
          - {kind: duplicate, rate: 0.005}

What a spec can say and what loading checks (every problem at once): the kind, the column it
names, the rate in [0, 1) and the parameters each kind takes. Whether a kind fits the column's
type (an outlier needs numbers) is known once the plan has typed every column, so
`fabula.defects.compile` checks that, with the same kind of message. Injection and labels live in
`fabula.defects`; this module is only what the user writes (no numpy, no pyarrow).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFECT_KINDS: dict[str, str] = {
    "missing": "a value removed: null, an empty string or a placeholder (`form:`, `value:`)",
    "outlier": "a number far out: multiplied by `factor:` or replaced by `value:`",
    "negative": "a positive number made negative",
    "future": "a date or time moved `days:` after as_of",
    "malformed": "text damaged: `form:` email, date_format, whitespace, case, truncate or mojibake",
    "orphan": "a reference to a parent key that does not exist",
    "duplicate": "an extra row after a row: `form:` exact, near (same key, `column:` changed) or "
                 "new_key (the same entity under a new key)",
    "late": "an event time moved `days:` behind its row's neighbours (late, out of order)",
    "before_parent": "a date or time moved up to `days:` before the time it follows (its `after:`, "
                     "e.g. its parent's created_at)",
    "deleted": "a row removed, so the children's references to it point at no row (labelled in each child "
               "as orphan, form deleted)",
    "drift": "the written schema changes `from_batch:` on (append batches): `form:` added, renamed (`name:`) "
             "or retyped (`to:`)",
}
"""Every kind, with what it does (the docs and `fabula check`'s hints list them)."""

FORMS: dict[str, tuple[str, ...]] = {
    "missing": ("null", "empty", "placeholder"),
    "malformed": ("email", "date_format", "whitespace", "case", "truncate", "mojibake"),
    "duplicate": ("exact", "near", "new_key"),
    "drift": ("added", "renamed", "retyped"),
}
"""The forms a kind takes (`form:`), the first being its default."""

ROW_KINDS = frozenset({"duplicate"})
"""Kinds that add rows rather than change a value."""

DROP_KINDS = frozenset({"deleted"})
"""Kinds that remove rows."""

DELETED_FORM = "deleted"
"""The form of the orphan labels a parent's `deleted` rows leave in its children (not declared:
each child's references to a deleted row are orphans because of the parent's declaration)."""


class DefectSpec(BaseModel):
    """One declared defect of a table."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: str = Field(description=f"one of: {', '.join(DEFECT_KINDS)}")
    column: str | None = Field(None, description="the column damaged (for duplicate form near: the one changed)")
    rate: float = Field(0.0, ge=0.0, lt=1.0, description="the expected share of the table's rows given this defect "
                        "(every kind but drift)")
    form: str | None = Field(None, description="the variant of the kind, e.g. missing: null, empty or placeholder")
    value: Any = Field(None, description="the placeholder (missing) or the value (outlier) written instead")
    factor: float | None = Field(None, description="what an outlier multiplies the value by, e.g. 100")
    days: float | None = Field(None, gt=0, description="how far a late time moves back, a future one forward, "
                                                      "or a before_parent one before the time it follows")
    length: int | None = Field(None, ge=0, description="how many characters a truncated value keeps")
    from_batch: int | None = Field(None, description="drift: the first append batch written with the new schema")
    name: str | None = Field(None, description="drift renamed: the column's new name")
    to: str | None = Field(None, description="drift retyped: the column's new type (string, float or int)")

    @property
    def is_drift(self) -> bool:
        """A schema drift (`fabula.spec.drift`): no rows damaged, the written schema changed."""
        return self.kind == "drift"

    @property
    def chosen_form(self) -> str | None:
        """`form`, or the kind's default form."""
        forms = FORMS.get(self.kind)
        if self.kind == "drift":  # no default: each form is a different change
            return self.form
        return self.form if self.form is not None else (forms[0] if forms else None)

    @property
    def adds_rows(self) -> bool:
        return self.kind in ROW_KINDS

    @property
    def removes_rows(self) -> bool:
        return self.kind in DROP_KINDS


_NEEDS_COLUMN = {"missing", "outlier", "negative", "future", "malformed", "orphan", "late", "before_parent"}
_PARAMETERS = {"missing": {"form", "value"}, "outlier": {"factor", "value"}, "negative": set(),
               "future": {"days"}, "malformed": {"form", "length"}, "orphan": set(),
               "duplicate": {"form"}, "late": {"days"}, "before_parent": {"days"},
               "deleted": set()}
_DATES = ("date", "timestamp")


def defect_issues(table: str, defects: tuple[DefectSpec, ...],
                  columns: Mapping[str, Any]) -> Iterator[tuple[tuple, str, str]]:
    """(path under the table, message, hint) for each problem of a table's `defects:` that the
    spec alone shows: unknown kind, form or column, a missing or foreign parameter, a kind
    that cannot apply to the column's kind. Types come later (`fabula.defects.compile`)."""
    from fabula.errors import did_you_mean
    from fabula.spec.relations import ReferenceColumn

    for index, defect in enumerate(defects):
        where = ("defects", index)
        if defect.kind not in DEFECT_KINDS:
            yield ((*where, "kind"), f"unknown defect kind `{defect.kind}`",
                   did_you_mean(defect.kind, DEFECT_KINDS) or f"use one of: {', '.join(DEFECT_KINDS)}")
            continue
        forms = FORMS.get(defect.kind, ())
        if defect.form is not None and defect.form not in forms:
            yield ((*where, "form"), f"`{defect.kind}` has no form `{defect.form}`",
                   f"use one of: {', '.join(forms)}" if forms else f"`{defect.kind}` takes no `form`")
            continue
        if defect.is_drift:  # a schema change, not damaged rows: its own parameters (fabula.spec.drift)
            from fabula.spec.drift import drift_issues

            for path, message, hint in drift_issues(table, defect, columns):
                yield (*where, *path), message, hint
            continue
        if "rate" not in defect.model_fields_set:
            yield ((*where, "rate"), f"`{defect.kind}` needs its `rate`", "e.g. rate: 0.01 (1% of the rows)")
        for name in ("from_batch", "name", "to"):
            if getattr(defect, name) is not None:
                yield ((*where, name), f"`{defect.kind}` takes no `{name}` (only kind: drift does)", f"remove `{name}`")
        given = {name for name in ("form", "value", "factor", "days", "length")
                 if getattr(defect, name) is not None}
        for name in sorted(given - _PARAMETERS[defect.kind]):
            yield ((*where, name), f"`{defect.kind}` takes no `{name}`",
                   f"remove it; `{defect.kind}` takes: "
                   f"{', '.join(sorted(_PARAMETERS[defect.kind])) or 'only column and rate'}")
        form = defect.chosen_form
        needs_column = defect.kind in _NEEDS_COLUMN or (defect.kind == "duplicate" and form == "near")
        if needs_column and defect.column is None:
            yield ((*where, "column"), f"`{defect.kind}` needs the `column` it damages",
                   f"add column: one of {', '.join(columns)}")
        elif defect.column is not None and not needs_column and defect.kind == "deleted":
            yield ((*where, "column"), "`deleted` removes whole rows and takes no `column`",
                   "remove `column`; to damage a reference, use kind: orphan on the child's column")
        elif defect.column is not None and not needs_column:
            yield ((*where, "column"), f"duplicate form `{form}` copies whole rows and takes no `column`",
                   "remove `column`, or use form: near to change that column in the copy")
        elif defect.column is not None and defect.column not in columns:
            yield ((*where, "column"), f"table `{table}` has no column `{defect.column}`",
                   did_you_mean(defect.column, columns) or f"use one of: {', '.join(columns)}")
        elif defect.column is not None:
            spec = columns[defect.column]
            if getattr(spec, "hidden", False):
                yield ((*where, "column"), f"`{defect.column}` is hidden (not written), so it cannot be damaged",
                       "damage a written column")
            if defect.kind == "orphan" and not isinstance(spec, ReferenceColumn):
                yield ((*where, "column"), f"an orphan needs a `reference` column, and `{defect.column}` is "
                       f"`{getattr(spec, 'kind', '?')}`", "name a column of kind: reference")
            if defect.kind in ("future", "late", "before_parent") and getattr(spec, "kind", None) not in _DATES:
                yield ((*where, "column"), f"`{defect.kind}` moves a date or time, and `{defect.column}` is "
                       f"`{getattr(spec, 'kind', '?')}`", "name a column of kind: date or timestamp")
            elif defect.kind == "before_parent" and getattr(spec, "after", None) is None:
                yield ((*where, "column"), f"`before_parent` moves a time before the one it follows, and "
                       f"`{defect.column}` follows none (it has no `after:`)",
                       f"name a column with `after:` (e.g. after: customer_id.created_at), add `after:` to "
                       f"`{defect.column}`, or use kind: late to move it back by `days:`")
            if getattr(spec, "key", False) and not getattr(spec, "kind", None) == "reference":
                yield ((*where, "column"), f"`{defect.column}` is the table's key, which labels point at",
                       "damage another column; duplicate keys come from kind: duplicate")
        if defect.kind == "missing" and form == "placeholder" and defect.value is None:
            yield ((*where, "value"), "a placeholder needs the `value` written instead", "e.g. value: N/A")
        if defect.kind == "outlier" and (defect.value is None) == (defect.factor is None):
            yield ((*where,), "an outlier takes either `factor` or `value`", "e.g. factor: 100, or value: -999.99")
        if defect.kind == "deleted" and any(other.kind == "deleted" for other in defects[:index]):
            yield ((*where, "kind"), f"`{table}` declares `deleted` twice", "declare it once, with the whole rate")
        if defect.kind == "deleted" and not any(
                getattr(spec, "key", False) and getattr(spec, "kind", None) != "reference"
                for spec in columns.values()):
            yield ((*where, "kind"), f"a deleted row is recorded by its key, and `{table}` has no key column "
                   "(kind id, sequence or uuid)", "add a key column, or remove this defect")
        if defect.kind == "duplicate" and form == "new_key" and not any(
                getattr(spec, "key", False) and getattr(spec, "kind", None) != "reference"
                for spec in columns.values()):
            yield ((*where, "form"), f"a new key needs a key column in `{table}` (kind id, sequence or uuid)",
                   "add a key column, or use form: exact")


__all__ = ["DefectSpec", "DEFECT_KINDS", "FORMS", "ROW_KINDS", "DROP_KINDS", "DELETED_FORM", "defect_issues"]
