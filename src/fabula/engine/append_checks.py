"""Validating an output of several batches: each batch against its own plan, then the whole
folder for what only holds across batches (keys unique, references resolved).

Each batch is checked by the ordinary validation over a hidden view folder beside the output
that holds hard links to that batch's files and the manifest that batch alone would have had,
so the checks are exactly those of a single run. The view is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from fabula.manifest import MANIFEST, Manifest, TableEntry
from fabula.validate.report import FAIL, PASS, Check, Report

KEY_KINDS = ("id", "sequence", "uuid")


def validate_batches(folder: Path, manifest: Manifest, *, workers: int | None = None) -> Report:
    """The report of an appended folder: every batch's checks (named `batch N: …`), then the
    cross-batch ones."""
    from fabula.validate.run import validate_folder

    folder = Path(folder)
    checks: list[Check] = []
    for record in manifest.batches:
        view = folder.parent / f".{folder.name}.fabula-view-{uuid.uuid4().hex[:8]}"
        try:
            _make_view(folder, view, manifest, record)
            report = validate_folder(view, workers=workers, write=False)
        finally:
            shutil.rmtree(view, ignore_errors=True)
        checks.extend(replace(check, name=f"batch {record['batch']}: {check.name}") for check in report.checks)
    checks.extend(cross_batch_checks(folder, manifest))
    return Report(dataset=manifest.dataset, seed=manifest.base["seed"], as_of=manifest.as_of,
                  scale=manifest.scale, spec_hash=manifest.spec_hash,
                  rows={table: entry.rows for table, entry in manifest.tables.items()}, checks=tuple(checks))


def _make_view(folder: Path, view: Path, manifest: Manifest, record: Mapping[str, Any]) -> None:
    """`view` holding hard links to one batch's files and the manifest that batch alone would have."""
    view.mkdir()
    by_path = {file.path: file for entry in manifest.tables.values() for file in entry.files}
    tables = {}
    for table, entry in manifest.tables.items():
        (view / table).mkdir()
        files = tuple(by_path[path] for path in record["files"].get(table, []))
        for file in files:
            os.link(folder / file.path, view / file.path)
        first, end = record["rows"].get(table, [0, 0])
        tables[table] = TableEntry(rows=end - first, columns=entry.columns, files=files)
    single = Manifest(dataset=manifest.dataset, spec_hash=record["spec_hash"], seed=record["seed"],
                      as_of=record["as_of"], scale=record["scale"], engine=manifest.engine,
                      output_format=manifest.output_format, layout=record.get("layout") or manifest.layout,
                      versions=manifest.versions, tables=tables, spec=record["spec"],
                      spec_dates=tuple(tuple(path) for path in record.get("spec_dates", ())))
    (view / MANIFEST).write_text(single.to_json(), encoding="utf-8")


def cross_batch_checks(folder: Path, manifest: Mapping[str, Any]) -> list[Check]:
    """Keys unique over every batch, and every reference naming a parent some batch wrote."""
    from fabula.sandbox import open_folder

    spec_tables = manifest.batches[0]["spec"]["tables"]
    connection = open_folder(folder, list(manifest.tables))
    checks = []
    try:
        for table, table_spec in spec_tables.items():
            for column, column_spec in table_spec["columns"].items():
                kind = column_spec.get("kind")
                if kind in KEY_KINDS:
                    duplicates = connection.execute(
                        f"SELECT count({_q(column)}) - count(DISTINCT {_q(column)}) FROM {_q(table)}").fetchall()[0][0]
                    checks.append(Check("batches", f"{table}.{column} is unique across batches",
                                        PASS if duplicates == 0 else FAIL,
                                        f"{duplicates:,} duplicate keys over {len(manifest.batches)} batches",
                                        expected=0, observed=duplicates))
                elif kind == "reference":
                    parent, key = column_spec["to"].split(".")
                    orphans = connection.execute(
                        f"SELECT count(*) FROM {_q(table)} c WHERE c.{_q(column)} IS NOT NULL AND NOT EXISTS "
                        f"(SELECT 1 FROM {_q(parent)} p WHERE p.{_q(key)} = c.{_q(column)})").fetchall()[0][0]
                    checks.append(Check("batches", f"{table}.{column} resolves across batches",
                                        PASS if orphans == 0 else FAIL,
                                        f"{orphans:,} rows name a {parent} key no batch wrote",
                                        expected=0, observed=orphans))
    finally:
        connection.close()
    return checks


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
