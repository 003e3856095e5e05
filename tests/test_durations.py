"""Durations carry their unit; bare numbers and nonsense are refused with the reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

import journeylib as jl
from journeylib.core.durations import parse_duration, to_microseconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("7d", timedelta(days=7)),
        ("1.5h", timedelta(minutes=90)),
        ("2w", timedelta(days=14)),
        ("250ms", timedelta(milliseconds=250)),
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_durations_parse_with_units(text, expected):
    assert parse_duration(text) == expected


def test_microseconds_are_exact():
    assert to_microseconds("7d") == 7 * 86_400 * 1_000_000
    assert to_microseconds("1us") == 1


@pytest.mark.parametrize("bad", ["7", 7, "7 days", "-1d", "0s", "d"])
def test_bare_numbers_and_nonsense_are_refused(bad):
    with pytest.raises(jl.ParameterError, match=r"parameter 'within'"):
        parse_duration(bad, param="within")
