"""``tongdao calendar``: working-day arithmetic on the PRC calendar (statutory holidays, 调休)."""

from __future__ import annotations

import argparse
import datetime as dt

from tongdao.cli import CommandError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-30") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("calendar", help="working-day deadlines on the PRC calendar")
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
        "--explain", action="store_true", help="list each day and why it counts or not"
    )
    due.set_defaults(handler=due_command)


def due_command(args: argparse.Namespace) -> int:
    from policies.calendar import UnknownYearError, WorkingDayCalendar

    calendar = WorkingDayCalendar.default()
    try:
        due = calendar.due_date(args.start, args.n)
        days = calendar.explain(args.start, args.n) if args.explain else []
    except (ValueError, UnknownYearError) as exc:
        raise CommandError(str(exc)) from None
    print(due.isoformat())
    if args.explain:
        print(f"received {args.start.isoformat()} ({args.start:%a}), not counted")
        counted = 0
        for info in days:
            if info.working:
                counted += 1
                mark = f"working day {counted}/{args.n}"
                if info.reason.startswith("make-up"):
                    mark += f" ({info.reason})"
            else:
                mark = f"skipped: {info.reason}"
            print(f"  {info.day.isoformat()} {info.day:%a}  {mark}")
        print(f"due at the end of {due.isoformat()}")
    return 0
