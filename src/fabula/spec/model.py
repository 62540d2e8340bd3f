"""The spec: frozen models that mirror the YAML (dataset → tables → ordered columns)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from fabula.spec.changes import ChangeSpec
from fabula.spec.columns import AnyColumn
from fabula.spec.defects import DefectSpec
from fabula.spec.expectations import Expectation, ValidationSettings
from fabula.spec.partitions import partition_columns
from fabula.spec.relations import PerParent
from fabula.spec.story import EventSpec, TimelineRows, TimelineSpec


class TableSpec(BaseModel):
    """A table: how many rows and its columns in output order."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    rows: int | PerParent | TimelineRows = Field(
        description="a row count (scaled by --scale), {per: parent, count: ...} or {timeline: name}")
    columns: dict[str, AnyColumn]
    description: str | None = None
    changes: ChangeSpec | None = Field(None, description="updates and deletes over time, emitted as a change "
                                                         "feed or SCD2 history (docs/formats.md)")  # issue 13
    defects: tuple[DefectSpec, ...] = Field((), description="bad data on purpose, labelled in `_defects` "
                                                           "(docs/defects.md)")  # issue 14
    partition_by: tuple[str, ...] = Field((), description="columns whose values name Hive-style partition "
                                                          "folders, e.g. [region] (docs/formats.md#partitions)")

    @field_validator("partition_by", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return partition_columns(value)


class DatasetSpec(BaseModel):
    """A dataset: a name, one root seed, an optional `as_of` date and its tables."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    name: str
    seed: int = Field(0, ge=0, lt=2**63)
    as_of: date | None = Field(None, description="what relative dates count from; default today")
    description: str | None = None
    timelines: dict[str, TimelineSpec] = Field(default_factory=dict)
    events: dict[str, EventSpec] = Field(default_factory=dict)
    events_table: str | None = Field(None, description="write the events as a table of this name")
    tables: dict[str, TableSpec]
    expect: tuple[Expectation, ...] = Field((), description="named checks of the generated data "
                                                            "(see docs/validation.md)")
    validation: ValidationSettings = Field(default_factory=ValidationSettings)

    _source: Any = PrivateAttr(default=None)
    _where: Any = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        """Where the spec came from is given while it is built, never assigned afterwards:
        `DatasetSpec.model_validate(fields, context={"source": data, "where": source_map})`."""
        if isinstance(context, dict):
            self._source = context.get("source")
            self._where = context.get("where")

    @property
    def source(self) -> Any:
        """The mapping the spec was loaded from, as written (for the manifest)."""
        return self._source

    @property
    def where(self) -> Any:
        """The file and lines it was written at (a `SourceMap`), to point later issues there."""
        return self._where

    def canonical(self) -> dict[str, Any]:
        """A JSON-ready form of the spec that does not depend on how it was written.

        Fields come in the models' order whatever the YAML's key order; mappings the user
        orders (tables, columns, categorical `values`, whose order picks which value each
        draw maps to) keep their order, so specs that generate different data hash differently.
        """
        # serialize_as_any: columns are declared as the base ColumnSpec; dump each kind's own fields
        dumped = _date_keys(self.model_dump(mode="python", serialize_as_any=True))
        for table in dumped.get("tables", {}).values():
            if not table.get("defects"):  # a clean spec hashes as it did before `defects:` existed
                table.pop("defects", None)
            if not table.get("partition_by"):  # unpartitioned specs keep the hash they had before it existed
                table.pop("partition_by", None)
        return json.loads(json.dumps(dumped, default=_plain))

    def spec_hash(self) -> str:
        """sha256 of the canonical form: equal specs hash equal, whatever their YAML layout."""
        text = json.dumps(self.canonical(), separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _date_keys(value: Any) -> Any:
    """json cannot write date keys (categorical values that are dates): write them as ISO text."""
    if isinstance(value, dict):
        return {(key.isoformat() if isinstance(key, date) else key): _date_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_date_keys(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if callable(value):
        return f"python:{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)
