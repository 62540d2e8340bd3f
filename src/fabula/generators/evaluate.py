"""Evaluate parsed expressions and templates over whole Arrow columns.

The tree from `fabula.spec.expressions` is walked once per block; every node is one vectorised
`pyarrow.compute` call (which propagates nulls and releases the GIL), so there is no per-row
Python. Literals stay Arrow scalars until the end and are broadcast only if the whole result is
constant. Nothing here is random: the same columns always give the same result.

>>> import pyarrow as pa
>>> from fabula.spec.expressions import parse_expression, parse_template
>>> columns = {"quantity": pa.array([1, 2, None]), "unit_price": pa.array([2.5, 4.0, 1.0])}
>>> evaluate(parse_expression("quantity * unit_price"), columns, 3).to_pylist()
[2.5, 8.0, None]
>>> names = {"first": pa.array(["Zoë", "Jean-Luc"]), "last": pa.array(["O'Neil", "Picard"])}
>>> evaluate_template(parse_template("{slug(first)}.{slug(last)}@example.com"), names, 2).to_pylist()
['zoe.oneil@example.com', 'jeanluc.picard@example.com']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeAlias, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.errors import did_you_mean
from fabula.generators.base import round_floats
from fabula.spec.bounds import MAX_TEXT_CHARS
from fabula.spec.expressions import (
    Binary,
    Call,
    Column,
    Compare,
    Conditional,
    Expression,
    ExpressionError,
    Literal,
    Logical,
    Node,
    Template,
    Unary,
)

__all__ = ["evaluate", "evaluate_template"]


def evaluate(expression: Expression, columns: Mapping[str, pa.Array], length: int) -> pa.Array:
    """The expression computed for every row; `columns` holds at least the columns it reads.

    Output types: arithmetic on integers stays int64-like, mixed int/float and `/` give float64,
    comparisons and logic give bool, string functions give string, a duration on its own gives
    duration[us], and a bare `None` gives a null-typed array (cast it to the column's type).

    >>> import pyarrow as pa
    >>> from fabula.spec.expressions import parse_expression
    >>> evaluate(parse_expression("7 // n"), {"n": pa.array([2, -2, 0])}, 3).to_pylist()
    [3, -4, None]
    """
    where = f"`{expression.text}`"
    value = _evaluate_value(expression, columns, length, where=where)
    with _errors_as_expression_errors(expression, where):
        _check_moments(_settle(value))
    return _to_array(_settle(value), length)


def evaluate_template(template: Template, columns: Mapping[str, pa.Array], length: int) -> pa.Array:
    """The template filled in for every row, as pa.string(); a null field makes the row null.

    >>> import pyarrow as pa
    >>> from fabula.spec.expressions import parse_template
    >>> evaluate_template(parse_template("#{pad(n, 3)}"), {"n": pa.array([7, None])}, 2).to_pylist()
    ['#007', None]
    """
    pieces: list[pa.Array | pa.Scalar] = []
    for part in template.parts:
        if isinstance(part, str):
            pieces.append(pa.scalar(part, pa.string()))
            continue
        where = f"field `{{{part.text}}}` of template `{template.text}`"
        value = _evaluate_value(part, columns, length, where=where)
        with _errors_as_expression_errors(part, where):
            pieces.append(pc.cast(_to_text(value, "a template field"), pa.string()))
    if not pieces:
        return pa.repeat(pa.scalar("", pa.string()), length)
    joined = pc.binary_join_element_wise(*pieces, "")
    with _errors_as_expression_errors(template, f"template `{template.text}`"):
        _check_text_size(joined, "the template")
    return _to_array(joined, length)


# -- plumbing ---------------------------------------------------------------------------------


class _Failure(Exception):
    """A problem found while evaluating; `evaluate` adds the expression text and re-raises."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class _Duration:
    """A duration whose Arrow unit is not chosen yet: `amount` units of `seconds` seconds each.

    `hours(1.5)` cannot become an Arrow duration on its own without losing precision or range;
    once it meets a timestamp, it becomes a duration in that timestamp's unit.
    """

    amount: pa.Array | pa.Scalar
    seconds: int


Value: TypeAlias = pa.Array | pa.Scalar | _Duration

_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_UNIT_ORDER = ("s", "ms", "us", "ns")
_DEFAULT_UNIT = "us"


def _evaluate_value(expression: Expression, columns: Mapping[str, pa.Array], length: int, *,
                    where: str) -> Value:
    with _errors_as_expression_errors(expression, where):
        return _Evaluator(columns, length).eval(expression.tree)


@contextmanager
def _errors_as_expression_errors(expression: Expression | Template, where: str) -> Iterator[None]:
    try:
        yield
    except _Failure as failure:
        raise ExpressionError(f"{failure.message} in {where}", hint=failure.hint,
                              text=expression.text) from None
    except pa.ArrowException as error:
        # A safety net: each node already names its operation; this catches the unforeseen.
        raise ExpressionError(f"cannot evaluate {where}: {_first_line(error)}",
                              hint="check the types of the columns it reads", text=expression.text) from None


@contextmanager
def _arrow_errors(what: str, *values: Value, hint: str | None = None) -> Iterator[None]:
    """Turn an Arrow error inside one operation into a message naming it and the types it met."""
    try:
        yield
    except pa.ArrowException as error:
        if "overflow" in str(error).lower():
            raise _Failure(f"{what} overflows 64-bit integers",
                           hint="values never wrap around: use floats (e.g. 1.0 * x) or smaller numbers") from None
        types = ", ".join(_type_name(value) for value in values)
        raise _Failure(f"{what} failed on {types}: {_first_line(error)}",
                       hint=hint or "convert the arguments first, e.g. with int(), float() or str()") from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# The first and last instants Python (and so a reader of the output) can hold: 0001-01-01 and
# 9999-12-31, as days since 1970 for dates and seconds for timestamps.
_FIRST_DAY, _LAST_DAY = -719_162, 2_932_896
_TICKS_PER_DAY = 86_400


def _check_moments(value: pa.Array | pa.Scalar) -> None:
    """Dates and timestamps beyond the years 1 to 9999 are refused, never written."""
    if not _is_moment(value.type):
        return
    if isinstance(value, pa.Scalar):
        if not value.is_valid:
            return
        value = pa.repeat(value, 1)
    if len(value) == 0 or value.null_count == len(value):
        return
    if pa.types.is_date(value.type):
        storage = value.cast(pa.date32()).view(pa.int32())
        per_day = 1
    else:
        storage = value.view(pa.int64())
        per_day = _TICKS_PER_DAY * _TICKS_PER_SECOND[value.type.unit]
    bounds = pc.min_max(storage)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low < _FIRST_DAY * per_day or high >= (_LAST_DAY + 1) * per_day:
        raise _Failure("a date or time falls outside the years 1 to 9999",
                       hint="check the durations added to dates; days(n) with a huge n leaves the calendar")


def _check_text_size(value: pa.Array | pa.Scalar, what: str) -> None:
    """Text values are at most MAX_TEXT_CHARS characters: a spec cannot build gigabyte strings."""
    if not _is_text(value.type):
        return
    lengths = pc.utf8_length(value)
    longest = lengths.as_py() if isinstance(lengths, pa.Scalar) else pc.max(lengths).as_py()
    if longest is not None and longest > MAX_TEXT_CHARS:
        raise _Failure(f"{what} makes text of {longest:,} characters, more than {MAX_TEXT_CHARS:,}",
                       hint="keep text values short; see docs/security.md for the limits")


def _to_array(value: pa.Array | pa.Scalar, length: int) -> pa.Array:
    if isinstance(value, pa.Scalar):
        return pa.repeat(value, length)
    return value


# -- type helpers -----------------------------------------------------------------------------


def _type_name(value: Value) -> str:
    return "duration" if isinstance(value, _Duration) else str(value.type)


def _is_number(type_: pa.DataType) -> bool:
    return pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_)


