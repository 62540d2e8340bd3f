"""Specs the Spark engine must reproduce exactly: the relations shop, the small spec, and a table
with every remaining column kind and modifier, in one dataset."""

from __future__ import annotations

import copy

from helpers import SMALL_SPEC
from relations.shop import SHOP


def noisy_amount():
    """A `python` column's function, made in a closure so that Spark's cloudpickle ships it by
    value (as it would a function written in a notebook)."""

    def with_noise(columns, rng, n):
        amount = columns["amount"].to_numpy(zero_copy_only=False)
        return amount * rng.uniform(0.9, 1.1, n)

    return with_noise


MISC = {
    "rows": 4000,
    "columns": {
        "key": {"kind": "sequence", "start": 1},
        "temperature": {"kind": "normal", "mean": 36.8, "std": 0.4, "clip": [35, 41], "round": 1, "nulls": 0.05},
        "followers": {"kind": "pareto", "alpha": 1.5, "scale": 10, "round": 0},
        "handle_minutes": {"kind": "gamma", "shape": 2, "scale": 4.5, "round": 1},
        "discount": {"kind": "beta", "a": 1.2, "b": 12, "round": 3, "nulls": 0.6},
        "hours_to_failure": {"kind": "weibull", "shape": 1.5, "scale": 1000, "round": 0},
        "rank": {"kind": "zipf", "a": 1.8, "clip": {"max": 500}},
        "jitter": {"kind": "uniform", "low": -0.5, "high": 0.5},
        "source": {"kind": "constant", "value": "crm"},
        "version": 3,
        "score": {"kind": "categorical", "values": {1: 10, 2: 20, 5: 70}},
        "floor": {"kind": "faker", "provider": "random_int", "args": {"min": 1, "max": 40}},
        "city": {"kind": "faker", "provider": "city", "locale": "de_DE", "pool": 300},
        "first_name": {"kind": "faker", "provider": "first_name"},
        "email": {"kind": "template", "template": "{slug(first_name)}.{key}@example.com", "unique": True},
        "amount": {"kind": "lognormal", "mean": 3, "sigma": 0.5},
        "billed": {"kind": "python", "fn": noisy_amount(), "depends": ["amount"], "type": "float64", "round": 2},
        "size": {"kind": "expression", "expr": "'large' if amount > 30 else 'small'"},
        "signup_on": {"kind": "date", "start": "-2y", "end": "today", "clip": {"min": "2023-06-01"}},
        "ships_on": {"kind": "expression", "expr": "signup_on + days(2 + floor % 5)"},
        "seen_at": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "s"},
        "clicked_at": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "us", "nulls": 0.1},
    },
}


CONTACTS = {
    "rows": 3000,
    "columns": {
        "name": {"kind": "person", "locale": "de_DE"},
        "email": {"kind": "person", "part": "email", "locale": "de_DE", "nulls": 0.1},
        "work_email": {"kind": "person", "part": "email", "locale": "de_DE", "domains": "company"},
        "company": {"kind": "company", "locale": "de_DE"},
        "city": {"kind": "address", "part": "city", "locale": "de_DE"},
        "address": {"kind": "address", "locale": "de_DE"},
    },
}
"""The record kinds, in a table of their own so that the other tables' digests never move."""


SEQUENCES = {
    "timelines": {
        "card_day": {"start": "2024-06-01", "end": "2024-06-14", "rate": 300, "intraday": "daytime"},
        "night_fraud": {"start": "2024-06-01", "end": "2024-06-14", "rate": 20,
                        "intraday": [3, 3, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]},
        "card": {"mix": {"normal": "card_day", "fraud": "night_fraud"}},
    },
    "tables": {
        "devices": {
            "rows": 60,
            "columns": {
                "device_id": {"kind": "id", "format": "DEV-{:04d}"},
                "region": {"kind": "categorical", "values": {"West": 1, "East": 2}},
                "slots_kept": {"kind": "cadence_count", "every": "6h", "start": "2024-06-01",
                               "end": "2024-06-07", "dropout": 0.1},
            },
        },
        "readings": {
            "rows": {"per": "devices", "every": "1h", "start": "2024-06-01", "end": "2024-06-07",
                     "jitter": "2m", "dropout": 0.05},
            "columns": {
                "device_id": {"kind": "reference", "to": "devices.device_id"},
                "read_at": {"kind": "cadence"},
                "line": {"kind": "position"},
                "drain": {"kind": "normal", "mean": -1.5, "std": 0.5, "round": 2},
                "battery": {"kind": "running", "fn": "level", "of": "drain", "high": 100, "low": 10, "round": 2},
                "used": {"kind": "running", "fn": "sum", "of": "drain", "round": 2},
                "previous_drain": {"kind": "running", "fn": "previous", "of": "drain"},
                "synced_at": {"kind": "timestamp", "start": "2024-06-01", "end": "2024-06-08", "after": "read_at"},
                "sync_delay": {"kind": "duration", "from": "read_at", "to": "synced_at", "unit": "minutes", "round": 1},
            },
        },
        "payments": {
            "rows": {"timeline": "card"},
            "columns": {
                "paid_at": {"kind": "timestamp", "timeline": "card"},
                "source": {"kind": "component", "timeline": "card", "at": "paid_at"},
            },
        },
    },
}
"""Cadences, positions, running values, durations and a mix of timelines, in tables of their own."""


def every_kind_spec() -> dict:
    """SHOP (every relation), SMALL_SPEC's tables, MISC and SEQUENCES (every other kind) as one dataset."""
    spec = copy.deepcopy(SHOP)
    spec["name"] = "every_kind"
    small = copy.deepcopy(SMALL_SPEC["tables"])
    spec["tables"]["accounts"] = small["customers"]
    spec["tables"]["clicks"] = small["events"]
    spec["tables"]["misc"] = dict(MISC, columns=dict(MISC["columns"]))
    spec["tables"]["contacts"] = dict(CONTACTS, columns=dict(CONTACTS["columns"]))
    sequences = copy.deepcopy(SEQUENCES)
    spec["timelines"] = {**spec.get("timelines", {}), **sequences["timelines"]}
    spec["tables"].update(sequences["tables"])
    return spec


def kinds_of(spec: dict) -> set[str]:
    kinds = set()
    for table in spec["tables"].values():
        for column in table["columns"].values():
            kinds.add(column.get("kind", "constant") if isinstance(column, dict) else "constant")
    return kinds


def clean_builtin_names() -> list[str]:
    """The built-in scenarios the Spark engine writes: all but those with `defects:`, which it
    refuses (tests/defects/test_refusals.py)."""
    import fabula
    from fabula.scenarios import builtin_names

    return [name for name in builtin_names()
            if not any(table.defects for table in fabula.load_spec(name).tables.values())]
