"""Bad story specs are refused with one issue each — the key that is wrong, what is wrong, and a
hint — and a broken timeline or event never makes what names it look unknown.

(unknown-timeline, unknown-event, unknown-country and duplicate-table have fixtures in
tests/fixtures/bad_specs; these are the other messages of spec/story_checks.py, the override
parsing in spec/load.py and the timeline models in spec/story.py.)
"""

from __future__ import annotations

import pytest

import fabula
from fabula.errors import SpecError

BASE = """\
name: story_errors
seed: 1
as_of: 2024-12-31
timelines:
  support:
    start: 2024-01-01
    end: 2024-03-31
    rate: 20
events:
  incident:
    start: 2024-02-10
    end: 2024-02-15
tables:
  customers:
    rows: 10
    columns:
      customer_id: {kind: id, format: "C{:03d}"}
  tickets:
    rows: {timeline: support}
    columns:
      customer_id: {kind: reference, to: customers.customer_id}
      created_at: {kind: timestamp, timeline: support}
      category: {kind: categorical, values: {A: 25, B: 75}}
      hours: {kind: exponential, scale: 10}
"""


def _edit(*replacements: tuple[str, str]) -> str:
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


CATEGORY = "      category: {kind: categorical, values: {A: 25, B: 75}}\n"
HOURS = "      hours: {kind: exponential, scale: 10}\n"
CREATED = "      created_at: {kind: timestamp, timeline: support}\n"
RATE = "    rate: 20\n"
EVENT_END = "    end: 2024-02-15\n"


def _override(entry: str) -> tuple[str, str]:
    """`category` with `during: {incident: <entry>}`."""
    return CATEGORY, CATEGORY.rstrip("}\n") + f"}}, during: {{incident: {entry}}}}}\n"


CASES = {
    "override without changes": (
        [_override("{delay: 3d}")],
        "missing-parameter", "tables.tickets.columns.category.during.incident",
        "does not say what changes", "values:"),
    "ambiguous at: two timeline columns": (
        [(CREATED, CREATED + "      closed_at: {kind: timestamp, timeline: support}\n"),
         _override("{values: {A: 65, B: 35}}")],
        "missing-parameter", "tables.tickets.columns.category.during.incident.at",
        "ambiguous", "add `at:"),
    "ambiguous at: no timeline column": (
        [(CREATED, "      created_at: {kind: timestamp, start: 2024-01-01, end: 2024-03-31}\n"),
         ("    rows: {timeline: support}\n", "    rows: 100\n"),
         _override("{values: {A: 65, B: 35}}")],
        "missing-parameter", "tables.tickets.columns.category.during.incident.at",
        "ambiguous", "add `at:"),
    "at names a non-time column": (
        [_override("{values: {A: 65, B: 35}, at: hours}")],
        "wrong-type", "tables.tickets.columns.category.during.incident.at",
        "`hours` is not a date or timestamp column", "when the row happened"),
    # a volume on a table with no timeline changes nothing: a warning, not an error
    # (tests/spec/test_bad_specs.py::test_events_without_effect_are_warnings)
    "during on a reference": (
        [("      customer_id: {kind: reference, to: customers.customer_id}\n",
          "      customer_id: {kind: reference, to: customers.customer_id, during: {incident: {pick: uniform}}}\n")],
        "bad-value", "tables.tickets.columns.customer_id.during.incident",
        "a reference column cannot change during an event", "override a column drawn"),
    "during on a unique column": (
        [(HOURS, "      hours: {kind: exponential, scale: 10, unique: true, during: {incident: {scale: 30}}}\n")],
        "bad-value", "tables.tickets.columns.hours.during.incident",
        "a unique column cannot change during an event", "drop `unique`"),
    "timeline with start and end": (
        [(CREATED, "      created_at: {kind: timestamp, timeline: support, start: 2024-01-01, end: 2024-02-01}\n")],
        "bad-value", "tables.tickets.columns.created_at",
        "`timeline` sets the window, so leave out `start` and `end`", "drop them"),
    "timeline with after and a lag": (
        [(CREATED, CREATED + "      closed_at: {kind: timestamp, timeline: support, after: created_at, lag: 3}\n")],
        "bad-value", "tables.tickets.columns.closed_at",
        "not a `lag`", "within: 30d"),
    "inverted timeline window": (
        [("    start: 2024-01-01\n", "    start: 2024-04-01\n")],
        "inverted-dates", "timelines.support.start", "start 2024-04-01 is after end 2024-03-31", "swap"),
    "inverted relative event window": (
        [("    start: 2024-02-10\n    end: 2024-02-15\n", "    start: -300d\n    end: -320d\n")],
        "inverted-dates", "events.incident.start", "is after end", "-1y is before -6mo"),
    "weekday with 6 factors": (
        [(RATE, RATE + "    weekday: [1, 1, 1, 1, 1, 0.6]\n")],
        "bad-value", "timelines.support.weekday", "7 factors from Monday to Sunday, got 6", "{weekend: 0.6"),
    "weekday with an unknown day": (
        [(RATE, RATE + "    weekday: {funday: 2}\n")],
        "bad-value", "timelines.support.weekday", "`funday` is not a day of the week", "mon, tue"),
    "weekday with a negative factor": (
        [(RATE, RATE + "    weekday: {weekend: -0.5}\n")],
        "bad-value", "timelines.support.weekday", "zero or positive", "0.6 is 60%"),
    "unknown intraday preset": (
        [(RATE, RATE + "    intraday: office\n")],
        "bad-value", "timelines.support.intraday", "unknown intraday profile `office`", "business_hours"),
    "intraday with 23 factors": (
        [(RATE, RATE + "    intraday: [" + ", ".join(["1"] * 23) + "]\n")],
        "bad-value", "timelines.support.intraday", "24 hourly factors", "one per hour"),
    "seasonality with 11 factors": (
        [(RATE, RATE + "    seasonality: [" + ", ".join(["1"] * 11) + "]\n")],
        "bad-value", "timelines.support.seasonality", "12 monthly factors", "{peak: <month 1-12>"),
    "seasonality curve with a 13th month": (
        [(RATE, RATE + "    seasonality: {peak: 13, amplitude: 0.2}\n")],
        "bad-value", "timelines.support.seasonality.peak", "`peak` should be less than or equal to 12",
        "{peak: 12, amplitude: 0.2}"),
    "unknown holiday subdivision": (
        [(RATE, RATE + "    holidays: {country: US, subdiv: CAA}\n")],
        "unknown-country", "timelines.support.holidays.subdiv", "US has no subdivision of that name",
        "did you mean `CA`?"),
    "alias of a holiday country": (
        [(RATE, RATE + "    holidays: {country: USA, subdiv: Texas}\n")],
        "unknown-country", "timelines.support.holidays.subdiv", "USA has no subdivision of that name",
        "USA has: AK, AL"),
    "noise of 1": (
        [(RATE, RATE + "    noise: 1\n")],
        "bad-value", "timelines.support.noise", "`noise` should be less than 1", "uniform(1 ± noise)"),
    "unknown trend shape": (
        [(RATE, RATE + "    trend: {growth: 0.2, shape: quadratic}\n")],
        "bad-value", "timelines.support.trend.shape", "'linear' or 'exponential'", "shape: exponential"),
    "delay that is not days": (
        [_override("{values: {A: 65, B: 35}, delay: 3 days}")],
        "bad-value", "tables.tickets.columns.category.during.incident.delay", "'3 days' is not a number of days",
        "10d or 2w"),
    "ramp that is not days": (
        [(EVENT_END, EVENT_END + "    ramp_up: a week\n")],
        "bad-value", "events.incident.ramp_up", "not a number of days", "10d or 2w"),
    "during that is not a mapping": (
        [(CATEGORY, "      category: {kind: categorical, values: {A: 25, B: 75}, during: [incident]}\n")],
        "wrong-type", "tables.tickets.columns.category.during", "maps event names", "incident:"),
    "an override with overrides": (
        [_override("{values: {A: 65, B: 35}, during: {incident: {values: {A: 1}}}}")],
        "bad-value", "tables.tickets.columns.category.during.incident.during",
        "cannot have overrides of its own", "column's own `during:`"),
    "a misspelt timeline key": (
        [(RATE, RATE + "    intraday_profile: flat\n")],
        "unknown-key", "timelines.support.intraday_profile", "unknown key `intraday_profile` for a timeline",
        "did you mean `intraday`?"),
    "a timeline that is not a mapping": (
        [("  support:\n    start: 2024-01-01\n    end: 2024-03-31\n    rate: 20\n", "  support: 20\n")],
        "wrong-type", "timelines.support", "a timeline is a mapping", "rate: 25"),
}