def _is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def _is_moment(type_: pa.DataType) -> bool:
    return pa.types.is_date(type_) or pa.types.is_timestamp(type_)


def _is_null(type_: pa.DataType) -> bool:
    return pa.types.is_null(type_)


def _kind(type_: pa.DataType) -> str:
    """The family a type belongs to, in the words a spec author uses."""
    if pa.types.is_boolean(type_):
        return "bool"
    if _is_number(type_):
        return "number"
    if _is_text(type_):
        return "text"
    if _is_moment(type_):
        return "date/time"
    if pa.types.is_duration(type_):
        return "duration"
    if _is_null(type_):
        return "null"
    return str(type_)


def _cast(value: pa.Array | pa.Scalar, type_: pa.DataType) -> pa.Array | pa.Scalar:
    return value if value.type == type_ else pc.cast(value, type_)


def _settle(value: Value) -> pa.Array | pa.Scalar:
    """A plain Arrow value; a pending duration becomes duration[us]."""
    if isinstance(value, _Duration):
        return _as_arrow_duration(value, _DEFAULT_UNIT)
    return value


def _common_type(values: list[pa.Array | pa.Scalar], what: str) -> pa.DataType | None:
    """The type several values are cast to before being combined; None when all are null."""
    types = [value.type for value in values if not _is_null(value.type)]
    if not types:
        return None
    if all(type_ == types[0] for type_ in types):
        return types[0]
    kinds = {_kind(type_) for type_ in types}
    if kinds == {"number"}:
        exact = all(pa.types.is_integer(type_) for type_ in types)
        return pa.int64() if exact else pa.float64()
    if kinds == {"text"}:
        return pa.large_string() if any(pa.types.is_large_string(t) for t in types) else pa.string()
    if kinds == {"date/time"}:
        return _common_moment(types)
    if kinds == {"duration"}:
        return pa.duration(max((type_.unit for type_ in types), key=_UNIT_ORDER.index))
    raise _Failure(f"{what} cannot mix {' and '.join(sorted(kinds))} ({', '.join(map(str, types))})",
                   hint="convert them to one type first, e.g. with str(), int(), float() or date()")


