"""``tongdao calendar``: working-day arithmetic on the PRC calendar (statutory holidays, 调休)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.commands._grammar import add_json_argument
from tongdao.i18n import current, explained, tr
from tongdao.policies.i18n import msg, os_reason

if TYPE_CHECKING:
    from tongdao.policies.calendar import WorkingDayCalendar
    from tongdao.policies.official_schedule import OfficialYear

LOCALES = ("zh-CN", "en")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-30") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``tongdao calendar`` and its sub-commands to ``sub``."""
    parser = sub.add_parser(
        "calendar",
        help="working-day deadlines on the PRC calendar",
        description=(
            "Working days in mainland China (Asia/Shanghai): weekends and statutory holidays are "
            "off, make-up working days (调休) are on. Data: the chinesecalendar package and the "
            "official schedules loaded with `tongdao calendar load`. A year without an official "
            "schedule is provisional: computed from the national holiday rules "
            "(policies/calendar_data/statutory-holidays.toml) and marked as such."
        ),
    )
    csub = parser.add_subparsers(dest="calendar_command", metavar="COMMAND")
    csub.required = True
    due = csub.add_parser(
        "due",
        help="due date of an item received on START with N working days",
        description=(
            "Print the due date (YYYY-MM-DD) of an item received on START with N working days. "
            "The day of receipt is not counted; the item is due at the end of the Nth working day. "
            "Statutory holidays and make-up working days (调休) are applied."
        ),
    )
    due.add_argument("start", type=_date, help="day of receipt, YYYY-MM-DD")
    due.add_argument("n", type=int, help="working days (>= 1)")
    due.add_argument(
        "--explain",
        action="store_true",
        help="list each day up to the due date and why it counts or is skipped "
        "(weekend, holiday name, make-up working day)",
    )
    due.add_argument(
        "--locale", choices=LOCALES, help="language of --explain (default: as for every command)"
    )
    add_home_argument(due)
    add_json_argument(due)
    due.set_defaults(handler=due_command)
    load = csub.add_parser(
        "load",
        help="install a year's official holiday schedule from a TOML or CSV file",
        description=(
            "Validate a year's official holiday schedule (the State Council's notice: every day "
            "off and every make-up working day) and install it for this home's calendar; with "
            "--broker, install it at the broker (the authority only), which recomputes the open "
            "deadlines computed provisionally (never earlier than announced). The file is "
            "refused whole, naming the line and the problem. Format: docs/policies.md."
        ),
    )
    load.add_argument("file", help="schedule file (.toml, or .csv with kind,from,to,name)")
    load.add_argument("--csv", action="store_true", help="read CSV even without a .csv suffix")
    load.add_argument(
        "--check", action="store_true", help="only validate the file; install nothing"
    )
    load.add_argument(
        "--to-broker",
        action="store_true",
        help="install at the broker (as the authority) instead of this home",
    )
    from tongdao.commands._common import add_broker_arguments

    add_broker_arguments(load, as_help="identity (default: authority)")
    load.set_defaults(handler=load_command)
    rules = csub.add_parser(
        "rules",
        help="print the holiday rules used for years without an official schedule",
        description="Print the national holiday rules a provisional year is computed from, and "
        "the holidays they give for YEAR.",
    )
    rules.add_argument("year", type=int, nargs="?", help="also list that year's provisional days")
    add_home_argument(rules)
    add_json_argument(rules, lines=True)
    rules.set_defaults(handler=rules_command)


def calendar_dir(home: str) -> Path:
    """Where this home keeps the official schedules loaded with ``tongdao calendar load``."""
    return Path(home) / "calendar"


def local_calendar(home: str) -> WorkingDayCalendar:
    """The calendar with this home's loaded official years.

    Raises:
        CommandError: a stored schedule or the rules file is malformed.
    """
    from tongdao.policies.calendar import CalendarDataError, WorkingDayCalendar, YearData
    from tongdao.policies.official_schedule import ScheduleError, load_store

    try:
        years = load_store(calendar_dir(home))
        return WorkingDayCalendar.default(
            official={y.year: YearData(y.holidays, y.workdays, y.source) for y in years.values()}
        )
    except (ScheduleError, CalendarDataError) as exc:
        raise CommandError(
            explained(exc, "cannot read the official holiday schedules: {reason}")
        ) from None


def _weekday(day: dt.date, locale: str) -> str:
    from tongdao.policies.i18n import translate

    names = (
        translate("Mon", locale),
        translate("Tue", locale),
        translate("Wed", locale),
        translate("Thu", locale),
        translate("Fri", locale),
        translate("Sat", locale),
        translate("Sun", locale),
    )
    return names[day.weekday()]


def due_command(args: argparse.Namespace) -> int:
    """Print the due date, and with ``--explain`` every day counted or skipped."""
    from tongdao.policies.calendar import MAKE_UP, UnknownYearError
    from tongdao.policies.i18n import translate

    calendar = local_calendar(args.home)
    try:
        result = calendar.due(args.start, args.n)
        days = calendar.explain(args.start, args.n) if args.explain else []
    except (ValueError, UnknownYearError) as exc:
        raise CommandError(explained(exc, "cannot count the working days: {reason}")) from None
    due = result.day
    loc = args.locale or current()
    if args.json:
        counted_days = [
            {"day": i.day.isoformat(), "working": i.working, "why": i.describe(loc)} for i in days
        ]
        data = {"start": args.start.isoformat(), "working_days": args.n, "due": due.isoformat()}
        data |= {"provisional": result.provisional, "days": counted_days}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(due.isoformat())
    if not args.explain:
        if result.provisional:  # stdout stays the bare date for scripts
            print(result.note(loc), file=sys.stderr)
        return 0
    print(
        translate(
            "received {day} ({weekday}), not counted",
            loc,
            day=args.start.isoformat(),
            weekday=_weekday(args.start, loc),
        )
    )
    counted = 0
    for info in days:
        if info.working:
            counted += 1
            mark = translate("working day {k}/{n}", loc, k=counted, n=args.n)
            if info.kind == MAKE_UP:
                mark += f" ({info.describe(loc)})"
        else:
            mark = translate("skipped: {why}", loc, why=info.describe(loc))
        print(f"  {info.day.isoformat()} {_weekday(info.day, loc)}  {mark}")
    print(translate("due at the end of {day}", loc, day=due.isoformat()))
    if result.provisional:
        print(result.note(loc))
    return 0


