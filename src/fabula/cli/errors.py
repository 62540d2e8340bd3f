"""How the `fabula` command ends: every failure as one readable message and an exit code
(2: bad spec or usage, 1: the environment, 3: failed checks with --strict, 130: interrupted);
a traceback only with `fabula --debug ...` or FABULA_DEBUG=1."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from fabula.cli.printing import err
from fabula.errors import DataError, FabulaError


def run_reporting_errors(command: Callable[[list[str]], object], args: list[str]) -> None:
    """Run `command(args)`; end the process with its exit code and, on failure, one message."""
    debug = wants_debug(args)
    try:
        command(args)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as done:  # --help, --version
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except FabulaError as error:
        _debug_traceback(debug)
        err.print(str(error), markup=False, highlight=False, soft_wrap=True)  # one issue per line, never wrapped
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        sys.exit(130)
    except MemoryError:
        _debug_traceback(debug)
        _fail(1, "out of memory", "generate fewer rows at once (a smaller --scale), or fewer --workers")
    except RecursionError:
        _debug_traceback(debug)
        _fail(2, "the spec is nested too deeply to process", "write it with less nesting")
    except OSError as error:
        _debug_traceback(debug)
        _fail(1, _os_message(error), _os_hint(error))
    except ImportError as error:  # an optional package that is not installed
        _debug_traceback(debug)
        package = (error.name or "a package").split(".")[0]
        _fail(1, f"{package} is not installed: {_first_line(error)}",
              f"install it into this environment, e.g. pip install {package}"
              + (" (or pip install 'fabula[spark]')" if package in ("pyspark", "py4j") else ""))
    except Exception as error:  # noqa: BLE001 - the safety net: never a bare traceback
        _debug_traceback(debug)
        if _is_generation_error(error):
            cause = _spec_cause(error)
            if cause is not None:
                _fail(2, f"cannot generate the data: {_first_line(error)}",
                      getattr(cause, "hint", None) or "change the spec so this column stays within its limits")
        _fail(1, f"internal error: {type(error).__name__}: {_first_line(error)}",
              "this is a bug in fabula, please report it; rerun with `fabula --debug ...` for the traceback")


def wants_debug(args: list[str]) -> bool:
    """--debug before the command; also FABULA_DEBUG=1, for when the flag cannot be passed."""
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            break
    return os.environ.get("FABULA_DEBUG", "") not in ("", "0")


def _is_generation_error(error: BaseException) -> bool:
    """A column failed while generating (only possible once the generators are loaded)."""
    generators = sys.modules.get("fabula.generators.base")
    return generators is not None and isinstance(error, generators.GenerationError)


def _spec_cause(error: BaseException | None) -> BaseException | None:
    """The spec's own problem behind a generation failure (an expression that fails on the data,
    a value past its limits), or None when the failure is fabula's."""
    from fabula.generators.base import GenerationError
    from fabula.spec.expressions import ExpressionError

    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, (ExpressionError, DataError)):
            return error
        if isinstance(error, (ValueError, OverflowError, FloatingPointError)) \
                and not isinstance(error, GenerationError):
            # numpy refusing a column's parameters (poisson lam 1e300, integers beyond int64)
            return DataError(str(error), hint="check the column's parameters: very large or small numbers "
                                              "cannot be drawn")
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _debug_traceback(debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _fail(code: int, message: str, hint: str | None) -> NoReturn:
    err.print(f"error: {message}" + (f"\n    hint: {hint}" if hint else ""), markup=False, highlight=False,
              soft_wrap=True)
    sys.exit(code)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


def _os_message(error: OSError) -> str:
    where = f" ({error.filename})" if getattr(error, "filename", None) else ""
    return f"{error.strerror or _first_line(error)}{where}"


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or write to another --out",
    errno.EDQUOT: "the disk quota is used up: free some space, or write to another --out",
    errno.EACCES: "fabula has no permission there: choose another --out, or fix the folder's permissions",
    errno.EPERM: "fabula has no permission there: choose another --out, or fix the folder's permissions",
    errno.EROFS: "the file system is read-only: write to another --out",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.ENOENT: "check the path",
    errno.EMFILE: "too many open files: lower --workers, or raise the limit (ulimit -n)",
}


def _os_hint(error: OSError) -> str:
    return _OS_HINTS.get(error.errno or 0, "check the path, free disk space and permissions; "
                                      "rerun with `fabula --debug ...` for details")