def _common_moment(types: list[pa.DataType]) -> pa.DataType:
    stamps = [type_ for type_ in types if pa.types.is_timestamp(type_)]
    if not stamps:
        return pa.date32()
    finest = max(stamps, key=lambda type_: _UNIT_ORDER.index(type_.unit))
    return pa.timestamp(finest.unit, tz=stamps[0].tz)


def _unify(values: list[Value], what: str) -> list[pa.Array | pa.Scalar]:
    settled = [_settle(value) for value in values]
    target = _common_type(settled, what)
    if target is None:
        return settled
    with _arrow_errors(what, *settled):
        return [_cast(value, target) for value in settled]


def _to_text(value: Value, what: str) -> pa.Array | pa.Scalar:
    value = _settle(value)
    if _is_text(value.type):
        return value
    with _arrow_errors(f"turning {what} into text", value):
        return pc.cast(value, pa.string())


def _need_text(value: Value, function: str) -> pa.Array | pa.Scalar:
    value = _settle(value)
    if _is_null(value.type):
        return _cast(value, pa.string())
    if not _is_text(value.type):
        raise _Failure(f"`{function}` needs text, got {_kind(value.type)} ({value.type})",
                       hint=f"convert it first, e.g. {function}(str(...))")
    return value


def _need_number(value: Value, function: str) -> pa.Array | pa.Scalar:
    value = _settle(value)
    if _is_null(value.type):
        return _cast(value, pa.int64())
    if pa.types.is_boolean(value.type):
        return pc.cast(value, pa.int64())
    if not _is_number(value.type):
        raise _Failure(f"`{function}` needs a number, got {_kind(value.type)} ({value.type})",
                       hint=f"convert it first, e.g. {function}(float(...))")
    return value


def _need_integer(value: Value, function: str, argument: str) -> pa.Array | pa.Scalar:
    value = _need_number(value, function)
    if not pa.types.is_integer(value.type):
        raise _Failure(f"`{function}` needs a whole number for `{argument}`, got {value.type}",
                       hint="wrap it in int(...)")
    return value


def _need_bool(value: Value, what: str) -> pa.Array | pa.Scalar:
    value = _settle(value)
    if _is_null(value.type):
        return _cast(value, pa.bool_())
    if not pa.types.is_boolean(value.type):
        raise _Failure(f"{what} needs true/false values, got {_kind(value.type)} ({value.type})",
                       hint="compare first, e.g. x > 0; coalesce(a, b) picks the first non-null value")
    return value


def _need_moment(value: Value, function: str) -> pa.Array | pa.Scalar:
    value = _settle(value)
    if _is_null(value.type):
        return _cast(value, pa.timestamp(_DEFAULT_UNIT))
    if not _is_moment(value.type):
        raise _Failure(f"`{function}` needs a date or timestamp, got {_kind(value.type)} ({value.type})",
                       hint=f"text in ISO format can be read with date(...), e.g. {function}(date(s))")
    return value


def _to_float(value: pa.Array | pa.Scalar) -> pa.Array | pa.Scalar:
    return _cast(value, pa.float64())


def _numbers(left: Value, right: Value, op: str) -> tuple[pa.Array | pa.Scalar, pa.Array | pa.Scalar]:
    """Two numbers of one type: ints stay ints, any float makes both float64."""
    left, right = _need_number(left, op), _need_number(right, op)
    if left.type == right.type:
        return left, right
    if pa.types.is_integer(left.type) and pa.types.is_integer(right.type):
        return _cast(left, pa.int64()), _cast(right, pa.int64())
    if pa.types.is_decimal(left.type) or pa.types.is_decimal(right.type):
        return left, right  # Arrow's decimal rules are better than anything done here
    return _to_float(left), _to_float(right)


# -- the evaluator ----------------------------------------------------------------------------


