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
    status = ssub.add_parser(
        "status",
        help="the broker's health details: rule file in force, warnings, calendar years",
        description="The rule file in force and its validity, warnings (the rule file expiring "
        "within 60 days, with how to install a successor; deadlines resting on provisional "
        "calendar years) and the years with an official holiday schedule. Exit 0; warnings "
        "are printed first.",
    )
    add_broker_arguments(status, as_help="identity (default: authority)")
    status.set_defaults(handler=status_command)


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
    for warning in reply.warnings:
        print(f"WARNING: {warning}")
    if reply.warnings:
        print()
    if not reply.deadlines:
        print("no overdue items" if overdue_only else "no open time-limited items")
        return 0
    head = f"{'id':>4} {'kind':<26} {'subject':<38} {'responsible':<12} {'due':<11}"
    print(f"{head} {'left':>5}  article")
    for d in reply.deadlines:
        state = "LATE" if d.overdue else f"{d.remaining_working_days}"
        due = d.due_on + ("*" if d.provisional else "")
        row = f"{d.id:>4} {d.kind:<26} {d.subject:<38} {d.responsible:<12} {due:<11}"
        print(f"{row} {state:>5}  {d.article}")
    notes = sorted({d.provisional_note for d in reply.deadlines if d.provisional})
    for note in notes:
        print(f"* {note}")
    return 0


def status_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.GetStatus(supervision_pb2.GetStatusRequest(), timeout=30)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for warning in reply.warnings:
        print(f"WARNING: {warning}")
    print(
        f"rule file in force: {reply.policy_source} "
        f"(valid {reply.policy_valid_from} to {reply.policy_valid_until})"
    )
    years = ", ".join(str(y) for y in reply.official_years) or "none"
    print(f"official holiday schedules: {years}")
    if reply.provisional_years:
        print(
            "provisional years in open deadlines: "
            + ", ".join(str(y) for y in reply.provisional_years)
        )
    return 0
