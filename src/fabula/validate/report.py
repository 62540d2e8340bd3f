"""What validation produces: checks with verdicts, gathered into a report (report.json).

A check says what was expected, what the data shows, the tolerance between them and a
verdict, in words a person reads (`message`) and in numbers a CI job reads. `details` carries
what the HTML report plots (bins, shares) and is free-form per family.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, TypedDict

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
VERDICTS = (FAIL, WARN, PASS, SKIP)
"""Worst first: a report's verdict is its worst check's (skipped checks never fail a report)."""

REPORT_VERSION = 1
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


class Where(TypedDict):
    """The table and column a check is about, passed on as keywords: `Check(..., **where)`."""

    table: str
    column: str


@dataclass(frozen=True)
class Check:
    """One check of the data.

    >>> Check("structure", "orders.order_id is unique", PASS, "no duplicate keys", expected=0, observed=0).verdict
    'pass'
    """

    family: str
    name: str
    verdict: str
    message: str
    expected: Any = None
    observed: Any = None
    tolerance: Any = None
    table: str | None = None
    column: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


@dataclass(frozen=True)
class Report:
    """Every check of one output, and what it was made from."""

    dataset: str
    seed: int
    as_of: str
    scale: float
    spec_hash: str
    rows: dict[str, int]
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> str:
        found = {check.verdict for check in self.checks}
        return next((verdict for verdict in (FAIL, WARN) if verdict in found), PASS)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.verdict == FAIL]

    def counts(self) -> dict[str, int]:
        return {verdict: sum(check.verdict == verdict for check in self.checks) for verdict in (PASS, WARN, FAIL, SKIP)}

    def families(self) -> dict[str, list[Check]]:
        grouped: dict[str, list[Check]] = {}
        for check in self.checks:
            grouped.setdefault(check.family, []).append(check)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "dataset": self.dataset, "seed": self.seed, "as_of": self.as_of, "scale": self.scale,
            "spec_hash": self.spec_hash, "verdict": self.verdict, "counts": self.counts(),
            "rows": dict(self.rows),
            "checks": [_clean(_fields(check)) for check in self.checks],
        }

    def to_json(self) -> str:
        """Stable text: the same data gives the same bytes, whatever the worker count."""
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        checks = tuple(Check(**{key: value for key, value in check.items()}) for check in data["checks"])
        return cls(dataset=data["dataset"], seed=data["seed"], as_of=data["as_of"], scale=data["scale"],
                   spec_hash=data["spec_hash"], rows=dict(data["rows"]), checks=checks)


def _fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields by name, without the deep copy of `asdict` (`_clean` copies)."""
    return {item.name: getattr(value, item.name) for item in fields(value)}


def _clean(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, floats to 12 significant digits (sums from
    SQL may differ in the last bits between runs), non-finite floats as text; a dataclass as
    its fields, as `asdict` gives them."""
    if is_dataclass(value) and not isinstance(value, type):
        value = _fields(value)
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return float(f"{value:.12g}")
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)