_JARGON = ("union_tag", "function-after", "Input should", "instance of", "pydantic", "Seasonality", "Spec",
           "tuple", "NoneType", "Value error", "Literal", "curve[", "monthly[")


@pytest.mark.parametrize("case", list(CASES))
def test_a_story_mistake_is_one_issue_with_its_key_and_a_hint(case):
    replacements, code, path, message, hint = CASES[case]
    text = _edit(*replacements)
    with pytest.raises(SpecError) as caught:
        fabula.compile_plan(text)
    issues = caught.value.issues
    assert [(issue.code, issue.path) for issue in issues] == [(code, path)], \
        "exactly one issue (a broken timeline or event is not also unknown):\n" + "\n".join(i.render() for i in issues)
    (issue,) = issues
    shown = issue.render()
    assert message in issue.message, shown
    assert issue.hint and hint in issue.hint, shown
    assert issue.line is not None, "the issue points at a line of the file"
    for word in _JARGON:
        assert word not in shown, f"{word!r} in:\n{shown}"


def test_a_broken_header_does_not_make_timelines_unknown():
    """`seed: seven` fails the dataset's own keys; tables naming the timeline and columns
    naming the event are still checked against the ones declared."""
    text = _edit(("seed: 1\n", "seed: seven\n"), _override("{values: {A: 65, B: 35}}"))
    with pytest.raises(SpecError) as caught:
        fabula.compile_plan(text)
    assert [(issue.code, issue.path) for issue in caught.value.issues] == [("wrong-type", "seed")]


def test_every_problem_of_the_story_at_once():
    """A broken timeline, a broken event and a bad override: three issues, in file order."""
    text = _edit((RATE, RATE + "    noise: 2\n"), (EVENT_END, EVENT_END + "    decay: soon\n"),
                 _override("{at: hours, values: {A: 65, B: 35}}"))
    with pytest.raises(SpecError) as caught:
        fabula.compile_plan(text)
    assert [(issue.code, issue.path) for issue in caught.value.issues] == [
        ("bad-value", "timelines.support.noise"),
        ("bad-value", "events.incident.decay"),
        ("wrong-type", "tables.tickets.columns.category.during.incident.at"),
    ]
