"""Evaluation of expressions and templates over Arrow columns."""

import datetime as dt
import math

import pyarrow as pa
import pytest

from fabula.generators.evaluate import evaluate, evaluate_template
from fabula.spec.expressions import FUNCTIONS, ExpressionError, parse_expression, parse_template

N = 4
COLUMNS = {
    "i": pa.array([7, -7, 0, None]),
    "j": pa.array([2, 2, 0, 1]),
    "f": pa.array([1.5, -2.25, None, 0.1]),
    "s": pa.array(["Héllo Wörld", "Straße", None, "abc"]),
    "b": pa.array([True, False, None, True]),
    "d": pa.array([dt.date(2024, 1, 31), dt.date(2024, 2, 29), None, dt.date(2023, 12, 31)]),
    "ts": pa.array([dt.datetime(2024, 1, 1, 23, 30), dt.datetime(2024, 6, 1), None, dt.datetime(2024, 1, 1)],
                   pa.timestamp("ms")),
    "h": pa.array([1.5, 0.1, 2.0, None]),
    "start": pa.array([0, 2, 1, 1]),
    "count": pa.array([3, 10, 1, None]),
    "cat": pa.array(["x", "Ÿ", "x", None]).dictionary_encode(),
}


def run(text: str, columns=None, length: int = N) -> list:
    return evaluate(parse_expression(text), COLUMNS if columns is None else columns, length).to_pylist()


def run_typed(text: str, columns=None) -> pa.Array:
    return evaluate(parse_expression(text), COLUMNS if columns is None else columns, N)


def fails(text: str, columns=None) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        evaluate(parse_expression(text), COLUMNS if columns is None else columns, N)
    assert f"`{text}`" in caught.value.message
    return caught.value


# -- operators --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("i + j", [9, -5, 0, None]),
    ("i - j", [5, -9, 0, None]),
    ("i * j", [14, -14, 0, None]),
    ("i ** 2", [49, 49, 0, None]),
    ("-i", [-7, 7, 0, None]),
    ("+i", [7, -7, 0, None]),
    ("i // j", [3, -4, None, None]),
    ("i % j", [1, 1, None, None]),
])
def test_integer_arithmetic_follows_python(text, expected):
    assert run(text) == expected


