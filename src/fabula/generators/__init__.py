"""Column generators: pure, vectorised functions of a block context, registered by kind.

`KINDS` is the one description of every column kind (spec model + generator, which declares
its law or shares for validation); importing this package registers them all.
"""

from fabula.generators import categorical, keys, numeric, people, relations, sequences, temporal, text  # noqa: F401  (registers kinds)
from fabula.generators.base import (
    GENERATORS,
    KINDS,
    BlockContext,
    CompileEnv,
    GenerationError,
    Generator,
    Kind,
    generator,
    kind_of,
)
from fabula.generators.compile import compile_column
from fabula.generators.laws import Law, Shares

__all__ = [
    # the registry
    "KINDS", "GENERATORS", "Kind", "generator", "kind_of",
    # what a kind declares
    "Generator", "Law", "Shares",
    # compiling and generating
    "BlockContext", "CompileEnv", "GenerationError", "compile_column",
]
