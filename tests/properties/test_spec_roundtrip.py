"""A spec survives its canonical form: spec → canonical → spec gives the same spec (and hash)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabula.spec import build_spec
from fabula.spec.canonical import from_canonical

from properties.strategies import columns


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=st.dictionaries(st.sampled_from(["a", "b", "c"]), columns, min_size=1, max_size=3),
       seed=st.integers(0, 2**63 - 1), rows=st.integers(0, 10_000))
def test_canonical_form_rebuilds_the_same_spec(tables, seed, rows):
    spec = build_spec({"name": "prop", "seed": seed, "as_of": "2024-06-30",
                       "tables": {name: {"rows": rows, "columns": cols} for name, cols in tables.items()}})
    rebuilt = from_canonical(spec.canonical())
    # the same models and values (equality of the models themselves would also compare where
    # each was loaded from, which a rebuilt spec cannot share)
    assert rebuilt.model_dump(serialize_as_any=True) == spec.model_dump(serialize_as_any=True)
    assert rebuilt.spec_hash() == spec.spec_hash()
    for name, table in spec.tables.items():
        assert [type(column) for column in rebuilt.tables[name].columns.values()] == \
            [type(column) for column in table.columns.values()]
