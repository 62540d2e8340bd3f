"""Limits on what a spec may ask for, checked before any work (docs/security.md lists them).

A spec is untrusted input: a few lines of YAML must never make fabula read a huge file, expand
a billion nodes, build a gigabyte-long string or plan 10^20 rows. Every limit here is far above
what a real dataset needs; each one that is hit is reported as an issue with the limit's number,
together with every other problem of the spec.

This module is part of the spec layer: standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fabula.errors import Issue, did_you_mean
from fabula.spec.faker_facts import provider_parameters, trial_call

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec

# -- reading the file ---------------------------------------------------------------------------

MAX_SPEC_BYTES = 2 * 1024 * 1024
"""A spec file (or text) larger than 2 MiB is refused before it is parsed."""

MAX_YAML_NODES = 1_000_000
"""Values, lists and mappings in the parsed document, counting every expansion of an alias."""

MAX_YAML_ALIASES = 10_000
"""`*alias` references in one document."""

MAX_YAML_DEPTH = 64
"""Lists and mappings nested inside each other."""

# -- the dataset ----------------------------------------------------------------------------------

MAX_TABLES = 1_000
MAX_COLUMNS = 10_000
"""Columns of one table."""

MAX_NAME_LENGTH = 128
"""Characters in a table, column, timeline or event name (names become folders and SQL names)."""

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

MAX_ROWS = 10**12
"""Rows of all tables together (after --scale) unless `--allow-large` / `allow_large=True`."""

MAX_OUTPUT_BYTES = 10**12
"""Estimated uncompressed output (rows × estimated bytes per row) unless `--allow-large`."""

MAX_SCALE = 1e12
"""--scale above this is refused outright (row counts must stay within 64-bit integers)."""

# -- values ---------------------------------------------------------------------------------------

MAX_TEXT_CHARS = 10_000
"""Characters of one text value fabula writes: constants, categories, template results, pad widths."""

MAX_ID_WIDTH = 64
"""Zero-pad width of an id format such as {:08d}."""

MAX_CATEGORIES = 100_000
"""Distinct values of one categorical column."""

MAX_POOL_TOTAL = 1_000_000
"""Faker values drawn to build pools, over all columns of a spec (each takes tens of µs, so this
is a minute of Faker at most)."""

MAX_FAKER_SIZE_ARG = 10_000
"""Faker arguments that set a size (max_chars, nb_words, length, digits, ...) stay below this."""

MAX_POOL_CHARS = 100_000_000
"""Characters in one Faker pool (a sample value's length × `pool`), so a pool stays ~100 MB."""

MAX_EXPRESSION_CHARS = 10_000
"""Characters in one expression or template."""

# Faker providers that build blobs or documents (zip/tar files, images, 1 MB of random bytes by
# default, whole CSV/JSON/XML documents): a pool of them is memory, not a column of data.
BLOCKED_PROVIDERS = frozenset({
    "binary", "zip", "tar", "image", "json", "json_bytes", "xml", "csv", "tsv", "psv", "dsv",
    "fixed_width", "pystruct", "enum", "time_series",
})

# Faker argument names that set how big each value is.
_SIZE_WORDS = ("max_chars", "min_chars", "nb", "length", "digits", "size", "count", "max_nb_chars",
               "elements", "num", "max_value_digits")


def is_size_argument(name: str) -> bool:
    """Whether a Faker argument sets a size: `max_chars`, `nb_words`, `right_digits`, `length`...

    >>> is_size_argument("nb_words"), is_size_argument("max_value")
    (True, False)
    """
    lowered = name.lower()
    return any(word == lowered or lowered.startswith(word + "_") or lowered.endswith("_" + word)
               for word in _SIZE_WORDS)


# -- checks ---------------------------------------------------------------------------------------


def check_name(name: str, what: str) -> tuple[str, str] | None:
    """(message, hint) when a table/column/timeline/event name is unsafe, else None.

    Names become folder names and SQL identifiers, so path separators, `..`, control characters
    and very long names are refused whatever else the name is.

    >>> check_name("../x", "table")[0]
    'the table name `../x` contains a path separator'
    """
    if len(name) > MAX_NAME_LENGTH:
        return (f"the {what} name is {len(name)} characters long, more than {MAX_NAME_LENGTH}",
                "use a shorter name")
    if "/" in name or "\\" in name:
        return f"the {what} name `{name}` contains a path separator", "use letters, digits and _"
    if name in (".", "..") or ".." in name:
        return f"the {what} name `{name}` contains `..`", "use letters, digits and _"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return f"the {what} name {name!r} contains a control character", "use letters, digits and _"
    return None


def check_size(spec: DatasetSpec, source) -> list[Issue]:
    """Counts and sizes every spec must stay within, whatever it generates."""
    issues: list[Issue] = []
    if len(spec.tables) > MAX_TABLES:
        issues.append(source.issue("too-large", ("tables",), f"the spec has {len(spec.tables):,} tables, "
                                   f"more than {MAX_TABLES:,}", hint="split it into several specs"))
    pool_total = 0
    for table_name, table in spec.tables.items():
        path = ("tables", table_name)
        if len(table.columns) > MAX_COLUMNS:
            issues.append(source.issue("too-large", (*path, "columns"),
                                       f"`{table_name}` has {len(table.columns):,} columns, more than {MAX_COLUMNS:,}",
                                       hint="split it into several tables"))
        rows = getattr(table, "rows", None)
        if isinstance(rows, int) and not isinstance(rows, bool) and rows > MAX_ROWS:
            issues.append(source.issue("too-large", (*path, "rows"), f"{rows:,} rows is more than {MAX_ROWS:,}",
                                       hint="ask for fewer rows (at most 10^12 in all)"))
        for column_name, column in table.columns.items():
            column_path = (*path, "columns", column_name)
            for branch_path, branch in _branches(column, column_path):
                issues.extend(check_column_size(branch, branch_path, source))
                if getattr(branch, "kind", None) == "faker":
                    pool_total += branch.pool
    if pool_total > MAX_POOL_TOTAL:
        issues.append(source.issue("too-large", ("tables",),
                                   f"Faker pools add up to {pool_total:,} values, more than {MAX_POOL_TOTAL:,}",
                                   hint="lower `pool:` on the Faker columns (5,000 distinct values is plenty)"))
    return issues


def _branches(column, path) -> Iterator[tuple[tuple, Any]]:
    from fabula.spec.columns import column_branches

    yield from column_branches(column, path)
    for override in getattr(column, "during", ()):
        if override.column is not None:
            yield from column_branches(override.column, (*path, "during", override.event))


def check_column_size(column, path, source) -> Iterator[Issue]:
    """Widths, lengths, counts and key ranges of one column spec."""
    kind = getattr(column, "kind", None)
    if kind == "id":
        _, width, _ = column.parts
        if width > MAX_ID_WIDTH:
            yield source.issue("too-large", (*path, "format"), f"the id is zero-padded to {width:,} digits, "
                               f"more than {MAX_ID_WIDTH}", value=column.format, hint="e.g. format: CUST-{:08d}")
        if len(column.format) > MAX_TEXT_CHARS:
            yield source.issue("too-large", (*path, "format"),
                               f"the format is longer than {MAX_TEXT_CHARS:,} characters",
                               hint="use a short prefix")
        if column.start > INT64_MAX:
            yield _int64(source, (*path, "start"), column.start)
    elif kind == "sequence":
        for name in ("start", "step"):
            value = getattr(column, name)
            if not INT64_MIN <= value <= INT64_MAX:
                yield _int64(source, (*path, name), value)
    elif kind == "constant":
        if isinstance(column.value, str) and len(column.value) > MAX_TEXT_CHARS:
            yield _long_text(source, (*path, "value"), len(column.value))
        elif isinstance(column.value, int) and not isinstance(column.value, bool) \
                and not INT64_MIN <= column.value <= INT64_MAX:
            yield _int64(source, (*path, "value"), column.value)
    elif kind == "categorical":
        if len(column.values) > MAX_CATEGORIES:
            yield source.issue("too-large", (*path, "values"),
                               f"{len(column.values):,} values, more than {MAX_CATEGORIES:,}",
                               hint="use a faker column, or a numeric distribution, for many distinct values")
        for value in column.values:
            if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
                yield _long_text(source, (*path, "values"), len(value))
                break
            if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
                yield _int64(source, (*path, "values"), value)
                break
    elif kind in ("expression", "template"):
        text = column.expr if kind == "expression" else column.template
        if len(text) > MAX_EXPRESSION_CHARS:
            yield source.issue("too-large", (*path, "expr" if kind == "expression" else "template"),
                               f"the {kind} is {len(text):,} characters long, more than {MAX_EXPRESSION_CHARS:,}",
                               hint="split it into several columns")
    elif kind == "faker":
        yield from check_faker_arguments(column, path, source)


def _int64(source, path, value) -> Issue:
    return source.issue("too-large", path, "the number does not fit in a 64-bit integer", value=_short(value),
                        hint=f"use a value between {INT64_MIN:,} and {INT64_MAX:,}")


def _long_text(source, path, length: int) -> Issue:
    return source.issue("too-large", path, f"a text value of {length:,} characters is longer than "
                        f"{MAX_TEXT_CHARS:,}", hint="use shorter text")


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 40 else text[:37] + "..."


def check_faker_arguments(column, path, source) -> Iterator[Issue]:
    """Providers that build blobs are refused; `args` must name the provider's parameters, with
    values of the right type, and sizes within MAX_FAKER_SIZE_ARG. Only then is the provider
    tried once with them (never with an unchecked size: that call is what the limits protect)."""
    if column.provider in BLOCKED_PROVIDERS:
        yield source.issue("bad-value", (*path, "provider"),
                           f"the Faker provider `{column.provider}` builds documents, lists or binary blobs, "
                           "not column values", hint="pick a provider of single values: name, city, company, sentence")
        return
    parameters = provider_parameters(column.locale, column.provider)
    problems = list(_argument_problems(column, path, source, parameters))
    yield from problems
    if column.args and parameters is not None and not problems:
        problem, length = trial_call(column.locale, column.provider, tuple(sorted(column.args.items(), key=repr)))
        if problem:
            yield source.issue("bad-value", (*path, "args"),
                               f"Faker's `{column.provider}` fails with these arguments: {problem}",
                               hint="check the values against Faker's documentation of the provider")
        elif length > MAX_TEXT_CHARS or length * column.pool > MAX_POOL_CHARS:
            yield source.issue("too-large", (*path, "args"),
                               f"with these arguments `{column.provider}` makes values of about {length:,} characters; "
                               f"a pool of {column.pool:,} would hold about {length * column.pool:,} "
                               f"(limits: {MAX_TEXT_CHARS:,} per value, {MAX_POOL_CHARS:,} per pool)",
                               hint="ask for shorter values, or a smaller `pool`")


def _argument_problems(column, path, source, parameters) -> Iterator[Issue]:
    for name, value in column.args.items():
        where = (*path, "args", name)
        if parameters is not None and name not in parameters:
            yield source.issue("unknown-key", where, f"Faker's `{column.provider}` has no argument `{name}`",
                               hint=did_you_mean(name, parameters) or
                               (f"it takes: {', '.join(parameters)}" if parameters else "it takes no arguments"))
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            yield _long_text(source, where, len(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                yield source.issue("bad-value", where, "Faker arguments must be finite numbers", value=value,
                                   hint="write an ordinary number")
            elif is_size_argument(name) and abs(value) > MAX_FAKER_SIZE_ARG:
                yield source.issue("too-large", where, f"`{name}` sets the size of every value; "
                                   f"{_short(value)} is more than {MAX_FAKER_SIZE_ARG:,}", value=_short(value),
                                   hint=f"keep it at most {MAX_FAKER_SIZE_ARG:,}")
            elif abs(value) > INT64_MAX:
                yield _int64(source, where, value)
        expected = parameters.get(name) if parameters else None
        if expected is not None and value is not None and not _same_family(value, expected):
            yield source.issue("wrong-type", where, f"`{name}` should be {_type_word(expected)}",
                               value=_short(value), hint=f"Faker's default is {expected!r}")


def _same_family(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    return True


def _type_word(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    return "text"


