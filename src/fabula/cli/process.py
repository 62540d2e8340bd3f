"""Process-wide settings the `fabula` command may make because its process ends with the command.

`main()` run as the command (no argument list: the console script, `python -m fabula`) marks the
process as its own; a caller that hands `main` its arguments (tests, an embedding program) keeps
its process as it was.

The one setting so far: **no pandas.** When pandas is installed, pyarrow imports it the first
time it converts anything (`pa.array` of a list, `pa.scalar`, `pa.table`), only to ask whether a
value is a pandas object or a pandas null. That import is a quarter of a second, a sixth of a
small `fabula generate` (issue 16), and fabula never hands pyarrow a pandas object nor asks it
for one. pyarrow's C++ side asks again at every conversion until the import succeeds, so the
command's process runs as if pandas were not installed: a setting fabula supports anyway, since
pandas is not one of its dependencies.
"""

from __future__ import annotations

import gc
import sys

_own = False


def own_process() -> None:
    """Called by `main()` when it runs as the `fabula` command."""
    global _own
    _own = True


def without_pandas() -> None:
    """From now on, in the command's own process, `import pandas` fails as if it were not installed.

    Only for commands that need no pandas (the Spark engine converts through it). Does nothing
    outside the command's own process, or when pandas is already imported."""
    if _own and "pandas" not in sys.modules and _NoPandas not in sys.meta_path:
        sys.meta_path.insert(0, _NoPandas)


def collector_paused() -> None:
    """In the command's own process, no cyclic garbage collection until `collector_resumed`.

    Starting a command builds some 600 modules' worth of objects (classes, Pydantic schemas,
    dataclasses) and almost no garbage; Python's collector, triggered every 700 new objects,
    walks them again and again: 180 collections, 70 ms of a small `fabula generate` (issue 16).
    Paused, then restarted with the start-up objects frozen out of its view (`gc.freeze`), it
    collects only what the work itself leaves behind."""
    if _own:
        gc.disable()


def collector_resumed() -> None:
    if _own and not gc.isenabled():
        gc.freeze()
        gc.enable()


class _NoPandas:
    """An import finder that answers "not installed" for pandas.

    Not `sys.modules["pandas"] = None`, the usual way to hide a package: pyarrow's compiled
    import takes that None for the module."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
