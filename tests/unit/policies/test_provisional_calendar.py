"""Provisional years: national holiday rules with lunar dates, 补假, no 调休, marked as such."""

import datetime as dt
import json
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongdao.policies.calendar import (
    HOLIDAY,
    WorkingDayCalendar,
    YearData,
    recompute_due,
)
from tongdao.policies.holiday_rules import (
    HolidayRulesError,
    load_holiday_rules,
    provisional_year,
    statutory_days,
)

CAL = WorkingDayCalendar.default()
RULES = load_holiday_rules()
KAT = json.loads((Path(__file__).parent / "data" / "provisional-kat.json").read_text())
PROVISIONAL = st.dates(min_value=dt.date(2027, 1, 1), max_value=dt.date(2040, 12, 31))


@pytest.mark.parametrize("year", sorted(KAT["days_off"]))
def test_known_days_off_of_provisional_years(year):
    computed = provisional_year(RULES, int(year))
    got = [[d.isoformat(), n, d in computed.made_up] for d, n in sorted(computed.holidays.items())]
    assert got == KAT["days_off"][year]
    for day, name, made_up in KAT["days_off"][year]:
        info = CAL.info(dt.date.fromisoformat(day))
        assert (info.kind, info.name, info.working) == (HOLIDAY, name, False)
        assert info.provisional and info.made_up == made_up


@pytest.mark.parametrize("case", KAT["due"], ids=lambda c: f"{c['received']}+{c['n']}")
def test_known_provisional_due_dates(case):
    due = CAL.due(dt.date.fromisoformat(case["received"]), case["n"])
    assert due.day.isoformat() == case["due"], case["why"]
    assert list(due.provisional_years) == case["years"]
    assert "2025" not in due.note("en") and str(case["years"][0]) in due.note("en")
    assert "全国年节及纪念日放假办法" in due.note("zh-CN")


def test_an_official_year_is_not_provisional_and_a_loaded_year_replaces_the_rules():
    assert not CAL.due(dt.date(2026, 9, 18), 5).provisional
    cal = WorkingDayCalendar.default()
    assert cal.is_provisional(2027)
    cal.add_official_year(2027, YearData({dt.date(2027, 1, 1): "New Year's Day"}, {}))
    assert not cal.is_provisional(2027)
    assert not cal.info(dt.date(2027, 2, 8)).provisional  # the official file has no 02-08 off
    assert cal.is_working_day(dt.date(2027, 2, 8))


@pytest.mark.parametrize("year", range(2008, 2027))
def test_lunar_and_solar_term_holidays_match_every_official_year_known(year):
    # Qingming, Dragon Boat and Mid-Autumn have been statutory since 2008, the first three days
    # of Spring Festival for longer: each computed date must be a day off in the official data.
    for day, rule in statutory_days(RULES, year):
        if rule.calendar == "gregorian" or (rule.name == "Spring Festival" and year < 2025):
            continue  # the eve and Labour Day's second day became statutory only in 2025
        assert chinese_calendar.is_holiday(day), (year, day, rule.name)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_under_the_amended_rules_is_off_in_2025_and_2026(year):
    for day, rule in statutory_days(RULES, year):
        assert chinese_calendar.is_holiday(day), (day, rule.name)


def test_years_the_rules_do_not_cover_are_refused():
    with pytest.raises(ValueError, match="apply from 2025-01-01"):
        provisional_year(RULES, 2024)
    with pytest.raises(ValueError, match="2100"):
        provisional_year(RULES, 2100)


def test_malformed_rules_name_the_key(tmp_path):
    text = (Path(RULES.source)).read_text(encoding="utf-8")
    for old, new, key in (
        ("days = 4", "days = 0", "holiday[1].days"),
        ('term = "qingming"', 'term = "lichun"', "holiday[2].term"),
        ("adjusted_working_days = false", "adjusted_working_days = true", "adjusted_working_days"),
        ('calendar = "lunar"', 'calendar = "hijri"', "holiday[1].calendar"),
    ):
        bad = tmp_path / "rules.toml"
        bad.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(HolidayRulesError, match=key.replace("[", r"\[").replace("]", r"\]")):
            load_holiday_rules(bad)


