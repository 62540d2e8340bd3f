"""One description per column kind: a kind registered once — its spec model, its generator and
its law — flows through check, plan, generate and validate with nothing else to edit."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from pydantic import model_validator

import fabula
from fabula.errors import SpecError
from fabula.generators.base import GENERATORS, KINDS, BlockContext, Generator, generator, kind_of, unregister
from fabula.generators.laws import Law
from fabula.spec import COLUMN_KINDS, load_text
from fabula.spec.columns import Distribution, column_kind

SPEC = """
name: toy
seed: 3
as_of: 2024-06-30
tables:
  t:
    rows: 20000
    columns:
      x: {kind: triangular, low: 0, mode: 2, high: 10}
"""


def triangular_cdf(low: float, mode: float, high: float):
    def cdf(x: float) -> float:
        if x <= low:
            return 0.0
        if x <= mode:
            return (x - low) ** 2 / ((high - low) * (mode - low))
        if x < high:
            return 1.0 - (high - x) ** 2 / ((high - low) * (high - mode))
        return 1.0
    return cdf


@pytest.fixture
def triangular():
    """Register a `triangular` kind for one test, the way a distribution module declares one,
    with a switch to declare a wrong law (to see validation read it)."""
    declared = {"mode_shift": 0.0}

    @column_kind("triangular")
    class TriangularColumn(Distribution):
        low: float
        mode: float
        high: float

        @model_validator(mode="after")
        def _ordered(self):
            if not self.low <= self.mode <= self.high or self.low == self.high:
                raise ValueError("needs low <= mode <= high, and low < high")
            return self

    try:
        @generator(TriangularColumn)
        class TriangularGenerator(Generator):
            @classmethod
            def output_type(cls, spec, env):
                return pa.float64()

            def _generate(self, ctx: BlockContext) -> np.ndarray:
                return ctx.rng().triangular(self.spec.low, self.spec.mode, self.spec.high, ctx.n)

            def law(self) -> Law:
                low, mode, high = self.spec.low, self.spec.mode + declared["mode_shift"], self.spec.high
                return Law(triangular_cdf(low, mode, high), mean=(low + mode + high) / 3)

        yield declared
    finally:
        unregister("triangular")


def _distribution_check(out) -> dict:
    report = json.loads((out / "report.json").read_text())
    (check,) = [check for check in report["checks"] if check["name"].startswith("t.x ~ ")]
    return check


def test_a_registered_kind_flows_through_every_layer(triangular, tmp_path):
    spec = load_text(SPEC)
    assert kind_of(spec.tables["t"].columns["x"]) is KINDS["triangular"]
    plan = fabula.compile_plan(spec)
    assert plan.table("t").column("x").generator.kind == "triangular"
    values = plan.block("t", 0).column("x").to_numpy()
    assert values.min() >= 0 and values.max() <= 10 and abs(values.mean() - 4.0) < 0.1
    assert "triangular" in plan.explain()
    fabula.generate(spec, tmp_path / "out")
    check = _distribution_check(tmp_path / "out")
    assert check["name"] == "t.x ~ triangular(low=0, mode=2, high=10)" and check["verdict"] == "pass"


def test_validation_reads_the_registered_law(triangular, tmp_path):
    """A law that does not match the draws fails the check: the report uses the kind's law."""
    triangular["mode_shift"] = 4.0
    fabula.generate(load_text(SPEC), tmp_path / "out")
    assert _distribution_check(tmp_path / "out")["verdict"] == "fail"


def test_the_kind_is_checked_like_any_other(triangular):
    with pytest.raises(SpecError) as raised:
        load_text(SPEC.replace("mode: 2", "mode: 20"))
    assert "low <= mode <= high" in str(raised.value)
    with pytest.raises(SpecError) as raised:
        load_text(SPEC.replace("kind: triangular", "kind: triangle"))
    assert "triangular" in str(raised.value)  # did you mean


def test_a_kind_is_forgotten_in_every_layer():
    assert "triangular" not in COLUMN_KINDS and "triangular" not in GENERATORS and "triangular" not in KINDS


def test_every_kind_is_registered_whole():
    """Each spec model has exactly one generator, registered against that model."""
    assert set(KINDS) == set(COLUMN_KINDS) == set(GENERATORS)
    for name, kind in KINDS.items():
        assert kind.spec is COLUMN_KINDS[name] and kind.generator is GENERATORS[name]


def test_a_generator_for_an_unknown_model_is_refused():
    with pytest.raises(ValueError, match="no spec model"):
        generator("no-such-kind")(type("Orphan", (Generator,), {}))
    with pytest.raises(ValueError, match="registered twice"):
        generator("normal")(type("Again", (Generator,), {}))
    assert set(KINDS) == set(COLUMN_KINDS)


def test_the_toy_law_is_a_distribution():
    cdf = triangular_cdf(0, 2, 10)
    assert cdf(0) == 0.0 and math.isclose(cdf(2), 0.2) and cdf(10) == 1.0
