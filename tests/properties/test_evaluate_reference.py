"""The expression evaluator agrees with plain Python on random expressions over small ints,
floats and booleans (values stay far from int64 overflow). Integer `//` and `%` by zero give
null, and `and`/`or` follow three-valued logic, as the language documents."""

from __future__ import annotations

import math

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabula.generators.evaluate import evaluate
from fabula.spec.expressions import parse_expression

ROWS = 8
small_ints = st.integers(-50, 50)
small_floats = st.floats(-100, 100, allow_nan=False).map(lambda value: round(value, 2))


def _null_safe(function):
    def apply(*values):
        return None if any(value is None for value in values) else function(*values)
    return apply


def _floor_div(a, b):
    return None if b == 0 else a // b


def _mod(a, b):
    return None if b == 0 else a % b


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
           "!=": lambda a, b: a != b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}

# an expression is (text, function of a row dict -> value)


def integers(depth: int):
    leaves = st.one_of(st.sampled_from(["i", "j"]).map(lambda name: (name, lambda row, n=name: row[n])),
                       st.integers(0, 9).map(lambda k: (str(k), lambda row, k=k: k)))
    if depth == 0:
        return leaves

    def combine(parts):
        (left, f), op, (right, g) = parts
        if op == "//":
            return f"({left} // {right})", lambda row: _null_safe(_floor_div)(f(row), g(row))
        if op == "%":
            return f"({left} % {right})", lambda row: _null_safe(_mod)(f(row), g(row))
        return f"({left} {op} {right})", lambda row: _null_safe(ARITHMETIC[op])(f(row), g(row))

    smaller = integers(depth - 1)
    negate = smaller.map(lambda part: (f"(-{part[0]})", lambda row: _null_safe(lambda v: -v)(part[1](row))))
    return st.one_of(leaves, negate, st.tuples(smaller, st.sampled_from(["+", "-", "*", "//", "%"]), smaller).map(combine))


def numbers(depth: int):
    """Integers, floats and their mixes (+, -, * only, so no overflow and no float division)."""
    leaves = st.one_of(integers(min(depth, 1)), st.just(("x", lambda row: row["x"])),
                       small_floats.map(lambda v: (repr(v), lambda row, v=v: v)))
    if depth == 0:
        return leaves
    smaller = numbers(depth - 1)
    return st.one_of(leaves, st.tuples(smaller, st.sampled_from(list(ARITHMETIC)), smaller).map(
        lambda parts: (f"({parts[0][0]} {parts[1]} {parts[2][0]})",
                       lambda row: _null_safe(ARITHMETIC[parts[1]])(parts[0][1](row), parts[2][1](row)))))


def booleans(depth: int):
    compare = st.tuples(numbers(1), st.sampled_from(list(COMPARE)), numbers(1)).map(
        lambda parts: (f"({parts[0][0]} {parts[1]} {parts[2][0]})",
                       lambda row: _null_safe(COMPARE[parts[1]])(parts[0][1](row), parts[2][1](row))))
    leaves = st.one_of(st.just(("p", lambda row: row["p"])), compare)
    if depth == 0:
        return leaves
    smaller = booleans(depth - 1)
    return st.one_of(
        leaves,
        smaller.map(lambda part: (f"(not {part[0]})", lambda row: _null_safe(lambda v: not v)(part[1](row)))),
        st.tuples(smaller, st.sampled_from(["and", "or"]), smaller).map(
            lambda parts: (f"({parts[0][0]} {parts[1]} {parts[2][0]})",
                           lambda row: (_and if parts[1] == "and" else _or)(parts[0][1](row), parts[2][1](row)))),
    )


rows = st.fixed_dictionaries({"i": small_ints, "j": small_ints, "x": small_floats, "p": st.booleans()})


def check(expression, table: list[dict]) -> None:
    text, reference = expression
    columns = {name: pa.array([row[name] for row in table]) for name in ("i", "j", "x", "p")}
    found = evaluate(parse_expression(text), columns, len(table)).to_pylist()
    expected = [reference(row) for row in table]
    for got, want in zip(found, expected):
        if isinstance(want, float) and got is not None:
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), (text, found, expected)
        else:
            assert got == want, (text, found, expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=integers(3), table=st.lists(rows, min_size=ROWS, max_size=ROWS))
def test_integer_expressions_match_python(expression, table):
    check(expression, table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=numbers(2), table=st.lists(rows, min_size=ROWS, max_size=ROWS))
def test_mixed_number_expressions_match_python(expression, table):
    check(expression, table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=booleans(2), table=st.lists(rows, min_size=ROWS, max_size=ROWS))
def test_boolean_expressions_match_python(expression, table):
    check(expression, table)
