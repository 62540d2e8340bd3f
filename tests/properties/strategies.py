"""Hypothesis strategies for the property tests: columns of independent kinds, as a spec writes them."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.01, max_value=100, allow_nan=False)
words = st.text(alphabet="abcdefghij", min_size=1, max_size=6)


@st.composite
def dates(draw) -> tuple[str, str]:
    start = date(2020, 1, 1) + timedelta(days=draw(st.integers(0, 1000)))
    return start.isoformat(), (start + timedelta(days=draw(st.integers(0, 400)))).isoformat()


@st.composite
def column(draw) -> dict:
    """One column of a kind that reads no other column, with random parameters and modifiers."""
    kind = draw(st.sampled_from(["normal", "lognormal", "exponential", "poisson", "uniform", "categorical",
                                 "boolean", "sequence", "id", "uuid", "date", "timestamp", "constant"]))
    if kind == "normal":
        spec = {"mean": draw(finite), "std": draw(positive)}
    elif kind == "lognormal":
        spec = {"mean": draw(st.floats(-2, 5)), "sigma": draw(st.floats(0.1, 2))}
    elif kind == "exponential":
        spec = {"scale": draw(positive)}
    elif kind == "poisson":
        spec = {"lam": draw(st.floats(0, 50))}
    elif kind == "uniform":
        low = draw(st.integers(-1000, 1000))
        spec = {"low": low, "high": low + draw(st.integers(1, 1000)), "integer": draw(st.booleans())}
    elif kind == "categorical":
        values = draw(st.lists(words, min_size=1, max_size=4, unique=True))
        spec = {"values": {value: draw(st.integers(1, 100)) for value in values}}
    elif kind == "boolean":
        spec = {"p": draw(st.floats(0, 1))}
    elif kind == "sequence":
        spec = {"start": draw(st.integers(-100, 100)), "step": draw(st.integers(1, 5))}
    elif kind == "id":
        spec = {"format": draw(st.sampled_from(["C-{:05d}", "ORD{:d}", "{:08d}-x"]))}
    elif kind == "uuid":
        spec = {}
    elif kind in ("date", "timestamp"):
        start, end = draw(dates())
        spec = {"start": start, "end": end}
    else:
        spec = {"value": draw(st.one_of(words, st.integers(-5, 5)))}
    if kind not in ("sequence", "id", "uuid") and draw(st.booleans()):
        spec["nulls"] = draw(st.sampled_from([0.1, 0.5]))
    if kind in ("normal", "lognormal", "exponential") and draw(st.booleans()):
        spec["round"] = draw(st.integers(0, 3))
    return {"kind": kind, **spec}


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda name: not name.startswith("_"))

columns = st.dictionaries(names, column(), min_size=1, max_size=6)
