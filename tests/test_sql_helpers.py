"""The raw-SQL plumbing on the models floor: placeholders, integer lists, timestamps read back."""

from __future__ import annotations

import datetime as dt

import pytest

from models.query import as_datetime, fetch_all, int_list, numbered_placeholders


def test_only_a_question_mark_outside_quotes_is_a_placeholder():
    sql = """SELECT ? AS a, 'why?' AS b, "odd?name" AS c, 'it''s ?' AS d, ? AS e"""
    assert numbered_placeholders(sql) == """SELECT $1 AS a, 'why?' AS b, "odd?name" AS c, 'it''s ?' AS d, $2 AS e"""
    with pytest.raises(ValueError):
        numbered_placeholders("SELECT 'unclosed ?")


def test_int_list_lets_only_integers_in():
    assert int_list([3, 1, 2]) == "3, 1, 2"
    assert int_list([]) == "NULL"
    with pytest.raises(ValueError):
        int_list(["1); DROP TABLE umkm; --"])


async def test_a_literal_question_mark_reaches_the_database_as_text(database):
    rows = await fetch_all("SELECT 'apa kabar?' AS q, CAST(? AS INTEGER) AS p, '??' AS r", [7])
    assert rows == [{"q": "apa kabar?", "p": 7, "r": "??"}]


def test_timestamps_read_back_as_aware_utc():
    assert as_datetime(None) is None
    want = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)
    assert as_datetime("2026-11-29 05:00:00+00:00") == want
    assert as_datetime(dt.datetime(2026, 11, 29, 5, 0)) == want
    assert as_datetime("2026-11-29T12:00:00+07:00") == want
