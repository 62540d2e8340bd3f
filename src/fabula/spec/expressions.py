"""A small expression language for columns computed from other columns of the same row.

A spec is data that people share, so loading one must never run code from it. Expressions are
therefore not Python: the text goes through `ast.parse` (which only builds a syntax tree and runs
nothing), every node is checked against a short whitelist, and the result is rebuilt as a tree of
fabula's own frozen nodes. Evaluation (in `fabula.generators.evaluate`) walks that tree over whole
Arrow columns; no `eval`, `exec` or `compile` is ever involved.

>>> expression = parse_expression("quantity * unit_price")
>>> sorted(expression.columns)
['quantity', 'unit_price']
>>> template = parse_template("{slug(first_name)}.{slug(last_name)}@example.com")
>>> sorted(template.columns)
['first_name', 'last_name']

This module imports only the standard library so the spec layer stays light.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from fabula.errors import did_you_mean

__all__ = [
    # parsing
    "parse_expression", "parse_template", "Expression", "Template", "ExpressionError",
    # the function table
    "FUNCTIONS", "FunctionSignature",
    # tree nodes
    "Node", "Literal", "Column", "Unary", "Binary", "Compare", "Logical", "Conditional", "Call",
]

# Deep trees are never written by hand; the limit keeps parsing and evaluation clear of Python's
# recursion limit (evaluation uses a few frames per level).
MAX_DEPTH = 100

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class ExpressionError(ValueError):
    """An expression or template that cannot be parsed or evaluated.

    `message` says what is wrong and shows the text; `hint` (or None) says how to fix it;
    `column` is the 1-based position of the problem in `text` when it is known.
    """

    def __init__(self, message: str, *, hint: str | None = None, text: str | None = None,
                 column: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.text = text
        self.column = column

    def __str__(self) -> str:
        return self.message

    def caret(self) -> str | None:
        """The text with a `^` under the problem, or None when the position is unknown.

        >>> try:
        ...     parse_expression("a + * b")
        ... except ExpressionError as error:
        ...     print(error.caret())
        a + * b
            ^
        """
        if self.text is None or self.column is None:
            return None
        return f"{self.text}\n{' ' * (self.column - 1)}^"


# -- the function table -----------------------------------------------------------------------


class FunctionSignature(NamedTuple):
    """How many positional arguments a function takes (`max_args` None: any number) and a doc line."""

    min_args: int
    max_args: int | None
    doc: str


def _table() -> dict[str, FunctionSignature]:
    entries = [
        # strings
        ("lower", 1, 1, "lower(s): s in lower case"),
        ("upper", 1, 1, "upper(s): s in upper case"),
        ("slug", 1, 1, "slug(s): s lower-cased, accents folded to ASCII, and everything but a-z and 0-9 removed"),
        ("concat", 2, None, "concat(a, b, ...): the arguments turned into text and joined"),
        ("str", 1, 1, "str(x): x as text"),
        ("length", 1, 1, "length(s): the number of characters in s"),
        ("substr", 3, 3, "substr(s, start, length): at most `length` characters of s from 0-based `start`"),
        ("replace", 3, 3, "replace(s, old, new): s with every `old` replaced by `new` (plain text, not a regex)"),
        ("pad", 2, 2, "pad(x, width): x as text, left-padded with zeros to `width` characters"),
        # numbers
        ("round", 1, 2, "round(x, ndigits=0): x rounded half to even; keeps the type of x"),
        ("abs", 1, 1, "abs(x): the absolute value of x"),
        ("floor", 1, 1, "floor(x): the largest whole number not above x"),
        ("ceil", 1, 1, "ceil(x): the smallest whole number not below x"),
        ("sqrt", 1, 1, "sqrt(x): the square root of x (nan below 0)"),
        ("log", 1, 2, "log(x, base=e): the logarithm of x"),
        ("exp", 1, 1, "exp(x): e to the power x"),
        ("min", 2, None, "min(a, b, ...): the smallest argument, row by row"),
        ("max", 2, None, "max(a, b, ...): the largest argument, row by row"),
        ("int", 1, 1, "int(x): x truncated toward zero to a 64-bit integer (text is parsed)"),
        ("float", 1, 1, "float(x): x as a 64-bit float (text is parsed)"),
        # logic and nulls
        ("where", 3, 3, "where(cond, a, b): a where cond is true, else b"),
        ("coalesce", 2, None, "coalesce(a, b, ...): the first argument that is not null"),
        ("is_null", 1, 1, "is_null(x): true where x is null"),
        # dates and times
        ("year", 1, 1, "year(d): the year of a date or timestamp"),
        ("month", 1, 1, "month(d): the month (1-12) of a date or timestamp"),
        ("day", 1, 1, "day(d): the day of the month of a date or timestamp"),
        ("weekday", 1, 1, "weekday(d): the day of the week, Monday=0 to Sunday=6"),
        ("hour", 1, 1, "hour(ts): the hour (0-23) of a timestamp"),
        ("date", 1, 1, "date(ts): the date of a timestamp (text in ISO format is parsed)"),
        ("local_time", 2, 2, "local_time(ts, zone): the wall-clock time in `zone` (an IANA name such as "
                             "'Europe/Berlin', or a column of them) of a UTC timestamp"),
        ("utc_time", 2, 2, "utc_time(ts, zone): the UTC time of a wall-clock time in `zone`; a time the clock "
                           "skips moves forward, a repeated one is its first occurrence"),
        ("days", 1, 1, "days(n): a duration of n days, e.g. order_date + days(3)"),
        ("hours", 1, 1, "hours(n): a duration of n hours (fractions kept), e.g. created_at + hours(1.5)"),
        ("minutes", 1, 1, "minutes(n): a duration of n minutes"),
        ("seconds", 1, 1, "seconds(n): a duration of n seconds"),
    ]
    return {name: FunctionSignature(low, high, doc) for name, low, high, doc in entries}


FUNCTIONS = MappingProxyType(_table())
"""Every function an expression may call: name -> FunctionSignature(min_args, max_args, doc)."""


# -- tree nodes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A constant. `kind` is one of int, float, str, bool, null; it keeps `1`, `1.0` and `True` apart."""

    value: int | float | str | bool | None
    kind: str


