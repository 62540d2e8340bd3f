"""Time zones as a spec writes them: `tz:` on a timestamp drawn from a timeline reads the
timeline's calendar (its days, weekdays, hours, holidays, events and `as_of`) in the local time
of each row, and `store:` says whether the column holds UTC instants or local wall-clock times.

    ordered_at: {kind: timestamp, timeline: shop, tz: zone, store: utc}

`tz` is an IANA zone name (`Europe/Berlin`, `UTC`) for every row, or the column of the row
(or `fk.column` of a parent) whose values are zone names. Zone names come from the `tzdata`
package, not the machine's own database, so every machine (a laptop, a Spark executor) reads
the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from fabula.errors import Issue, did_you_mean

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone `tzdata` knows (about 600)."""
    from importlib.resources import files

    return frozenset(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


def is_zone_name(text: str) -> bool:
    """Whether `tz:` names a zone rather than a column: zones have a `/` (`Europe/Berlin`) or are
    `UTC`; column names are plain identifiers (`zone`, `customer_id.zone`)."""
    return "/" in text or text.upper() == "UTC"


def zone_problem(text: str) -> str | None:
    """Why a zone name is not one (None when it is)."""
    if text.upper() == "UTC" or text in zone_names():
        return None
    close = did_you_mean(text, sorted(zone_names()))
    return f"`{text}` is not a time zone" + (f" — {close}" if close else " — use an IANA name such as Europe/Berlin")


def uses_zones(spec: DatasetSpec) -> bool:
    """Whether some timestamp reads its timeline in local time (`tz:`), so the tzdata rules
    shape the data."""
    from fabula.spec.columns import column_branches

    return any(getattr(branch, "tz", None) is not None
               for table_name, table in spec.tables.items()
               for column_name, column in table.columns.items()
               for _, branch in column_branches(column, ("tables", table_name, "columns", column_name)))


def check_zones(spec: DatasetSpec, source) -> list[Issue]:
    """Zones that a timestamp's `tz:` reads exist; `after:` and `store: local` agree.

    A column with `after:` compares its time with the one it follows, so both must be stored
    the same way: both UTC, or both local in the same zone (a local time in New York and one in
    Berlin are not comparable numbers)."""
    from fabula.spec.columns import column_branches

    issues: list[Issue] = []
    reported: set = set()
    for table_name, table in spec.tables.items():
        for column_name, column in table.columns.items():
            for path, branch in column_branches(column, ("tables", table_name, "columns", column_name)):
                tz = getattr(branch, "tz", None)
                if tz is None:
                    continue
                if not is_zone_name(tz):
                    for value, where in _literal_values(spec, table_name, tz):
                        if (value, where) not in reported and (not isinstance(value, str) or zone_problem(value)):
                            reported.add((value, where))
                            issues.append(source.issue(
                                "unknown-zone", where, f"not a time zone, and `{table_name}.{column_name}` reads "
                                f"this column's values as zones (`tz: {tz}`)", value=value,
                                hint=_zone_hint(str(value))))
                if branch.after is not None:
                    issues.extend(_after_stored_alike(spec, table_name, branch, (*path, "after"), source))
    return issues


def _zone_hint(value: str) -> str:
    close = did_you_mean(value, sorted(zone_names()))
    return close or "write IANA zone names such as America/New_York, Europe/Berlin, Asia/Tokyo"


def _literal_values(spec, table_name: str, ref: str, depth: int = 0) -> Iterator[tuple[object, tuple]]:
    """The values a column can hold when the spec writes them (a categorical, a constant, a
    conditional of those, or a lookup of one), each with the path where it is written."""
    from fabula.spec.columns import CategoricalColumn, ConstantColumn, column_branches
    from fabula.spec.relations import LookupColumn, ReferenceColumn

    table = spec.tables.get(table_name)
    if table is None or depth > 8:
        return
    if "." in ref:
        reference, name = ref.split(".", 1)
        column = table.columns.get(reference)
        if isinstance(column, ReferenceColumn):
            yield from _literal_values(spec, column.parent[0], name, depth + 1)
        return
    column = table.columns.get(ref)
    if column is None:
        return
    for path, branch in column_branches(column, ("tables", table_name, "columns", ref)):
        if isinstance(branch, CategoricalColumn):
            yield from ((value, (*path, "values", value)) for value in branch.values)
        elif isinstance(branch, ConstantColumn):
            yield branch.value, path
        elif isinstance(branch, LookupColumn):
            yield from _literal_values(spec, table_name, branch.from_, depth + 1)


def _after_stored_alike(spec, table_name: str, column, path, source) -> Iterator[Issue]:
    after = column.after
    earlier = None if "." in after else spec.tables[table_name].columns.get(after)
    earlier_local = earlier is not None and any(getattr(branch, "store", None) == "local"
                                                for _, branch in _branches_of(earlier))
    if column.store == "local":
        same = earlier is not None and earlier_local and all(
            getattr(branch, "tz", None) == column.tz for _, branch in _branches_of(earlier))
        if not same:
            yield source.issue(
                "bad-value", path,
                f"a local time after `{after}` needs `{after}` stored as local time in the same zone",
                hint=f"give `{after}` the same `tz: {column.tz}` and `store: local`, or store both as utc")
    elif earlier_local:
        yield source.issue("bad-value", path, f"`{after}` is stored as local time, and this column as UTC",
                           hint=f"store both the same way: `store: local` here too (with `tz: {column.tz}`), "
                                f"or `store: utc` on `{after}`")


def _branches_of(column):
    from fabula.spec.columns import column_branches

    return column_branches(column)
