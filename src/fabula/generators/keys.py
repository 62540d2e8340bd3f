"""Keys: integer sequences, formatted ids and UUIDs — pure functions of the row id.

Because a key is computed from its row number, any table can turn a parent row index into the
parent's key without a join (the relations layer relies on this).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.errors import DataError
from fabula.generators.base import BlockContext, CompileEnv, Generator, generator
from fabula.generators.digits import format_ids as formatted_ids
from fabula.spec.columns import IdColumn, SequenceColumn, UuidColumn
from fabula.streams import stream_key


@generator("sequence")
class SequenceGenerator(Generator[SequenceColumn]):
    spec: SequenceColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.int64()

    @classmethod
    def compile(cls, spec, env: CompileEnv):
        _check_order_by(spec, env)
        return cls(spec=spec, arrow_type=pa.int64())

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        rows = _numbers(ctx, self.spec.order_by)
        _check_key_range(ctx, rows, self.spec.start, self.spec.step)
        return self.spec.start + rows * self.spec.step

    def describe(self):
        return _without_order(super().describe())


@generator("id")
class IdGenerator(Generator[IdColumn]):
    spec: IdColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.string()

    @classmethod
    def compile(cls, spec, env: CompileEnv):
        _check_order_by(spec, env)
        return cls(spec=spec, arrow_type=pa.string())

    def _generate(self, ctx: BlockContext) -> pa.Array:
        rows = _numbers(ctx, self.spec.order_by)
        _check_key_range(ctx, rows, self.spec.start, 1)
        return format_ids(self.spec.start + rows, *self.spec.parts)

    def describe(self):
        return _without_order(super().describe())


def _without_order(shown: dict) -> dict:
    """`order_by` only where it is used (plans of other specs read as before)."""
    return {key: value for key, value in shown.items() if key != "order_by" or value is not None}


def _numbers(ctx: BlockContext, order_by: str | None) -> np.ndarray:
    """The number behind each row's key: its row number, or with `order_by` its rank in the
    order of that column over the whole table (so key order is time order, for any split)."""
    rows = ctx.row_ids()
    if order_by is None:
        return rows
    if ctx.relations is None:
        raise ValueError("`order_by` numbers the rows of a whole table: generate it through a plan")
    return ctx.relations.ranks(ctx.table, order_by)[rows].astype(np.int64)


def _check_order_by(spec, env: CompileEnv) -> None:
    found = env.column_types.get(spec.order_by) if spec.order_by else None
    if found is not None and not (pa.types.is_temporal(found) or pa.types.is_integer(found)
                                  or pa.types.is_floating(found)):
        raise ValueError(f"`order_by` puts the keys in the order of a date, timestamp or number, "
                         f"and `{spec.order_by}` is {found}")


def _check_key_range(ctx: BlockContext, rows: np.ndarray, start: int, step: int) -> None:
    """numpy wraps int64 silently, so the block's extreme keys are computed in Python first: a
    key past 64 bits is an error naming the column, never a negative or repeated key. (The plan
    already refuses what it can prove; this covers anything it could not.)"""
    if not len(rows):
        return
    ends = (start + int(rows.min()) * step, start + int(rows.max()) * step)
    if not all(-(2**63) <= key <= 2**63 - 1 for key in ends):
        raise DataError(f"the keys of rows {int(rows.min()):,} to {int(rows.max()):,} "
                        "run past 64-bit integers", hint="start lower, or use a smaller step")


def format_ids(numbers: np.ndarray, prefix: str, width: int, suffix: str) -> pa.Array:
    """`prefix` + zero-padded number + `suffix`, vectorised (about 4× Python f-strings).

    >>> format_ids(np.array([7, 12345]), "CUST-", 3, "").to_pylist()
    ['CUST-007', 'CUST-12345']
    """
    fast = formatted_ids(numbers, prefix, width, suffix)  # digit arithmetic; None for negatives
    if fast is not None:
        return fast
    digits = pc.cast(pa.array(numbers, type=pa.int64()), pa.string())
    if width:
        digits = pc.utf8_lpad(digits, width=width, padding="0")
    if not prefix and not suffix:
        return digits
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


@generator("uuid")
class UuidGenerator(Generator[UuidColumn]):
    spec: UuidColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.string()

    @classmethod
    def compile(cls, spec, env: CompileEnv):
        return cls(spec=spec, arrow_type=pa.string())

    def _generate(self, ctx: BlockContext) -> pa.Array:
        words = stream_key(ctx.seed, ctx.table, ctx.column, "uuid")
        return uuid_strings(ctx.row_ids().astype(np.uint64), words[0] << 32 | words[1], words[2] << 32 | words[3])


_MASK62 = np.uint64((1 << 62) - 1)
_DASHES = (8, 13, 18, 23)
_HEX_POSITIONS = np.array([i for i in range(36) if i not in _DASHES])
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuid_strings(rows: np.ndarray, key_high: int, key_low: int) -> pa.Array:
    """Version-4-shaped UUIDs, unique per row: the low 62 bits are a bijection of the row id.

    >>> u = uuid_strings(np.arange(3, dtype=np.uint64), 1, 2).to_pylist()
    >>> len(set(u)), u[0][14], u[0][19] in "89ab"
    (3, '4', True)
    """
    from fabula.streams import mix64

    n = len(rows)
    high = mix64(rows, key_high)
    low = _mix62(rows, key_low) | np.uint64(0b10 << 62)  # variant 10xx
    raw = np.empty((n, 16), dtype=np.uint8)
    raw[:, :8] = high.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 8:] = low.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _HEX_POSITIONS] = _HEX[nibbles]
    offsets = np.arange(0, 36 * n + 1, 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text.tobytes()))


def _mix62(values: np.ndarray, key: int) -> np.ndarray:
    """A keyed bijection on [0, 2**62): xorshifts and odd multipliers, all modulo 2**62."""
    with np.errstate(over="ignore"):
        x = (values.astype(np.uint64) + np.uint64(key & ((1 << 62) - 1))) & _MASK62
        x ^= x >> np.uint64(31)
        x = (x * np.uint64(0x7FB5D329728EA185)) & _MASK62
        x ^= x >> np.uint64(27)
        x = (x * np.uint64(0x81DADEF4BC2DD44D)) & _MASK62
        return x ^ (x >> np.uint64(33))
