"""Calendar periods of the rule file (months and years): adding one to a date, and the latest
start whose period has ended by a given day (what finds idle grants without reading every one)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.policies.loader import load_policy
from tongdao.policies.model import PeriodRule

DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
PERIODS = st.builds(
    PeriodRule,
    kind=st.just("p"),
    months=st.one_of(st.none(), st.integers(0, 36)),
    years=st.one_of(st.none(), st.integers(0, 3)),
    article=st.just("Art.27"),
    description=st.just("x"),
)


@given(PERIODS, DATES, DATES)
def test_adding_a_period_never_moves_back(period, a, b):
    first, second = sorted((a, b))
    assert period.add_to(first) <= period.add_to(second)


@given(PERIODS, DATES, DATES)
def test_a_start_has_ended_by_a_day_exactly_when_it_is_on_or_before_the_latest(period, start, day):
    latest = period.latest_start_ending_by(day)
    assert (period.add_to(start) <= day) == (start <= latest)


@given(PERIODS, DATES)
def test_the_latest_start_has_ended_and_the_day_after_it_has_not(period, day):
    latest = period.latest_start_ending_by(day)
    assert period.add_to(latest) <= day
    assert period.add_to(latest + dt.timedelta(days=1)) > day


@pytest.mark.parametrize(
    ("day", "latest"),
    [
        (dt.date(2026, 12, 3), dt.date(2026, 9, 3)),
        # 31 May + 3 months is 31 August; 1 June + 3 months is 1 September
        (dt.date(2026, 8, 31), dt.date(2026, 5, 31)),
        # 30 November + 3 months is clamped to 28 February: ended by then, as are 29–30 Nov
        (dt.date(2027, 2, 28), dt.date(2026, 11, 30)),
    ],
)
def test_the_idle_period_of_the_rule_file(day, latest):
    idle = load_policy().period("grant_idle")  # three months (Art.27)
    assert idle.latest_start_ending_by(day) == latest
