"""The fast kernels of issue 16 against the plain computations they replace: ids against
f-strings and Arrow's cast/pad/join, the key parser against the general one, the scatter fast
paths against concat + take + dictionary_encode, and inverse_cdf against searchsorted."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fabula.generators import conditional, scatter
from fabula.generators.base import DICTIONARY_STRING
from fabula.generators.digits import format_ids, parse_ids
from fabula.generators.draws import inverse_cdf
from fabula.spec.columns import IdColumn
from fabula.validate import keys

FORMATS = [("CUST-", 5, ""), ("", 0, ""), ("Ä-", 3, "-x"), ("", 6, "Z"), ("x", 20, "")]
NUMBERS = [np.arange(65_536), np.random.default_rng(1).integers(0, 2_500_000, 10_000),
           np.array([0, 1, 9, 10, 99, 100, 999_999, 10**17]), np.arange(99_990, 100_010),
           np.array([2**32 - 1, 2**32 + 5]), np.array([2**63 - 1]), np.arange(0)]


@pytest.mark.parametrize("prefix,width,suffix", FORMATS)
@pytest.mark.parametrize("numbers", NUMBERS, ids=lambda n: f"{len(n)}")
def test_ids_are_the_f_strings(prefix, width, suffix, numbers):
    made = format_ids(numbers, prefix, width, suffix)
    assert made.type == pa.string()
    assert made.to_pylist() == [f"{prefix}{number:0{width}d}{suffix}" for number in numbers.tolist()]


def test_negative_numbers_are_left_to_the_general_path():
    assert format_ids(np.array([-1, 2]), "A", 2, "") is None


@pytest.mark.parametrize("prefix,width,suffix", [f for f in FORMATS if f[1] <= 18])
def test_parsed_ids_give_their_numbers_back(prefix, width, suffix):
    numbers = np.random.default_rng(2).integers(0, 10**7, 5_000)
    parsed, canonical = parse_ids(format_ids(numbers, prefix, width, suffix), prefix, width, suffix)
    assert parsed.tolist() == numbers.tolist() and canonical.all()


def _general(values, key, rows, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(keys, "parse_ids", lambda *args: None)
        return keys.key_positions(values, key, rows)


@pytest.mark.parametrize("form", ["C-{:04d}", "{:d}", "T{:03d}x", "{:06d}"])
@pytest.mark.parametrize("values", [
    ["C-0042", "C-12345", "C-00123", "C-0", "C-0000", "C-00000", "C-9999"], ["C-0001", "C-0002"],
    ["C-00001", "C-10000", "C-99999"], [str(i) for i in range(30)], ["T001x", "T1000x", "T0100x"],
    ["000001", "1", "0000001"], ["0", "00"], ["0", "5"], ["T000x", "T012x"], ["C-0a01"]])
def test_the_fast_key_parser_agrees_with_the_general_one(form, values, monkeypatch):
    key = IdColumn(format=form)
    for array in (pa.array(values), pa.array(["pad", *values]).slice(1)):
        rows, valid = keys.key_positions(array, key, 40_000)
        general_rows, general_valid = _general(array, key, 40_000, monkeypatch)
        assert valid.tolist() == general_valid.tolist()
        assert rows[valid].tolist() == general_rows[general_valid].tolist()


def _general_scatter(parts, n, arrow_type, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(conditional, "scatter_codes", lambda *args: None)
        patch.setattr(conditional, "scatter_numbers", lambda *args: None)
        return conditional.scatter(parts, n, arrow_type)


@pytest.mark.parametrize("kind", ["strings", "floats", "dates", "timestamps"])
def test_scatter_fast_paths_equal_the_general_path(kind, monkeypatch):
    rng = np.random.default_rng(3)
    for trial in range(60):
        n = int(rng.integers(0, 60))
        owner = rng.integers(0, 4, n)  # 3: no case covers the row
        parts = []
        for case in range(3):
            rows = np.flatnonzero(owner == case)
            mask = rng.random(len(rows)) < 0.2 if trial % 2 else None
            if kind == "strings":
                levels = pa.array(rng.choice(list("abcde"), size=3, replace=False).tolist())
                part = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 3, len(rows)).astype(np.int32), mask=mask), levels)
                arrow_type = DICTIONARY_STRING
            elif kind == "floats":
                part = pa.array(rng.normal(size=len(rows)) if case else rng.integers(0, 9, len(rows)), mask=mask)
                arrow_type = pa.float64()
            elif kind == "dates":
                part = pa.array(rng.integers(0, 999, len(rows)).astype(np.int32), mask=mask).cast(pa.date32())
                arrow_type = pa.date32()
            else:
                part = pa.array(rng.integers(0, 10**12, len(rows)), mask=mask).cast(pa.timestamp("us"))
                arrow_type = pa.timestamp("us")
            parts.append((rows, part))
        fast = conditional.scatter(parts, n, arrow_type)
        general = _general_scatter(parts, n, arrow_type, monkeypatch)
        assert fast.type == general.type and fast.equals(general)


def test_scatter_codes_refuses_plain_strings():
    assert scatter.scatter_codes([(np.array([0]), pa.array(["a"]))], 1) is None


def test_inverse_cdf_is_searchsorted():
    rng = np.random.default_rng(4)
    for levels in range(1, 12):
        for _ in range(20):
            weights = rng.random(levels) * (rng.random(levels) > 0.3)
            weights[0] += weights.sum() == 0
            cumulative = np.cumsum(weights / weights.sum())
            cumulative[-1] = 1.0
            u = np.concatenate([rng.random(2_000), cumulative, [0.0, np.nan]])
            assert inverse_cdf(cumulative, u).tolist() == np.searchsorted(cumulative, u, side="right").tolist()
    unsorted = np.array([0.5, 0.2, 1.0])
    u = rng.random(100)
    assert inverse_cdf(unsorted, u).tolist() == np.searchsorted(unsorted, u, side="right").tolist()
