"""Column generators: pure, vectorised functions of a block context, registered by kind."""

from fabula.generators import categorical, keys, numeric, people, relations, temporal, text  # noqa: F401  (registers kinds)
from fabula.generators.base import GENERATORS, BlockContext, CompileEnv, Generator, GenerationError
from fabula.generators.compile import compile_column

__all__ = ["GENERATORS", "BlockContext", "CompileEnv", "Generator", "GenerationError", "compile_column"]
