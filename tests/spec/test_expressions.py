"""Parsing of the restricted expression language and of templates: what is accepted, what is not."""

import pickle

import pytest

from fabula.spec.expressions import (
    FUNCTIONS, Binary, Call, Column, Compare, Conditional, Expression, ExpressionError, Literal,
    Logical, Template, Unary, parse_expression, parse_template,
)


def rejected(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    error = caught.value
    assert str(error) == error.message
    assert error.hint, f"no hint for {text!r}"
    return error


# -- what is accepted -------------------------------------------------------------------------


def test_arithmetic_builds_a_tree_of_our_own_nodes():
    expression = parse_expression("quantity * unit_price")
    assert expression.tree == Binary("*", Column("quantity"), Column("unit_price"))
    assert expression.text == "quantity * unit_price"
    assert expression.columns == frozenset({"quantity", "unit_price"})


@pytest.mark.parametrize("text, value, kind", [
    ("1", 1, "int"), ("1.5", 1.5, "float"), ("'a'", "a", "str"), ('"a"', "a", "str"),
    ("True", True, "bool"), ("False", False, "bool"), ("None", None, "null"),
    ("-3", -3, "int"), ("-2.5", -2.5, "float"), ("-9223372036854775808", -(2**63), "int"),
])
def test_literals(text, value, kind):
    tree = parse_expression(text).tree
    assert tree == Literal(value, kind)
    assert type(tree.value) is type(value)


def test_literal_kinds_keep_one_and_true_apart():
    assert parse_expression("1").tree != parse_expression("True").tree
    assert parse_expression("1").tree != parse_expression("1.0").tree


def test_true_false_null_in_lower_case_are_columns():
    assert parse_expression("true and null or false").columns == {"true", "false", "null"}


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**"])
def test_every_binary_operator(op):
    assert parse_expression(f"a {op} b").tree == Binary(op, Column("a"), Column("b"))


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_every_comparison(op):
    assert parse_expression(f"a {op} 1").tree == Compare(op, Column("a"), Literal(1, "int"))


def test_unary_operators():
    assert parse_expression("-a").tree == Unary("-", Column("a"))
    assert parse_expression("+a").tree == Unary("+", Column("a"))
    assert parse_expression("not a").tree == Unary("not", Column("a"))


def test_logic_and_conditionals():
    tree = parse_expression("'big' if a > 1 and b or c else 'small'").tree
    assert isinstance(tree, Conditional)
    assert tree.condition == Logical("or", (Logical("and", (Compare(">", Column("a"), Literal(1, "int")),
                                                            Column("b"))), Column("c")))
    assert parse_expression("a and b and c").tree == Logical("and", (Column("a"), Column("b"), Column("c")))


def test_calls_and_nesting():
    expression = parse_expression("concat(slug(first_name), '.', lower(last_name))")
    assert expression.tree == Call("concat", (Call("slug", (Column("first_name"),)), Literal(".", "str"),
                                              Call("lower", (Column("last_name"),))))
    assert expression.columns == {"first_name", "last_name"}


def test_a_bare_name_is_a_column_even_if_a_function_has_that_name():
    # `date` and `year` are common column names; only a call means the function.
    expression = parse_expression("year(date) + day")
    assert expression.tree == Binary("+", Call("year", (Column("date"),)), Column("day"))
    assert expression.columns == {"date", "day"}


def test_columns_are_collected_from_every_branch():
    text = "where(is_null(a), coalesce(b, c), -d if e else f ** g)"
    assert parse_expression(text).columns == set("abcdefg")


def test_constants_have_no_columns():
    assert parse_expression("1 + 2").columns == frozenset()


def test_line_breaks_and_surrounding_spaces_are_accepted():
    text = "  quantity\n  * unit_price\n"
    expression = parse_expression(text)
    assert expression.text == text
    assert expression.columns == {"quantity", "unit_price"}


def test_expression_is_frozen_hashable_and_picklable():
    expression = parse_expression("round(a * 1.5, 2) if b != 'x' else -c")
    assert pickle.loads(pickle.dumps(expression)) == expression
    assert hash(expression) == hash(parse_expression("round(a * 1.5, 2) if b != 'x' else -c"))
    assert {expression: 1}[parse_expression(expression.text)] == 1
    with pytest.raises(AttributeError):
        expression.text = "x"  # type: ignore[misc]
    assert repr(expression) == "Expression(\"round(a * 1.5, 2) if b != 'x' else -c\")"


# -- what is rejected -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "__import__('os').system('x')",
    "().__class__.__bases__[0].__subclasses__()",
    "name.upper()",
    "x.y",
])
def test_attribute_access_is_rejected(text):
    error = rejected(text)
    assert "attribute access is not allowed" in error.message
    assert f"`{text}`" in error.message


