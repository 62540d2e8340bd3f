"""Golden outputs: the table contents of every built-in scenario and of the every-kind spec, as
committed digests. A refactor must leave them unchanged; a deliberate change of streams or of a
built-in story updates `golden_digests.json` in the same commit and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fabula
from helpers import content_digest, read_table
from fabula.scenarios import builtin_names
from spark.specs import every_kind_spec

DIGESTS = json.loads((Path(__file__).parent / "golden_digests.json").read_text())


def _specs():
    for name in builtin_names():
        yield name, name
    yield "every_kind", every_kind_spec()


@pytest.mark.parametrize("name,source", list(_specs()), ids=lambda value: value if isinstance(value, str) else "")
def test_table_contents_unchanged(tmp_path, name, source):
    assert name in DIGESTS, f"no golden digests for {name}: add them to golden_digests.json"
    out = tmp_path / name
    fabula.generate(source, out, validate=False, workers=2)
    found = {table: content_digest(read_table(out, table)) for table in DIGESTS[name]}
    assert found == DIGESTS[name]
