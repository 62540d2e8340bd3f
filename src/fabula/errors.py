"""Errors fabula reports to people: every problem at once, each with a path and a fix.

The bottom layer: imports nothing else from fabula.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_NO_VALUE = object()


@dataclass(frozen=True)
class Issue:
    """One problem in a spec: where it is, what is wrong, and how to fix it.

    >>> print(Issue("unknown-key", "tables.t.columns.x.sigmma", "unknown key",
    ...             hint="did you mean `sigma`?", file="s.yaml", line=7).render())
    s.yaml:7  tables.t.columns.x.sigmma  unknown key
        hint: did you mean `sigma`?
    """

    code: str
    path: str
    message: str
    hint: str | None = None
    value: Any = _NO_VALUE
    file: str | None = None
    line: int | None = None

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE

    def render(self) -> str:
        where = self.file or "<spec>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}  {self.path or '(top level)'}  {self.message}"
        if self.has_value:
            text += f" (got {self.value!r})"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class FabulaError(Exception):
    """Base of every error fabula raises on purpose; `exit_code` is what the CLI returns."""

    exit_code = 1


class SpecError(FabulaError):
    """A spec has problems. Carries all of them, not just the first."""

    exit_code = 2
    partial: Any = None
    """The part of the spec without problems (a DatasetSpec, or None), for `fabula check` to plan."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = tuple(issues)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        head = f"the spec has {count} problem{'s' if count != 1 else ''}:"
        return "\n".join([head, *(issue.render() for issue in self.issues)])


class UsageError(FabulaError):
    """A bad command-line or API argument (not a spec problem): names the argument and a fix."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n    hint: {hint}")


class OutputError(FabulaError):
    """The output destination cannot be written as asked (exists, not ours, not writable)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n    hint: {hint}")


class DataError(FabulaError):
    """The spec asks for values that cannot exist — a key past 64-bit integers, a date after
    the year 9999 — found while generating, when the spec alone could not prove it. The message
    names the column; exit code 2, since the spec must change."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n    hint: {hint}")


class ValidationFailed(FabulaError):
    """Checks of generated data failed and strict validation was asked for (`--strict`, or
    `validation: {strict: true}` in the spec). The output and its report are kept, to look at."""

    exit_code = 3

    def __init__(self, failed: Iterable[str], *, report: str | None = None, result: Any = None):
        self.failed = tuple(failed)
        self.report = report
        """Where the report is (report.html), to point people at."""
        self.result = result
        """What the run produced and kept (`fabula.generate`'s result, or `validate_output`'s
        report), so a caller can still show it: failing the checks is not failing to write."""
        count = len(self.failed)
        lines = [f"{count} check{'s' if count != 1 else ''} failed:", *(f"  {line}" for line in self.failed)]
        if report:
            lines.append(f"    hint: see {report} for every check; drop --strict to keep going anyway")
        super().__init__("\n".join(lines))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest known word, if any is close.

    >>> did_you_mean("sigmma", ["mean", "sigma"])
    'did you mean `sigma`?'
    """
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None