@dataclass(frozen=True)
class Column:
    """A reference to another column of the same row."""

    name: str


@dataclass(frozen=True)
class Unary:
    """`-x`, `+x` or `not x`."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """Arithmetic: one of + - * / // % **."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    """One comparison: == != < <= > >=."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    """`and` or `or` over two or more operands (Kleene logic when evaluated)."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Conditional:
    """`then if condition else otherwise`."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Call:
    """A call to a function from FUNCTIONS with positional arguments."""

    function: str
    args: tuple[Node, ...]


Node = Literal | Column | Unary | Binary | Compare | Logical | Conditional | Call


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (Binary, Compare)):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Conditional):
        return (node.condition, node.then, node.otherwise)
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in _children(node):
        yield from _walk(child)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the text as written and its checked tree. Frozen, hashable, picklable."""

    text: str
    tree: Node

    @property
    def columns(self) -> frozenset[str]:
        """Every column name the expression reads."""
        return frozenset(node.name for node in _walk(self.tree) if isinstance(node, Column))

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and Expression fields, in order."""

    text: str
    parts: tuple[str | Expression, ...]

    @property
    def columns(self) -> frozenset[str]:
        """Every column name any field reads."""
        return frozenset().union(*(part.columns for part in self.parts if isinstance(part, Expression)))

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


# -- parsing expressions ----------------------------------------------------------------------

_BINARY_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
               ast.Mod: "%", ast.Pow: "**"}
_COMPARE_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_UNARY_OPS = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}

# Operators Python has and the language does not, with what to write instead.
_REJECTED_OPS = {
    ast.BitAnd: ("`&`", "use `and`"),
    ast.BitOr: ("`|`", "use `or`"),
    ast.BitXor: ("`^`", "use `**` for powers"),
    ast.LShift: ("`<<`", "multiply by a power of 2 instead"),
    ast.RShift: ("`>>`", "use `//` with a power of 2 instead"),
    ast.MatMult: ("`@`", "use `*` to multiply"),
    ast.Invert: ("`~`", "use `not`"),
    ast.Is: ("`is`", "use is_null(x) to test for null, or `==` to compare values"),
    ast.IsNot: ("`is not`", "use not is_null(x) to test for a value, or `!=` to compare values"),
    ast.In: ("`in`", "compare one value at a time: a == 1 or a == 2"),
    ast.NotIn: ("`not in`", "compare one value at a time: a != 1 and a != 2"),
}

_NO_CODE = "expressions compute one value per row from columns and the listed functions"

# Constructs that are valid Python but not part of the language, with a name and a hint.
_REJECTED_NODES = {
    ast.Attribute: ("attribute access is not allowed",
                    "call a listed function instead, e.g. lower(name) rather than name.lower()"),
    ast.Subscript: ("subscripts are not allowed", "use substr(s, start, length) for part of a string"),
    ast.Slice: ("slices are not allowed", "use substr(s, start, length) for part of a string"),
    ast.Lambda: ("lambdas are not allowed", _NO_CODE),
    ast.ListComp: ("comprehensions are not allowed", _NO_CODE),
    ast.SetComp: ("comprehensions are not allowed", _NO_CODE),
    ast.DictComp: ("comprehensions are not allowed", _NO_CODE),
    ast.GeneratorExp: ("generator expressions are not allowed", _NO_CODE),
    ast.Starred: ("starred arguments are not allowed", "pass each argument separately"),
    ast.JoinedStr: ("f-strings are not allowed", "use a `template` column with {...} fields, or concat(...)"),
    ast.FormattedValue: ("f-strings are not allowed", "use a `template` column with {...} fields, or concat(...)"),
    ast.NamedExpr: ("assignments (`:=`) are not allowed", _NO_CODE),
    ast.List: ("lists are not allowed", "expressions compute one value per row"),
    ast.Tuple: ("tuples are not allowed", "expressions compute one value per row; check for a stray comma"),
    ast.Set: ("sets are not allowed", "expressions compute one value per row"),
    ast.Dict: ("dicts are not allowed", "expressions compute one value per row"),
    ast.Await: ("`await` is not allowed", _NO_CODE),
    ast.Yield: ("`yield` is not allowed", _NO_CODE),
    ast.YieldFrom: ("`yield` is not allowed", _NO_CODE),
}


def parse_expression(text: str) -> Expression:
    """Parse and check an expression; nothing in it is run.

    >>> parse_expression("round(amount * 1.2, 2) if country == 'DE' else amount").columns == {"amount", "country"}
    True
    >>> try:
    ...     parse_expression("__import__('os').system('x')")
    ... except ExpressionError as error:
    ...     print(error)
    attribute access is not allowed: `__import__('os').system` in `__import__('os').system('x')`
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__} {text!r}",
                              hint="quote it in YAML, e.g. expr: \"quantity * 2\"")
    source = _one_line(text)
    if not source:
        raise ExpressionError("the expression is empty", hint="write a formula, e.g. quantity * unit_price")
    try:
        body = ast.parse(source, mode="eval").body
    except SyntaxError as error:
        raise _syntax_error(source, error) from None
    except ValueError as error:  # null bytes, on some Python versions
        raise ExpressionError(f"cannot parse `{source}`: {error}", hint="remove control characters",
                              text=source) from None
    except (RecursionError, MemoryError):
        raise _too_deep(source) from None
    return Expression(text, _Converter(source).convert(body, depth=0))


