"""The PRC working-day calendar (timezone Asia/Shanghai) for every working-day clock (SUP-1).

Sources, in order: official years loaded by the operator (``tongdao calendar load``, or the data
file ``policies/calendar_data/prc-holidays.toml``), then the ``chinesecalendar`` package
(statutory holidays and make-up working days, 调休). A year neither knows is **provisional**:
its rest days come from the national holiday rules (:mod:`policies.holiday_rules`), and every
day of it says so (``DayInfo.provisional``), so every due date computed across it says so too.
A year the holiday rules cannot cover (before they took effect, beyond the lunar tables) raises
:class:`UnknownYearError` naming the year and the fix — never a weekend-only guess.

Counting follows PRC administrative practice: the day of receipt is not counted; an item is due
at the end of its Nth working day after receipt.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from tongdao.policies.holiday_rules import (
    HolidayRules,
    HolidayRulesError,
    load_holiday_rules,
    provisional_year,
)
from tongdao.policies.i18n import DEFAULT_LOCALE, translate

DATA_FILE = Path(__file__).resolve().parent / "calendar_data" / "prc-holidays.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 366


class UnknownYearError(LookupError):
    """The calendar can say nothing about a year. ``year`` names it."""

    def __init__(self, year: int, why: str = "") -> None:
        super().__init__(
            f"no PRC holiday data for {year}"
            + (f" ({why})" if why else "")
            + f": load the State Council's {year} holiday schedule with "
            "`tongdao calendar load FILE` (see docs/policies.md)"
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
        provisional: the day is in a year without an official schedule (computed from the
            national holiday rules; 调休 unknown).
        made_up: a day off in lieu of a holiday that fell on a weekend or another holiday (补假).
    """

    day: dt.date
    working: bool
    reason: str
    kind: str = ""
    name: str = ""
    provisional: bool = False
    made_up: bool = False

    def describe(self, locale: str = DEFAULT_LOCALE) -> str:
        """The reason in ``locale``, e.g. ``法定节假日：春节`` or ``调休上班日：国庆节``.

        Raises:
            ValueError: unknown locale.
        """
        name = translate(self.name, locale) if self.name else ""
        if self.kind == HOLIDAY and self.made_up:
            text = translate("day off in lieu (补假) of {name}", locale, name=name)
        elif self.kind == HOLIDAY:
            text = translate("holiday: {name}", locale, name=name)
        elif self.kind == MAKE_UP:
            text = translate("make-up working day (调休) for {name}", locale, name=name)
        elif self.kind == WEEKEND:
            text = translate("weekend", locale)
        else:
            text = translate("working day", locale)
        if self.provisional:
            text = translate(
                "{text} (provisional: no official schedule for {year})",
                locale,
                text=text,
                year=self.day.year,
            )
        return text


@dataclass(frozen=True)
class YearData:
    """Exceptions to the weekday rule for one year (an official schedule)."""

    holidays: dict[dt.date, str]
    workdays: dict[dt.date, str]
    source: str = ""


@dataclass(frozen=True)
class DueDate:
    """A due date and whether it rests on provisional years.

    Attributes:
        day: the due date (a working day).
        provisional_years: the years without an official schedule the count ran through.
        rules: the holiday rules cited for those years ("" when none).
    """

    day: dt.date
    provisional_years: tuple[int, ...] = ()
    rules: str = ""

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)

    def note(self, locale: str = DEFAULT_LOCALE) -> str:
        """Why the date is provisional, or "" (e.g. for a CLI line, a gRPC field, a ledger)."""
        if not self.provisional_years:
            return ""
        return translate(
            "provisional: {years} has no official holiday schedule yet; computed from {rules} "
            "without make-up working days (调休); the date may move later once the State "
            "Council's schedule is loaded, never earlier",
            locale,
            years=", ".join(str(y) for y in self.provisional_years),
            rules=self.rules,
        )


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


