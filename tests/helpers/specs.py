"""Small specs many tests write or compile."""

from __future__ import annotations

SMALL_SPEC = {
    "name": "small",
    "seed": 7,
    "as_of": "2024-06-30",
    "tables": {
        "customers": {
            "rows": 5000,
            "columns": {
                "customer_id": {"kind": "id", "format": "C-{:05d}"},
                "tier": {"kind": "categorical", "values": {"Free": 60, "Pro": 30, "Enterprise": 10}},
                "arr": {"kind": "lognormal", "round": 2, "by": "tier",
                        "cases": {"Enterprise": {"mean": 11, "sigma": 0.5},
                                  "Pro": {"mean": 8, "sigma": 0.6}, "Free": 0}},
                "city": {"kind": "faker", "provider": "city", "pool": 200},
                "signup": {"kind": "date", "start": "-2y", "end": "-6mo"},
                "active": {"kind": "boolean", "p": 0.8, "nulls": 0.1},
            },
        },
        "events": {
            "rows": 9000,
            "columns": {
                "event_id": {"kind": "uuid"},
                "n": {"kind": "poisson", "lam": 3},
                "price": {"kind": "lognormal", "mean": 2, "sigma": 0.7, "round": 2},
                "total": {"kind": "expression", "expr": "n * price"},
                "at": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "ms"},
            },
        },
    },
}
"""Two tables, every common kind and modifier; pinned `as_of`, so its output never changes."""