class _Evaluator:
    """Walks one expression tree over one set of columns."""

    def __init__(self, columns: Mapping[str, pa.Array], length: int):
        self.columns = columns
        self.length = length

    def eval(self, node: Node) -> Value:
        # Dispatch on the class name, not isinstance: pytest's importlib mode can load
        # fabula.spec.expressions twice, and nodes from either copy must evaluate the same.
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise TypeError(f"not an expression node: {node!r}")
        return method(node)

    def _Literal(self, node: Literal) -> Value:
        return pa.scalar(node.value)

    def _Column(self, node: Column) -> Value:
        return self.column(node.name)

    def _Unary(self, node: Unary) -> Value:
        return _unary(node.op, self.eval(node.operand))

    def _Binary(self, node: Binary) -> Value:
        return _binary(node.op, self.eval(node.left), self.eval(node.right))

    def _Compare(self, node: Compare) -> Value:
        for column, constant, column_first in ((node.left, node.right, True), (node.right, node.left, False)):
            if type(column).__name__ == "Column" and type(constant).__name__ == "Literal":
                raw = self.column(cast(Column, column).name, decode=False)
                if pa.types.is_dictionary(raw.type):
                    # a categorical against a constant (`status == 'cancelled'`): its few distinct
                    # values compared, then looked up per row (a null row stays null), without
                    # decoding a string per row
                    values, literal = raw.dictionary, self.eval(constant)
                    found = _compare(node.op, *((values, literal) if column_first else (literal, values)))
                    return pc.take(found, raw.indices)
        return _compare(node.op, self.eval(node.left), self.eval(node.right))

    def _Logical(self, node: Logical) -> Value:
        return _logical(node.op, [self.eval(operand) for operand in node.operands])

    def _Conditional(self, node: Conditional) -> Value:
        return _choose(self.eval(node.condition), self.eval(node.then), self.eval(node.otherwise),
                       "`if ... else`")

    def _Call(self, node: Call) -> Value:
        if node.function in _PER_VALUE and isinstance(node.args[0], Column):
            raw = self.column(node.args[0].name, decode=False)
            if pa.types.is_dictionary(raw.type):
                # A Faker column has few distinct values: work on those, then look rows up.
                values = self.call(node.function, [raw.dictionary])
                return pc.take(values, raw.indices)
        return self.call(node.function, [self.eval(arg) for arg in node.args])

    def column(self, name: str, *, decode: bool = True) -> pa.Array:
        if name not in self.columns:
            raise _Failure(f"unknown column `{name}`",
                           hint=did_you_mean(name, self.columns) or f"columns here: {', '.join(sorted(self.columns))}")
        array = self.columns[name]
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if len(array) != self.length:
            raise ValueError(f"column `{name}` has {len(array)} rows, expected {self.length}")
        if decode and pa.types.is_dictionary(array.type):
            # Most kernels have no dictionary variants; decoding once is simplest and exact.
            array = pc.cast(array, array.type.value_type)
        return array

    def call(self, name: str, args: list[Value]) -> Value:
        function = _FUNCTIONS[name]
        with _arrow_errors(f"`{name}(...)`", *args):
            if name == "substr":
                return _substr(*args, length=self.length)
            result = function(*args)
        if name in _GROWS_TEXT:
            _check_text_size(result, f"`{name}(...)`")
        return result


# -- operators --------------------------------------------------------------------------------


def _unary(op: str, operand: Value) -> Value:
    if op == "not":
        value = _need_bool(operand, "`not`")
        return pc.invert(value)
    if isinstance(operand, _Duration):
        return operand if op == "+" else _Duration(pc.negate(operand.amount), operand.seconds)
    if pa.types.is_duration(operand.type):
        return operand if op == "+" else pc.negate(operand)
    value = _need_number(operand, f"unary `{op}`")
    with _arrow_errors(f"unary `{op}`", value):
        return value if op == "+" else pc.negate_checked(value)


def _binary(op: str, left: Value, right: Value) -> Value:
    hint = "use a float base for negative powers, e.g. 2.0 ** -1" if op == "**" else None
    with _arrow_errors(f"`{op}`", left, right, hint=hint):
        if isinstance(left, _Duration) or isinstance(right, _Duration):
            return _duration_arithmetic(op, left, right)
        if _is_null(left.type) and _is_null(right.type):
            return left
        left, right = _fill_null_type(left, right)
        if op == "+" and _is_text(left.type) and _is_text(right.type):
            joined = _join([left, right], "`+`")
            _check_text_size(joined, "`+`")
            return joined
        kinds = {_kind(left.type), _kind(right.type)}
        if kinds & {"date/time", "duration"}:
            return _moment_arithmetic(op, left, right, kinds)
        if not (_is_arithmetic(left.type) and _is_arithmetic(right.type)):
            raise _Failure(f"`{op}` cannot combine {_kind(left.type)} and {_kind(right.type)} "
                           f"({left.type} and {right.type})", hint=_arithmetic_hint(op, left, right))
        return _ARITHMETIC[op](*_numbers(left, right, f"`{op}`"))


def _moment_arithmetic(op: str, left, right, kinds: set[str]) -> pa.Array | pa.Scalar:
    if op in ("+", "-") and not kinds & {"number", "bool"}:
        return (pc.add if op == "+" else pc.subtract)(left, right)
    raise _Failure(f"`{op}` cannot combine {_kind(left.type)} and {_kind(right.type)} "
                   f"({left.type} and {right.type})",
                   hint="add or subtract a duration: days(n), hours(n), minutes(n) or seconds(n)")


def _is_arithmetic(type_: pa.DataType) -> bool:
    return _is_number(type_) or pa.types.is_boolean(type_)


def _arithmetic_hint(op: str, left: pa.Array | pa.Scalar, right: pa.Array | pa.Scalar) -> str:
    if _is_text(left.type) or _is_text(right.type):
        return "use concat(a, b) to join values as text, or int()/float() to read numbers from text"
    return "convert the operands first, e.g. with int() or float()"


