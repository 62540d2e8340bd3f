"""Records: the columns of one person or company agree with each other on every row.

For each `address` record with two or more of city, postcode, state and country, every row's
parts must be one place of the locale (in en_US that also puts the ZIP code in its state).
For each `person` record with a `last_name` (or `name`) column, every `email` and `username`
column of the record must spell the last name in ASCII in its login ("Gröttner" →
`…groettner…@…`); for each `company` record with a `name`, every `domain`, `email` and
`website` must start with the name's first word in ASCII. Emails must not use a placeholder
domain (`example.com`, `.org`, `.net`) unless the spec lists it. A failure means the columns
were given different locales or records, or the data was changed after it was written.

Per block the family keeps, per checked column, the rows compared, the rows that disagree and a
few examples: integer counts that merge exactly in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.providers.ascii import to_ascii
from fabula.spec.columns import column_branches
from fabula.spec.people import AddressColumn, CompanyColumn, PersonColumn
from fabula.validate.evidence import Evidence
from fabula.validate.report import FAIL, PASS, Check
from fabula.validate.statistics import Examples, Unreadable

FAMILY = "records"
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class Agreement:
    """One column derived from a record (an email) against the column it must agree with."""

    table: str
    kind: str
    record: str
    locale: str
    reference: str
    reference_part: str
    column: str
    part: str
    listed_domains: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}~{self.reference}"

    def observe(self, view) -> dict:
        derived = _plain(view.batch.column(self.column))
        reference = _plain(view.batch.column(self.reference))
        both = pc.and_(pc.is_valid(derived), pc.is_valid(reference))
        derived, reference = derived.filter(both), reference.filter(both)
        expected = self._expected(reference)
        found = self._found(derived)
        wrong = np.char.find(found, expected) != 0 if self.kind == "company" else np.char.find(found, expected) < 0
        state = {"rows": len(found), "wrong": int(wrong.sum()), "placeholders": 0}
        if wrong.any():
            shown = [f"{derived[int(i)].as_py()} for {reference[int(i)].as_py()}" for i in np.flatnonzero(wrong)[:3]]
            state["examples"] = Examples(tuple(shown), 3)
        if self.part == "email":
            domains = pc.utf8_lower(_matched(derived, r"@(?P<v>[^@]*)$"))
            placeholder = pc.is_in(domains, value_set=pa.array([d for d in PLACEHOLDER_DOMAINS
                                                                if d not in self.listed_domains]))
            state["placeholders"] = int(pc.sum(placeholder).as_py() or 0)
        return state

    def _expected(self, reference: pa.Array) -> np.ndarray:
        """The ASCII word each row's derived column must contain (a person's last name) or start
        with (a company's first word)."""
        if self.kind == "company":
            words = pc.list_element(pc.split_pattern_regex(reference, r"[ ,&]", max_splits=1), 0)
        elif self.reference_part == "name":
            words = _matched(reference, r"(?P<v>[^ ]+)$")
        else:
            words = reference
        encoded = words.dictionary_encode()  # few distinct words: spell each once
        spelled = pa.array([to_ascii(word, self.locale) for word in encoded.dictionary.to_pylist()], pa.string())
        return np.asarray(spelled.take(encoded.indices).to_numpy(zero_copy_only=False), dtype=str)

    def _found(self, derived: pa.Array) -> np.ndarray:
        """Where the word must appear: a login (before the @), or a domain."""
        if self.part == "email" and self.kind == "person":
            derived = _matched(derived, r"^(?P<v>[^@]*)")
        elif self.part == "email":
            derived = _matched(derived, r"@(?P<v>[^@]*)$")
        elif self.part == "website":
            derived = pc.replace_substring_regex(derived, r"^https?://(www\.)?", "")
        return np.asarray(derived.to_numpy(zero_copy_only=False), dtype=str)


PLACE_PARTS = ("city", "postcode", "state", "country")
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class PlaceAgreement:
    """The place columns of one address record against the locale's places."""

    table: str
    record: str
    locale: str
    columns: tuple[tuple[str, str], ...]
    """(part, column) for each place part the record shows."""

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.record}~places"

    def observe(self, view) -> dict:
        arrays = [_plain(view.batch.column(column)) for _, column in self.columns]
        valid = arrays[0].is_valid()
        for array in arrays[1:]:
            valid = pc.and_(valid, array.is_valid())
        rows = pc.binary_join_element_wise(*[array.filter(valid) for array in arrays], _SEPARATOR)
        known = pc.is_in(rows, value_set=self._places())
        wrong = pc.invert(known)
        state = {"rows": len(rows), "wrong": int(pc.sum(wrong).as_py() or 0)}
        if state["wrong"]:
            shown = [text.replace(_SEPARATOR, ", ") for text in rows.filter(wrong).to_pylist()[:3]]
            state["examples"] = Examples(tuple(shown), 3)
        return state

    def _places(self) -> pa.Array:
        from fabula.providers.addresses import address_parts

        places = address_parts(self.locale).places
        parts = [places.column(part).cast(pa.string()).fill_null("") for part, _ in self.columns]
        return pc.unique(pc.binary_join_element_wise(*parts, _SEPARATOR))


def _matched(values: pa.Array, pattern: str) -> pa.Array:
    """The group `v` of a regex in each value ("" where it does not match)."""
    return pc.struct_field(pc.extract_regex(values, pattern), [0]).fill_null("")