def _read_schedule(args: argparse.Namespace) -> OfficialYear:
    from tongdao.policies.holiday_rules import HolidayRulesError, load_holiday_rules
    from tongdao.policies.official_schedule import ScheduleError, parse_schedule

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(msg("{path}: {reason}", path=path, reason=os_reason(exc))) from None
    except UnicodeDecodeError:
        raise CommandError(msg("{path}: not UTF-8 text", path=str(path))) from None
    try:
        return parse_schedule(
            text,
            file=str(path),
            csv_format=args.csv or path.suffix.lower() == ".csv",
            rules=load_holiday_rules(),
        )
    except (ScheduleError, HolidayRulesError) as exc:
        raise CommandError(msg("refused, nothing installed: {exc}", exc=exc)) from None


def load_command(args: argparse.Namespace) -> int:
    """Validate a year's official schedule and install it here or at the broker."""
    from tongdao.policies.official_schedule import render_schedule, save_to_store

    year = _read_schedule(args)
    summary = tr(
        "{year}: {off} days off, {workdays} make-up working days (调休)",
        year=year.year,
        off=len(year.holidays),
        workdays=len(year.workdays),
    ) + (f"; {year.source}" if year.source else "")
    if args.check:
        print(tr("OK {file}: {summary}", file=args.file, summary=summary))
        return 0
    if args.to_broker:
        from tongdao.commands._common import broker_stub, print_message
        from tongdao.home import AUTHORITY
        from tongdao.v1 import supervision_pb2

        with broker_stub(args, args.party or AUTHORITY) as stub:
            reply = stub.supervision.LoadHolidaySchedule(
                supervision_pb2.LoadHolidayScheduleRequest(
                    schedule_toml=render_schedule(year), file_name=Path(args.file).name
                ),
                timeout=60,
            )
        if args.json:
            print_message(reply, as_json=True)
            return 0
        print(tr("installed at the broker: {summary}", summary=summary))
        for moved in reply.recomputed:
            kept = tr(" (kept: announced date is later)") if moved.kept_announced else ""
            line = tr(
                "deadline {id} {kind} {subject}: announced {announced}, official {official}, "
                "due {due}",
                id=moved.id,
                kind=moved.kind,
                subject=moved.subject,
                announced=moved.announced_due_on,
                official=moved.computed_due_on,
                due=moved.due_on,
            )
            print(f"  {line}{kept}")
        return 0
    path = save_to_store(calendar_dir(args.home), year)
    print(tr("installed {path}: {summary}", path=path, summary=summary))
    return 0


def rules_command(args: argparse.Namespace) -> int:
    """Print the national holiday rules and, for YEAR, its provisional days off."""
    from tongdao.policies.holiday_rules import (
        HolidayRulesError,
        load_holiday_rules,
        provisional_year,
    )

    try:
        rules = load_holiday_rules()
    except HolidayRulesError as exc:
        raise CommandError(
            explained(exc, "cannot read the national holiday rules: {reason}")
        ) from None
    print(
        tr(
            "{title} ({title_en}), in force from {since}",
            title=rules.title,
            title_en=rules.title_en,
            since=rules.effective_from,
        )
    )
    if rules.amendment:
        print(f"  {rules.amendment}")
    print("  " + tr("rules file {source}", source=rules.source))
    for h in rules.holidays:
        if h.calendar == "solar_term":
            when = tr("solar term {term}", term=h.term)
        else:
            named = {"gregorian": tr("gregorian"), "lunar": tr("lunar")}
            when = f"{named.get(h.calendar, h.calendar)} {h.month:02d}-{h.day:02d}"
        offset = tr(" from {offset:+d} day(s)", offset=h.offset) if h.offset else ""
        days = tr("{days} day(s), {when}", days=h.days, when=when)
        print(f"  {h.name_zh or h.name:<8} {days}{offset} [{rules.article}]")
    print(
        "  "
        + tr(
            "weekend holidays made up on the following working day(s) [{article}]; "
            "no make-up working days (调休) provisionally",
            article=rules.make_up_article,
        )
    )
    if args.year is None:
        return 0
    calendar = local_calendar(args.home)
    if not calendar.is_provisional(args.year):
        print(tr("{year} has an official schedule; `tongdao calendar due` uses it", year=args.year))
        return 0
    try:
        year = provisional_year(rules, args.year)
    except ValueError as exc:
        raise CommandError(
            explained(exc, "cannot work out the provisional days off: {reason}")
        ) from None
    print(tr("provisional days off in {year}:", year=args.year))
    names = {h.name: h.name_zh for h in rules.holidays}
    for day in sorted(year.holidays):
        lieu = tr(" (补假, in lieu)") if day in year.made_up else ""
        name = year.holidays[day]
        shown = (names.get(name) or name) if current() == "zh-CN" else name
        print(f"  {day.isoformat()} {_weekday(day, current())}  {shown}{lieu}")
    return 0
