"""The PRC working-day calendar (timezone Asia/Shanghai) for every working-day clock (SUP-1).

Sources, in order: the operator's data file ``policies/calendar_data/prc-holidays.toml`` (for
years the package does not know yet, or corrections), then the ``chinesecalendar`` package
(statutory holidays and make-up working days, 调休). A date in a year neither knows raises
:class:`UnknownYearError` naming the year — never a weekend-only guess.

Counting follows PRC administrative practice: the day of receipt is not counted; an item is due
at the end of its Nth working day after receipt.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from tongdao.policies.i18n import DEFAULT_LOCALE, translate

DATA_FILE = Path(__file__).resolve().parent / "calendar_data" / "prc-holidays.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 366


class UnknownYearError(LookupError):
    """The calendar has no holiday data for a year. ``year`` names it."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"no PRC holiday data for {year}: add the State Council's {year} schedule to "
            f"{DATA_FILE} (or upgrade chinesecalendar)"
        )
        self.year = year


class CalendarDataError(ValueError):
    """The operator's calendar data file is malformed (names the file, key and problem)."""


WORKING = "working"
WEEKEND = "weekend"
HOLIDAY = "holiday"
MAKE_UP = "make_up"


@dataclass(frozen=True)
class DayInfo:
    """Why a day is or is not a working day.

    Attributes:
        day: the date.
        working: whether it is a working day.
        reason: in English: ``working day``, ``weekend``, ``holiday: <name>`` or
            ``make-up working day: <name>``.
        kind: ``working``, ``weekend``, ``holiday`` or ``make_up`` (调休).
        name: the holiday's name (for ``holiday`` and ``make_up``), as the data source gives it.
    """

    day: dt.date
    working: bool
    reason: str
    kind: str = ""
    name: str = ""

    def describe(self, locale: str = DEFAULT_LOCALE) -> str:
        """The reason in ``locale``, e.g. ``法定节假日：春节`` or ``调休上班日：国庆节``.

        Raises:
            ValueError: unknown locale.
        """
        name = translate(self.name, locale) if self.name else ""
        if self.kind == HOLIDAY:
            return translate("holiday: {name}", locale, name=name)
        if self.kind == MAKE_UP:
            return translate("make-up working day (调休) for {name}", locale, name=name)
        if self.kind == WEEKEND:
            return translate("weekend", locale)
        return translate("working day", locale)


@dataclass(frozen=True)
class YearData:
    """Exceptions to the weekday rule for one year."""

    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]


def _load_data_file(path: Path) -> dict[int, YearData]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise CalendarDataError(f"{path}: not valid TOML: {exc}") from None
    years = raw.get("years", {})
    if not isinstance(years, dict):
        raise CalendarDataError(f"{path}: years: must be a table")
    out: dict[int, YearData] = {}
    for year_text, table in years.items():
        if not year_text.isdigit() or not isinstance(table, dict):
            raise CalendarDataError(f"{path}: years.{year_text}: must be a table named by a year")
        year = int(year_text)
        parsed: dict[str, dict[dt.date, str]] = {"holidays": {}, "workdays": {}}
        for kind in ("holidays", "workdays"):
            for n, item in enumerate(table.get(kind, [])):
                key = f"years.{year}.{kind}[{n}]"
                if not isinstance(item, dict) or not isinstance(item.get("date"), dt.date):
                    raise CalendarDataError(f"{path}: {key}: needs date = YYYY-MM-DD and name")
                day = item["date"]
                if day.year != year:
                    raise CalendarDataError(f"{path}: {key}: {day} is not in {year}")
                parsed[kind][day] = str(item.get("name", ""))
        out[year] = YearData(parsed["holidays"], parsed["workdays"])
    return out


def _holiday(day: dt.date, name: str) -> DayInfo:
    return DayInfo(day, False, f"holiday: {name}", HOLIDAY, name)


def _make_up(day: dt.date, name: str) -> DayInfo:
    return DayInfo(day, True, f"make-up working day: {name or 'adjusted'}", MAKE_UP, name)