def _one_line(text: str) -> str:
    # YAML block scalars keep line breaks, which Python only allows inside brackets.
    return text.replace("\r", " ").replace("\n", " ").strip()


def _syntax_error(source: str, error: SyntaxError) -> ExpressionError:
    column = error.offset if error.offset and error.offset > 0 else None
    where = f" at column {column}" if column else ""
    hint = "close every bracket and quote" if "never closed" in error.msg else \
        "check for a missing operator, bracket or quote"
    return ExpressionError(f"cannot parse `{source}`: {error.msg}{where}", hint=hint, text=source,
                           column=column)


def _too_deep(source: str) -> ExpressionError:
    return ExpressionError(f"`{source}` is nested more than {MAX_DEPTH} levels deep",
                           hint="split it into several columns", text=source)


class _Converter:
    """Turns a checked Python syntax tree into fabula nodes, rejecting everything else."""

    def __init__(self, source: str):
        self.source = source

    def convert(self, node: ast.expr, *, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise _too_deep(self.source)
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self._rejected(node)
        return method(node, depth + 1)

    def _Constant(self, node: ast.Constant, depth: int) -> Node:
        value = node.value
        if value is None:
            return Literal(None, "null")
        if isinstance(value, bool):
            return Literal(value, "bool")
        if isinstance(value, int):
            return self._int(value, node)
        if isinstance(value, float):
            return Literal(value, "float")
        if isinstance(value, str):
            return Literal(value, "str")
        what = {bytes: "bytes literals are", complex: "complex numbers are"}.get(type(value), "this constant is")
        raise self._error(f"{what} not allowed", node, hint="use numbers, text, True, False or None")

    def _int(self, value: int, node: ast.AST) -> Literal:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise self._error("integer literal does not fit in 64 bits", node, hint="use a float, e.g. 1e20")
        return Literal(value, "int")

    def _Name(self, node: ast.Name, depth: int) -> Node:
        # A bare name is always a column, even one called like a function (`date`, `year`):
        # a function can only appear as a call, so the two never clash.
        return Column(node.id)

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> Node:
        op = _UNARY_OPS.get(type(node.op))
        if op is None:
            raise self._rejected_op(node.op, node)
        operand = node.operand
        # Fold `-5` into one literal so that -9223372036854775808 fits and literals stay scalar.
        if op == "-" and isinstance(operand, ast.Constant) and type(operand.value) in (int, float):
            if isinstance(operand.value, int):
                return self._int(-operand.value, node)
            assert isinstance(operand.value, float)  # the type test above, which mypy does not read
            return Literal(-operand.value, "float")
        return Unary(op, self.convert(operand, depth=depth))

    def _BinOp(self, node: ast.BinOp, depth: int) -> Node:
        op = _BINARY_OPS.get(type(node.op))
        if op is None:
            raise self._rejected_op(node.op, node)
        return Binary(op, self.convert(node.left, depth=depth), self.convert(node.right, depth=depth))

    def _Compare(self, node: ast.Compare, depth: int) -> Node:
        for op_node in node.ops:
            if type(op_node) not in _COMPARE_OPS:
                raise self._rejected_op(op_node, node)
        if len(node.ops) > 1:
            raise self._error("chained comparisons are not allowed", node,
                              hint="join single comparisons with `and`, e.g. a < b and b < c")
        op = _COMPARE_OPS[type(node.ops[0])]
        return Compare(op, self.convert(node.left, depth=depth), self.convert(node.comparators[0], depth=depth))

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> Node:
        op = "and" if isinstance(node.op, ast.And) else "or"
        return Logical(op, tuple(self.convert(value, depth=depth) for value in node.values))

    def _IfExp(self, node: ast.IfExp, depth: int) -> Node:
        return Conditional(self.convert(node.test, depth=depth), self.convert(node.body, depth=depth),
                           self.convert(node.orelse, depth=depth))

    def _Call(self, node: ast.Call, depth: int) -> Node:
        if not isinstance(node.func, ast.Name):
            shown = self._segment(node.func)
            if type(node.func) in _REJECTED_NODES:
                what, hint = _REJECTED_NODES[type(node.func)]
                raise self._error(f"{what}: `{shown}`", node.func, hint=hint)
            raise self._error(f"only listed functions can be called, not `{shown}`", node.func,
                              hint=f"functions: {', '.join(FUNCTIONS)}")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self._error(f"unknown function `{name}`", node.func,
                              hint=did_you_mean(name, FUNCTIONS) or f"functions: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self._error(f"keyword arguments are not allowed in `{name}(...)`", node.keywords[0],
                              hint=f"pass arguments by position: {FUNCTIONS[name].doc.split(':')[0]}")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self._rejected(arg)
        args = tuple(self.convert(arg, depth=depth) for arg in node.args)  # the most specific error first
        self._check_arity(name, node)
        return Call(name, args)

    def _check_arity(self, name: str, node: ast.Call) -> None:
        low, high, doc = FUNCTIONS[name]
        count = len(node.args)
        if low <= count and (high is None or count <= high):
            return
        if high is None:
            expected = f"at least {low}"
        elif low == high:
            expected = str(low)
        else:
            expected = f"{low} to {high}"
        plural = "" if expected == "1" else "s"
        raise self._error(f"`{name}` takes {expected} argument{plural}, got {count}", node,
                          hint=f"usage: {doc.split(':')[0]}")

    # -- errors --

    def _rejected(self, node: ast.AST) -> ExpressionError:
        what, hint = _REJECTED_NODES.get(type(node), (f"`{type(node).__name__}` is not allowed", _NO_CODE))
        return self._error(what, node, hint=hint)

    def _rejected_op(self, op: ast.AST, node: ast.AST) -> ExpressionError:
        symbol, hint = _REJECTED_OPS.get(type(op), (type(op).__name__, _NO_CODE))
        return self._error(f"operator {symbol} is not allowed", node, hint=hint)

    def _error(self, what: str, node: ast.AST, *, hint: str | None) -> ExpressionError:
        shown = self._segment(node)
        where = f": `{shown}`" if shown and shown != self.source and shown not in what else ""
        return ExpressionError(f"{what}{where} in `{self.source}`", hint=hint, text=self.source,
                               column=self._column(node))

    def _segment(self, node: ast.AST) -> str | None:
        return ast.get_source_segment(self.source, node)

    def _column(self, node: ast.AST) -> int | None:
        offset = getattr(node, "col_offset", None)
        if offset is None:
            return None
        # ast offsets count UTF-8 bytes; people count characters.
        return len(self.source.encode()[:offset].decode(errors="ignore")) + 1


# -- parsing templates ------------------------------------------------------------------------


def parse_template(text: str) -> Template:
    """Parse text with `{expression}` fields; `{{` and `}}` stand for literal braces.

    >>> template = parse_template("{{id}}-{pad(id, 4)}")
    >>> template.parts
    ('{id}-', Expression('pad(id, 4)'))
    """
    if not isinstance(text, str):
        raise ExpressionError(f"a template must be text, got {type(text).__name__} {text!r}",
                              hint="quote it in YAML")
    parts: list[str | Expression] = []
    literal: list[str] = []
    position, number = 0, 0
    while position < len(text):
        char = text[position]
        if char in "{}" and text[position + 1:position + 2] == char:
            literal.append(char)
            position += 2
        elif char == "}":
            raise ExpressionError(
                f"single `}}` at column {position + 1} in template `{text}`",
                hint="write `}}` for a literal brace, or open the field with `{`", text=text, column=position + 1)
        elif char == "{":
            number += 1
            end = _field_end(text, position)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_parse_field(text, text[position + 1:end], number, position))
            position = end + 1
        else:
            literal.append(char)
            position += 1
    if literal:
        parts.append("".join(literal))
    return Template(text, tuple(parts))


