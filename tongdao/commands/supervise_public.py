"""``tongdao supervise public …``: public requesters suspended for misusing open data until
corrected (OPN-4, Art.43)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.home import AUTHORITY
from tongdao.proto.pages import every_page
from tongdao.v1 import sharing_pb2


def register(ssub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    public = ssub.add_parser(
        "public",
        help="suspend or reinstate a public requester misusing open data (Art.43)",
        description="The authority suspends a person or organisation found misusing open data: "
        "every open-data request naming it is then refused, whoever files it, until the "
        "authority reinstates it with what was corrected. Both steps are in the ledger.",
    )
    psub = public.add_subparsers(dest="public_command", metavar="ACTION")
    psub.required = True
    for change, text in (
        ("suspend", "the misuse found"),
        ("reinstate", "what the requester corrected"),
    ):
        p = psub.add_parser(change, help=f"{change} a public requester ({text})")
        add_broker_arguments(p, as_help="identity (default: authority)")
        p.add_argument("requester", help="the person or organisation, as on its requests")
        p.add_argument("--reason", required=True, help=text)
        p.set_defaults(handler=change_command, change=change)
    listing = psub.add_parser("list", help="every suspended (or reinstated) public requester")
    add_broker_arguments(listing, as_help="identity (default: authority)")
    listing.set_defaults(handler=list_command)


def change_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.ChangePublicAccess(
            sharing_pb2.ChangePublicAccessRequest(
                requester=args.requester, change=args.change, reason=args.reason
            ),
            timeout=30,
        )
    print_message(reply, as_json=args.json)
    return 0


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = every_page(
            stub.sharing.ListPublicAccess, sharing_pb2.ListPublicAccessRequest(), "requesters"
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for r in reply.requesters:
        print(f"{r.status:<11} {r.requester}  [{r.article}] {r.reason}  {r.correction}")
    return 0
