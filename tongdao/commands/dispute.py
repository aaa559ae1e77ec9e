"""``tongdao dispute …``: disputes between a data user and a data provider (SHR-6, Art.25)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.commands._summaries import in_words, party_label
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import disputes_pb2

SUBJECTS = ("share_request", "grant", "correction", "finding")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "dispute",
        help="open, refer, resolve or withdraw a dispute between a user and a provider (Art.25)",
        description="A party to a share request, grant, correction or finding opens a dispute "
        "after negotiation failed. Parties of the same region and level go to that region's data "
        "authority; parties of different regions or levels go to the provincial authority. The "
        "handler records the outcome, or refers the dispute to the data coordination mechanism "
        "and later records its outcome. Each stage runs on a working-day clock from the rule "
        "file's [disputes] table, and every step is in the ledger.",
    )
    dsub = parser.add_subparsers(dest="dispute_command", metavar="ACTION")
    dsub.required = True
    opened = dsub.add_parser("open", help="a party opens a dispute")
    add_broker_arguments(opened, as_help="identity (the party's department code)")
    opened.add_argument("subject_kind", choices=SUBJECTS)
    opened.add_argument("subject_id", help="the share request, grant, correction or finding id")
    opened.add_argument("--claim", required=True, help="what is disputed")
    opened.add_argument(
        "--negotiation", required=True, help="what negotiation between the parties already tried"
    )
    opened.set_defaults(handler=open_command)
    for name, help_text, field, field_help in (
        ("refer", "the handler: refer to the coordination mechanism", "reason", "why"),
        ("resolve", "the handler: record the outcome", "outcome", "the outcome"),
        ("withdraw", "the party that opened it: withdraw it", "reason", "why"),
    ):
        step = dsub.add_parser(name, help=help_text)
        add_broker_arguments(step, as_help="identity (default: authority)")
        step.add_argument("id", type=int)
        step.add_argument(f"--{field}", required=True, help=field_help)
        step.set_defaults(handler=step_command, step=name, field=field)
    show = dsub.add_parser("show", help="one dispute")
    add_broker_arguments(show, as_help="identity (default: authority)")
    show.add_argument("id", type=int)
    show.set_defaults(handler=show_command)
    listed = dsub.add_parser("list", help="disputes you may see, oldest first")
    add_broker_arguments(listed, as_help="identity (default: authority)")
    listed.add_argument("--status", choices=("open", "resolved", "withdrawn"), default="")
    listed.add_argument("--subject", default="", help="only disputes on this id")
    listed.set_defaults(handler=list_command)


def _line(d: disputes_pb2.Dispute) -> str:
    if d.closed_on:
        closed = tr(", closed {day}", day=d.closed_on)
    else:
        closed = tr(", due {day}", day=d.due_on)
    return tr(
        "dispute {id} on {kind} {subject}: {status} at {stage} "
        "(handler {handler}{closed}; {opened_by} against {respondent}; {article})",
        id=d.id,
        kind=in_words(d.subject_kind),
        subject=d.subject_id,
        status=in_words(d.status),
        stage=in_words(d.stage),
        handler=party_label(d.handler),
        closed=closed,
        opened_by=d.opened_by,
        respondent=d.respondent,
        article=d.article,
    )


def _show(args: argparse.Namespace, d: disputes_pb2.Dispute) -> int:
    if args.json:
        print_message(d, as_json=True)
    else:
        print(_line(d))
        print("  " + tr("routed: {routing}", routing=d.routing))
        print("  " + tr("claim: {claim}", claim=d.claim))
        if d.outcome and d.status == "resolved":
            print("  " + tr("outcome: {outcome}", outcome=d.outcome))
        elif d.outcome:
            print("  " + tr("reason: {reason}", reason=d.outcome))
    return 0


def open_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.disputes.OpenDispute(
            disputes_pb2.OpenDisputeRequest(
                subject_kind=args.subject_kind,
                subject_id=args.subject_id,
                claim=args.claim,
                negotiation=args.negotiation,
            ),
            timeout=30,
        )
    return _show(args, reply)


def step_command(args: argparse.Namespace) -> int:
    text = getattr(args, args.field)
    with broker_stub(args, args.party or AUTHORITY) as stub:
        if args.step == "refer":
            reply = stub.disputes.ReferDispute(
                disputes_pb2.ReferDisputeRequest(id=args.id, reason=text), timeout=30
            )
        elif args.step == "resolve":
            reply = stub.disputes.ResolveDispute(
                disputes_pb2.ResolveDisputeRequest(id=args.id, outcome=text), timeout=30
            )
        else:
            reply = stub.disputes.WithdrawDispute(
                disputes_pb2.WithdrawDisputeRequest(id=args.id, reason=text), timeout=30
            )
    return _show(args, reply)


def show_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.disputes.GetDispute(disputes_pb2.GetDisputeRequest(id=args.id), timeout=30)
    return _show(args, reply)


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        rows = every_page(
            stub.disputes.ListDisputes,
            disputes_pb2.ListDisputesRequest(status=args.status, subject_id=args.subject),
            "disputes",
        ).disputes
    if args.json:
        print_message(disputes_pb2.ListDisputesResponse(disputes=rows), as_json=True)
        return 0
    if not rows:
        print(tr("no disputes"))
    for d in rows:
        print(_line(d))
    return 0
