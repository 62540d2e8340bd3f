"""People, companies and addresses: record columns that agree with each other.

Every column of one record (same table, kind and `record:` name) draws from the same numbers:
a keyed hash of the row number under the record's name (`record_uniform`), not the column's
own stream. So `first_name`, `email` and `name` of a person agree on every row, whichever of
them a spec has, in any block split or worker count, and inside a `by:` case or an event's
`during:` too (those keep the row numbers). Adding or removing a column of the record moves
nothing, because nothing is drawn in sequence.

Values are composed from component lists (`fabula.providers.names`, `.addresses`) by indexing
with NumPy, so distinct names grow with the rows at NumPy speed. People's and companies' strings
are written once into an Arrow buffer (`compose.Text`); addresses are joined with Arrow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import DICTIONARY_STRING, BlockContext, CompileEnv, Generator, generator
from fabula.generators.compose import Text, choose, join
from fabula.providers.addresses import AddressParts, address_parts
from fabula.providers.names import CompanyParts, PersonParts, company_parts, person_parts
from fabula.spec.people import AddressColumn, CompanyColumn, PersonColumn
from fabula.streams import mix64, stream_key

_TO_UNIT = 2.0 ** -53


def record_uniform(ctx: BlockContext, kind: str, record: str, purpose: str) -> np.ndarray:
    """Uniform [0, 1) numbers, one per row, that every column of the record shares: a keyed
    hash of the row number (like `uuid`), keyed by (seed, table, kind, record, purpose)."""
    words = stream_key(ctx.seed, ctx.table, kind, record, purpose)
    rows = ctx.row_ids().astype(np.uint64)
    mixed = mix64(mix64(rows, words[0] << 32 | words[1]), words[2] << 32 | words[3])
    return (mixed >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def pick(uniform: np.ndarray, size: int) -> np.ndarray:
    """Indices 0..size-1, uniformly, from uniform numbers."""
    return np.minimum((uniform * size).astype(np.int64), size - 1)


def _take(values: pa.Array, indices: np.ndarray) -> pa.Array:
    return values.take(pa.array(indices, type=pa.int64()))


def _join(*parts: pa.Array | str) -> pa.Array:
    """Row-wise concatenation of string arrays and literals (a null part is left out)."""
    return pc.binary_join_element_wise(*parts, "", null_handling="skip")


def weighted(weights: dict[str, float], uniform: np.ndarray) -> np.ndarray:
    """The position of the chosen key for each uniform number, by inverse CDF of the weights."""
    cumulative = np.cumsum(np.array(list(weights.values()), dtype=np.float64))
    return np.minimum(np.searchsorted(cumulative / cumulative[-1], uniform, side="right"), len(weights) - 1)


def by_choice(chosen: np.ndarray, shapes: list[tuple[Text | str, ...]]) -> Text:
    """Row i joined from the parts of shape chosen[i] (only its own shape's bytes are written)."""
    return choose(chosen, [join(*shape) for shape in shapes])


_NUMBERS = pa.array([str(number) for number in range(1, 100)])


def _digits(uniform: np.ndarray) -> Text:
    """1 to 99, as people append to a taken login."""
    return Text.pick(_NUMBERS, pick(uniform, 99))


def _initials(names: pa.Array) -> pa.Array:
    """Each name's first character (a list of a few thousand names: cheap per block)."""
    return pc.utf8_slice_codeunits(names, 0, 1)


# -- people --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """The components of one block's people, computed only as far as a part needs them."""

    female: np.ndarray
    first: np.ndarray
    """Index into the female or the male list, by `female`."""
    last: np.ndarray


USERNAME_STYLES: dict[str, float] = {"first.last": 30, "firstlast": 10, "first_last": 5, "flast": 15,
                   "first.lastNN": 15, "firstlastNN": 10, "last.first": 5, "f.lastNN": 5, "lastfNN": 5}
WORK_STYLES: dict[str, float] = {"first.last": 65, "flast": 25, "first_last": 5, "last.first": 5}
"""Work addresses always spell the last name, so colleagues and the records check can find them."""


@generator("person")
@dataclass(frozen=True)
class PersonGenerator(Generator[PersonColumn]):
    spec: PersonColumn
    parts: PersonParts = None  # type: ignore[assignment]  # always given by `compile`; a default only for the field order
    company: CompanyGenerator | None = None

    @classmethod
    def compile(cls, spec: PersonColumn, env: CompileEnv):
        parts = person_parts(spec.locale)
        company = None
        if spec.domains == "company" and spec.part == "email":
            company_spec = CompanyColumn(kind="company", part="domain", record=spec.company, locale=spec.locale)
            company = CompanyGenerator.compile(company_spec, env)
        arrow_type = DICTIONARY_STRING if spec.part in ("first_name", "last_name", "gender") else pa.string()
        return cls(spec=spec, arrow_type=arrow_type, parts=parts, company=company)

    def _uniform(self, ctx: BlockContext, purpose: str) -> np.ndarray:
        return record_uniform(ctx, "person", self.spec.record_name, purpose)

    def _person(self, ctx: BlockContext) -> Person:
        female = self._uniform(ctx, "gender") < 0.5
        return Person(female=female, first=self._given_index(female, self._uniform(ctx, "first")),
                      last=pick(self._uniform(ctx, "last"), len(self.parts.last)))

    def _given(self, female: np.ndarray, index: np.ndarray, ascii: bool = False, initial: bool = False) -> Text:
        """Given names (or their initials): row i from the female list if female[i], else the male list."""
        women, men = self.parts.female, self.parts.male
        pool_f, pool_m = (women.ascii, men.ascii) if ascii else (women.values, men.values)
        if initial:
            pool_f, pool_m = _initials(pool_f), _initials(pool_m)
        return choose(female.astype(np.intp), [Text.pick(pool_m, np.where(female, 0, index)),
                                               Text.pick(pool_f, np.where(female, index, 0))])

    def _given_index(self, female: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        return np.where(female, pick(uniform, len(self.parts.female)), pick(uniform, len(self.parts.male)))

    def _family(self, person: Person, ascii: bool = False) -> Text:
        last = self.parts.last
        return Text.pick(last.ascii if ascii else last.values, person.last)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        part = self.spec.part
        person = self._person(ctx)
        if part == "gender":
            return pa.DictionaryArray.from_arrays(pa.array(np.where(person.female, 0, 1), type=pa.int32()),
                                                  pa.array(["female", "male"]))
        if part == "first_name":
            return self._given(person.female, person.first).to_arrow().dictionary_encode()
        if part == "last_name":
            return self._family(person).to_arrow().dictionary_encode()
        if part == "name":
            return self._full_name(ctx, person).to_arrow()
        if part == "username":
            return self._login(ctx, person, USERNAME_STYLES).to_arrow()
        return self._email(ctx, person).to_arrow()

    def _full_name(self, ctx: BlockContext, person: Person) -> Text:
        has_middle = self._uniform(ctx, "has_middle") < self.spec.middle
        index = self._given_index(person.female, self._uniform(ctx, "middle"))
        if self.parts.english:
            middle = join(self._given(person.female, index, initial=True), ". ")
        else:
            middle = join(self._given(person.female, index), " ")
        return join(self._given(person.female, person.first), " ", middle.only(has_middle), self._family(person))

    def _login(self, ctx: BlockContext, person: Person, styles: dict[str, float]) -> Text:
        first, last = self._given(person.female, person.first, ascii=True), self._family(person, ascii=True)
        f = self._given(person.female, person.first, ascii=True, initial=True)
        digits = _digits(self._uniform(ctx, "digits"))
        shapes = {
            "first.last": (first, ".", last), "firstlast": (first, last), "first_last": (first, "_", last),
            "flast": (f, last), "first.lastNN": (first, ".", last, digits), "firstlastNN": (first, last, digits),
            "last.first": (last, ".", first), "f.lastNN": (f, ".", last, digits), "lastfNN": (last, f, digits),
        }
        chosen = weighted(styles, self._uniform(ctx, "username_style"))
        return by_choice(chosen, [shapes[name] for name in styles])

    def _email(self, ctx: BlockContext, person: Person) -> Text:
        domains = self.spec.domains
        if domains == "company":
            assert self.company is not None  # `compile` makes one for domains: company
            return join(self._login(ctx, person, WORK_STYLES), "@", self.company.domains(ctx))
        local = self._login(ctx, person, USERNAME_STYLES)
        uniform = self._uniform(ctx, "domain")
        if domains == "free":
            choices = self.parts.free_mail
            return join(local, "@", Text.pick(choices.values, choices.pick(uniform)))
        return join(local, "@", Text.pick(pa.array(list(domains), type=pa.string()), pick(uniform, len(domains))))

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {"part": self.spec.part, "record": self.spec.record_name, "locale": self.spec.locale}
        if self.spec.part == "name":
            found["middle"] = self.spec.middle
        if self.spec.part == "email":
            found["domains"] = self.spec.domains if isinstance(self.spec.domains, str) else list(self.spec.domains)
        return found


# -- companies -----------------------------------------------------------------------------------

_recent_domains = threading.local()
"""Per thread, (which rows, their domains) of the block that asked last: a pure function of the
key (seed, table, record, locale, first row, rows), so reusing it never changes a value."""

COMPANY_STYLES: dict[str, float] = {"name suffix": 10, "name word suffix": 45, "name & name": 30,
                                    "name, name and name": 15}


@generator("company")
@dataclass(frozen=True)
class CompanyGenerator(Generator[CompanyColumn]):
    spec: CompanyColumn
    parts: CompanyParts = None  # type: ignore[assignment]  # always given by `compile`; a default only for the field order

    @classmethod
    def compile(cls, spec: CompanyColumn, env: CompileEnv):
        return cls(spec=spec, arrow_type=pa.string(), parts=company_parts(spec.locale))

    def _uniform(self, ctx: BlockContext, purpose: str) -> np.ndarray:
        return record_uniform(ctx, "company", self.spec.record_name, purpose)

    def _styles(self, ctx: BlockContext) -> np.ndarray:
        return weighted(COMPANY_STYLES, self._uniform(ctx, "style"))

    def _lasts(self, ctx: BlockContext, ascii: bool, count: int = 3) -> list[Text]:
        last = self.parts.last
        values = last.ascii if ascii else last.values
        return [Text.pick(values, pick(self._uniform(ctx, f"last{n}"), len(last))) for n in range(count)]

    def names(self, ctx: BlockContext) -> Text:
        parts = self.parts
        style = self._styles(ctx)
        one, two, three = self._lasts(ctx, ascii=False)
        suffix = Text.pick(parts.suffixes, pick(self._uniform(ctx, "suffix"), len(parts.suffixes)))
        word = Text.pick(parts.words.values, pick(self._uniform(ctx, "word"), len(parts.words)))
        shapes = [(one, " ", suffix), (one, " ", word, " ", suffix), (one, " & ", two),
                  (one, ", ", two, f" {parts.conjunction} ", three)]
        return by_choice(style, shapes)

    def domains(self, ctx: BlockContext) -> Text:
        """The record's domains on the block's rows. A block often asks for them three times
        (`domain`, `email`, a contact's work email): the last block's are kept, per thread."""
        if ctx.rows is not None:  # a case of a conditional column: rows of its own
            return self._domains(ctx)
        key = (ctx.seed, ctx.table, self.spec.record_name, self.spec.locale, ctx.start, ctx.n)
        recent = getattr(_recent_domains, "block", None)
        if recent is None or recent[0] != key:
            recent = (key, self._domains(ctx))
            _recent_domains.block = recent
        return recent[1]

    def _domains(self, ctx: BlockContext) -> Text:
        parts = self.parts
        style = self._styles(ctx)
        one, two = self._lasts(ctx, ascii=True, count=2)
        word = Text.pick(parts.words.ascii, pick(self._uniform(ctx, "word"), len(parts.words)))
        tld = Text.pick(parts.tlds.values, parts.tlds.pick(self._uniform(ctx, "tld")))
        shapes = [(one, ".", tld), (one, word, ".", tld), (one, "-", two, ".", tld), (one, two, ".", tld)]
        return by_choice(style, shapes)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        part = self.spec.part
        if part == "name":
            return self.names(ctx).to_arrow()
        domain = self.domains(ctx)
        if part == "domain":
            return domain.to_arrow()
        if part == "email":
            return join(self.spec.mailbox + "@", domain).to_arrow()
        return join("https://www.", domain).to_arrow()

    def describe(self) -> dict[str, Any]:
        found = {"part": self.spec.part, "record": self.spec.record_name, "locale": self.spec.locale}
        if self.spec.part == "email":
            found["mailbox"] = self.spec.mailbox
        return found


# -- addresses -----------------------------------------------------------------------------------

_PLACE_PARTS = ("city", "postcode", "state", "country", "country_code")


@generator("address")
@dataclass(frozen=True)
class AddressGenerator(Generator[AddressColumn]):
    spec: AddressColumn
    parts: AddressParts = None  # type: ignore[assignment]  # always given by `compile`; a default only for the field order

    @classmethod
    def compile(cls, spec: AddressColumn, env: CompileEnv):
        parts = address_parts(spec.locale)
        arrow_type = DICTIONARY_STRING if spec.part in _PLACE_PARTS else pa.string()
        return cls(spec=spec, arrow_type=arrow_type, parts=parts)

    def _uniform(self, ctx: BlockContext, purpose: str) -> np.ndarray:
        return record_uniform(ctx, "address", self.spec.record_name, purpose)

    def _place(self, ctx: BlockContext, column: str) -> pa.Array:
        places = self.parts.places
        values = places.column(column).combine_chunks()
        if pa.types.is_null(values.type):
            values = values.cast(pa.string())
        return _take(values, pick(self._uniform(ctx, "place"), places.num_rows))

    def _number(self, ctx: BlockContext) -> pa.Array:
        # small house numbers are commoner (density falling as 1/sqrt): up to 9,999 in English-
        # speaking countries, which number by block, up to 299 elsewhere
        highest = 9_999 if self.parts.english else 299
        numbers = 1 + (self._uniform(ctx, "number") ** 2 * highest).astype(np.int64)
        return pc.cast(pa.array(np.clip(numbers, 1, highest)), pa.string())

    def _street(self, ctx: BlockContext) -> pa.Array:
        parts = self.parts
        name = _take(parts.streets, pick(self._uniform(ctx, "street"), len(parts.streets)))
        number = self._number(ctx)
        return _join(number, parts.separator, name) if parts.number_first else _join(name, " ", number)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        part = self.spec.part
        if part in _PLACE_PARTS:
            return self._place(ctx, part).dictionary_encode().cast(DICTIONARY_STRING)
        if part == "street_name":
            return _take(self.parts.streets, pick(self._uniform(ctx, "street"), len(self.parts.streets)))
        if part == "building_number":
            return self._number(ctx)
        street = self._street(ctx)
        if part == "street":
            return street
        city, postcode = self._place(ctx, "city"), self._place(ctx, "postcode")
        if self.parts.english:  # "12 Main Street, Springfield, IL 62704"; without states "…, London SW1A 1AA"
            state = pc.coalesce(self._place(ctx, "state_abbr"), self._place(ctx, "state"))
            region = pc.if_else(pc.is_null(state), pa.scalar(None, pa.string()), _join(", ", state))
            return _join(street, ", ", city, region, " ", postcode)
        return _join(street, ", ", postcode, " ", city)

    def describe(self) -> dict[str, Any]:
        return {"part": self.spec.part, "record": self.spec.record_name, "locale": self.spec.locale}