def test_integer_division_and_modulo_match_python_for_every_sign():
    pairs = [(a, b) for a in (-7, -6, -1, 0, 1, 6, 7) for b in (-3, -2, -1, 1, 2, 3)]
    columns = {"a": pa.array([a for a, _ in pairs]), "b": pa.array([b for _, b in pairs])}
    assert run("a // b", columns, len(pairs)) == [a // b for a, b in pairs]
    assert run("a % b", columns, len(pairs)) == [a % b for a, b in pairs]


def test_integer_division_by_zero_is_null():
    columns = {"a": pa.array([5, -5, 0]), "b": pa.array([0, 0, 0])}
    assert run("a // b", columns, 3) == [None, None, None]
    assert run("a % b", columns, 3) == [None, None, None]


def test_true_division_is_always_float():
    result = run_typed("i / j")
    assert result.type == pa.float64()
    assert result.to_pylist()[:2] == [3.5, -3.5]
    assert math.isnan(result.to_pylist()[2])  # 0 / 0
    assert run("1 / 0", length=1) == [math.inf]


def test_float_floor_division_and_modulo():
    assert run("f // 1") == [1.0, -3.0, None, 0.0]
    assert run("f % 1")[:2] == [0.5, 0.75]


def test_mixed_int_and_float_is_float64():
    result = run_typed("i + f")
    assert result.type == pa.float64()
    assert result.to_pylist() == [8.5, -9.25, None, None]


def test_literals_broadcast_to_the_length():
    assert run("1 + 2") == [3, 3, 3, 3]
    assert run("'a'") == ["a"] * N
    assert evaluate(parse_expression("None"), {}, 3).type == pa.null()


def test_string_plus_string_concatenates():
    assert run("s + '!'") == ["Héllo Wörld!", "Straße!", None, "abc!"]


@pytest.mark.parametrize("text, expected", [
    ("i > 0", [True, False, False, None]),
    ("i >= 0", [True, False, True, None]),
    ("i < f", [False, True, None, None]),
    ("i <= 0", [False, True, True, None]),
    ("s == 'abc'", [False, False, None, True]),
    ("s != 'abc'", [True, True, None, False]),
])
def test_comparisons(text, expected):
    assert run(text) == expected


def test_kleene_logic():
    assert run("b and i > 0") == [True, False, False, None]
    assert run("b or None") == [True, None, None, True]
    assert run("not b") == [False, True, None, False]
    assert run("b and False") == [False, False, False, False]


def test_conditional_and_where():
    assert run("'pos' if i > 0 else 'other'") == ["pos", "other", "other", None]
    assert run("where(b, i, f)") == [7.0, -2.25, None, None]


def test_dates_and_timestamps_compare_with_iso_text():
    assert run("d >= '2024-01-01'") == [True, True, None, False]
    assert run("ts > '2024-03-01'") == [False, True, None, False]


# -- functions --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    # strings
    ("lower(s)", ["héllo wörld", "straße", None, "abc"]),
    ("upper(s)", ["HÉLLO WÖRLD", "STRAẞE", None, "ABC"]),  # Arrow upper-cases ß to ẞ
    ("slug(s)", ["helloworld", "strasse", None, "abc"]),
    ("slug('Zoë O\\'Neil-Łukasz 2')", ["zoeoneillukasz2"] * N),
    ("concat(s, '/', i)", ["Héllo Wörld/7", "Straße/-7", None, None]),
    ("str(f)", ["1.5", "-2.25", None, "0.1"]),
    ("str(b)", ["true", "false", None, "true"]),
    ("length(s)", [11, 6, None, 3]),
    ("substr(s, 1, 3)", ["éll", "tra", None, "bc"]),
    ("substr(s, start, count)", ["Hél", "raße", None, None]),
    ("substr(s, -5, 2)", ["Hé", "St", None, "ab"]),
    ("replace(s, 'l', 'L')", ["HéLLo WörLd", "Straße", None, "abc"]),
    ("replace('a.b.c', '.', '')", ["abc"] * N),
    ("pad(i, 3)", ["007", "-07", "000", None]),
    ("pad(j, start)", ["2", "02", "0", "1"]),
    ("pad('ab', 1)", ["ab"] * N),
    # numbers
    ("round(f)", [2.0, -2.0, None, 0.0]),
    ("round(2.5)", [2.0] * N),
    ("round(f, 1)", [1.5, -2.2, None, 0.1]),
    ("round(i, -1)", [10, -10, 0, None]),
    ("abs(i)", [7, 7, 0, None]),
    ("floor(f)", [1.0, -3.0, None, 0.0]),
    ("ceil(f)", [2.0, -2.0, None, 1.0]),
    ("floor(i)", [7, -7, 0, None]),
    ("sqrt(j)", [math.sqrt(2), math.sqrt(2), 0.0, 1.0]),
    ("log(j)", [math.log(2), math.log(2), -math.inf, 0.0]),
    ("log(8, 2)", [3.0] * N),
    ("exp(j)", [math.exp(2), math.exp(2), 1.0, math.e]),
    ("min(i, j)", [2, -7, 0, None]),
    ("max(i, f, 0)", [7.0, 0.0, None, None]),
    ("int(f)", [1, -2, None, 0]),
    ("int('42')", [42] * N),
    ("float(i)", [7.0, -7.0, 0.0, None]),
    # logic and nulls
    ("where(i > 0, 'pos', 'neg')", ["pos", "neg", "neg", None]),
    ("coalesce(i, j)", [7, -7, 0, 1]),
    ("coalesce(f, i, 0)", [1.5, -2.25, 0.0, 0.1]),
    ("is_null(f)", [False, False, True, False]),
    # dates and times
    ("year(d)", [2024, 2024, None, 2023]),
    ("month(ts)", [1, 6, None, 1]),
    ("day(d)", [31, 29, None, 31]),
    ("weekday(d)", [2, 3, None, 6]),
    ("hour(ts)", [23, 0, None, 0]),
    ("date(ts)", [dt.date(2024, 1, 1), dt.date(2024, 6, 1), None, dt.date(2024, 1, 1)]),
    ("hour(local_time(ts, 'Europe/Berlin'))", [0, 2, None, 1]),  # UTC+1 in winter, UTC+2 in summer
    ("hour(utc_time(ts, 'America/New_York'))", [4, 4, None, 5]),  # 23:30 in New York is 04:30 UTC
    ("year(date('2024-05-06'))", [2024] * N),
])
def test_functions(text, expected):
    assert run(text) == expected