def _ordinary(day: dt.date, weekend: bool) -> DayInfo:
    if weekend:
        return DayInfo(day, False, "weekend", WEEKEND)
    return DayInfo(day, True, "working day", WORKING)


class WorkingDayCalendar:
    """Working days in mainland China."""

    def __init__(
        self,
        data: dict[int, YearData] | None = None,
        *,
        use_package: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """Build a calendar.

        Args:
            data: per-year exceptions that take precedence over the package.
            use_package: also use ``chinesecalendar`` for the years it knows.
            clock: returns the current instant (injectable for tests); UTC now by default.
        """
        self._data = data or {}
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._package_years: frozenset[int] = frozenset()
        if use_package:
            from chinese_calendar import constants

            self._package_years = frozenset(d.year for d in constants.holidays)

    @classmethod
    def default(cls, clock: Callable[[], dt.datetime] | None = None) -> WorkingDayCalendar:
        """The package's data plus the operator's data file."""
        return cls(_load_data_file(DATA_FILE), clock=clock)

    @property
    def known_years(self) -> frozenset[int]:
        """Years with holiday data."""
        return self._package_years | frozenset(self._data)

    def today(self) -> dt.date:
        """Today in Asia/Shanghai, from the (injectable) clock.

        Raises:
            ValueError: the clock returned a naive datetime (its time zone would be a guess).
        """
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the calendar's clock must return an aware datetime")
        return now.astimezone(SHANGHAI).date()

    def info(self, day: dt.date) -> DayInfo:
        """Whether ``day`` is a working day, and why.

        Raises:
            UnknownYearError: no data for ``day.year``.
        """
        weekend = day.weekday() >= 5
        year = self._data.get(day.year)
        if year is not None:
            if day in year.holidays:
                return _holiday(day, year.holidays[day])
            if day in year.workdays:
                return _make_up(day, year.workdays[day])
            return _ordinary(day, weekend)
        if day.year not in self._package_years:
            raise UnknownYearError(day.year)
        import chinese_calendar

        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if is_holiday:
            return _holiday(day, str(name)) if name else _ordinary(day, True)
        if weekend:
            return _make_up(day, str(name or ""))
        return _ordinary(day, False)

    def is_working_day(self, day: dt.date) -> bool:
        """True for a working day.

        Raises:
            UnknownYearError: no data for the year.
        """
        return self.info(day).working

    def due_date(self, received: dt.date, working_days: int) -> dt.date:
        """The end of the ``working_days``-th working day after ``received`` (not counted).

        Args:
            received: the day the item was received or started.
            working_days: N ≥ 1.

        Returns:
            The due date (a working day).

        Raises:
            ValueError: N < 1 or absurdly large.
            UnknownYearError: the count runs into a year without data.
        """
        if not 1 <= working_days <= MAX_WORKING_DAYS:
            raise ValueError(f"working_days must be between 1 and {MAX_WORKING_DAYS}")
        day, counted = received, 0
        while counted < working_days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def explain(self, received: dt.date, working_days: int) -> list[DayInfo]:
        """Every day from the one after ``received`` to the due date, with why it counts or not.

        Args:
            received: the day the item was received (not counted).
            working_days: N ≥ 1.

        Returns:
            One :class:`DayInfo` per day in ``(received, due]``; the skipped days are those
            with ``working`` false (weekend or holiday); make-up days have kind ``make_up``.

        Raises:
            ValueError: N < 1 or absurdly large.
            UnknownYearError: the count runs into a year without data.
        """
        due = self.due_date(received, working_days)
        out = []
        day = received
        while day < due:
            day += dt.timedelta(days=1)
            out.append(self.info(day))
        return out

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days remaining from ``start`` until ``end`` is over.

        Counts working days in ``(start, end]`` when ``end >= start`` (0 on the due date itself:
        due at the end of today), and minus the working days in ``(end, start]`` when ``end`` has
        passed (overdue by that many working days).

        Raises:
            UnknownYearError: a year without data lies in between.
        """
        lo, hi, sign = (start, end, 1) if end >= start else (end, start, -1)
        count = 0
        day = lo
        while day < hi:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return sign * count