def _fill_null_type(left: pa.Array | pa.Scalar, right: pa.Array | pa.Scalar):
    """`x + None`: the null side takes the other side's type, so the result is a typed null."""
    if _is_null(left.type):
        return _cast(left, right.type), right
    if _is_null(right.type):
        return left, _cast(right, left.type)
    return left, right


def _true_divide(left, right):
    return pc.divide(_to_float(left), _to_float(right))


def _floor_divide(left, right):
    if not pa.types.is_integer(left.type):
        return pc.floor(pc.divide(left, right))
    zero = pc.equal(right, 0)
    # Arrow's integer divide raises on zero; divide by 1 there and blank those rows afterwards.
    safe = pc.if_else(zero, pa.scalar(1, right.type), right)
    quotient = pc.divide(left, safe)  # truncates toward zero
    remainder = pc.subtract(left, pc.multiply(quotient, safe))
    # Python floors: step down when there is a remainder and its sign differs from the divisor's.
    step = pc.and_(pc.not_equal(remainder, 0), pc.not_equal(pc.less(remainder, 0), pc.less(safe, 0)))
    floored = pc.subtract(quotient, pc.cast(step, quotient.type))
    return pc.if_else(zero, pa.scalar(None, floored.type), floored)


def _modulo(left, right):
    if not pa.types.is_integer(left.type):
        return pc.subtract(left, pc.multiply(pc.floor(pc.divide(left, right)), right))
    return pc.subtract(left, pc.multiply(_floor_divide(left, right), right))


def _power(left, right):
    return pc.power_checked(left, right)


# The checked kernels raise on integer overflow instead of wrapping (numpy and Arrow's plain
# kernels wrap silently: a * 9223372036854775807 would come out as a small number).
_ARITHMETIC: dict[str, Callable] = {
    "+": pc.add_checked, "-": pc.subtract_checked, "*": pc.multiply_checked, "/": _true_divide,
    "//": _floor_divide, "%": _modulo, "**": _power,
}

_COMPARISONS = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal,
                ">": pc.greater, ">=": pc.greater_equal}


def _compare(op: str, left: Value, right: Value) -> pa.Array | pa.Scalar:
    left, right = _settle(left), _settle(right)
    with _arrow_errors(f"`{op}`", left, right):
        left, right = _text_as_moment(left, right), _text_as_moment(right, left)
        left, right = _unify([left, right], f"`{op}`")
        return _COMPARISONS[op](left, right)


def _text_as_moment(value, other):
    """`order_date >= '2024-01-01'`: text compared with a date or timestamp is read as one."""
    if _is_text(value.type) and _is_moment(other.type):
        return pc.cast(value, other.type)
    return value


def _logical(op: str, operands: list[Value]) -> pa.Array | pa.Scalar:
    combine = pc.and_kleene if op == "and" else pc.or_kleene
    values = [_need_bool(operand, f"`{op}`") for operand in operands]
    result = values[0]
    for value in values[1:]:
        result = combine(result, value)
    return result


def _choose(condition: Value, then: Value, otherwise: Value, what: str) -> pa.Array | pa.Scalar:
    condition = _need_bool(condition, what)
    then, otherwise = _unify([then, otherwise], what)
    with _arrow_errors(what, condition, then, otherwise):
        return pc.if_else(condition, then, otherwise)


# -- durations --------------------------------------------------------------------------------


def _duration_arithmetic(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, _Duration) and isinstance(right, _Duration) and op in ("+", "-"):
        return _add_durations(op, left, right)
    # (both durations returned above)
    if op in ("+", "-") and isinstance(right, _Duration) and not isinstance(left, _Duration) and _is_moment(left.type):
        return _shift(left, right if op == "+" else _negate(right))
    if op == "+" and isinstance(left, _Duration) and not isinstance(right, _Duration) and _is_moment(right.type):
        return _shift(right, left)
    if op == "*" and isinstance(left, _Duration) != isinstance(right, _Duration):
        duration, factor = (left, right) if isinstance(left, _Duration) else (right, left)
        return _Duration(_ARITHMETIC["*"](*_numbers(duration.amount, factor, "`*`")), duration.seconds)
    if op == "/" and isinstance(left, _Duration) and not isinstance(right, _Duration):
        return _Duration(_true_divide(*_numbers(left.amount, right, "`/`")), left.seconds)
    # Anything else (a duration column, a comparison...) works on Arrow durations.
    return _binary(op, _settle(left), _settle(right))