def test_every_function_is_exercised_here():
    source = open(__file__, encoding="utf-8").read()
    missing = [name for name in FUNCTIONS if f"{name}(" not in source]
    assert not missing


def test_int_of_nan_and_infinity_is_null():
    assert run("int(0.0 / 0)", length=1) == [None]
    assert run("int(1e300)", length=1) == [None]


def test_min_and_max_propagate_nulls():
    assert run("max(i, 0)") == [7, 0, 0, None]
    assert run("coalesce(max(i, 0), 0)") == [7, 0, 0, 0]


# -- dates, timestamps and durations ----------------------------------------------------------


def test_date_plus_whole_days_stays_a_date():
    result = run_typed("d + days(3)")
    assert result.type == pa.date32()
    assert result.to_pylist() == [dt.date(2024, 2, 3), dt.date(2024, 3, 3), None, dt.date(2024, 1, 3)]
    assert run("d - days(j)") == [dt.date(2024, 1, 29), dt.date(2024, 2, 27), None, dt.date(2023, 12, 30)]


def test_date_plus_part_of_a_day_becomes_a_timestamp():
    result = run_typed("d + days(1.5)")
    assert result.type == pa.timestamp("us")
    assert result.to_pylist()[0] == dt.datetime(2024, 2, 1, 12)


def test_timestamp_plus_fractional_hours_keeps_unit_and_precision():
    result = run_typed("ts + hours(h)")
    assert result.type == pa.timestamp("ms")
    assert result.to_pylist() == [dt.datetime(2024, 1, 2, 1, 0), dt.datetime(2024, 6, 1, 0, 6), None, None]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_fractional_durations_are_exact_to_the_timestamp_unit(unit):
    columns = {"t": pa.array([0, 0], pa.timestamp(unit)), "x": pa.array([1 / 3, 0.1])}
    result = evaluate(parse_expression("t + hours(x)"), columns, 2)
    assert result.type == pa.timestamp(unit)
    ticks = result.cast(pa.int64()).to_pylist()
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    assert ticks == [round(1200 * per_second), round(360 * per_second)]


def test_timestamp_with_time_zone_keeps_it():
    columns = {"t": pa.array([dt.datetime(2024, 1, 1, 22, 30)], pa.timestamp("us", tz="Europe/Berlin"))}
    result = evaluate(parse_expression("t + minutes(30)"), columns, 1)
    assert result.type == pa.timestamp("us", tz="Europe/Berlin")
    assert run("date(t)", columns, 1) == [dt.date(2024, 1, 1)]  # 23:30 in Berlin
    assert run("hour(t)", columns, 1) == [23]


def test_durations_combine_and_scale():
    assert run("ts + 2 * hours(1) - seconds(30)")[1] == dt.datetime(2024, 6, 1, 1, 59, 30)
    assert run("ts + (days(1) + hours(h)) / 2")[1] == dt.datetime(2024, 6, 1, 12, 3)
    assert run("hours(1) + ts", length=N)[1] == dt.datetime(2024, 6, 1, 1)


def test_a_duration_on_its_own_is_microseconds():
    result = run_typed("hours(h)")
    assert result.type == pa.duration("us")
    assert result.to_pylist()[:2] == [dt.timedelta(minutes=90), dt.timedelta(minutes=6)]


def test_timestamp_minus_timestamp_is_a_duration():
    assert run("ts - ts")[0] == dt.timedelta(0)


