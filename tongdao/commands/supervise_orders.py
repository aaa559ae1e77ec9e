"""``tongdao supervise order …`` and ``tongdao supervise orders``: rectification orders
(Art.27, 41, 43; SUP-2)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import supervision_pb2


def register(ssub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    order = ssub.add_parser(
        "order",
        help="issue, answer or decide a rectification order (Art.27)",
        description="The authority (any grant) or a provider (its own grants) orders the "
        "consumer to rectify by the rule file's working-day due date (deadlines.rectification); "
        "the consumer answers with what it changed; the issuer accepts or rejects. Not accepted "
        "by the due date, the grant is suspended; not rectified by the end of "
        "deadlines.rectification_termination, it is terminated.",
    )
    osub = order.add_subparsers(dest="order_command", metavar="ACTION")
    osub.required = True
    issue = osub.add_parser("issue", help="order a grant's consumer to rectify")
    add_broker_arguments(issue, as_help="identity (default: authority; a provider: its code)")
    issue.add_argument("grant_id")
    issue.add_argument("--ground", required=True, help="e.g. out_of_scope, idle, security_risk")
    issue.add_argument("--requirement", required=True, help="what must be rectified")
    issue.add_argument("--finding", type=int, action="append", default=[], help="finding id")
    issue.set_defaults(handler=issue_command)
    answer = osub.add_parser("answer", help="the consumer: say what was changed")
    add_broker_arguments(answer, as_help="identity (the consumer's code)")
    answer.add_argument("id", type=int)
    answer.add_argument("--changes", required=True)
    answer.set_defaults(handler=answer_command)
    decide = osub.add_parser("decide", help="the issuer: accept or reject the rectification")
    add_broker_arguments(decide, as_help="identity (default: authority)")
    decide.add_argument("id", type=int)
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    decide.add_argument("--reason", required=True)
    decide.set_defaults(handler=decide_command)
    orders = ssub.add_parser("orders", help="rectification orders you may see")
    add_broker_arguments(orders, as_help="identity (default: authority)")
    orders.add_argument("--grant", default="")
    orders.add_argument(
        "--enforce", action="store_true", help="the authority: act on overdue orders first"
    )
    orders.set_defaults(handler=list_command)


def _show(args: argparse.Namespace, o: supervision_pb2.RectificationOrder) -> int:
    if args.json:
        print_message(o, as_json=True)
        return 0
    extra = tr(", terminated after {day}", day=o.terminate_on) if o.terminate_on else ""
    print(
        tr(
            "order {id} on grant {grant}: {status} (due {due}{extra}; {ground}, {article}; "
            "issued by {issuer} to {consumer})",
            id=o.id,
            grant=o.grant_id,
            status=o.status,
            due=o.due_on,
            extra=extra,
            ground=o.ground,
            article=o.article,
            issuer=o.issuer,
            consumer=o.consumer,
        )
    )
    return 0


def issue_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.IssueRectificationOrder(
            supervision_pb2.IssueRectificationOrderRequest(
                grant_id=args.grant_id,
                ground=args.ground,
                requirement=args.requirement,
                findings=args.finding,
            ),
            timeout=30,
        )
    return _show(args, reply)


def answer_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.AnswerRectificationOrder(
            supervision_pb2.AnswerRectificationOrderRequest(id=args.id, changes=args.changes),
            timeout=30,
        )
    return _show(args, reply)


def decide_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.DecideRectificationOrder(
            supervision_pb2.DecideRectificationOrderRequest(
                id=args.id, accept=args.accept, reason=args.reason
            ),
            timeout=30,
        )
    return _show(args, reply)


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = every_page(
            stub.supervision.ListRectificationOrders,
            supervision_pb2.ListRectificationOrdersRequest(
                grant_id=args.grant, enforce=args.enforce
            ),
            "orders",
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.orders:
        print(tr("no rectification orders"))
    for o in reply.orders:
        _show(args, o)
    return 0
