"""Validating an output of several batches: each batch against its own plan, then the whole
folder for what only holds across batches (keys unique, references resolved).

Each batch is checked by the ordinary validation over a hidden view folder beside the output
that holds hard links to that batch's files and the manifest that batch alone would have had,
against the batch's own plan (built on the plans of the batches before it, as when it was
generated), so the checks are exactly those of a single run. The view is removed afterwards.

One check changes meaning: a batch's references may name the parents of earlier batches (new
orders of old customers), so "no orphans" is checked against the parents of that batch *and
the ones before it* — never a parent that did not exist yet — rather than its own only.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fabula.defects.drift import active, drifted_schema
from fabula.engine.append_clean import BatchRows, undrifted_copy
from fabula.manifest import MANIFEST, Manifest, TableEntry, batch_plans
from fabula.plan.model import Plan
from fabula.sandbox import quote
from fabula.spec.columns import DateColumn, TimestampColumn
from fabula.spec.relations import ReferenceColumn, split_target
from fabula.validate.report import FAIL, PASS, Check, Report

KEY_KINDS = ("id", "sequence", "uuid")


def validate_batches(folder: Path, manifest: Manifest, *, workers: int | None = None) -> Report:
    """The report of an appended folder: every batch's checks (named `batch N: …`), then the
    cross-batch ones."""
    from fabula.validate.run import validate_folder

    folder = Path(folder)
    plans = batch_plans(manifest.batches, manifest, folder)
    rows = BatchRows(folder, manifest, plans)  # clean rows of damaged tables (defects, issue 14)
    checks: list[Check] = []
    try:
        for index, (record, plan) in enumerate(zip(manifest.batches, plans)):
            view = folder.parent / f".{folder.name}.fabula-view-{uuid.uuid4().hex[:8]}"
            try:
                _make_view(folder, view, manifest, record, plan)
                report = validate_folder(view, workers=workers, write=False, plan=plan)
            finally:
                shutil.rmtree(view, ignore_errors=True)
            found = list(report.checks)
            if index:  # its references may name the parents of the batches before it
                found = [_resolved_over_batches(check, rows, index, plan)
                         if _is_orphan_check(check, plan) else check for check in found]
            checks.extend(replace(check, name=f"batch {record['batch']}: {check.name}") for check in found)
        checks.extend(schema_checks(folder, manifest, plans))
        checks.extend(cross_batch_checks(folder, manifest, plans[-1], rows))
    finally:
        rows.close()
    assert manifest.base is not None, "a manifest with batches records their base beside them"
    return Report(dataset=manifest.dataset, seed=manifest.base["seed"], as_of=manifest.as_of,
                  scale=manifest.scale, spec_hash=manifest.spec_hash,
                  rows={table: entry.rows for table, entry in manifest.tables.items()}, checks=tuple(checks))


def _make_view(folder: Path, view: Path, manifest: Manifest, record: Mapping[str, Any], plan: Plan) -> None:
    """`view` holding hard links to one batch's files and the manifest that batch alone would
    have; a file written with a declared schema drift is copied back into the plan's schema."""
    view.mkdir()
    by_path = {file.path: file for entry in manifest.tables.values() for file in entry.files}
    tables = {}
    for table, entry in manifest.tables.items():
        (view / table).mkdir()
        files = tuple(by_path[path] for path in record["files"].get(table, []))
        if _drifted(plan, table):
            files = tuple(undrifted_copy(folder, view, file.path, plan, table, manifest.output_format)
                          for file in files)
        else:
            for file in files:
                (view / file.path).parent.mkdir(parents=True, exist_ok=True)  # partition folders
                os.link(folder / file.path, view / file.path)
        first, end = record["rows"].get(table, [0, 0])
        tables[table] = TableEntry(rows=end - first, columns=entry.columns, files=files)
    single = Manifest(dataset=manifest.dataset, spec_hash=record["spec_hash"], seed=record["seed"],
                      as_of=record["as_of"], scale=record["scale"], engine=manifest.engine,
                      output_format=manifest.output_format, layout=record.get("layout") or manifest.layout,
                      versions=manifest.versions, tables=tables, spec=record["spec"],
                      spec_dates=tuple(tuple(path) for path in record.get("spec_dates", ())))
    (view / MANIFEST).write_text(single.to_json(), encoding="utf-8")


def _drifted(plan: Plan, table: str) -> bool:
    return any(candidate.name == table for candidate in plan.tables) and bool(active(plan, table))


# -- each batch's schema: the spec's, or as a declared drift changed it ------------------------------