def test_adding_a_number_to_a_date_points_to_days():
    error = fails("d + 1")
    assert "days(n)" in error.hint


# -- nulls and dictionaries -------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "i + 1", "i * f", "i // j", "lower(s)", "slug(s)", "length(s)", "concat(s, 'x')", "pad(i, 3)",
    "round(f, 1)", "abs(i)", "year(d)", "ts + hours(h)", "d + days(1)", "i > 0", "min(i, 1)",
])
def test_nulls_propagate(text):
    row = {"i": 3, "f": 2, "s": 2, "d": 2, "ts": 2, "h": 3}
    nulls = {name for name in row if name in parse_expression(text).columns}
    result = run(text)
    for name in nulls:
        assert result[row[name]] is None, (text, name)


def test_null_literal_takes_the_other_type():
    assert run_typed("i + None").type == pa.int64()
    assert run("i + None") == [None] * N
    assert run("coalesce(None, i)") == [7, -7, 0, None]


def test_dictionary_columns_work_as_strings():
    assert run("cat == 'x'") == [True, False, True, None]
    assert run("lower(cat)") == ["x", "ÿ", "x", None]
    assert run("slug(cat)") == ["x", "y", "x", None]
    assert run("concat(cat, '-', i)") == ["x-7", "Ÿ--7", "x-0", None]
    assert run_typed("upper(cat)").type == pa.string()
    assert evaluate_template(parse_template("{cat}{length(cat)}"), COLUMNS, N).to_pylist() == [
        "x1", "Ÿ1", "x1", None]


@pytest.mark.parametrize("text", ["cat == 'x'", "'x' != cat", "cat < 'y'", "'x' <= cat", "cat > 'x'",
                                  "cat >= 'Ÿ'", "cat == None", "cat == cat"])
def test_a_categorical_compared_with_a_constant_matches_its_decoded_values(text):
    """Compared per distinct value and looked up per row: the same answers, nulls included."""
    decoded = dict(COLUMNS, cat=COLUMNS["cat"].dictionary_decode())
    assert run_typed(text).equals(run_typed(text, decoded))
    with pytest.raises(ExpressionError, match="cannot mix number and text") as categorical:
        run("cat == 1")
    with pytest.raises(ExpressionError) as plain:
        run("cat == 1", decoded)
    assert str(categorical.value) == str(plain.value)


def test_chunked_and_large_string_columns():
    columns = {"c": pa.chunked_array([[1, 2], [3]]), "l": pa.array(["a", "b", None], pa.large_string())}
    assert run("c * 2", columns, 3) == [2, 4, 6]
    assert run("l + 'x'", columns, 3) == ["ax", "bx", None]
    assert run("substr(l, c, 1)", columns, 3) == ["", "", None]


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, words", [
    ("lower(i)", ["`lower` needs text", "int64"]),
    ("s + i", ["`+`", "string", "int64"]),
    ("s == 1", ["`==`", "text", "number"]),
    ("i and b", ["`and`", "true/false"]),
    ("where(i, 1, 2)", ["`where`", "true/false"]),
    ("'a' if b else 1", ["cannot mix"]),
    ("hour(d)", ["`hour` needs a timestamp"]),
    ("year(s)", ["`year` needs a date"]),
    ("days(s)", ["`days` needs a number"]),
    ("substr(s, 1.5, 2)", ["whole number"]),
    ("int(s)", ["`int(...)`", "string"]),
    ("2 ** -1", ["`**`", "int64"]),
    ("replace(s, s, 'x')", ["fixed text"]),
    ("min(s, i)", ["`min`", "cannot mix"]),
    ("ts * 2", ["`*`"]),
])
def test_type_errors_are_expression_errors(text, words):
    error = fails(text)
    for word in words:
        assert word in error.message, (word, error.message)
    assert error.hint


def test_arrow_errors_never_escape():
    for text in ["ts + d", "hours(1) * hours(1)", "-s", "abs(s)", "not i", "d - ts + s"]:
        fails(text)


