"""Conditional columns: one generator per value of another column (`by: tier`).

Each case draws only for its own rows, from a stream named after the case, so editing one
case never moves the values of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import DICTIONARY_STRING, BlockContext, CompileEnv, Generator
from fabula.generators.draws import inverse_cdf
from fabula.generators.scatter import scatter_codes, scatter_numbers
from fabula.spec.columns import ConditionalColumn


@dataclass(frozen=True)
class ConditionalGenerator(Generator[ConditionalColumn]):
    cases: tuple[tuple[Any, Generator], ...] = ()
    default: Generator | None = None

    kind = "conditional"

    @classmethod
    def compile(  # type: ignore[override]  # compile_column passes how to compile each branch
            cls, spec, env: CompileEnv, *, compile_branch) -> ConditionalGenerator:
        if spec.bins:
            by_type = env.column_types.get(spec.by)
            if by_type is not None and not (pa.types.is_integer(by_type) or pa.types.is_floating(by_type)):
                raise ValueError(f"bins cut a numeric column, and `{spec.by}` is {by_type}")
        cases = tuple((key, compile_branch(case)) for key, case in spec.cases)
        default = compile_branch(spec.default) if spec.default is not None else None
        branches = [branch for _, branch in cases] + ([default] if default else [])
        return cls(spec=spec, arrow_type=common_type([b.arrow_type for b in branches]),
                   cases=cases, default=default)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        by = ctx.columns[self.spec.by]
        keys = [key for key, _ in self.cases]
        masks = bin_masks(by, self.spec.bins, keys) if self.spec.bins else case_masks(by, keys)
        parts: list[tuple[np.ndarray, pa.Array]] = []
        for (key, branch), mask in zip(self.cases, masks):
            parts.append(self._branch(branch, ctx, mask, str(key)))
        if self.default is not None:
            covered = np.logical_or.reduce(masks) if masks else np.zeros(ctx.n, dtype=bool)
            parts.append(self._branch(self.default, ctx, ~covered, "default"))
        return scatter(parts, ctx.n, self.arrow_type)

    @staticmethod
    def _branch(branch: Generator, ctx: BlockContext, mask: np.ndarray, label: str):
        indices = np.flatnonzero(mask)
        return indices, branch.generate(ctx.subset(indices, label))

    def describe(self) -> dict[str, Any]:
        rules = {str(key): _summary(branch) for key, branch in self.cases}
        if self.default is not None:
            rules["(default)"] = _summary(self.default)
        return {"by": self.spec.by, "cases": rules}


def _summary(branch: Generator) -> str:
    params = ", ".join(f"{name}={value}" for name, value in branch.describe().items())
    return f"{branch.kind}({params})"


def case_masks(by: pa.Array, keys: list[Any]) -> list[np.ndarray]:
    """For each case key, which rows of `by` hold it (nulls match nothing)."""
    if isinstance(by, pa.DictionaryArray):
        position = {value: index for index, value in enumerate(by.dictionary.to_pylist())}
        codes = by.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return [codes == position.get(key if not isinstance(key, bool) else key, -2) for key in keys]
    masks = []
    for key in keys:
        try:
            equal = pc.equal(by, pa.scalar(key).cast(by.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            masks.append(np.zeros(len(by), dtype=bool))
            continue
        masks.append(equal.fill_null(False).to_numpy(zero_copy_only=False))
    return masks


def bin_masks(by: pa.Array, bins: tuple[float, ...], keys: list[Any]) -> list[np.ndarray]:
    """Cases of a numeric `by` cut at `bins`: `<8` is below 8, `<24` from 8 to below 24, `>=24`."""
    from fabula.spec.columns import ConditionalColumn

    labels = ConditionalColumn.model_construct(by="", cases=(), bins=bins).bin_labels()
    values = by.to_numpy(zero_copy_only=False).astype(np.float64)
    if by.null_count:
        values[~np.asarray(by.is_valid())] = np.nan
    position = inverse_cdf(np.asarray(bins, dtype=np.float64), values)
    position[np.isnan(values)] = -1
    return [position == (labels.index(str(key)) if str(key) in labels else -2) for key in keys]


def common_type(types: list[pa.DataType]) -> pa.DataType:
    """One output type for all branches: numbers widen to float64, strings stay strings."""
    unique = list(dict.fromkeys(types))
    if len(unique) == 1:
        return unique[0]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in unique):
        return pa.float64()
    if all(t in (DICTIONARY_STRING, pa.string()) for t in unique):
        return DICTIONARY_STRING
    raise ValueError(
        "the cases produce different types (" + ", ".join(map(str, unique)) + "); "
        "make every case produce the same kind of value"
    )


def scatter(parts: list[tuple[np.ndarray, pa.Array]], n: int, arrow_type: pa.DataType) -> pa.Array:
    """Put each part's values back at its row positions; rows no part covers are null."""
    plain = pa.string() if arrow_type == DICTIONARY_STRING else arrow_type
    if arrow_type == DICTIONARY_STRING:
        fast = scatter_codes(parts, n)
    elif pa.types.is_integer(plain) or pa.types.is_floating(plain) or pa.types.is_date32(plain) \
            or pa.types.is_timestamp(plain):
        fast = scatter_numbers(parts, n, plain)
    else:
        fast = None
    if fast is not None:
        return fast
    arrays = [_decoded(values).cast(plain) for _, values in parts] + [pa.nulls(1, type=plain)]
    values = pa.concat_arrays(arrays)
    source = np.full(n, len(values) - 1, dtype=np.int64)  # default: the trailing null
    offset = 0
    for indices, part in parts:
        source[indices] = np.arange(offset, offset + len(part))
        offset += len(part)
    result = values.take(pa.array(source))
    return pc.dictionary_encode(result) if arrow_type == DICTIONARY_STRING else result


def _decoded(array: pa.Array) -> pa.Array:
    return array.dictionary_decode() if isinstance(array, pa.DictionaryArray) else array
