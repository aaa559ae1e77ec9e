"""Provisional holidays for a year without an official schedule, from the national holiday rules.

The rules (which holidays, how many days, on which calendar, the make-up rule) are data:
``policies/calendar_data/statutory-holidays.toml``. Lunar dates and the Qingming solar term come
from the ``lunar-python`` package (astronomical algorithms of 寿星天文历, Beijing time, pure
Python, no data download). A provisional year has weekends and statutory holidays as rest days,
a holiday that falls on a Saturday or Sunday (or on another holiday) made up on the first working
day(s) after it (补假), and no make-up working days (调休 is set by each year's notice).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).resolve().parent / "calendar_data" / "statutory-holidays.toml"
CALENDARS = ("gregorian", "lunar", "solar_term")
SOLAR_TERMS = {"qingming": "清明"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_LUNAR_YEAR, LAST_LUNAR_YEAR = 1901, 2099


class HolidayRulesError(ValueError):
    """The statutory-holiday rules file is malformed (names the file, key and problem)."""


@dataclass(frozen=True)
class HolidayRule:
    """One statutory holiday of all citizens."""

    name: str
    name_zh: str
    calendar: str
    month: int = 0
    day: int = 0
    term: str = ""
    offset: int = 0
    days: int = 1


@dataclass(frozen=True)
class HolidayRules:
    """The national holiday rules a provisional year is computed from."""

    title: str
    title_en: str
    amendment: str
    effective_from: dt.date
    article: str
    make_up_article: str
    weekend: frozenset[int]
    make_up_weekend_holidays: bool
    make_up_coinciding_holidays: bool
    holidays: tuple[HolidayRule, ...]
    source: str

    def citation(self) -> str:
        """``全国年节及纪念日放假办法 Art.2, Art.6``."""
        return f"{self.title} {self.article}, {self.make_up_article}"


@dataclass(frozen=True)
class ProvisionalYear:
    """A provisional year: its rest days (statutory and made-up), each with its holiday name."""

    year: int
    statutory: dict[dt.date, str]
    made_up: dict[dt.date, str]

    @property
    def holidays(self) -> dict[dt.date, str]:
        return {**self.statutory, **self.made_up}


def _fail(file: str, key: str, problem: str) -> HolidayRulesError:
    return HolidayRulesError(f"{file}: {key}: {problem}")


def _int(file: str, key: str, table: dict[str, Any], name: str, lo: int, hi: int) -> int:
    value = table.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise _fail(file, f"{key}.{name}", f"must be an integer from {lo} to {hi}")
    return value


def load_holiday_rules(path: Path = RULES_FILE) -> HolidayRules:
    """Load and validate the statutory-holiday rules.

    Raises:
        HolidayRulesError: missing file, bad TOML, or a key missing or wrong (names it).
    """
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(file, "-", "no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _fail(file, "-", f"not valid TOML: {exc}") from None
    meta = raw.get("rules")
    if not isinstance(meta, dict):
        raise _fail(file, "rules", "missing table")
    for name in ("title", "article", "make_up_article"):
        if not isinstance(meta.get(name), str) or not meta[name].strip():
            raise _fail(file, f"rules.{name}", "must be a non-empty string")
    effective = meta.get("effective_from")
    if isinstance(effective, dt.datetime) or not isinstance(effective, dt.date):
        raise _fail(file, "rules.effective_from", "must be a date like 2025-01-01")
    weekend = meta.get("weekend")
    if not isinstance(weekend, list) or not weekend or any(d not in WEEKDAYS for d in weekend):
        raise _fail(file, "rules.weekend", f"must list days among {', '.join(WEEKDAYS)}")
    flags = {}
    for name in ("make_up_weekend_holidays", "make_up_coinciding_holidays"):
        if not isinstance(meta.get(name), bool):
            raise _fail(file, f"rules.{name}", "must be true or false")
        flags[name] = meta[name]
    if meta.get("adjusted_working_days", False) is not False:
        raise _fail(
            file,
            "rules.adjusted_working_days",
            "must be false: make-up working days (调休) come only from a year's official notice",
        )
    items = raw.get("holiday")
    if not isinstance(items, list) or not items:
        raise _fail(file, "holiday", "needs at least one [[holiday]]")
    holidays = []
    for n, item in enumerate(items):
        key = f"holiday[{n}]"
        if not isinstance(item, dict):
            raise _fail(file, key, "must be a table")
        label = item.get("name")
        if not isinstance(label, str) or not label.strip():
            raise _fail(file, f"{key}.name", "must be a non-empty string")
        calendar = item.get("calendar")
        if calendar not in CALENDARS:
            raise _fail(file, f"{key}.calendar", f"must be one of {', '.join(CALENDARS)}")
        month = day = 0
        term = ""
        if calendar == "solar_term":
            term = str(item.get("term", ""))
            if term not in SOLAR_TERMS:
                raise _fail(file, f"{key}.term", f"must be one of {', '.join(SOLAR_TERMS)}")
        else:
            month = _int(file, key, item, "month", 1, 12)
            day = _int(file, key, item, "day", 1, 31 if calendar == "gregorian" else 30)
        offset = item.get("offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or not -7 <= offset <= 7:
            raise _fail(file, f"{key}.offset", "must be an integer from -7 to 7")
        holidays.append(
            HolidayRule(
                name=label,
                name_zh=str(item.get("name_zh", "")),
                calendar=str(calendar),
                month=month,
                day=day,
                term=term,
                offset=offset,
                days=_int(file, key, item, "days", 1, 10),
            )
        )
    return HolidayRules(
        title=meta["title"],
        title_en=str(meta.get("title_en", meta["title"])),
        amendment=str(meta.get("amendment", "")),
        effective_from=effective,
        article=meta["article"],
        make_up_article=meta["make_up_article"],
        weekend=frozenset(WEEKDAYS.index(d) for d in weekend),
        make_up_weekend_holidays=flags["make_up_weekend_holidays"],
        make_up_coinciding_holidays=flags["make_up_coinciding_holidays"],
        holidays=tuple(holidays),
        source=file,
    )


def _anchor(rule: HolidayRule, year: int) -> dt.date:
    """The date a holiday counts from in ``year`` (Gregorian, lunar or solar-term)."""
    if rule.calendar == "gregorian":
        return dt.date(year, rule.month, rule.day)
    from lunar_python import Lunar, Solar

    if rule.calendar == "lunar":
        solar = Lunar.fromYmd(year, rule.month, rule.day).getSolar()
    else:
        # the lunar year around April holds the term of this Gregorian year
        solar = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()[SOLAR_TERMS[rule.term]]
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


def statutory_days(rules: HolidayRules, year: int) -> list[tuple[dt.date, HolidayRule]]:
    """Every statutory day off of ``year`` with its holiday, in date order (before 补假).

    Raises:
        ValueError: ``year`` is outside the lunar tables (1901–2099).
    """
    if not FIRST_LUNAR_YEAR <= year <= LAST_LUNAR_YEAR:
        raise ValueError(f"no lunar dates for {year} (only {FIRST_LUNAR_YEAR}–{LAST_LUNAR_YEAR})")
    out = []
    for rule in rules.holidays:
        first = _anchor(rule, year) + dt.timedelta(days=rule.offset)
        out += [(first + dt.timedelta(days=k), rule) for k in range(rule.days)]
    return sorted(out, key=lambda pair: pair[0])


def provisional_year(rules: HolidayRules, year: int) -> ProvisionalYear:
    """The provisional rest days of ``year``: statutory days and their make-up days (补假).

    A statutory day on a weekend (and, with ``make_up_coinciding_holidays``, a second holiday on
    a day already off) is made up on the first working day after the holiday that is not
    already a rest day; holidays are handled in date order.

    Raises:
        ValueError: ``year`` is before the rules took effect or outside the lunar tables.
    """
    if year < rules.effective_from.year:
        raise ValueError(
            f"the holiday rules in {rules.source} apply from {rules.effective_from}, not {year}"
        )
    statutory: dict[dt.date, str] = {}
    owed: list[tuple[dt.date, str]] = []  # (last day of the holiday, name) per day to make up
    for day, rule in statutory_days(rules, year):
        if day in statutory:
            if rules.make_up_coinciding_holidays:
                owed.append((day, rule.name))
            continue
        statutory[day] = rule.name
        if day.weekday() in rules.weekend and rules.make_up_weekend_holidays:
            owed.append((day, rule.name))
    made_up: dict[dt.date, str] = {}
    last_of: dict[str, dt.date] = {}
    for day, rule in statutory_days(rules, year):
        last_of[rule.name] = max(day, last_of.get(rule.name, day))
    for _day, name in owed:
        candidate = last_of[name]
        while True:
            candidate += dt.timedelta(days=1)
            if (
                candidate.weekday() not in rules.weekend
                and candidate not in statutory
                and candidate not in made_up
            ):
                break
        made_up[candidate] = name
    return ProvisionalYear(year, statutory, made_up)
