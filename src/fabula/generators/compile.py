"""Column spec → generator, including conditional columns and their branches."""

from __future__ import annotations

from fabula.generators.base import GENERATORS, CompileEnv, Generator
from fabula.generators.conditional import ConditionalGenerator
from fabula.spec.columns import AnyColumn, ConditionalColumn


def compile_column(spec: AnyColumn, env: CompileEnv) -> Generator:
    if getattr(spec, "when", None):
        from fabula.generators.when import WhenGenerator

        return WhenGenerator.wrap(spec, compile_column(spec.model_copy(update={"when": None}), env))
    if spec.during:
        from fabula.generators.story import DuringGenerator  # it compiles its parts through here

        return DuringGenerator.compile(spec, env, compile_column=compile_column)
    if isinstance(spec, ConditionalColumn):
        return ConditionalGenerator.compile(spec, env, compile_branch=lambda branch: compile_column(branch, env))
    return GENERATORS[spec.kind].compile(spec, env)
