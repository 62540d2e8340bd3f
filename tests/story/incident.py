"""The incident story most event tests read: a flat daily timeline over 2024's first quarter,
an incident (×3 on tickets and audits, 4-day ramps either side) that changes three columns of
the tickets, an outage of tickets, and the events table.

tickets: arrivals of the timeline; `category`, `hours` and `mood` change during the incident.
audits:  20,000 rows whose timestamps only follow the timeline's shape.
"""

from __future__ import annotations

from datetime import date

from story.support import dataset, days

FIRST, LAST = date(2024, 1, 1), date(2024, 3, 31)
RATE = 100
INCIDENT = (date(2024, 2, 10), date(2024, 2, 19))
RAMP_UP = days(date(2024, 2, 6), date(2024, 2, 9))
DECAY = days(date(2024, 2, 20), date(2024, 2, 23))
RAMP_STRENGTH = [0.125, 0.375, 0.625, 0.875]
"""The strength at midday of each ramp-up day (4 days build up linearly to the start); decay
days mirror it."""
OUTAGE = (date(2024, 3, 10), date(2024, 3, 12))
SHARE_A, SHARE_A_DURING = 0.25, 0.65
HOURS_SCALE, HOURS_SCALE_DURING = 10.0, 30.0
CALM, UPSET = 80, 20
AUDITS = 20_000

EVENTS_SPEC = dataset(
    "events",
    timelines={"daily": {"start": str(FIRST), "end": str(LAST), "rate": RATE, "intraday": "flat"}},
    events={
        "incident": {"start": str(INCIDENT[0]), "end": str(INCIDENT[1]), "ramp_up": "4d", "decay": 4,
                     "description": "logins failing", "volume": {"tickets": 3, "audits": 3}},
        "outage": {"start": str(OUTAGE[0]), "end": str(OUTAGE[1]), "volume": {"tickets": 0}},
    },
    events_table="events",
    tables={
        "tickets": {
            "rows": {"timeline": "daily"},
            "columns": {
                "ticket_id": {"kind": "sequence"},
                "created_at": {"kind": "timestamp", "timeline": "daily"},
                "category": {"kind": "categorical", "values": {"A": 25, "B": 75},
                             "during": {"incident": {"values": {"A": 65, "B": 35}}}},
                # the override names only `scale`: it inherits the kind, `round` and `clip`
                "hours": {"kind": "exponential", "scale": HOURS_SCALE, "round": 1, "clip": {"min": 1},
                          "during": {"incident": {"scale": HOURS_SCALE_DURING}}},
                # a conditional override with no default: only A rows change, B rows keep this rule
                "mood": {"kind": "categorical", "values": {"calm": CALM, "upset": UPSET},
                         "during": {"incident": {"by": "category", "cases": {"A": {"values": {"angry": 1}}}}}},
                "note": {"kind": "uniform", "low": 0, "high": 1},
            },
        },
        # a fixed-size table whose timestamps follow the timeline's shape as this table sees it
        "audits": {"rows": AUDITS, "columns": {"at": {"kind": "timestamp", "timeline": "daily"}}},
    },
)


WINDOW = days(*INCIDENT)
"""The incident's full days; QUIET: the days no event touches."""
QUIET = [day for day in days(FIRST, LAST)
         if day not in WINDOW + RAMP_UP + DECAY and not OUTAGE[0] <= day <= OUTAGE[1]]