def schema_checks(folder: Path, manifest: Manifest, plans) -> list[Check]:
    """Per batch and table: every file has the schema the batch declares (the spec's, with the
    batch's drifts: names in order, and types where the format keeps them), a drifted file is
    the one the manifest lists (its view held a copy), and the batch's drift labels are its
    drifts. An undeclared schema change fails."""
    import pyarrow as pa

    from fabula.manifest import file_sha256
    from fabula.sinks.formats.registry import part_format

    file_schema = part_format(manifest.output_format).file_schema  # Delta narrows some types
    checks = []
    by_path = {file.path: file for entry in manifest.tables.values() for file in entry.files}
    for record, plan in zip(manifest.batches, plans):
        labelled = _drift_labels(folder, record)
        for table in plan.tables:
            drifts = active(plan, table.name)
            expected = _plain(file_schema(drifted_schema(table.schema, drifts)))
            if table.partition_by:  # their values are in the folder names, not the files
                expected = pa.schema([field for field in expected if field.name not in table.partition_by])
            problems = []
            for path in record["files"].get(table.name, []):
                if path.endswith(".jsonl") and not (folder / path).stat().st_size:
                    continue  # JSON Lines without a row names no column
                found = _written_schema(folder / path)
                names_only = not path.endswith(".parquet")
                if found.names != expected.names or (not names_only and not found.equals(expected)):
                    problems.append(f"{path} has {_describe(found, names_only)}, "
                                    f"declared {_describe(expected, names_only)}")
                elif drifts and file_sha256(folder / path) != by_path[path].sha256:
                    problems.append(f"{path} has changed (its sha256 is not the recorded one)")
            declared = sorted((drift.column, drift.form) for drift in drifts)
            if labelled.get(table.name, []) != declared:
                problems.append(f"the drift labels say {labelled.get(table.name, []) or 'none'}, declared "
                                f"{declared or 'none'}")
            what = (", ".join(_said(drift) for drift in drifts) if drifts else "the spec's")
            checks.append(Check("batches", f"batch {record['batch']}: {table.name} has its declared schema",
                                FAIL if problems else PASS, "; ".join(problems[:3]) if problems else
                                f"{what} ({len(expected)} columns)", expected=0, observed=len(problems),
                                table=table.name))
    return checks