def test_unknown_column_suggests_a_name():
    error = fails("quantty * 2", {"quantity": pa.array([1] * N)})
    assert "unknown column `quantty`" in error.message
    assert error.hint == "did you mean `quantity`?"


def test_wrong_length_is_a_programming_error():
    with pytest.raises(ValueError, match="has 2 rows, expected 4"):
        evaluate(parse_expression("x"), {"x": pa.array([1, 2])}, 4)


# -- types and determinism --------------------------------------------------------------------


TYPED_EXPRESSIONS = [
    "i + j", "i / j", "i // j", "f % 1", "i ** 2", "i > f", "b and True", "s + 'x'", "lower(s)",
    "slug(s)", "concat(s, i)", "str(d)", "length(s)", "substr(s, 1, 2)", "substr(s, start, count)",
    "replace(s, 'a', 'b')", "pad(i, 4)", "round(f, 1)", "round(i)", "abs(f)", "floor(f)", "ceil(i)",
    "sqrt(i)", "log(f)", "exp(f)", "min(i, f)", "max(s, 'm')", "int(f)", "float(i)",
    "where(b, s, 'x')", "coalesce(i, 0)", "is_null(s)", "year(d)", "month(ts)", "day(d)",
    "weekday(ts)", "hour(ts)", "date(ts)", "d + days(1)", "d + hours(1)", "ts + hours(h)",
    "minutes(i)", "seconds(1)", "lower(cat)", "1", "None",
]


@pytest.mark.parametrize("text", TYPED_EXPRESSIONS)
def test_the_type_depends_only_on_the_input_types(text):
    # Callers learn a column's type by evaluating over empty inputs of the right types.
    empty = {name: array.slice(0, 0) for name, array in COLUMNS.items()}
    full = evaluate(parse_expression(text), COLUMNS, N)
    assert len(full) == N
    assert evaluate(parse_expression(text), empty, 0).type == full.type


@pytest.mark.parametrize("text", TYPED_EXPRESSIONS)
def test_same_input_same_output(text):
    first = evaluate(parse_expression(text), COLUMNS, N)
    again = evaluate(parse_expression(text), COLUMNS, N)
    assert first.type == again.type
    assert str(first.to_pylist()) == str(again.to_pylist())  # str() so that nan equals nan


@pytest.mark.parametrize("text", TYPED_EXPRESSIONS)
def test_evaluating_in_slices_gives_the_same_rows(text):
    whole = evaluate(parse_expression(text), COLUMNS, N).to_pylist()
    parts = []
    for start in range(0, N, 3):
        piece = {name: array.slice(start, 3) for name, array in COLUMNS.items()}
        parts += evaluate(parse_expression(text), piece, len(piece["i"])).to_pylist()
    assert str(parts) == str(whole)  # str() so that nan equals nan


# -- templates --------------------------------------------------------------------------------


def test_email_template():
    columns = {"first": pa.array(["Zoë", "Jean-Luc", None]), "last": pa.array(["O'Neil", "Picard", "X"])}
    template = parse_template("{slug(first)}.{slug(last)}@example.com")
    result = evaluate_template(template, columns, 3)
    assert result.type == pa.string()
    assert result.to_pylist() == ["zoe.oneil@example.com", "jeanluc.picard@example.com", None]


def test_template_casts_fields_to_text():
    result = evaluate_template(parse_template("{i}|{f}|{b}|{d}|{{x}}"), COLUMNS, N)
    assert result.to_pylist() == ["7|1.5|true|2024-01-31|{x}", "-7|-2.25|false|2024-02-29|{x}", None, None]


def test_template_without_fields_and_empty_template():
    assert evaluate_template(parse_template("plain"), {}, 2).to_pylist() == ["plain", "plain"]
    assert evaluate_template(parse_template(""), {}, 2).to_pylist() == ["", ""]


def test_template_error_names_the_field():
    with pytest.raises(ExpressionError) as caught:
        evaluate_template(parse_template("id-{lower(i)}"), COLUMNS, N)
    assert "field `{lower(i)}` of template `id-{lower(i)}`" in caught.value.message