def _provisional(day: dt.date, name: str, made_up: bool) -> DayInfo:
    if made_up:
        reason = f"day off in lieu (补假) of {name} (provisional)"
    else:
        reason = f"holiday: {name} (provisional)"
    return DayInfo(day, False, reason, HOLIDAY, name, provisional=True, made_up=made_up)


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
        holiday_rules: HolidayRules | None = None,
    ) -> None:
        """Build a calendar.

        Args:
            data: official years (per-year exceptions) that take precedence over the package.
            use_package: also use ``chinesecalendar`` for the years it knows.
            clock: returns the current instant (injectable for tests); UTC now by default.
            holiday_rules: the national holiday rules for provisional years; without them a
                year with no official data raises :class:`UnknownYearError`.
        """
        self._data = dict(data or {})
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._package_years: frozenset[int] = frozenset()
        self._rules = holiday_rules
        self._provisional: dict[int, dict[dt.date, DayInfo]] = {}
        if use_package:
            from chinese_calendar import constants

            self._package_years = frozenset(d.year for d in constants.holidays)

    @classmethod
    def default(
        cls,
        clock: Callable[[], dt.datetime] | None = None,
        official: dict[int, YearData] | None = None,
    ) -> WorkingDayCalendar:
        """The package's data, the bundled data file, ``official`` years and the holiday rules.

        Raises:
            CalendarDataError: the bundled data file or the holiday rules are malformed.
        """
        data = _load_data_file(DATA_FILE)
        data.update(official or {})
        try:
            rules = load_holiday_rules()
        except HolidayRulesError as exc:
            raise CalendarDataError(str(exc)) from None
        return cls(data, clock=clock, holiday_rules=rules)

    @property
    def known_years(self) -> frozenset[int]:
        """Years with official holiday data."""
        return self._package_years | frozenset(self._data)

    @property
    def holiday_rules(self) -> HolidayRules | None:
        """The national holiday rules used for provisional years."""
        return self._rules

    def add_official_year(self, year: int, data: YearData) -> None:
        """Install a year's official schedule (replacing a provisional or earlier one)."""
        self._data[year] = data
        self._provisional.pop(year, None)

    def with_official_year(self, year: int, data: YearData) -> WorkingDayCalendar:
        """A copy of this calendar with ``year``'s official schedule (this one is unchanged)."""
        copy = WorkingDayCalendar(
            {**self._data, year: data},
            use_package=False,
            clock=self._clock,
            holiday_rules=self._rules,
        )
        copy._package_years = self._package_years
        copy._provisional = {y: d for y, d in self._provisional.items() if y != year}
        return copy

    def is_provisional(self, year: int) -> bool:
        """True when ``year`` has no official data and is computed from the holiday rules."""
        return year not in self.known_years

    def _provisional_days(self, year: int) -> dict[dt.date, DayInfo]:
        cached = self._provisional.get(year)
        if cached is not None:
            return cached
        if self._rules is None:
            raise UnknownYearError(year)
        if year < self._rules.effective_from.year:
            raise UnknownYearError(
                year, f"before the holiday rules took effect on {self._rules.effective_from}"
            )
        try:
            computed = provisional_year(self._rules, year)
        except ValueError as exc:
            raise UnknownYearError(year, str(exc)) from None
        days = {d: _provisional(d, n, False) for d, n in computed.statutory.items()}
        days.update({d: _provisional(d, n, True) for d, n in computed.made_up.items()})
        self._provisional[year] = days
        return days

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
            UnknownYearError: no official data for ``day.year`` and the holiday rules do not
                cover it either.
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
            special = self._provisional_days(day.year).get(day)
            if special is not None:
                return special
            ordinary = _ordinary(day, weekend)
            return DayInfo(
                day,
                ordinary.working,
                f"{ordinary.reason} (provisional)",
                ordinary.kind,
                provisional=True,
            )
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

    def due(self, received: dt.date, working_days: int) -> DueDate:
        """Like :meth:`due_date`, and which provisional years the count ran through.

        Raises:
            ValueError: N < 1 or absurdly large.
            UnknownYearError: the count runs into a year the calendar cannot cover.
        """
        day = self.due_date(received, working_days)
        return self.span(received, day)

    def span(self, start: dt.date, end: dt.date) -> DueDate:
        """``end`` as a due date counted from ``start``: the provisional years in ``(start, end]``.

        Raises:
            UnknownYearError: a year in between the calendar cannot cover.
        """
        years: tuple[int, ...] = ()
        if end > start:
            first = (start + dt.timedelta(days=1)).year
            years = tuple(y for y in range(first, end.year + 1) if self.is_provisional(y))
        rules = self._rules.citation() if years and self._rules is not None else ""
        return DueDate(end, years, rules)

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


@dataclass(frozen=True)
class Recomputed:
    """A due date recomputed on newer calendar data.

    Attributes:
        announced: the due date the parties were told.
        computed: the due date on the calendar now.
        due: the date that applies: never earlier than announced.
    """

    announced: dt.date
    computed: dt.date
    due: dt.date

    @property
    def kept_announced(self) -> bool:
        return self.computed < self.announced


def recompute_due(
    calendar: WorkingDayCalendar,
    started: dt.date,
    working_days: int,
    extensions: Sequence[int],
    announced: dt.date,
) -> Recomputed:
    """Recount a clock (and its granted extensions) on ``calendar``; a due date already
    announced to a party never moves earlier.

    Args:
        started: the day the clock started (not counted).
        working_days: its working days.
        extensions: the working days of each extension granted, in order (each counted from
            the previous due date).
        announced: the due date announced so far.

    Raises:
        ValueError: a count out of range.
        UnknownYearError: a year the calendar cannot cover.
    """
    computed = calendar.due_date(started, working_days)
    for days in extensions:
        computed = calendar.due_date(computed, days)
    return Recomputed(announced, computed, max(computed, announced))
