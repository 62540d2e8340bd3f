"""What DuckDB's parser says about a spec's SQL is kept on disk (issue 16: a small run opens no
DuckDB to parse), and a kept answer is exactly the parser's: the same text back, the same
refusal with the same message and hint, whether it was just asked or read from the file."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fabula import sandbox
from fabula.sandbox import UnsafeSQL, parse_expression, parse_query

QUERIES = ["select avg(amount) from orders;", "with o as (select * from orders) select count(*) from o",
           "select 1; copy orders to 'x.csv'", "copy (select 1) to 'x.csv'", "select from where", ""]
FRAGMENTS = ["status = 'completed' -- ) or (true", "round(amount * 1.2, 2) > 10", "1=1) or (1=1", "a, b",
             "1 from read_csv('/etc/passwd')", "a as b", ""]


def forget() -> None:
    """Drop the process's memory of answers, so the next question reads the disk cache."""
    sandbox._parse_remembered.cache_clear()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    forget()
    yield tmp_path / "duckdb-sql"
    forget()


def outcome(parse, text):
    try:
        return "sql", parse(text), None
    except UnsafeSQL as refused:
        return "unsafe", str(refused), refused.hint


@pytest.mark.parametrize(("parse", "text"), [(parse_query, text) for text in QUERIES]
                         + [(parse_expression, text) for text in FRAGMENTS])
def test_a_kept_answer_is_the_parsers(empty_cache, parse, text):
    asked = outcome(sandbox._parse_query if parse is parse_query else sandbox._parse_expression, text)
    assert outcome(parse, text) == asked  # cold: asked and written
    assert len(list(empty_cache.glob("*.json"))) == 1
    forget()
    assert outcome(parse, text) == asked  # warm: read from the file


@pytest.mark.parametrize("damage", ["not json", "[]", '["sql", 1, null]', '["run", "x", null]', ""])
def test_a_damaged_answer_is_asked_again(empty_cache, damage):
    expected = parse_expression("amount > 1")
    (path,) = empty_cache.glob("*.json")
    path.write_text(damage)
    forget()
    assert parse_expression("amount > 1") == expected


def test_a_query_and_a_fragment_of_the_same_text_are_kept_apart(empty_cache):
    assert parse_query("select 1") == "select 1"
    with pytest.raises(UnsafeSQL):
        parse_expression("select 1")
    forget()
    assert parse_query("select 1") == "select 1"
    with pytest.raises(UnsafeSQL):
        parse_expression("select 1")


def test_a_warm_cache_parses_without_duckdb(empty_cache):
    code = ("import sys; from fabula.sandbox import parse_expression, parse_query; "
            "parse_query('select avg(amount) from orders'); parse_expression('amount > 1'); "
            "print('duckdb' in sys.modules)")
    env = {"FABULA_CACHE_DIR": str(empty_cache.parent), "PATH": ""}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"]  # cold, then warm
