"""The PRC working-day calendar: known answers across 2026's holidays, and algebraic properties."""

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.policies.calendar import (
    CalendarDataError,
    UnknownYearError,
    WorkingDayCalendar,
    YearData,
    _load_data_file,
)

CAL = WorkingDayCalendar.default()
KAT = json.loads((Path(__file__).parent / "data" / "calendar-kat.json").read_text())["cases"]
# keep the property tests inside the years the calendar knows, with room for 60 working days
DAYS_2025_2026 = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 9, 30))


@pytest.mark.parametrize("case", KAT, ids=lambda c: f"{c['received']}+{c['n']}")
def test_known_answers_2026(case):
    due = CAL.due_date(dt.date.fromisoformat(case["received"]), case["n"])
    assert due.isoformat() == case["due"], case["why"]


def test_make_up_saturday_and_holidays_are_explained():
    days = {i.day.isoformat(): i for i in CAL.explain(dt.date(2026, 2, 13), 2)}
    assert days["2026-02-14"].working and "make-up" in days["2026-02-14"].reason
    assert not days["2026-02-17"].working and "Spring Festival" in days["2026-02-17"].reason
    assert days["2026-02-24"].working


def test_remaining_working_days():
    assert CAL.working_days_between(dt.date(2026, 9, 28), dt.date(2026, 9, 29)) == 1
    assert CAL.working_days_between(dt.date(2026, 9, 29), dt.date(2026, 9, 29)) == 0
    # due 09-29, on 10-08 overdue by the working days 09-30 and 10-08
    assert CAL.working_days_between(dt.date(2026, 10, 8), dt.date(2026, 9, 29)) == -2


def test_a_year_beyond_the_rules_is_an_error_naming_it_and_the_fix():
    with pytest.raises(UnknownYearError) as err:
        CAL.due_date(dt.date(2099, 12, 30), 5)
    assert err.value.year == 2100
    assert "2100" in str(err.value) and "tongdao calendar load" in str(err.value)
    with pytest.raises(UnknownYearError):
        CAL.is_working_day(dt.date(1999, 5, 4))  # before the holiday rules took effect


def test_zero_or_negative_working_days_is_an_error():
    for n in (0, -1):
        with pytest.raises(ValueError):
            CAL.due_date(dt.date(2026, 3, 2), n)


def test_operator_data_file_extends_and_overrides(tmp_path):
    data = tmp_path / "prc.toml"
    data.write_text(
        "[years.2027]\n"
        'holidays = [{ date = 2027-01-01, name = "New Year" }]\n'
        'workdays = [{ date = 2027-01-02, name = "New Year" }]\n'
    )
    cal = WorkingDayCalendar(_load_data_file(data))
    assert cal.due_date(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 2)
    assert cal.info(dt.date(2027, 1, 1)).reason == "holiday: New Year"
    only_file = WorkingDayCalendar({2030: YearData({}, {})}, use_package=False)  # no rules
    with pytest.raises(UnknownYearError):
        only_file.is_working_day(dt.date(2026, 1, 5))


def test_malformed_data_file_names_the_key(tmp_path):
    data = tmp_path / "prc.toml"
    data.write_text('[years.2027]\nholidays = [{ date = 2026-01-01, name = "x" }]\n')
    with pytest.raises(CalendarDataError) as err:
        _load_data_file(data)
    assert "years.2027.holidays[0]" in str(err.value)


@settings(max_examples=150, deadline=None)
@given(start=DAYS_2025_2026, n=st.integers(min_value=1, max_value=60))
def test_due_date_is_a_working_day_after_start(start, n):
    due = CAL.due_date(start, n)
    assert due > start
    assert CAL.is_working_day(due)
    assert CAL.working_days_between(start, due) == n


@settings(max_examples=100, deadline=None)
@given(start=DAYS_2025_2026, n=st.integers(min_value=1, max_value=40))
def test_due_date_is_monotone_in_n(start, n):
    assert CAL.due_date(start, n) < CAL.due_date(start, n + 1)


@settings(max_examples=100, deadline=None)
@given(start=DAYS_2025_2026, gap=st.integers(min_value=0, max_value=30), n=st.integers(1, 30))
def test_due_date_is_monotone_in_start(start, gap, n):
    assert CAL.due_date(start, n) <= CAL.due_date(start + dt.timedelta(days=gap), n)