def _field_end(text: str, start: int) -> int:
    """Index of the `}` closing the field opened at `start`; skips braces inside quoted strings."""
    depth, position = 0, start + 1
    while position < len(text):
        char = text[position]
        if char in "'\"":
            position = _string_end(text, position)
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return position
            depth -= 1
        position += 1
    raise ExpressionError(f"unclosed `{{` at column {start + 1} in template `{text}`",
                          hint="close the field with `}`, or write `{{` for a literal brace",
                          text=text, column=start + 1)


def _string_end(text: str, start: int) -> int:
    quote, position = text[start], start + 1
    while position < len(text) and text[position] != quote:
        position += 2 if text[position] == "\\" else 1
    return position


def _parse_field(text: str, field: str, number: int, start: int) -> Expression:
    if not field.strip():
        raise ExpressionError(f"field {number} is empty at column {start + 1} in template `{text}`",
                              hint="put a column or expression inside, e.g. {first_name}, or write {{}} for braces",
                              text=text, column=start + 1)
    try:
        return parse_expression(field)
    except ExpressionError as error:
        hint = error.hint
        if ":" in field and error.message.startswith("cannot parse"):
            hint = "format specs like {x:03d} are not supported; use pad(x, 3) or round(x, 2)"
        raise ExpressionError(f"field {number} `{{{field}}}` of template `{text}`: {error.message}",
                              hint=hint, text=text, column=start + 1) from None