def _plain(array) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.dictionary_decode() if isinstance(array, pa.DictionaryArray) else array


def _record_column(column, kinds=(PersonColumn, CompanyColumn)):
    """The column's record spec, when every case of it shows the same part of the same record."""
    branches = [spec for _, spec in column_branches(column)]
    if not branches or not all(isinstance(b, kinds) for b in branches):
        return None
    first = branches[0]
    if any((b.kind, b.record_name, b.part) != (first.kind, first.record_name, first.part) for b in branches):
        return None
    return first


def statistics(plan) -> list[Agreement | PlaceAgreement]:
    return [*_agreements(plan), *_places(plan)]


def _places(plan) -> list[PlaceAgreement]:
    found = []
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        if spec is None:
            continue
        records: dict[str, dict[str, tuple[str, AddressColumn]]] = {}
        for name, column in spec.columns.items():
            record = _record_column(column, AddressColumn)
            if record is not None and record.part in PLACE_PARTS:
                records.setdefault(record.record_name, {}).setdefault(record.part, (name, record))
        for record, parts in records.items():
            if len(parts) >= 2:
                shown = tuple((part, parts[part][0]) for part in PLACE_PARTS if part in parts)
                found.append(PlaceAgreement(table.name, record, parts[shown[0][0]][1].locale, shown))
    return found


def _agreements(plan) -> list[Agreement]:
    found = []
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        if spec is None:
            continue
        records: dict[tuple[str, str], dict[str, tuple[str, object]]] = {}
        for name, column in spec.columns.items():
            record = _record_column(column)
            if record is not None:
                records.setdefault((record.kind, record.record_name), {}).setdefault(record.part, (name, column))
        for (kind, record), parts in records.items():
            wanted = ("last_name", "name") if kind == "person" else ("name",)
            reference = next((part for part in wanted if part in parts), None)
            if reference is None:
                continue
            derived_parts = ("email", "username") if kind == "person" else ("domain", "email", "website")
            reference_spec = _record_column(parts[reference][1])
            for name, column in spec.columns.items():
                derived = _record_column(column)
                if derived is None or (derived.kind, derived.record_name) != (kind, record):
                    continue
                if derived.part not in derived_parts:
                    continue
                listed = tuple(derived.domains) if kind == "person" and not isinstance(derived.domains, str) else ()
                found.append(Agreement(table.name, kind, record, reference_spec.locale, parts[reference][0],
                                       reference, name, derived.part, listed))
    return found


def checks(evidence: Evidence) -> list[Check]:
    return [*_agreement_checks(evidence), *_place_checks(evidence)]


def _place_checks(evidence: Evidence) -> list[Check]:
    found: list[Check] = []
    for statistic in evidence.of_type(PlaceAgreement):
        state = evidence.state(statistic)
        names = ", ".join(column for _, column in statistic.columns)
        title = f"{statistic.table}: {names} are one place"
        where = {"table": statistic.table, "column": statistic.columns[0][1]}
        if isinstance(state, Unreadable):
            found.append(Check(FAMILY, title, FAIL, f"could not check: {state.reason}", **where))
            continue
        if state is None or not state["rows"]:
            continue
        rows, wrong = state["rows"], state["wrong"]
        if wrong:
            examples = "; ".join(state["examples"].values) if "examples" in state else ""
            found.append(Check(FAMILY, title, FAIL,
                               f"{wrong:,} of {rows:,} rows are no place of {statistic.locale} (e.g. {examples}); "
                               f"give every column of the `{statistic.record}` record the same locale",
                               expected=0, observed=wrong, **where))
        else:
            found.append(Check(FAMILY, title, PASS, f"all {rows:,} rows are places of {statistic.locale}",
                               expected=0, observed=0, **where))
    return found


def _agreement_checks(evidence: Evidence) -> list[Check]:
    found: list[Check] = []
    for statistic in evidence.of_type(Agreement):
        state = evidence.state(statistic)
        title = f"{statistic.table}.{statistic.column} agrees with {statistic.table}.{statistic.reference}"
        where = {"table": statistic.table, "column": statistic.column}
        if isinstance(state, Unreadable):
            found.append(Check(FAMILY, title, FAIL, f"could not check: {state.reason}", **where))
            continue
        if state is None or not state["rows"]:
            continue
        rows, wrong = state["rows"], state["wrong"]
        what = "the last name" if statistic.kind == "person" else "the company name"
        if wrong:
            examples = "; ".join(state["examples"].values) if "examples" in state else ""
            found.append(Check(FAMILY, title, FAIL,
                               f"{wrong:,} of {rows:,} rows do not spell {what} (e.g. {examples}); give every "
                               f"column of the `{statistic.record}` record the same locale",
                               expected=0, observed=wrong, **where))
        else:
            found.append(Check(FAMILY, title, PASS, f"all {rows:,} rows spell {what}", expected=0, observed=0,
                               **where))
        if statistic.part == "email":
            placeholders = state["placeholders"]
            found.append(Check(FAMILY, f"{statistic.table}.{statistic.column} has no placeholder domains",
                               FAIL if placeholders else PASS,
                               f"{placeholders:,} emails at example.com/.org/.net" if placeholders
                               else "no email at example.com/.org/.net", expected=0, observed=placeholders,
                               **where))
    return found
