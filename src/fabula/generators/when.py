"""`when:` on any column: the value only where a condition on the row holds, null elsewhere.

`shipped_at` exists only for orders whose status says they shipped; `refund_amount` only for
returned lines. The column is drawn for every row exactly as without `when:` (so its values
never move), then the rows where the condition is false or unknown are set to null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from fabula.generators.base import BlockContext, Generator, with_nulls
from fabula.generators.evaluate import evaluate
from fabula.spec.columns import ColumnSpec


@dataclass(frozen=True)
class WhenGenerator(Generator[ColumnSpec]):
    inner: Generator | None = None

    kind = "when"

    @classmethod
    def wrap(cls, spec, inner: Generator) -> WhenGenerator:
        # the inner generator applied the modifiers; this one only adds the condition's nulls
        plain = spec.model_copy(update={"nulls": 0.0, "round": None, "clip": None, "unique": False})
        return cls(spec=plain, arrow_type=inner.arrow_type, inner=inner)

    own_nulls: ClassVar[bool] = False  # nulls also come from the condition

    def _generate(self, ctx: BlockContext) -> pa.Array:
        assert self.inner is not None and self.spec.when is not None  # set by `wrap`, for a column with `when:`
        values = self.inner.generate(ctx)
        holds = condition_mask(self.spec.when, ctx)
        return with_nulls(values, ~holds)

    def law(self):
        return self.inner.law()

    def shares(self):
        return self.inner.shares()

    def describe(self) -> dict[str, Any]:
        assert self.inner is not None  # set by `wrap`
        return {**self.inner.describe(), "when": self.spec.when}


def condition_mask(text: str, ctx: BlockContext) -> np.ndarray:
    """Where a condition on the row is true (false where it is false or null)."""
    from fabula.spec.expressions import parse_expression

    expression = parse_expression(text)
    result = evaluate(expression, {name: ctx.columns[name] for name in expression.columns}, ctx.n)
    if not pa.types.is_boolean(result.type):
        raise ValueError(f"the condition `{text}` gives {result.type}, not true or false")
    return np.asarray(result.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