def test_calling_an_import_is_an_unknown_function():
    error = rejected("__import__('os')")
    assert "unknown function `__import__`" in error.message


@pytest.mark.parametrize("text, construct", [
    ("lambda: 1", "lambdas"),
    ("(lambda x: x)(1)", "lambdas"),
    ("[x for x in y]", "comprehensions"),
    ("{x for x in y}", "comprehensions"),
    ("{x: 1 for x in y}", "comprehensions"),
    ("sum(x for x in y)", "unknown function `sum`"),
    ("max(x for x in y)", "generator expressions"),
    ("x[0]", "subscripts"),
    ("x[1:2]", "subscripts"),
    ("f'{x}'", "f-strings"),
    ("(y := 1)", "assignments"),
    ("[1, 2]", "lists"),
    ("(1, 2)", "tuples"),
    ("a,", "tuples"),
    ("{1}", "sets"),
    ("{'a': 1}", "dicts"),
    ("concat(*parts)", "starred arguments"),
    ("b'x'", "bytes literals"),
    ("1j", "complex numbers"),
    ("...", "this constant"),
    ("a & b", "operator `&`"),
    ("a | b", "operator `|`"),
    ("a ^ b", "operator `^`"),
    ("a << 1", "operator `<<`"),
    ("a >> 1", "operator `>>`"),
    ("a @ b", "operator `@`"),
    ("~a", "operator `~`"),
    ("a is None", "operator `is`"),
    ("a is not None", "operator `is not`"),
    ("a in b", "operator `in`"),
    ("a not in b", "operator `not in`"),
    ("await x", "`await`"),
])
def test_constructs_outside_the_language_are_rejected(text, construct):
    error = rejected(text)
    assert construct in error.message
    assert text.strip() in error.message  # the user's own text is shown


def test_is_none_points_to_is_null():
    assert "is_null" in rejected("a is None").hint


def test_bitwise_and_points_to_and():
    assert "`and`" in rejected("a & b").hint


def test_chained_comparison_asks_for_and():
    error = rejected("a < b < c")
    assert "chained comparisons" in error.message
    assert "and" in error.hint


def test_calling_a_column_or_a_call_result_is_rejected():
    assert "only listed functions can be called" in rejected("f(x)(y)").message
    assert "unknown function `price`" in rejected("price(2)").message


def test_unknown_function_suggests_the_closest():
    error = rejected("lowr(name)")
    assert "unknown function `lowr`" in error.message
    assert error.hint == "did you mean `lower`?"


def test_unknown_function_lists_functions_when_nothing_is_close():
    error = rejected("xyzzy(name)")
    assert "lower" in error.hint and "coalesce" in error.hint


def test_keyword_arguments_are_rejected():
    error = rejected("round(x, ndigits=2)")
    assert "keyword arguments" in error.message
    assert "round(x, ndigits=0)" in error.hint


@pytest.mark.parametrize("text, expected", [
    ("lower(a, b)", "`lower` takes 1 argument, got 2"),
    ("substr(s, 1)", "`substr` takes 3 arguments, got 2"),
    ("round()", "`round` takes 1 to 2 arguments, got 0"),
    ("round(x, 1, 2)", "`round` takes 1 to 2 arguments, got 3"),
    ("concat(a)", "`concat` takes at least 2 arguments, got 1"),
    ("coalesce()", "`coalesce` takes at least 2 arguments, got 0"),
    ("where(a, b)", "`where` takes 3 arguments, got 2"),
])
def test_wrong_number_of_arguments(text, expected):
    assert expected in rejected(text).message


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_accepts_its_arity_and_rejects_one_less(name):
    low, high, _ = FUNCTIONS[name]
    args = ", ".join(f"a{i}" for i in range(low))
    assert parse_expression(f"{name}({args})").columns == {f"a{i}" for i in range(low)}
    if high is not None:
        many = ", ".join(f"a{i}" for i in range(high))
        parse_expression(f"{name}({many})")
        with pytest.raises(ExpressionError, match="takes"):
            parse_expression(f"{name}({many}, extra)")
    if low > 0:
        fewer = ", ".join(f"a{i}" for i in range(low - 1))
        with pytest.raises(ExpressionError, match="takes"):
            parse_expression(f"{name}({fewer})")


