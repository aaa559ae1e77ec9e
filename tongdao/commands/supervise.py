"""``tongdao supervise``: working-day deadlines and the overdue report (SUP-1, Art.42)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.home import AUTHORITY
from tongdao.v1 import supervision_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("supervise", help="deadlines and overdue items")
    ssub = parser.add_subparsers(dest="supervise_command", metavar="COMMAND")
    ssub.required = True
    overdue = ssub.add_parser("overdue", help="items past their working-day deadline")
    add_broker_arguments(overdue, as_help="identity (default: authority)")
    overdue.add_argument("--include-closed", action="store_true", help="also items closed late")
    overdue.set_defaults(handler=lambda a: report(a, overdue_only=True))
    deadlines = ssub.add_parser("deadlines", help="every open time-limited item")
    add_broker_arguments(deadlines, as_help="identity (default: authority)")
    deadlines.add_argument("--include-closed", action="store_true")
    deadlines.set_defaults(handler=lambda a: report(a, overdue_only=False))


def report(args: argparse.Namespace, *, overdue_only: bool) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.ListDeadlines(
            supervision_pb2.ListDeadlinesRequest(
                overdue_only=overdue_only, include_closed=args.include_closed
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.deadlines:
        print("no overdue items" if overdue_only else "no open time-limited items")
        return 0
    head = f"{'id':>4} {'kind':<26} {'subject':<38} {'responsible':<12} {'due':<10}"
    print(f"{head} {'left':>5}  article")
    for d in reply.deadlines:
        state = "LATE" if d.overdue else f"{d.remaining_working_days}"
        row = f"{d.id:>4} {d.kind:<26} {d.subject:<38} {d.responsible:<12} {d.due_on:<10}"
        print(f"{row} {state:>5}  {d.article}")
    return 0