@settings(max_examples=150, deadline=None)
@given(start=PROVISIONAL, n=st.integers(min_value=1, max_value=60))
def test_a_provisional_due_date_is_a_working_day_n_working_days_on(start, n):
    due = CAL.due(start, n)
    assert due.day > start and CAL.is_working_day(due.day)
    assert CAL.working_days_between(start, due.day) == n
    assert due.provisional and due.day.year in due.provisional_years


@settings(max_examples=100, deadline=None)
@given(start=PROVISIONAL, n=st.integers(min_value=1, max_value=40))
def test_provisional_due_dates_are_monotone_in_n(start, n):
    assert CAL.due_date(start, n) < CAL.due_date(start, n + 1)


@settings(max_examples=100, deadline=None)
@given(start=PROVISIONAL, gap=st.integers(min_value=0, max_value=30), n=st.integers(1, 30))
def test_provisional_due_dates_are_monotone_in_start(start, gap, n):
    assert CAL.due_date(start, n) <= CAL.due_date(start + dt.timedelta(days=gap), n)


@settings(max_examples=100, deadline=None)
@given(year=st.integers(2027, 2099))
def test_a_provisional_year_has_its_statutory_days_and_no_make_up_working_day(year):
    computed = provisional_year(RULES, year)
    assert len(set(computed.statutory)) + len(computed.made_up) >= 13
    assert all(CAL.info(d).kind != "make_up" for d in computed.holidays)
    for day in computed.made_up:
        assert day.weekday() < 5 and day.year == year


@st.composite
def official_years(draw):
    """A plausible official 2027: some days off around the provisional ones, some 调休 Saturdays."""
    holidays = {}
    for day in draw(st.sets(st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)), max_size=25)):
        holidays[day] = "break"
    weekends = [dt.date(2027, 1, 2) + dt.timedelta(days=7 * k) for k in range(52)]  # Saturdays
    workdays = {d: "调休" for d in draw(st.sets(st.sampled_from(weekends), max_size=8))}
    for day in workdays:
        holidays.pop(day, None)
    return YearData(holidays, workdays)


@settings(max_examples=120, deadline=None)
@given(
    start=st.dates(dt.date(2026, 11, 1), dt.date(2027, 11, 30)),
    n=st.integers(1, 30),
    extensions=st.lists(st.integers(1, 5), max_size=2),
    official=official_years(),
)
def test_loading_an_official_year_never_moves_an_announced_date_earlier(
    start, n, extensions, official
):
    announced = recompute_due(CAL, start, n, extensions, start).due
    cal = WorkingDayCalendar.default()
    cal.add_official_year(2027, official)
    again = recompute_due(cal, start, n, extensions, announced)
    assert again.due >= announced
    assert again.due == max(again.computed, announced)
    assert cal.is_working_day(again.computed)
    assert again.kept_announced == (again.computed < announced)


def test_with_official_year_leaves_the_original_calendar_unchanged():
    cal = WorkingDayCalendar.default()
    loaded = cal.with_official_year(2027, YearData({}, {}))
    assert cal.is_provisional(2027) and not loaded.is_provisional(2027)
    assert loaded.is_working_day(dt.date(2027, 1, 1)) and not cal.is_working_day(
        dt.date(2027, 1, 1)
    )
    assert loaded.info(dt.date(2026, 10, 1)).name == "National Day"  # the package's years stay


def test_cli_explain_marks_provisional_days_and_ends_with_the_note(tmp_path, capsys):
    from tongdao.cli import main

    home = str(tmp_path / "home")
    argv = ["calendar", "due", "2027-02-04", "1", "--explain", "--home", home]
    assert main([*argv, "--locale", "en"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2027-02-11"
    assert "2027-02-09 Tue  skipped: day off in lieu (补假) of Spring Festival (provisional" in (
        "\n".join(out)
    )
    assert out[-1].startswith("provisional: 2027 has no official holiday schedule yet")
    assert main([*argv, "--locale", "zh-CN"]) == 0
    zh = capsys.readouterr().out
    assert "补假：春节（暂定：2027年尚无官方安排）" in zh and zh.splitlines()[-1].startswith("暂定")


def test_cli_rules_lists_a_provisional_year(tmp_path, capsys):
    from tongdao.cli import main

    assert main(["calendar", "rules", "2028", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2028-10-03 Tue  Mid-autumn Festival" in out
    assert "2028-10-05 Thu  National Day (补假, in lieu)" in out
    assert main(["calendar", "rules", "2026", "--home", str(tmp_path)]) == 0
    assert "official schedule" in capsys.readouterr().out
