"""Integrity: the files on disk are the files the manifest lists, unchanged, and the manifest is
the one fabula wrote.

`fabula validate` trusts nothing it reads: every listed file must be present with its recorded
size and sha256, a table's folder must hold no file the manifest does not list (a stray part
would join the table in every SQL check), and the manifest's digest must match its contents.
While generating, the sink has just hashed each part it wrote, so only presence and sizes are
looked at again; the checks and their messages are the same either way, so a report written by
`generate` and one rewritten by `validate` of the untouched folder are identical.

This family does not read block summaries: it is given the listing (`Listing`) instead of
`Evidence`, by `fabula.validate.run`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fabula.manifest import MANIFEST, FileEntry, file_sha256
from fabula.validate.report import FAIL, PASS, WARN, Check

FAMILY = "integrity"


@dataclass(frozen=True)
class Listing:
    """What the manifest says the output holds."""

    tables: dict[str, tuple[FileEntry, ...]]
    reports: tuple[FileEntry, ...] = ()
    digest_matches: bool = True
    spec_hash_matches: bool = True
    verify_checksums: bool = True
    """False while generating: the sink hashed the parts as it wrote them."""


def checks(folder: Path, listing: Listing) -> list[Check]:
    return [_manifest_check(listing), *(_table_check(folder, name, entries, listing)
                                        for name, entries in listing.tables.items()),
            _reports_check(folder, listing)]


def _manifest_check(listing: Listing) -> Check:
    name = f"{MANIFEST} is unedited"
    if not listing.digest_matches:
        return Check(FAMILY, name, FAIL, "its digest does not match its contents: it was edited after "
                     "fabula wrote it, so nothing it says can be trusted; re-generate the data")
    if not listing.spec_hash_matches:
        return Check(FAMILY, name, FAIL, "its spec_hash is not the hash of the spec it records; "
                     "re-generate the data")
    return Check(FAMILY, name, PASS, "its digest matches its contents")


def _problems(folder: Path, entry: FileEntry, verify: bool) -> str | None:
    path = folder / entry.path
    try:
        size = os.stat(path, follow_symlinks=False).st_size
    except FileNotFoundError:
        return f"{entry.path} is missing"
    except OSError as error:
        return f"{entry.path} cannot be read ({error.strerror})"
    if path.is_symlink() or not path.is_file():
        return f"{entry.path} is not a plain file"
    if size != entry.bytes:
        return f"{entry.path} is {size:,} bytes, the manifest says {entry.bytes:,}"
    if verify:
        try:
            if file_sha256(path) != entry.sha256:
                return f"{entry.path} has changed (its sha256 is not the recorded one)"
        except OSError as error:
            return f"{entry.path} cannot be read ({error.strerror})"
    return None


def _table_check(folder: Path, table: str, entries: tuple[FileEntry, ...], listing: Listing) -> Check:
    name = f"{table}: files as listed"
    problems = [problem for entry in entries
                if (problem := _problems(folder, entry, listing.verify_checksums)) is not None]
    listed = {entry.path for entry in entries}
    present = sorted(_present(folder, table))
    unlisted = [path for path in present if path not in listed]
    problems += [f"{path} is not listed in {MANIFEST}" for path in unlisted]
    count = len(entries)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        return Check(FAMILY, name, FAIL, f"{shown}: the data is not what fabula wrote",
                     expected=count, observed=count - sum(1 for p in problems if "not listed" not in p),
                     table=table, details={"problems": problems})
    return Check(FAMILY, name, PASS,
                 f"{count} file{'s' if count != 1 else ''} listed, each present with its recorded size and "
                 "sha256; no other files", expected=count, observed=count, table=table)


def _present(folder: Path, table: str) -> list[str]:
    """Everything in a table's folder, by path relative to the output: files, and inside the
    partition folders of a table with `partition_by:` (formats, issue 13), theirs. A Delta
    table's own log folder is Delta's, not a stray part; links are listed, never followed."""
    found = []
    for top, folders, files in os.walk(folder / table):
        here = Path(top).relative_to(folder).as_posix()
        if top == str(folder / table):
            folders[:] = [name for name in folders
                          if not (name == "_delta_log" and not os.path.islink(os.path.join(top, name)))]
        found += [f"{here}/{name}" for name in files]
        found += [f"{here}/{name}" for name in folders if os.path.islink(os.path.join(top, name))]
    return found


def _reports_check(folder: Path, listing: Listing) -> Check:
    name = "reports as listed"
    # a missing report is not a problem: validate writes it again; a different one is worth a word
    problems = [problem for entry in listing.reports if (folder / entry.path).exists()
                and (problem := _problems(folder, entry, True)) is not None]
    if problems:
        return Check(FAMILY, name, WARN, "; ".join(problems) + ": the report differs from the one generate "
                     "wrote (edited, or rewritten by a validate that found something else); this run "
                     "rewrites it", details={"problems": problems})
    return Check(FAMILY, name, PASS, "no report differs from the one generate wrote")
