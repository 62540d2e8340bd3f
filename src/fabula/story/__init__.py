"""The story resolved against `as_of`: timelines as intensities per day, events as windows.

Computed once when the plan compiles (a few numbers per day of the window), so generating a
block only looks things up: which day a row falls on, where in the day, whether an event
covers it.
"""

from fabula.story.calendar import ResolvedTimeline, resolve_timeline
from fabula.story.events import EventWindow, resolve_event
from fabula.story.resolve import Arrivals, Story, resolve_story

__all__ = ["Arrivals", "EventWindow", "ResolvedTimeline", "Story", "resolve_event", "resolve_story",
           "resolve_timeline"]
