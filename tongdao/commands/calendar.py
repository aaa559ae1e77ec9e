"""``tongdao calendar``: working-day arithmetic on the PRC calendar (statutory holidays, 调休)."""

from __future__ import annotations

import argparse
import datetime as dt

from tongdao.cli import CommandError

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
            "operator's file policies/calendar_data/prc-holidays.toml."
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
    due.add_argument("--locale", default="zh-CN", choices=LOCALES, help="language of --explain")
    due.set_defaults(handler=due_command)


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
    from tongdao.policies.calendar import (
        MAKE_UP,
        CalendarDataError,
        UnknownYearError,
        WorkingDayCalendar,
    )
    from tongdao.policies.i18n import translate

    try:
        calendar = WorkingDayCalendar.default()
        due = calendar.due_date(args.start, args.n)
        days = calendar.explain(args.start, args.n) if args.explain else []
    except (ValueError, UnknownYearError, CalendarDataError) as exc:
        raise CommandError(str(exc)) from None
    print(due.isoformat())
    if not args.explain:
        return 0
    loc = args.locale
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
    return 0
