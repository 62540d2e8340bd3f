"""Appending a batch to an output: the state a new batch continues from, and the manifest's
history of batches.

A batch is the same spec generated with three things moved on, all decided from the folder's
manifest before any work (so the same sequence of runs gives the same data):

- **ids continue**: every `id` and `sequence` column starts after the rows earlier batches
  wrote (`start + rows × step`), so keys never repeat across batches; with `defects:`, after
  the keys their orphans and new-key copies took too (`fabula.defects.batches`);
- **parents carry on**: a reference picks among the parents of this batch *and* of the earlier
  ones (a new order of an old customer), with the earlier batches' keys and values regenerated
  from their own recorded plans (`batch_plan`, `PlanReader`); never a parent that does not exist
  yet, since later batches are not there. A table sized per parent (`rows: {per: …}`) gets rows
  for this batch's parents only;
- **the time window moves on**: `as_of` advances by the dataset's window (the longest timeline,
  else one day), or to `--as-of`, which must be later than the last batch's;
- **a seed of its own**: derived from the root seed and the batch number by name (BLAKE2b),
  so batch 2 never replays batch 1's draws; batch 0 uses the root seed, so a first append is
  exactly `generate`.

`validate` checks an appended folder batch by batch (each against its own plan) and across
batches (keys unique and references resolved over the whole folder): see `validate_batches`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fabula.errors import OutputError
from fabula.manifest import Manifest
from fabula.spec import DatasetSpec
from fabula.spec.columns import IdColumn, SequenceColumn
from fabula.spec.dates import resolve_bound

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BatchState:
    """What the next batch continues from."""

    batch: int
    seed: int
    as_of: date
    offsets: Mapping[str, int]
    """Rows earlier batches wrote, per table (where this batch's ids start)."""
    history: tuple[Mapping[str, Any], ...]
    """The earlier batches as the manifest records them."""


def batch_seed(root_seed: int, batch: int) -> int:
    """The seed of batch `batch` (batch 0: the root seed itself).

    >>> batch_seed(42, 0), batch_seed(42, 1) == batch_seed(42, 1), batch_seed(42, 1) != batch_seed(42, 2)
    (42, True, True)
    """
    if batch == 0:
        return root_seed
    digest = hashlib.blake2b(f"fabula/batch/{root_seed}/{batch}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def spec_identity(canonical: Mapping[str, Any]) -> str:
    """What must not change between batches: the spec without its seed and as_of (sha256)."""
    rest = {key: value for key, value in canonical.items() if key not in ("seed", "as_of")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def window_days(spec: DatasetSpec, as_of: date) -> int:
    """How far `as_of` moves between batches: the longest timeline's span, else one day."""
    spans = [(resolve_bound(timeline.end, as_of) - resolve_bound(timeline.start, as_of)).days + 1
             for timeline in spec.timelines.values()]
    return max(spans, default=1)


def history_of(manifest: Manifest) -> tuple[Mapping[str, Any], ...]:
    """The batches a manifest records; an output written by `generate` is one batch."""
    if manifest.batches:
        return tuple(manifest.batches)
    return (batch_record(0, manifest, {}),)


def batch_record(batch: int, manifest: Manifest, offsets: Mapping[str, int]) -> dict[str, Any]:
    """One entry of the history: the batch's seed, as_of, scale, spec (and its hash), layout,
    row ranges `[first, end)` per table, and files."""
    return {
        "batch": batch,
        "seed": manifest.seed,
        "as_of": manifest.as_of,
        "scale": manifest.scale,
        "spec_hash": manifest.spec_hash,
        "rows": {table: [offsets.get(table, 0), offsets.get(table, 0) + entry.rows]
                 for table, entry in manifest.tables.items()},
        "files": {table: [file.path for file in entry.files] for table, entry in manifest.tables.items()},
        "spec": manifest.spec,
        "spec_dates": [list(path) for path in manifest.spec_dates],
        "layout": dict(manifest.layout),
    }


def next_batch(spec: DatasetSpec, previous: Manifest | None, *, seed: int | None = None,
               as_of: date | None = None) -> BatchState:
    """The state of the batch after the folder whose manifest is `previous` (None: batch 0)."""
    root_seed = spec.seed if seed is None else seed
    if previous is None:
        return BatchState(0, root_seed, as_of or spec.as_of or date.today(), {}, ())
    history = history_of(previous)
    base = previous.base or {"spec": spec_identity(previous.spec), "seed": previous.seed}
    if base["spec"] != spec_identity(spec.canonical()):
        raise OutputError("cannot append: the folder was written from a different spec",
                          hint="append with the spec that wrote it, or write to a new --out")
    if seed is not None and seed != base["seed"]:
        raise OutputError(f"cannot append with --seed {seed}: the folder's batches continue from seed {base['seed']}",
                          hint="leave out --seed when appending (each batch derives its own)")
    last_as_of = date.fromisoformat(history[-1]["as_of"])
    if as_of is None:
        as_of = last_as_of + timedelta(days=window_days(spec, last_as_of))
    elif as_of <= last_as_of:
        raise OutputError(f"cannot append with --as-of {as_of}: the last batch is as of {last_as_of}",
                          hint="give a later --as-of, or leave it out to take the next window")
    offsets = {table: int(end) for table, (_, end) in history[-1]["rows"].items()}
    batch = len(history)
    return BatchState(batch, batch_seed(base["seed"], batch), as_of, offsets, history)


def batch_spec(spec: DatasetSpec, state: BatchState, ids: Mapping[str, int] | None = None) -> DatasetSpec:
    """`spec` for one batch: its seed, as_of, and keys starting after earlier batches' keys
    (`ids`, per table; default: the rows they wrote, `state.offsets`)."""
    if state.batch == 0:
        return spec.model_copy(update={"seed": state.seed, "as_of": state.as_of})
    ids = state.offsets if ids is None else ids
    tables = {}
    for name, table in spec.tables.items():
        offset = ids.get(name, 0)
        columns = {}
        for column_name, column in table.columns.items():
            if isinstance(column, IdColumn):
                column = column.model_copy(update={"start": column.start + offset})
            elif isinstance(column, SequenceColumn):
                column = column.model_copy(update={"start": column.start + offset * column.step})
            columns[column_name] = column
        tables[name] = table.model_copy(update={"columns": columns})
    copied = spec.model_copy(update={"seed": state.seed, "as_of": state.as_of, "tables": tables})
    copied._source, copied._where = spec.source, spec.where
    return copied


def _refuse_deleted_rows(spec: DatasetSpec) -> None:
    """UsageError (exit code 2, before any work) for `kind: deleted` in an appended batch: which
    rows are deleted is a hash of the batch's own row numbers, so a new child could pick a parent
    an earlier batch deleted and not know it."""
    from fabula.errors import UsageError

    for name, table in spec.tables.items():
        for index, defect in enumerate(table.defects):
            if defect.removes_rows:
                raise UsageError(f"tables.{name}.defects.{index}: `kind: deleted` is not built for --mode append "
                                 "yet (a new batch's references cannot see the rows earlier batches deleted)",
                                 hint="write the dirty data as one snapshot (no --mode append), or declare "
                                      "`orphan` on the child tables instead (docs/defects.md)")


def batch_plan(spec: DatasetSpec, state: BatchState, previous: Manifest | None, folder: Path, *,
               scale: float = 1.0, allow_large: bool = False):
    """The plan of the next batch: `batch_spec`, built on the plans of the batches the folder
    holds, so that its references pick among their rows too (new orders of old customers).

    The earlier batches' plans are rebuilt from the manifest's records (their spec, seed, as_of
    and scale), so the same sequence of runs gives the same data, and a reference never names a
    parent no batch wrote: only those of this batch and the ones before it."""
    from fabula.defects.batches import key_offsets
    from fabula.errors import SpecError
    from fabula.manifest import batch_plans
    from fabula.plan import compile_plan
    from fabula.validate import check_queries

    _refuse_deleted_rows(spec)

    earlier = batch_plans(state.history, previous, folder, allow_large=allow_large) if previous is not None else ()
    # ids start after every key the earlier batches used: their rows, and the keys their
    # orphans and new-key copies took (defects, issue 14); without defects, their rows
    ids = key_offsets(earlier) if earlier else None
    plan = compile_plan(batch_spec(spec, state, ids), scale=scale, allow_large=allow_large, earlier=earlier)
    issues = check_queries(plan)  # `expect:` SQL against the planned columns, as for any plan
    if issues:
        raise SpecError(issues)
    return plan


def with_history(batch_manifest: Manifest, state: BatchState, base_spec: DatasetSpec,
                 previous: Manifest | None) -> Manifest:
    """The folder's manifest after this batch: totals and files over every batch, the history,
    and `base` (the spec identity and root seed every batch derives from). A batch that stages
    no reports (a later batch, checked once it is in place, or one not validated) keeps the
    earlier batches' report files listed: they are still fabula's, to replace or overwrite."""
    record = batch_record(state.batch, batch_manifest, state.offsets)
    history = [*state.history, record]
    tables = {}
    for table, entry in batch_manifest.tables.items():
        before = previous.tables[table].files if previous is not None and table in previous.tables else ()
        tables[table] = replace(entry, rows=record["rows"][table][1], files=(*before, *entry.files))
    base = (previous.base if previous is not None else None) or {
        "spec": spec_identity(base_spec.canonical()), "seed": history[0]["seed"]}
    reports = batch_manifest.reports or (previous.reports if previous is not None else ())
    return replace(batch_manifest, tables=tables, batches=tuple(history), base=dict(base), reports=reports)


def read_previous(out: Path) -> Manifest | None:
    """The manifest of the folder to append to, or None when there is nothing there yet."""
    from fabula.manifest import read_manifest

    if not (Path(out) / MANIFEST).is_file():
        return None
    manifest = read_manifest(Path(out))
    if not manifest.digest_matches:
        raise OutputError(f"cannot append to {out}: its {MANIFEST} was edited after fabula wrote it",
                          hint="re-generate the folder, or append to a new --out")
    return manifest
