"""The hour a running total falls in is found by buckets, and must be exactly what a binary
search finds: every time drawn after another one in a timeline depends on it."""

import pickle

import numpy as np
import pytest

from fabula.story.intensity import HourlyIntensity


def searched(intensity: HourlyIntensity, total: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(intensity.running, total, side="right") - 1, 0, intensity.hours - 1)


def volumes(rng: np.random.Generator, shape: str, hours: int) -> np.ndarray:
    per_hour = rng.exponential(1.0, hours)
    if shape == "quiet hours":  # many hours with no volume: equal running totals
        per_hour[rng.random(hours) < 0.5] = 0.0
    elif shape == "nights and peaks":  # a bucket then spans many hours
        per_hour *= rng.choice([1e-9, 1.0, 1e9], hours)
    elif shape == "one busy hour":
        per_hour[:] = 0.0
        per_hour[rng.integers(hours)] = 1.0
    return per_hour


@pytest.mark.parametrize("shape", ["even", "quiet hours", "nights and peaks", "one busy hour"])
def test_the_hour_of_a_total_is_the_binary_searchs(shape):
    rng = np.random.default_rng(7)
    for _ in range(60):
        hours = int(rng.integers(1, 400))
        intensity = HourlyIntensity(0, np.concatenate([[0.0], np.cumsum(volumes(rng, shape, hours))]))
        top = intensity.running[-1]
        totals = np.concatenate([
            rng.uniform(-0.1 * top - 1, 1.1 * top + 1, 4000),  # inside the window and past both ends
            intensity.running,  # exactly on an hour's start, and a hair either side of it
            np.nextafter(intensity.running, np.inf), np.nextafter(intensity.running, -np.inf),
            [np.nan, np.inf, -np.inf, -0.0],
        ])
        assert np.array_equal(intensity.hour_of(totals), searched(intensity, totals))


def test_a_window_without_volume_still_answers():
    intensity = HourlyIntensity(0, np.zeros(25))
    totals = np.array([-1.0, 0.0, 1.0, np.nan])
    assert np.array_equal(intensity.hour_of(totals), searched(intensity, totals))


def test_the_lookups_are_not_pickled_with_the_plan():
    intensity = HourlyIntensity.of(0, np.array([24.0] * 365), np.arange(1, 25) / 24)
    before = len(pickle.dumps(intensity))
    intensity.hour_of(np.array([5.0]))  # builds the buckets: 8 per hour
    copy = pickle.loads(pickle.dumps(intensity))
    assert len(pickle.dumps(intensity)) == before
    assert copy.hour_of(np.array([5.0, 100.0])).tolist() == [5, 100]
