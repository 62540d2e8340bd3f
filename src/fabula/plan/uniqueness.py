"""Which `unique: true` columns fabula can guarantee, decided when the plan is compiled.

A column is unique by construction when its kind computes values from the row number (a key:
the spec model says so with `key`), draws them without replacement (Faker pools, categoricals, integer/date/time ranges:
a keyed permutation of the row number picks the value, so the table must not have more rows than
there are values), or is a template that provably cannot map two rows to one string.
"""

from __future__ import annotations

from fabula.spec.columns import ConditionalColumn, IdColumn, SequenceColumn, TemplateColumn, UuidColumn
from fabula.spec.expressions import Call, Column, Expression

TEMPLATE_HINT = ("set a key field off with punctuation on both sides and make the other fields slug(...), "
                 "e.g. \"{slug(first_name)}.{slug(last_name)}.{customer_key}@example.com\" with "
                 "customer_key a sequence")


OTHER_KINDS_HINT = ("use a key (sequence, id, uuid), a Faker pool, a categorical, an integer, date or "
                    "time range, or a template over a key")


def unique_problem(columns: dict, name: str, generator, rows: int) -> tuple[str, str] | None:
    """None when `name` is unique by construction over `rows` rows, else (why not, what to do)."""
    spec = columns[name]
    if isinstance(spec, ConditionalColumn):
        return "a conditional column cannot promise uniqueness", "declare `unique` on a key or a template"
    if spec.key:  # computed from the row number
        return None
    if isinstance(spec, TemplateColumn):
        if template_is_injective(spec, columns):
            return None
        return "fabula cannot prove this template gives distinct strings", TEMPLATE_HINT
    capacity = generator.distinct_values()
    if capacity is None:
        return f"a {spec.kind} column cannot be unique by construction", OTHER_KINDS_HINT
    if rows > capacity:
        return (f"a {spec.kind} column with {capacity:,} possible values cannot be unique over {rows:,} rows",
                "widen it (a larger `pool`, more values, a longer range) or drop `unique`")
    return None


def template_is_injective(spec: TemplateColumn, columns: dict) -> bool:
    """Two rows can never give the same string if the only field is a unique column, or if a
    field is a key with the same punctuation on every row (a non-negative sequence, an `id`, a
    `uuid`) set off by punctuation on both sides and every
    other field is `slug(...)` (letters and digits only): then the punctuation in the output is
    exactly the template's, which locates the key, which tells the row."""
    parts = spec.parsed.parts
    fields = [(index, part) for index, part in enumerate(parts) if isinstance(part, Expression)]
    if len(fields) == 1 and _unique_column(fields[0][1], columns, integer_only=False):
        return True
    for index, field in fields:
        if not _unique_column(field, columns, integer_only=True):
            continue
        before, after = _literal(parts, index - 1), _literal(parts, index + 1)
        delimited_before = index == 0 or (before and not before[-1].isalnum())
        delimited_after = index == len(parts) - 1 or (after and not after[0].isalnum())
        others_alnum = all(_is_slug(other) for position, other in fields if position != index)
        if delimited_before and delimited_after and others_alnum:
            return True
    return False


def _literal(parts: tuple[str | Expression, ...], position: int) -> str:
    """The template's text at `position`; "" for a field or beyond either end."""
    part = parts[position] if 0 <= position < len(parts) else ""
    return part if isinstance(part, str) else ""


def _unique_column(field: Expression, columns: dict, *, integer_only: bool) -> bool:
    node = field.tree
    if isinstance(node, Call) and node.function in ("str", "pad") and node.args:
        node = node.args[0]
    if not isinstance(node, Column):
        return False
    target = columns.get(node.name)
    if target is None or not getattr(target, "unique", False) and not getattr(target, "key", False):
        return False
    if integer_only:
        # a key whose punctuation is the same on every row: a non-negative sequence, a formatted
        # id (fixed prefix and suffix around digits) or a uuid (hex digits and fixed dashes)
        sequence = isinstance(target, SequenceColumn) and target.start >= 0 and target.step > 0
        return sequence or isinstance(target, (IdColumn, UuidColumn))
    return True


def _is_slug(field: Expression) -> bool:
    return isinstance(field.tree, Call) and field.tree.function == "slug"