def _add_durations(op: str, left: _Duration, right: _Duration) -> _Duration:
    seconds = min(left.seconds, right.seconds)  # 86400, 3600, 60 and 1 all divide each other
    scaled = [pc.multiply_checked(duration.amount, duration.seconds // seconds) for duration in (left, right)]
    combine = pc.add_checked if op == "+" else pc.subtract_checked
    return _Duration(combine(*_numbers(scaled[0], scaled[1], f"`{op}`")), seconds)


def _negate(duration: _Duration) -> _Duration:
    return _Duration(pc.negate(duration.amount), duration.seconds)


def _shift(moment: pa.Array | pa.Scalar, duration: _Duration) -> pa.Array | pa.Scalar:
    """A date or timestamp moved by a duration, exact to the timestamp's unit."""
    if pa.types.is_timestamp(moment.type):
        return pc.add_checked(moment, _as_arrow_duration(duration, moment.type.unit))
    if duration.seconds % 86400 == 0 and pa.types.is_integer(duration.amount.type):
        # Whole days keep a date a date.
        shifted = pc.add_checked(moment, _as_arrow_duration(duration, "s"))
        _check_moments(shifted)  # before the cast to date32, which would not notice
        return pc.cast(shifted, moment.type)
    stamp = pc.cast(moment, pa.timestamp(_DEFAULT_UNIT))
    return pc.add_checked(stamp, _as_arrow_duration(duration, _DEFAULT_UNIT))


def _as_arrow_duration(duration: _Duration, unit: str) -> pa.Array | pa.Scalar:
    ticks_per_unit = duration.seconds * _TICKS_PER_SECOND[unit]
    amount = duration.amount
    if pa.types.is_integer(amount.type):
        ticks = pc.multiply_checked(_cast(amount, pa.int64()), ticks_per_unit)
    else:
        # Round to the nearest tick: 0.1 hours is 360000000.00000006 us in floating point.
        ticks = _float_to_int64(pc.round(pc.multiply(_to_float(amount), float(ticks_per_unit))))
    return pc.cast(ticks, pa.duration(unit))


def _float_to_int64(value: pa.Array | pa.Scalar) -> pa.Array | pa.Scalar:
    """Whole floats to int64; nan, infinities and values beyond int64 become null."""
    fits = pc.and_(pc.is_finite(value), pc.less(pc.abs(value), 2.0**63))
    kept = pc.if_else(fits, value, pa.scalar(None, pa.float64()))
    return pc.cast(kept, pa.int64(), safe=False)


# -- functions --------------------------------------------------------------------------------
# One function per entry of fabula.spec.expressions.FUNCTIONS; the parser already checked arity.


def _lower(s):
    return pc.utf8_lower(_need_text(s, "lower"))


def _upper(s):
    return pc.utf8_upper(_need_text(s, "upper"))


# Letters NFKD does not split into a base letter plus accents.
_ASCII_FOLDS = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}


def _slug(s):
    text = _fold_to_ascii(pc.utf8_lower(_need_text(s, "slug")))
    return pc.replace_substring_regex(text, pattern="[^a-z0-9]+", replacement="")


def _fold_to_ascii(text):
    """Accented letters to plain ones (é -> e, ß -> ss); other non-ASCII is left for the caller."""
    if isinstance(text, pa.Scalar):
        return _fold(text) if pc.string_is_ascii(text).as_py() is False else text
    # Folding costs a dozen passes, so do it only on the rows that need it.
    foreign = pc.fill_null(pc.invert(pc.string_is_ascii(text)), False)
    if not pc.any(foreign).as_py():
        return text
    return pc.replace_with_mask(text, foreign, _fold(pc.filter(text, foreign)))


def _fold(text):
    # NFKD splits é into e + a combining accent; the accent is not a-z, so slug drops it later.
    text = pc.utf8_normalize(text, form="NFKD")
    for letter, ascii_text in _ASCII_FOLDS.items():
        text = pc.replace_substring(text, pattern=letter, replacement=ascii_text)
    return text


def _concat(*values):
    return _join([_to_text(value, "a concat argument") for value in values], "`concat`")


def _join(texts: list, what: str) -> pa.Array | pa.Scalar:
    texts = _unify(texts, what)
    # The separator must have the same type as the values (string or large_string).
    return pc.binary_join_element_wise(*texts, pa.scalar("", texts[0].type))


def _str(x):
    return _to_text(x, "the argument of str")


def _length(s):
    return pc.cast(pc.utf8_length(_need_text(s, "length")), pa.int64())


def _substr(s, start, count, *, length: int):
    text = _need_text(s, "substr")
    start = _need_integer(start, "substr", "start")
    count = _need_integer(count, "substr", "length")
    if isinstance(start, pa.Scalar) and isinstance(count, pa.Scalar):
        if not (start.is_valid and count.is_valid):
            return pa.scalar(None, text.type)  # every row is null; broadcast later if need be
        first = max(start.as_py(), 0)
        return pc.utf8_slice_codeunits(text, start=first, stop=first + max(count.as_py(), 0))
    sliced = _slice_per_row(_to_array(text, length), _to_array(start, length), _to_array(count, length))
    return _cast(sliced, text.type)


def _slice_per_row(text: pa.Array, start: pa.Array, count: pa.Array) -> pa.Array:
    """substr with a different start/length on every row, done on the UTF-8 bytes with numpy."""
    text = pc.cast(text, pa.large_string())  # int64 offsets whatever the input was
    n = len(text)
    offsets_buffer, data_buffer = text.buffers()[1], text.buffers()[2]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[text.offset:text.offset + n + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = data[offsets[0]:offsets[-1]]
    offsets = offsets - offsets[0]
    # A byte starts a character unless it is a UTF-8 continuation byte (10xxxxxx).
    starts_char = (data & 0xC0) != 0x80
    chars_before = np.concatenate([[0], np.cumsum(starts_char)])
    row = np.repeat(np.arange(n), np.diff(offsets))
    char_in_row = chars_before[1:] - 1 - chars_before[offsets[:-1]][row]
    first = np.maximum(_int_values(start), 0)
    stop = first + np.maximum(_int_values(count), 0)
    keep = (char_in_row >= first[row]) & (char_in_row < stop[row])
    kept_lengths = np.bincount(row[keep], minlength=n)
    new_offsets = np.concatenate([[0], np.cumsum(kept_lengths)]).astype(np.int64)
    sliced = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(new_offsets),
                                                          pa.py_buffer(data[keep].tobytes())])
    valid = pc.and_(pc.and_(pc.is_valid(text), pc.is_valid(start)), pc.is_valid(count))
    return pc.if_else(valid, sliced, pa.scalar(None, pa.large_string()))