def _drift_labels(folder: Path, record: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    import pyarrow as pa

    from fabula.defects import LABEL_SCHEMA, LABELS_TABLE
    from fabula.sinks.formats.read import read_batches

    found: dict[str, list[tuple[str, str]]] = {}
    for path in record["files"].get(LABELS_TABLE, []):
        for batch in read_batches(folder / path, LABEL_SCHEMA):
            rows = pa.Table.from_batches([batch]).to_pylist()
            for label in rows:
                if label["kind"] == "drift":
                    found.setdefault(label["table"], []).append((label["column"], label["form"]))
    return {table: sorted(pairs) for table, pairs in found.items()}


def _written_schema(path: Path):
    """The columns a file holds (Parquet: with its types; CSV, JSON Lines: names, types inferred)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return _plain(pq.read_schema(path))
    import pyarrow as pa

    if path.suffix == ".csv":  # the header names the columns, rows or not
        import pyarrow.csv as csv

        with csv.open_csv(path) as reader:
            return _plain(reader.schema)
    from fabula.sinks.formats.read import read_batches

    first = next(iter(read_batches(path, None)), None)
    return _plain(first.schema) if first is not None else pa.schema([])


def _plain(schema):
    """The schema as files can keep it: dictionaries decoded, and seconds as milliseconds
    (Parquet has no unit of seconds)."""
    import pyarrow as pa

    def kept(kind):
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_timestamp(kind) and kind.unit == "s":
            kind = pa.timestamp("ms", kind.tz)
        return kind

    return pa.schema([pa.field(field.name, kept(field.type)) for field in schema])


def _describe(schema, names_only: bool) -> str:
    return ", ".join(field.name if names_only else f"{field.name}: {field.type}" for field in schema)


def _said(drift) -> str:
    return {"added": f"{drift.column} added", "renamed": f"{drift.column} renamed {drift.name}",
            "retyped": f"{drift.column} retyped to {drift.to}"}[drift.form]


# -- a batch's references, over the parents of the batches up to it --------------------------------


def _is_orphan_check(check: Check, plan: Plan) -> bool:
    """The structure family's "no orphans" check of a reference column (its only check whose
    column is a reference)."""
    if check.family != "structure" or check.table is None or check.column is None:
        return False
    table = plan.spec.tables.get(check.table)
    return table is not None and isinstance(table.columns.get(check.column), ReferenceColumn)


def _resolved_over_batches(check: Check, rows: BatchRows, index: int, plan: Plan) -> Check:
    """The check of a batch's reference column against the parents of that batch and the ones
    before it (what the batch could name when it was written); clean rows where defects were
    declared, so a declared orphan passes and an undeclared one fails."""
    assert check.table is not None and check.column is not None, "an orphan check names its table and column"
    table, column = check.table, check.column
    reference = plan.spec.tables[table].columns[column]
    assert isinstance(reference, ReferenceColumn), "only a reference column has an orphan check"
    parent, key = reference.parent
    batches = rows.records
    children = rows.dataset(table, [index])
    parents = rows.dataset(parent, range(index + 1))
    orphans, examples = _orphans(children, column, parents, key)
    what = f"batch {batches[index]['batch']} or an earlier one"
    message = (f"{orphans:,} {'rows point' if orphans != 1 else 'row points'} at no {parent} row of {what} "
               f"(e.g. {', '.join(examples)})" if orphans else f"every {column} matches a {parent}.{key} of {what}")
    return replace(check, verdict=FAIL if orphans else PASS, message=message, observed=orphans)


def _orphans(children, column: str, parents, key: str) -> tuple[int, list[str]]:
    """Non-null values of `children.column` that no `parents.key` holds, and a few of them."""
    from fabula.sandbox import connect

    if children is None:
        return 0, []
    c, k = quote(column), quote(key)
    where = f"from child c where c.{c} is not null"
    if parents is not None:
        where += f" and not exists (select 1 from parent p where p.{k} = c.{c})"
    connection = connect({"child": children, **({"parent": parents} if parents is not None else {})})
    try:
        orphans = connection.execute(f"select count(*) {where}").fetchone()[0]
        examples = [repr(row[0]) for row in connection.execute(
            f"select distinct c.{c} {where} order by 1 limit 3").fetchall()] if orphans else []
    finally:
        connection.close()
    return orphans, examples


# -- the whole folder -------------------------------------------------------------------------------


def cross_batch_checks(folder: Path, manifest: Manifest, plan: Plan, rows: BatchRows | None = None) -> list[Check]:
    """Keys unique over every batch, every reference naming a parent some batch wrote, and no
    time before its parent row's (`after: customer_id.signed_up`), whichever batch that is.
    A table with declared defects is checked on its clean rows (`rows`)."""
    from fabula.sandbox import connect, folder_views

    views = folder_views(folder, list(manifest.tables),
                         partitioned={table.name: table.schema for table in plan.tables if table.partition_by})
    if rows is not None:
        views.update(rows.views(table for table in plan.spec.tables if table in views))
    connection = connect(views)
    checks = []
    count = len(manifest.batches)
    try:
        for table, table_spec in plan.spec.tables.items():
            if table not in views:
                continue  # no file in any batch: nothing to hold across them
            for column, column_spec in table_spec.columns.items():
                kind = getattr(column_spec, "kind", None)
                if column_spec.hidden:
                    continue
                if kind in KEY_KINDS:
                    duplicates = connection.execute(
                        f"SELECT count({quote(column)}) - count(DISTINCT {quote(column)}) "
                        f"FROM {quote(table)}").fetchall()[0][0]
                    checks.append(Check("batches", f"{table}.{column} is unique across batches",
                                        PASS if duplicates == 0 else FAIL,
                                        f"{duplicates:,} duplicate keys over {count} batches",
                                        expected=0, observed=duplicates))
                elif isinstance(column_spec, ReferenceColumn):
                    parent, key = column_spec.parent
                    orphans = connection.execute(
                        f"SELECT count(*) FROM {quote(table)} c WHERE c.{quote(column)} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {quote(parent)} p WHERE p.{quote(key)} = c.{quote(column)})").fetchall()[0][0]
                    checks.append(Check("batches", f"{table}.{column} resolves across batches",
                                        PASS if orphans == 0 else FAIL,
                                        f"{orphans:,} rows name a {parent} key no batch wrote",
                                        expected=0, observed=orphans))
                elif isinstance(column_spec, (DateColumn, TimestampColumn)) and column_spec.after \
                        and "." in column_spec.after:
                    checks.append(_after_parent(connection, table, column, column_spec.after, table_spec, count))
    finally:
        connection.close()
    return checks


def _after_parent(connection, table: str, column: str, after: str, table_spec, count: int) -> Check:
    """A time that follows its parent row's (`after: customer_id.signed_up`), over every batch:
    the parent may be one an earlier batch wrote."""
    reference, parent_column = split_target(after)
    parent, key = table_spec.columns[reference].parent
    early = connection.execute(
        f"SELECT count(*) FROM {quote(table)} c JOIN {quote(parent)} p ON p.{quote(key)} = c.{quote(reference)} "
        f"WHERE c.{quote(column)} < p.{quote(parent_column)}").fetchall()[0][0]
    return Check("batches", f"{table}.{column} never before its {parent} row's {parent_column} across batches",
                 PASS if early == 0 else FAIL,
                 f"{early:,} rows are before their {parent} row's {parent_column} over {count} batches"
                 if early else f"never before {after}, whichever batch wrote the {parent} row",
                 expected=0, observed=early)