def test_syntax_error_reports_the_column_and_a_caret():
    error = rejected("a + * b")
    assert error.message == "cannot parse `a + * b`: invalid syntax at column 5"
    assert error.column == 5
    assert error.caret() == "a + * b\n    ^"


def test_unclosed_bracket():
    error = rejected("round(a, 2")
    assert "never closed" in error.message


def test_positions_count_characters_not_bytes():
    error = rejected("é + x.y")
    assert error.column == 5


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_expression(text):
    assert "empty" in rejected(text).message


def test_non_text_is_rejected():
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(5)  # type: ignore[arg-type]


def test_integer_literal_must_fit_in_64_bits():
    assert "64 bits" in rejected("9223372036854775808").message


def test_very_deep_nesting_is_an_error_not_a_crash():
    assert "nested" in rejected(" + ".join(["a"] * 500)).message
    rejected("(" * 1000 + "a" + ")" * 1000)
    rejected("-" * 100_000 + "a")


def test_the_function_table_is_well_formed():
    for name, (low, high, doc) in FUNCTIONS.items():
        assert name.isidentifier()
        assert low >= 1 and (high is None or high >= low)
        assert doc.startswith(f"{name}(") and ": " in doc
    with pytest.raises(TypeError):
        FUNCTIONS["evil"] = (0, 0, "")  # type: ignore[index]


# -- templates --------------------------------------------------------------------------------


def test_template_parts_and_columns():
    template = parse_template("{slug(first_name)}.{slug(last_name)}@{domain}")
    assert template.parts == (parse_expression("slug(first_name)"), ".", parse_expression("slug(last_name)"),
                              "@", parse_expression("domain"))
    assert template.columns == {"first_name", "last_name", "domain"}


def test_template_brace_escaping():
    template = parse_template("{{literal}} {x} }}{{")
    assert template.parts == ("{literal} ", parse_expression("x"), " }{")
    assert template.columns == {"x"}


def test_template_without_fields():
    assert parse_template("plain").parts == ("plain",)
    assert parse_template("").parts == ()
    assert parse_template("").columns == frozenset()


def test_template_field_may_hold_braces_inside_strings():
    template = parse_template("{replace(code, '}', '')}!")
    assert template.parts == (parse_expression("replace(code, '}', '')"), "!")


def test_template_is_frozen_hashable_and_picklable():
    template = parse_template("{a}-{b}")
    assert pickle.loads(pickle.dumps(template)) == template
    assert hash(template) == hash(parse_template("{a}-{b}"))
    assert isinstance(template, Template)
    assert all(isinstance(part, (str, Expression)) for part in template.parts)


@pytest.mark.parametrize("text, expected", [
    ("{a", "unclosed `{` at column 1"),
    ("x}", "single `}` at column 2"),
    ("{}", "field 1 is empty"),
    ("{a} { }", "field 2 is empty"),
    ("{a}-{b.c}", "field 2 `{b.c}`"),
    ("{lowr(a)}", "unknown function `lowr`"),
])
def test_template_errors_say_which_field(text, expected):
    with pytest.raises(ExpressionError) as caught:
        parse_template(text)
    assert expected in caught.value.message
    assert f"`{text}`" in caught.value.message
    assert caught.value.hint


def test_template_format_specs_point_to_pad():
    with pytest.raises(ExpressionError) as caught:
        parse_template("{n:03d}")
    assert "pad(x, 3)" in caught.value.hint


def test_template_field_hint_comes_from_the_expression():
    with pytest.raises(ExpressionError) as caught:
        parse_template("{lowr(a)}")
    assert caught.value.hint == "did you mean `lower`?"
