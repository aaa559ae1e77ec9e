"""``tongdao provider``: a provider department's inbox of conditional share requests (Art.22(2))
and the use of its entries (Art.28)."""

from __future__ import annotations

import argparse

from tongdao.commands import grant_changes
from tongdao.commands._common import (
    add_broker_arguments,
    broker_stub,
    cell,
    print_message,
    request_details,
)
from tongdao.commands._summaries import in_words, moment, print_share_request
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import sharing_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("provider", help="review share requests for your entries")
    psub = parser.add_subparsers(dest="provider_command", metavar="COMMAND")
    psub.required = True

    inbox = psub.add_parser("inbox", help="share requests waiting for your review")
    add_broker_arguments(inbox, as_help="your department code")
    inbox.add_argument("--all", action="store_true", help="also decided requests")
    inbox.set_defaults(handler=inbox_command)

    decide = psub.add_parser(
        "decide", help="approve or refuse a request (a refusal needs --reason)"
    )
    add_broker_arguments(decide, as_help="your department code")
    decide.add_argument("id", help="share request id")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--refuse", action="store_true")
    decide.add_argument("--reason", default="", help="required when refusing (Art.22(2))")
    decide.set_defaults(handler=decide_command)

    usage = psub.add_parser(
        "usage",
        help="every use of your entries: the consumers' usage records and each relayed call",
        description="Every use of your own entries, and only of your own (Art.28): the usage "
        "records the consumers keep (scenario, outcome, process, storage, destruction) and every "
        "call the broker relayed under their grants, with its ledger sequence.",
    )
    add_broker_arguments(usage, as_help="your department code")
    usage.add_argument("--entry", default="", help="only this catalogue entry")
    usage.add_argument("--grant", default="", help="only this grant")
    usage.set_defaults(handler=usage_command)
    grant_changes.register_provider(psub)


def inbox_command(args: argparse.Namespace) -> int:
    status = "" if args.all else "pending_provider_review"
    with broker_stub(args) as stub:
        reply = every_page(
            stub.sharing.ListShareRequests,
            sharing_pb2.ListShareRequestsRequest(role="provider", status=status),
            "requests",
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.requests:
        print(tr("inbox empty"))
    for r in reply.requests:
        due = tr("due {date}", date=r.due_date or "-")
        state = cell(in_words(r.status), 24)
        print(f"{r.id}  {state} {cell(due, 14)} {r.consumer:<12} {r.entry_code}")
        print("    " + request_details(r))
        if r.delegate:
            regions = ", ".join(r.regions)
            print("    " + tr("delegated to you for region {regions} (Art.23)", regions=regions))
    return 0


def decide_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.sharing.DecideShareRequest(
            sharing_pb2.DecideShareRequestRequest(
                id=args.id, approve=args.approve, reason=args.reason
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_share_request(reply)
    return 0


def usage_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = every_page(
            stub.sharing.ListUsage,
            sharing_pb2.ListUsageRequest(
                role="provider", entry_code=args.entry, grant_id=args.grant
            ),
            ("records", "calls"),
            timeout=60,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    print(
        tr(
            "{records} usage record(s), {calls} relayed call(s)",
            records=len(reply.records),
            calls=len(reply.calls),
        )
    )
    for r in reply.records:
        print(
            tr(
                "record {id} grant {grant} by {consumer} on {entry} (kept until {day}, ledger "
                "{sequence})",
                id=r.id,
                grant=r.grant_id,
                consumer=r.consumer,
                entry=r.entry_code,
                day=r.retain_until,
                sequence=r.sequence,
            )
        )
        line = tr(
            "scenario: {scenario}; outcome: {outcome}; process: {process}",
            scenario=r.scenario,
            outcome=r.outcome,
            process=r.process,
        )
        print(f"    {line}")
        line = tr(
            "storage: {storage}; destruction: {destruction}",
            storage=r.storage,
            destruction=r.destruction,
        )
        print(f"    {line}")
    for c in reply.calls:
        ledger = tr("ledger {sequence}", sequence=c.sequence)
        grant = tr("grant {grant}", grant=c.grant_id)
        print(
            f"{ledger} {moment(c.recorded_at)} {c.kind:<17} {grant} "
            f"{c.consumer} {c.method} {','.join(c.fields)}"
        )
    return 0