def _int_values(array: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(array, pa.int64()), 0).to_numpy(zero_copy_only=False)


def _replace(s, old, new):
    text = _need_text(s, "replace")
    old, new = _need_text(old, "replace"), _need_text(new, "replace")
    if not (isinstance(old, pa.Scalar) and isinstance(new, pa.Scalar)):
        raise _Failure("`replace` needs fixed text for `old` and `new`",
                       hint="write them as quoted text, e.g. replace(phone, '-', '')")
    if not (old.is_valid and new.is_valid):
        return pa.scalar(None, text.type)
    old_text, new_text = old.as_py(), new.as_py()
    if len(new_text) > len(old_text):  # the result can grow: bound it before building it
        lengths = pc.utf8_length(text)
        longest = (lengths.as_py() if isinstance(lengths, pa.Scalar) else pc.max(lengths).as_py()) or 0
        most = longest + (longest // max(len(old_text), 1) + 1) * (len(new_text) - len(old_text))
        if most > MAX_TEXT_CHARS:
            raise _Failure(f"`replace` could make text of {most:,} characters, more than {MAX_TEXT_CHARS:,}",
                           hint="replace short text with short text")
    return pc.replace_substring(text, pattern=old_text, replacement=new_text)


def _pad(x, width):
    value = _settle(x)
    width = _cast(_need_integer(width, "pad", "width"), pa.int64())
    widest = width.as_py() if isinstance(width, pa.Scalar) else pc.max(width).as_py()
    if widest is not None and widest > MAX_TEXT_CHARS:
        raise _Failure(f"`pad` to {widest:,} characters is more than {MAX_TEXT_CHARS:,}",
                       hint="pad ids to a few digits, e.g. pad(id, 8)")
    if not _is_number(value.type):
        return _zero_pad(_to_text(value, "the argument of pad"), width)
    # Numbers pad like Python's format(-7, "03"): the sign goes before the zeros.
    negative = pc.less(value, 0)
    digits = _zero_pad(_to_text(pc.abs(value), "the argument of pad"),
                       pc.subtract(width, pc.cast(negative, pa.int64())))
    sign = pc.if_else(negative, "-", "")
    return pc.binary_join_element_wise(sign, digits, "")


def _zero_pad(text, width):
    missing = pc.max_element_wise(pc.subtract(width, pc.utf8_length(text)), 0)
    zeros = pc.binary_repeat(pa.scalar("0", text.type), missing)
    return pc.binary_join_element_wise(zeros, text, "")


def _round(x, ndigits=None):
    value = _need_number(x, "round")
    if ndigits is None:
        return pc.round(value)
    ndigits = _need_integer(ndigits, "round", "ndigits")
    if isinstance(ndigits, pa.Scalar):
        if not ndigits.is_valid:
            return pa.scalar(None, value.type)
        if isinstance(value, pa.Array) and pa.types.is_floating(value.type):
            return round_floats(value, ndigits.as_py())  # Arrow's round can stop one ulp off
        return pc.round(value, ndigits=ndigits.as_py())
    return pc.round_binary(value, _cast(ndigits, pa.int32()))


def _abs(x):
    return pc.abs_checked(_need_number(x, "abs"))


def _floor(x):
    value = _need_number(x, "floor")
    return value if pa.types.is_integer(value.type) else pc.floor(value)


def _ceil(x):
    value = _need_number(x, "ceil")
    return value if pa.types.is_integer(value.type) else pc.ceil(value)


def _sqrt(x):
    return pc.sqrt(_to_float(_need_number(x, "sqrt")))


def _log(x, base=None):
    value = _to_float(_need_number(x, "log"))
    if base is None:
        return pc.ln(value)
    return pc.logb(value, _to_float(_need_number(base, "log")))


def _exp(x):
    return pc.exp(_to_float(_need_number(x, "exp")))


def _min(*values):
    # skip_nulls=False: like every other operation, a null in any argument makes the row null.
    return pc.min_element_wise(*_unify(list(values), "`min`"), skip_nulls=False)


def _max(*values):
    return pc.max_element_wise(*_unify(list(values), "`max`"), skip_nulls=False)


def _int(x):
    value = _settle(x)
    if pa.types.is_floating(value.type) or pa.types.is_decimal(value.type):
        return _float_to_int64(pc.trunc(_to_float(value)))
    return pc.cast(value, pa.int64())


def _float(x):
    return pc.cast(_settle(x), pa.float64())


def _where(condition, then, otherwise):
    return _choose(condition, then, otherwise, "`where`")


def _coalesce(*values):
    return pc.coalesce(*_unify(list(values), "`coalesce`"))


def _is_null_function(x):
    value = x.amount if isinstance(x, _Duration) else x
    return pc.is_null(value)


def _year(d):
    return pc.year(_need_moment(d, "year"))


def _month(d):
    return pc.month(_need_moment(d, "month"))


def _day(d):
    return pc.day(_need_moment(d, "day"))


def _weekday(d):
    return pc.day_of_week(_need_moment(d, "weekday"), count_from_zero=True, week_start=1)


def _hour(ts):
    value = _need_moment(ts, "hour")
    if pa.types.is_date(value.type):
        raise _Failure(f"`hour` needs a timestamp, got a date ({value.type})",
                       hint="a date has no time of day; use a timestamp column")
    return pc.hour(value)


def _date(ts):
    value = _settle(ts)
    if pa.types.is_timestamp(value.type) and value.type.tz is not None:
        value = pc.local_timestamp(value)  # the date on the wall clock of the timestamp's zone
    return pc.cast(value, pa.date32())


def _zone_function(name: str, to_local: bool) -> Callable[[Value, Value], pa.Array | pa.Scalar]:
    """`local_time(ts, zone)` and `utc_time(ts, zone)`: a timestamp moved between UTC and a
    zone's wall clock, with its daylight-saving rules (`fabula.story.zones`)."""

    def convert(ts, zone):
        from fabula.story.zones import convert_times

        value = _need_moment(ts, name)
        if not pa.types.is_timestamp(value.type):
            raise _Failure(f"`{name}` needs a timestamp, got a date ({value.type})",
                           hint="a date has no time of day to move; use a timestamp column")
        zones = _settle(zone)
        if _is_null(zones.type):
            zones = _cast(zones, pa.string())
        if not (pa.types.is_string(zones.type) or pa.types.is_large_string(zones.type)
                or (pa.types.is_dictionary(zones.type) and pa.types.is_string(zones.type.value_type))):
            raise _Failure(f"`{name}` takes the zone as text, got {_kind(zones.type)} ({zones.type})",
                           hint=f"an IANA zone name: {name}(ts, 'Europe/Berlin'), or a column of them")
        scalar = isinstance(value, pa.Scalar)
        times = pa.array([value.as_py()], type=value.type) if scalar else value
        if isinstance(zones, pa.Scalar):
            zones = pa.repeat(zones, len(times))
        try:
            moved = convert_times(times, zones, to_local=to_local)
        except ValueError as error:
            raise _Failure(str(error).replace("`zone` holds", "the zone is"),
                           hint="IANA zone names such as America/New_York, Europe/Berlin, Asia/Tokyo") from None
        return moved[0] if scalar else moved

    return convert


def _duration_function(seconds: int, name: str) -> Callable[[Value], _Duration]:
    def make(n):
        return _Duration(_need_number(n, name), seconds)

    return make


# Functions whose text result can be longer than their inputs (checked after each call; `pad`
# and `replace` also check before, since one call can multiply the length).
_GROWS_TEXT = frozenset({"concat", "pad", "replace", "str"})

# One-argument functions whose result for a row depends only on that row's value.
_PER_VALUE = frozenset({"lower", "upper", "slug", "length", "str"})

_FUNCTIONS: dict[str, Callable[..., Value]] = {
    "lower": _lower, "upper": _upper, "slug": _slug, "concat": _concat, "str": _str,
    "length": _length, "substr": _substr, "replace": _replace, "pad": _pad,
    "round": _round, "abs": _abs, "floor": _floor, "ceil": _ceil, "sqrt": _sqrt, "log": _log,
    "exp": _exp, "min": _min, "max": _max, "int": _int, "float": _float,
    "where": _where, "coalesce": _coalesce, "is_null": _is_null_function,
    "year": _year, "month": _month, "day": _day, "weekday": _weekday, "hour": _hour, "date": _date,
    "local_time": _zone_function("local_time", True), "utc_time": _zone_function("utc_time", False),
    "days": _duration_function(86400, "days"), "hours": _duration_function(3600, "hours"),
    "minutes": _duration_function(60, "minutes"), "seconds": _duration_function(1, "seconds"),
}
