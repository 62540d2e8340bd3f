"""What every column generator shares: the block context, the kind registry, and the modifiers.

A generator is a frozen value compiled from a column spec. `generate(ctx)` is a pure function
of the block context and returns an Arrow array of the declared type and the block's length;
the base class owns those invariants and the modifiers (clip, round, nulls), so a kind only
implements `_generate` (CONVENTIONS 4 and 7).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.laws import Law, Shares
from fabula.spec.columns import COLUMN_KINDS, ColumnSpec, ConditionalColumn
from fabula.story import Story
from fabula.streams import Purpose, rng_for

DICTIONARY_STRING = pa.dictionary(pa.int32(), pa.string())
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Kind:
    """Everything the layers know about one column kind, registered once: the spec model that
    reads it (which says whether it is a key), the generator that draws it (which declares its
    law or its shares for validation, and whether its nulls are its own)."""

    name: str
    spec: type[ColumnSpec]
    generator: type[Generator[Any]]

    @property
    def key(self) -> bool:
        """Values computed from the row number: unique, and a target references can point to."""
        return self.spec.key

    @property
    def own_nulls(self) -> bool:
        """Its nulls come only from its own `nulls:` (not from the columns it reads)."""
        return self.generator.own_nulls


KINDS: dict[str, Kind] = {}
"""Every column kind by name (the spec layer's `COLUMN_KINDS` holds the same names' models)."""

GENERATORS: dict[str, type[Generator[Any]]] = {}

GeneratorClass = TypeVar("GeneratorClass", bound="type[Generator[Any]]")
"""The generator of each kind by name (the same as `KINDS[name].generator`)."""


def generator(kind: str | type[ColumnSpec]) -> Callable[[GeneratorClass], GeneratorClass]:
    """Register the generator for a column kind, keyed by its spec model (or the model's name):
    after this the kind flows through check, plan, generate and validate.

    The spec model must be registered first (`spec.columns.column_kind`)."""

    def register(cls: GeneratorClass) -> GeneratorClass:
        model = COLUMN_KINDS.get(kind) if isinstance(kind, str) else kind
        if model is None:
            raise ValueError(f"no spec model is registered for {kind!r}: declare it with `column_kind` first")
        name = model.kind_name
        if name in KINDS:
            raise ValueError(f"generator for {name!r} registered twice")
        if COLUMN_KINDS.get(name) is not model:
            raise ValueError(f"{model.__name__} is not the registered spec model of {name!r}")
        cls.kind = name
        KINDS[name] = Kind(name, model, cls)
        GENERATORS[name] = cls
        return cls

    return register


def unregister(name: str) -> None:
    """Forget a kind in both layers (for kinds registered at run time, e.g. by a test)."""
    KINDS.pop(name, None)
    GENERATORS.pop(name, None)
    COLUMN_KINDS.pop(name, None)


def kind_of(spec) -> Kind | None:
    """The registered kind of a column spec (None for a conditional column or a hidden one)."""
    found = KINDS.get(getattr(spec, "kind", ""))
    return found if found is not None and isinstance(spec, found.spec) else None


class GenerationError(RuntimeError):
    """A generator broke its contract or failed on real data; names the table and column."""


class Relations(Protocol):
    """What a generator may ask about other tables while it generates a block. Implemented by
    the plan layer; every answer is a pure function of the plan."""

    def table_rows(self, table: str) -> int: ...

    def keys(self, table: str, column: str, rows: np.ndarray) -> pa.Array:
        """The key column's values at these row numbers (keys are functions of the row)."""

    def values(self, table: str, column: str) -> pa.Array:
        """A whole column of a table (only for columns children read through a reference)."""

    def levels(self, table: str, column: str) -> LevelIndex:
        """A table's rows grouped by the value of one of its columns."""

    def parent_rows(self, table: str, block: int) -> np.ndarray:
        """For a table sized per parent, the parent row of each row of a block."""

    def children(self, child: str, parent_block: int, column: str) -> pa.Array:
        """A column of all the children (in a table sized per parent) of one parent block."""

    def ranks(self, table: str, column: str) -> np.ndarray:
        """The rank of each row of a table by one of its columns (ids in chronological order)."""

    def parent_table(self, table: str) -> str:
        """The parent a table is sized per."""

    def first_child_rows(self, table: str, block: int) -> np.ndarray:
        """For each row of a block of a table sized per parent, the first row of its parent's children."""

    def column_rows(self, table: str, column: str, start: int, stop: int) -> pa.Array:
        """A column's values at rows [start, stop) of its table."""


@dataclass(frozen=True)
class LevelIndex:
    """Rows of a table grouped by a column's value: `rows[offsets[i]:offsets[i+1]]` hold
    `values[i]`."""

    values: list
    rows: np.ndarray
    offsets: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


@dataclass(frozen=True)
class CompileEnv:
    """What compiling a column may look at: names, seed, as_of and the types of its inputs."""

    seed: int
    as_of: date
    table: str
    column: str
    column_types: Mapping[str, pa.DataType] = field(default_factory=dict)
    """Types of what the column may read: its table's columns, and `fk.column` of parents."""
    table_types: Mapping[str, Mapping[str, pa.DataType]] = field(default_factory=dict)
    """Types of other tables' compiled columns (parents' keys and values, children's values)."""
    references: Mapping[str, str] = field(default_factory=dict)
    """This table's reference columns → the table each points to."""
    story: Story | None = None
    """The resolved timelines and events, for columns that use them (None outside a plan)."""


@dataclass(frozen=True)
class BlockContext:
    """One block of one column: which rows, which streams, and the columns computed so far."""

    seed: int
    table: str
    column: str
    block: int
    start: int
    n: int
    columns: Mapping[str, pa.Array] = field(default_factory=dict)
    rows: np.ndarray | None = None
    """Explicit row ids when this context is a subset (a case of a conditional column)."""
    relations: Relations | None = None
    """What the plan knows about other tables (row counts, parents' values), for relations."""

    def rng(self, purpose: Purpose | str = Purpose.VALUES) -> np.random.Generator:
        """The stream for (table, column, purpose, block) under the root seed."""
        name = purpose.value if isinstance(purpose, Purpose) else purpose
        return rng_for(self.seed, self.table, self.column, name, self.block)

    def row_ids(self) -> np.ndarray:
        """Global row numbers of this block's rows (int64)."""
        if self.rows is not None:
            return self.rows
        return np.arange(self.start, self.start + self.n, dtype=np.int64)

    def for_column(self, column: str) -> BlockContext:
        return replace(self, column=column)

    def subset(self, indices: np.ndarray, branch: str) -> BlockContext:
        """The rows at `indices`, drawing from the streams of a named branch of this column."""
        taken = pa.array(indices, type=pa.int64())
        return replace(
            self,
            column=f"{self.column}[{branch}]",
            n=len(indices),
            rows=self.row_ids()[indices],
            columns=TakenColumns(self.columns, taken),
        )


class TakenColumns(Mapping):
    """Columns at some rows, each taken on first read: a case of a conditional column reads
    one or two of the block's columns, and taking every column for every case was a large
    share of a block's time."""

    def __init__(self, columns: Mapping[str, pa.Array], rows: pa.Array):
        self._columns, self._rows = columns, rows
        self._taken: dict[str, pa.Array] = {}

    def __getitem__(self, name: str) -> pa.Array:
        if name not in self._taken:
            self._taken[name] = self._columns[name].take(self._rows)
        return self._taken[name]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns


SpecT = TypeVar("SpecT", bound=ColumnSpec | ConditionalColumn)
"""The spec model a generator is compiled from (`NormalGenerator` reads a `NormalColumn`)."""


@dataclass(frozen=True)
class Generator(Generic[SpecT]):
    """Base of all column generators. Subclasses implement `_generate` and, if their type
    depends on the spec, `output_type`."""

    kind: ClassVar[str] = ""
    own_nulls: ClassVar[bool] = True
    """False for kinds that compute from other columns and so inherit their nulls."""
    spec: SpecT
    arrow_type: pa.DataType

    @classmethod
    def compile(cls, spec: SpecT, env: CompileEnv) -> Generator[SpecT]:
        """Prepare everything that does not depend on the block (resolved dates, pools)."""
        return cls(spec=spec, arrow_type=cls.output_type(spec, env))

    @classmethod
    def output_type(cls, spec: SpecT, env: CompileEnv) -> pa.DataType:
        return pa.float64()

    def generate(self, ctx: BlockContext) -> pa.Array:
        try:
            values = self._generate_unique(ctx) if getattr(self.spec, "unique", False) else self._generate(ctx)
            array = finish(values, self.spec, self.arrow_type, ctx)
        except GenerationError:
            raise
        except Exception as error:
            raise GenerationError(
                f"column {ctx.table}.{ctx.column} ({self.kind}) failed in block {ctx.block}: {error}"
            ) from error
        if len(array) != ctx.n or array.type != self.arrow_type:
            raise GenerationError(
                f"column {ctx.table}.{ctx.column} ({self.kind}) returned {len(array)} values of "
                f"type {array.type}, expected {ctx.n} of {self.arrow_type}"
            )
        return array

    def _generate(self, ctx: BlockContext) -> np.ndarray | pa.Array:
        raise NotImplementedError

    def law(self) -> Law | None:
        """The declared distribution of the values, for validation (None: none to check)."""
        return None

    def shares(self) -> Shares | None:
        """The declared levels and weights of the values, for validation (None: not levels)."""
        return None

    def distinct_values(self) -> int | None:
        """How many values a `unique: true` column of this kind can take without repeating,
        or None if it cannot draw without replacement (the plan refuses it)."""
        return None

    def _generate_unique(self, ctx: BlockContext) -> np.ndarray | pa.Array:
        """Values for `unique: true`: keys are unique anyway; kinds with `distinct_values`
        override this to pick value number permute(row)."""
        return self._generate(ctx)

    def _unique_codes(self, ctx: BlockContext) -> np.ndarray:
        """Distinct value numbers for distinct rows: a keyed permutation of the row number."""
        from fabula.generators.unique import permute, unique_key

        count = self.distinct_values()
        assert count is not None, "the plan refuses `unique` on kinds without distinct values"
        return permute(ctx.row_ids(), count, unique_key(ctx.seed, ctx.table, ctx.column))

    def describe(self) -> dict[str, Any]:
        """Parameters as a reviewer reads them (for `fabula plan`)."""
        skip = {"kind", "nulls", "round", "clip", "unique", "description", "during", "hidden", "when"}
        return {
            name: value for name, value in self.spec.model_dump(exclude_defaults=False).items()
            if name not in skip and not callable(value)
        }


# -- modifiers ------------------------------------------------------------------------------------


def finish(values: np.ndarray | pa.Array, spec, arrow_type: pa.DataType, ctx: BlockContext) -> pa.Array:
    """Apply clip, round and nulls (in that order) and return the declared Arrow type."""
    if isinstance(values, np.ndarray):
        values = _numpy_modifiers(values, spec, arrow_type)
        storage = _storage_type(arrow_type)
        array = pa.array(values, type=storage, mask=null_mask(spec.nulls, ctx))
        return array if storage == arrow_type else array.view(arrow_type)
    array = values
    if spec.clip is not None and (spec.clip.min is not None or spec.clip.max is not None):
        array = _clip_arrow(array, spec.clip, arrow_type)
    if spec.round is not None and pa.types.is_floating(array.type):
        array = round_floats(array, spec.round)
    if array.type != arrow_type:
        array = array.cast(arrow_type)
    return with_nulls(array, null_mask(spec.nulls, ctx))


def round_floats(array: pa.Array, decimals: int) -> pa.Array:
    """Floats rounded as the NumPy path rounds them (half to even, landing on the double nearest
    the decimal): Arrow's `round` can stop one ulp off it, e.g. 42.62 → 42.620000000000005."""
    values = np.round(array.to_numpy(zero_copy_only=False), decimals)
    return pa.array(values, type=array.type, mask=np.asarray(array.is_null()) if array.null_count else None)


def null_mask(fraction: float, ctx: BlockContext) -> np.ndarray | None:
    """Which rows are null, from the column's own `nulls` stream (values never move)."""
    if not fraction:
        return None
    return ctx.rng(Purpose.NULLS).random(ctx.n) < fraction


def with_nulls(array: pa.Array, mask: np.ndarray | None) -> pa.Array:
    if mask is None or not mask.any():
        return array
    if isinstance(array, pa.DictionaryArray):
        indices = pa.array(array.indices.to_numpy(zero_copy_only=False), type=array.indices.type,
                           mask=mask | np.asarray(array.indices.is_null()))
        return pa.DictionaryArray.from_arrays(indices, array.dictionary)
    return pc.if_else(pa.array(mask), pa.scalar(None, type=array.type), array)


def _storage_type(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_date32(arrow_type):
        return pa.int32()
    if pa.types.is_timestamp(arrow_type):
        return pa.int64()
    return arrow_type


def _numpy_modifiers(values: np.ndarray, spec, arrow_type: pa.DataType) -> np.ndarray:
    clip = spec.clip
    if clip is not None and (clip.min is not None or clip.max is not None):
        low, high = (_bound_units(bound, arrow_type) for bound in (clip.min, clip.max))
        if values.dtype.kind in "iu":
            low, high = _whole_bounds(low, high)
        values = np.clip(values, low, high).astype(values.dtype, copy=False)
    if spec.round is not None and values.dtype.kind == "f":
        values = np.round(values, spec.round)
    return values


def _bound_units(bound, arrow_type: pa.DataType):
    """A clip bound in the units of the array's storage (days for dates, ticks for timestamps)."""
    if bound is None or not isinstance(bound, date):
        return bound
    days = (bound - EPOCH).days
    if pa.types.is_timestamp(arrow_type):
        return days * TICKS_PER_DAY[arrow_type.unit]
    return days


def _clip_arrow(array: pa.Array, clip, arrow_type: pa.DataType) -> pa.Array:
    low, high = clip.min, clip.max
    if pa.types.is_integer(array.type):
        low, high = _whole_bounds(low, high)
    if low is not None:
        array = pc.max_element_wise(array, pa.scalar(low).cast(array.type))
    if high is not None:
        array = pc.min_element_wise(array, pa.scalar(high).cast(array.type))
    return array


def _whole_bounds(low, high):
    """Clip bounds for integers: the smallest integer >= min and the largest <= max."""
    return (None if low is None else math.ceil(low)), (None if high is None else math.floor(high))


TICKS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
