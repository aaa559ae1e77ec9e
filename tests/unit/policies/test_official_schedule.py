"""Loading a year's official schedule: accepted forms, and every refusal with its line."""

import datetime as dt

import pytest

from tongdao.cli import main
from tongdao.policies.holiday_rules import load_holiday_rules
from tongdao.policies.official_schedule import (
    ScheduleError,
    load_store,
    parse_schedule,
    render_schedule,
    save_to_store,
)

RULES = load_holiday_rules()
# A made-up 2027 schedule in the notice's shape (not the State Council's: it is not out yet).
TOML = """\
year = 2027
source = "test schedule (made up)"

[[holidays]]
name = "New Year's Day"
from = 2027-01-01
to = 2027-01-03

[[holidays]]
name = "Spring Festival"
from = 2027-02-05
to = 2027-02-12

[[holidays]]
name = "Tomb-sweeping Day"
from = 2027-04-03
to = 2027-04-05

[[holidays]]
name = "Labour Day"
from = 2027-05-01
to = 2027-05-05

[[holidays]]
name = "Dragon Boat Festival"
date = 2027-06-09

[[holidays]]
name = "Mid-autumn Festival"
date = 2027-09-15

[[holidays]]
name = "National Day"
from = 2027-10-01
to = 2027-10-07

[[workdays]]
name = "Spring Festival"
date = 2027-02-20

[[workdays]]
name = "National Day"
date = 2027-10-09
"""
CSV = """\
# source: test schedule (made up)
kind,from,to,name
holiday,2027-01-01,2027-01-03,New Year's Day
holiday,2027-02-05,2027-02-12,Spring Festival
holiday,2027-04-03,2027-04-05,Tomb-sweeping Day
holiday,2027-05-01,2027-05-05,Labour Day
holiday,2027-06-09,,Dragon Boat Festival
holiday,2027-09-15,,Mid-autumn Festival
holiday,2027-10-01,2027-10-07,National Day
workday,2027-02-20,,Spring Festival
workday,2027-10-09,,National Day
"""


def test_toml_and_csv_forms_give_the_same_year_and_it_round_trips():
    a = parse_schedule(TOML, rules=RULES)
    b = parse_schedule(CSV, csv_format=True, rules=RULES)
    assert a == b
    assert a.year == 2027 and len(a.holidays) == 28 and len(a.workdays) == 2
    assert a.holidays[dt.date(2027, 2, 6)] == "Spring Festival"
    assert parse_schedule(render_schedule(a)) == a


def _line_of(text, needle):
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "problem", "line_of"),
    [
        ("date = 2027-06-09", "date = 2026-06-09", "2026-06-09 is not in 2027", "2026-06-09"),
        ("date = 2027-10-09", "date = 2027-10-04", "both a holiday and a make-up", "2027-10-04"),
        ("date = 2027-02-20", "date = 2027-02-22", "a Monday", "2027-02-22"),
        ("to = 2027-02-12", "to = 2027-03-12", "more than 15 days", "2027-03-12"),
        ("to = 2027-01-03", "to = 2026-12-31", "before it starts", "2026-12-31"),
        ('name = "Labour Day"', 'name = ""', "name must be", None),
        ("date = 2027-09-15", 'date = "15 Sep"', "needs date", None),
        (
            "date = 2027-09-15",
            "date = 2027-09-16",
            "2027-09-15 (Mid-autumn Festival) is a statu",
            None,
        ),
        ("year = 2027", "year = 2027\nbogus = 1", "unknown key 'bogus'", "bogus"),
        ("year = 2027", "year = 3027", "not plausible", None),
        (
            "[[workdays]]",
            "[[workdays]]\nname = 'x'\ndate = 2027-02-20\n[[workdays]]",
            "twice",
            None,
        ),
    ],
)
def test_a_bad_toml_schedule_is_refused_with_line_and_problem(old, new, problem, line_of):
    text = TOML.replace(old, new, 1)
    with pytest.raises(ScheduleError) as err:
        parse_schedule(text, file="2027.toml", rules=RULES)
    assert problem in err.value.problem
    assert str(err.value).startswith("2027.toml: ")
    if line_of is not None:
        # the entry's [[...]] header, or the key's own line
        assert err.value.line in range(_line_of(text, line_of) - 3, _line_of(text, line_of) + 1)


def test_a_bad_csv_schedule_names_the_line():
    cases = [
        (CSV.replace("holiday,2027-06-09", "holyday,2027-06-09"), 7, "must be holiday or workday"),
        (CSV.replace("kind,from,to,name", "date,name"), 2, "header"),
        (CSV.replace("2027-09-15,,", "2027-09-31,,"), 8, "not a date"),
        (CSV.replace(",,National Day", ",National Day"), 11, "columns"),
        (CSV + "workday,2027-01-02,,New Year's Day\n", 12, "both a holiday and a make-up"),
        ("kind,from,to,name\n", 0, "lists no holidays"),
    ]
    for text, line, problem in cases:
        with pytest.raises(ScheduleError) as err:
            parse_schedule(text, file="2027.csv", csv_format=True, rules=RULES)
        assert (err.value.line, problem in err.value.problem) == (line, True), err.value


def test_too_many_days_off_is_not_plausible():
    extra = "".join(
        f'[[holidays]]\nname = "x"\ndate = 2027-{m:02d}-{d:02d}\n'
        for m in (3, 7, 8)
        for d in range(10, 16)
    )
    with pytest.raises(ScheduleError, match="not plausible"):
        parse_schedule(TOML + extra, rules=RULES)


def test_calendar_load_cli_installs_checks_and_refuses_whole(tmp_path, capsys):
    home = tmp_path / "home"
    good = tmp_path / "2027.csv"
    good.write_text(CSV, encoding="utf-8")
    assert main(["calendar", "load", str(good), "--check", "--home", str(home)]) == 0
    assert "OK" in capsys.readouterr().out and not (home / "calendar").exists()
    assert main(["calendar", "due", "2027-02-04", "1", "--home", str(home)]) == 0
    out, err = capsys.readouterr()
    assert out == "2027-02-11\n" and "2027" in err  # provisional before the load
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("date = 2027-10-09", "date = 2027-10-05"), encoding="utf-8")
    assert main(["calendar", "load", str(bad), "--home", str(home)]) == 2
    err = capsys.readouterr().err
    assert "refused, nothing installed" in err and "line " in err and "2027-10-05" in err
    assert load_store(home / "calendar") == {}
    assert main(["calendar", "load", str(good), "--home", str(home)]) == 0
    assert "installed" in capsys.readouterr().out
    assert main(["calendar", "due", "2027-02-04", "1", "--home", str(home), "--explain"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("2027-02-15\n") and "暂定" not in out and err == ""


def test_a_hand_edited_store_file_is_refused_naming_it(tmp_path, capsys):
    path = save_to_store(tmp_path / "home" / "calendar", parse_schedule(TOML))
    path.write_text(path.read_text().replace("2027-02-20", "2027-02-22"), encoding="utf-8")
    assert main(["calendar", "due", "2027-02-04", "1", "--home", str(tmp_path / "home")]) == 2
    assert str(path) in capsys.readouterr().err
