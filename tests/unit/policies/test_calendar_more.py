"""The calendar explains itself, keeps to Asia/Shanghai, and never guesses an unknown year."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.policies.calendar import (
    HOLIDAY,
    MAKE_UP,
    WEEKEND,
    WORKING,
    UnknownYearError,
    WorkingDayCalendar,
    YearData,
)

CAL = WorkingDayCalendar.default()
KNOWN = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 10, 31))


def test_each_kind_of_day_is_explained_in_both_locales():
    info = {i.day: i for i in CAL.explain(dt.date(2026, 9, 18), 9)}
    sat, make_up, mid_autumn, national = (
        info[dt.date(2026, 9, 19)],
        info[dt.date(2026, 9, 20)],
        info[dt.date(2026, 9, 25)],
        info[dt.date(2026, 10, 1)],
    )
    assert (sat.kind, sat.working, sat.describe("zh-CN"), sat.describe("en")) == (
        WEEKEND,
        False,
        "周末",
        "weekend",
    )
    assert make_up.kind == MAKE_UP and make_up.working
    assert make_up.describe("zh-CN") == "调休上班日：国庆节"
    assert "National Day" in make_up.describe("en")
    assert mid_autumn.kind == HOLIDAY and mid_autumn.describe("zh-CN") == "法定节假日：中秋节"
    assert national.describe("en") == "holiday: National Day"
    assert info[dt.date(2026, 9, 21)].kind == WORKING


def test_a_holiday_weekend_is_named_as_the_holiday():
    day = CAL.info(dt.date(2026, 2, 21))  # Saturday inside the Spring Festival break
    assert (day.kind, day.name, day.working) == (HOLIDAY, "Spring Festival", False)


def test_today_is_shanghai_time_and_the_clock_is_injectable():
    late_utc = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)  # 01:00 on 10-01 in Shanghai
    assert WorkingDayCalendar.default(clock=lambda: late_utc).today() == dt.date(2026, 10, 1)
    naive = WorkingDayCalendar.default(clock=lambda: dt.datetime(2026, 9, 30, 12))
    with pytest.raises(ValueError, match="aware"):
        naive.today()


def test_years_the_rules_cannot_cover_are_refused_naming_the_year():
    for day, year in ((dt.date(2100, 3, 1), 2100), (dt.date(2003, 6, 2), 2003)):
        with pytest.raises(UnknownYearError) as err:
            CAL.is_working_day(day)
        assert err.value.year == year and str(year) in str(err.value)
    with pytest.raises(UnknownYearError) as err:
        CAL.working_days_between(dt.date(2099, 12, 1), dt.date(2100, 1, 10))
    assert err.value.year == 2100


def test_a_year_in_the_operator_file_replaces_the_package_for_that_year():
    cal = WorkingDayCalendar(
        {2026: YearData({dt.date(2026, 3, 2): "测试假日"}, {dt.date(2026, 3, 7): "测试调休"})}
    )
    assert not cal.is_working_day(dt.date(2026, 3, 2))
    assert cal.info(dt.date(2026, 3, 7)).describe("zh-CN") == "调休上班日：测试调休"
    # the package's Spring Festival no longer applies to 2026 in this calendar
    assert cal.is_working_day(dt.date(2026, 2, 17))


def test_too_many_working_days_is_an_error():
    with pytest.raises(ValueError):
        CAL.due_date(dt.date(2025, 1, 2), 10_000)


@settings(max_examples=60, deadline=None)
@given(start=KNOWN, n=st.integers(max_value=0, min_value=-1000))
def test_n_below_one_is_always_an_error(start, n):
    with pytest.raises(ValueError):
        CAL.due_date(start, n)
    with pytest.raises(ValueError):
        CAL.explain(start, n)


@settings(max_examples=80, deadline=None)
@given(a=KNOWN, b=KNOWN)
def test_remaining_working_days_is_antisymmetric(a, b):
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)


@settings(max_examples=80, deadline=None)
@given(start=st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 30)), n=st.integers(1, 20))
def test_due_date_composes_and_explain_matches(start, n):
    due = CAL.due_date(start, n)
    assert CAL.due_date(CAL.due_date(start, 1), n - 1) == due if n > 1 else True
    days = CAL.explain(start, n)
    assert days[-1].day == due and sum(d.working for d in days) == n
    assert all(d.kind in (WORKING, WEEKEND, HOLIDAY, MAKE_UP) for d in days)
    # on the due date itself no working day remains; the day after, it is overdue
    assert CAL.working_days_between(due, due) == 0
