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

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.providers.ascii import to_ascii
from fabula.spec.columns import column_branches
from fabula.spec.people import AddressColumn, CompanyColumn, PersonColumn
from fabula.validate.evidence import Evidence
from fabula.validate.report import FAIL, PASS, Check, Where
from fabula.validate.statistics import Examples, Unreadable
from fabula.validate.text import WIDEST, byte_lengths, fixed_width, lower_ascii

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
        whole = not (derived.null_count or reference.null_count)  # every row: the same as other columns'
        if not whole:
            both = pc.and_(pc.is_valid(derived), pc.is_valid(reference))
            derived, reference = derived.filter(both), reference.filter(both)
        lengths = byte_lengths(derived)
        long = lengths > WIDEST
        if (reference_lengths := byte_lengths(reference)).max(initial=0) > WIDEST:
            long |= reference_lengths > WIDEST
        wrong = np.zeros(len(derived), dtype=bool)
        placeholders = 0
        rows: np.ndarray | slice  # the rows checked vectorised: the short ones, or all of them
        if long.any():  # a changed file: these few rows by the rule spelled out in Python
            for row in np.flatnonzero(long).tolist():
                wrong[row], placeholder = self.rule(derived[row].as_py(), reference[row].as_py())
                placeholders += placeholder
            short = pa.array(~long)
            rows, derived_short, reference_short = np.flatnonzero(~long), derived.filter(short), reference.filter(short)
            expected = self._expected(reference_short)
        else:
            rows, derived_short = slice(None), derived
            expected = view.shared((FAMILY, self.reference, self.kind, self.reference_part, self.locale),
                                   lambda: self._expected(reference)) if whole else self._expected(reference)
        found = fixed_width(derived_short, lengths[rows])
        wrong[rows] = self._wrong(found, expected, lengths[rows])
        if self.part == "email":
            placeholders += int(self._placeholders(found, lengths[rows]).sum())
        state: dict[str, int | Examples] = {"rows": len(derived), "wrong": int(wrong.sum()),
                                            "placeholders": placeholders}
        if wrong.any():
            shown = [f"{derived[int(i)].as_py()} for {reference[int(i)].as_py()}" for i in np.flatnonzero(wrong)[:3]]
            state["examples"] = Examples(tuple(shown), 3)
        return state

    def rule(self, derived: str, reference: str) -> tuple[bool, bool]:
        """(wrong, placeholder) of one row, in plain Python: the rule the vectorised check follows."""
        if self.kind == "company":
            word = re.split(r"[ ,&]", reference, maxsplit=1)[0]
        elif self.reference_part == "name":
            word = reference.rsplit(" ", 1)[-1]
        else:
            word = reference
        expected = to_ascii(word, self.locale)
        if self.kind == "person":
            wrong = expected not in (derived.split("@", 1)[0] if self.part == "email" else derived)
        else:
            if self.part == "email":
                found = derived.rsplit("@", 1)[1] if "@" in derived else ""
            elif self.part == "website":
                found = re.sub(r"^https?://(www\.)?", "", derived)
            else:
                found = derived
            wrong = not found.startswith(expected)
        domain = derived.rsplit("@", 1)[1] if self.part == "email" and "@" in derived else None
        placeholder = domain is not None and domain.lower() in set(PLACEHOLDER_DOMAINS) - set(self.listed_domains)
        return wrong, placeholder

    def _expected(self, reference: pa.Array) -> np.ndarray:
        """The ASCII word (bytes) each row's derived column must contain (a person's last name)
        or start with (a company's first word): a company's first word ends at its first space,
        comma or &; a full name's last word follows its last space (empty when the name ends
        with one). Each distinct word is spelled once."""
        names = fixed_width(reference)
        if self.kind == "company":
            matrix = names.view(np.uint8).reshape(len(names), -1)
            separator = (matrix == ord(" ")) | (matrix == ord(",")) | (matrix == ord("&"))
            first = separator.argmax(axis=1)
            end = np.where(separator[np.arange(len(names)), first], first, np.strings.str_len(names))
            words = np.strings.slice(names, 0, end)
        elif self.reference_part == "name":
            words = np.strings.slice(names, np.strings.rfind(names, b" ") + 1, None)
        else:
            words = names
        return _spelled_words(words, self.locale)

    def _wrong(self, found: np.ndarray, expected: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows whose derived value does not hold the expected word where it must: in the login
        (before the first @) of a person's email, anywhere in a username, at the start of a
        company's domain — the part after the last @ of an email (empty without an @), or after
        http(s):// and then www. of a website. The words are ASCII, without @ or NUL."""
        if self.kind == "person":
            end = lengths
            if self.part == "email":
                at = np.strings.find(found, b"@")
                end = np.where(at < 0, lengths, at)
            return np.strings.find(found, expected, 0, end) < 0
        if self.part == "email":
            at = np.strings.rfind(found, b"@")
            if (at >= 0).all():
                return ~np.strings.startswith(found, expected, at + 1)
            return np.where(at < 0, np.strings.str_len(expected) > 0, ~np.strings.startswith(found, expected, at + 1))
        start: int | np.ndarray = 0  # where the name starts: after the scheme and www. of a website
        if self.part == "website":
            start = np.where(np.strings.startswith(found, b"https://"), 8,
                             np.where(np.strings.startswith(found, b"http://"), 7, 0))
            start = start + 4 * ((start > 0) & np.strings.startswith(found, b"www.", start))
        return ~np.strings.startswith(found, expected, start)

    def _placeholders(self, found: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Emails ending in @ and a placeholder domain, in any case. The domains are ASCII letters
        and dots, and no other character lower-cases to one of those letters
        (tests/validate/test_records.py checks it), so lower-casing ASCII bytes is enough. Only
        rows with an @ where the domain would start are looked at closely."""
        matrix = found.view(np.uint8).reshape(len(found), -1)
        hit = np.zeros(len(found), dtype=bool)
        tails = [("@" + domain).encode() for domain in PLACEHOLDER_DOMAINS if domain not in self.listed_domains]
        for size in sorted({len(tail) for tail in tails}):  # "@example.com" and the others: one length
            begin = np.maximum(lengths - size, 0)
            rows = np.flatnonzero((matrix[np.arange(len(found)), begin] == ord("@")) & (lengths >= size))
            if len(rows):
                ends = np.ascontiguousarray(matrix[rows[:, None], begin[rows, None] + np.arange(size)])
                ends = lower_ascii(ends.view(f"S{size}").ravel())
                for tail in tails:
                    if len(tail) == size:
                        hit[rows] |= ends == tail
        return hit


def _spelled_words(words: np.ndarray, locale: str) -> np.ndarray:
    """Each word (UTF-8 `S` strings) in ASCII, spelled once per distinct word: Arrow finds the
    distinct ones (fixed-width binary, hashed in place). A word of ASCII bytes only (most names)
    is spelled as NumPy arrays, without a Python string per word: `to_ascii` of ASCII text
    lower-cases A-Z and drops every byte that is not a-z or 0-9 (its language table and accent
    folding touch only other characters). The rest go through `to_ascii` one by one."""
    words = np.ascontiguousarray(words if words.dtype.itemsize else words.astype("S1"))
    width = words.dtype.itemsize
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(words), [None, pa.py_buffer(words)])
    encoded = fixed.dictionary_encode()
    distinct = np.frombuffer(encoded.dictionary.buffers()[1], dtype=np.uint8, count=len(encoded.dictionary) * width,
                             offset=encoded.dictionary.offset * width).reshape(-1, width)
    plain = (distinct < 128).all(axis=1)
    others = np.flatnonzero(~plain)
    by_hand = [_spelled(distinct[row].tobytes().rstrip(b"\0"), locale) for row in others.tolist()]
    spelled = np.zeros(max(len(distinct), 1), dtype=f"S{max([width, *map(len, by_hand)])}")
    spelled[:len(distinct)][plain] = _spelled_ascii(distinct[plain]).view(f"S{width}").ravel()
    spelled[others] = by_hand
    return spelled[encoded.indices.to_numpy()]


def _spelled_ascii(matrix: np.ndarray) -> np.ndarray:
    """Rows of ASCII bytes (words × width) as `to_ascii` spells them: A-Z lower-cased, every byte
    that is not then a-z or 0-9 dropped, the kept ones moved to the front in order, NUL after."""
    lowered = matrix + ((matrix >= ord("A")) & (matrix <= ord("Z"))) * np.uint8(32)
    keep = ((lowered >= ord("a")) & (lowered <= ord("z"))) | ((lowered >= ord("0")) & (lowered <= ord("9")))
    order = np.argsort(~keep, axis=1, kind="stable")  # kept bytes first, each group in its order
    spelled = np.take_along_axis(lowered, order, axis=1)
    spelled[~np.take_along_axis(keep, order, axis=1)] = 0
    return np.ascontiguousarray(spelled)


@lru_cache(maxsize=1 << 16)
def _spelled(word: bytes, locale: str) -> bytes:
    """A word in ASCII, as bytes (cached: names come from bounded pools). A NUL the word may end
    in is dropped by the spelling anyway."""
    return to_ascii(word.decode("utf-8", errors="replace"), locale).encode("ascii")


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
        state: dict[str, int | Examples] = {"rows": len(rows), "wrong": int(pc.sum(wrong).as_py() or 0)}
        if state["wrong"]:
            shown = [text.replace(_SEPARATOR, ", ") for text in rows.filter(wrong).to_pylist()[:3]]
            state["examples"] = Examples(tuple(shown), 3)
        return state

    def _places(self) -> pa.Array:
        from fabula.providers.addresses import address_parts

        places = address_parts(self.locale).places
        parts = [places.column(part).cast(pa.string()).fill_null("") for part, _ in self.columns]
        return pc.unique(pc.binary_join_element_wise(*parts, _SEPARATOR))


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
        where: Where = {"table": statistic.table, "column": statistic.columns[0][1]}
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
        where: Where = {"table": statistic.table, "column": statistic.column}
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
