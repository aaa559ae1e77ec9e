"""``tongdao consumer change`` and ``tongdao provider changes | decide-change``: wider use,
another purpose or onward transfer of a grant's data, only with the provider's consent
(Art.30)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.commands._grammar import add_list_option
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import sharing_pb2


def register_consumer(csub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    change = csub.add_parser(
        "change",
        help="ask the provider to widen a grant, add a purpose or allow onward transfer (Art.30)",
        description="Asks the grant's provider for one change; nothing changes until it "
        "consents. A consented --field re-signs the grant (fetch its new token with `consumer "
        "grant`); a consented --purpose issues a new grant for that purpose; a consented "
        "--onward-to records that the data may be passed on to that department.",
    )
    add_broker_arguments(change, as_help="your department code")
    change.add_argument("grant", help="grant id")
    what = change.add_mutually_exclusive_group(required=True)
    add_list_option(what, "--field", help="a further data item of the entry")
    what.add_argument("--purpose", help="a further purpose")
    what.add_argument("--onward-to", help="the department the data would be passed on to")
    change.add_argument("--reason", required=True, help="why the change is needed")
    change.set_defaults(handler=change_command)


def register_provider(psub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    changes = psub.add_parser("changes", help="grant changes the consumers ask you for (Art.30)")
    add_broker_arguments(changes, as_help="your department code")
    changes.add_argument("--grant", default="", help="only this grant")
    changes.set_defaults(handler=changes_command)

    decide = psub.add_parser(
        "decide-change", help="consent to or refuse a grant change (a refusal needs --reason)"
    )
    add_broker_arguments(decide, as_help="your department code")
    decide.add_argument("id", help="grant change id")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--consent", action="store_true")
    choice.add_argument("--refuse", action="store_true")
    decide.add_argument("--reason", default="", help="your reasons (required when refusing)")
    decide.set_defaults(handler=decide_change_command)


def change_command(args: argparse.Namespace) -> int:
    if args.field:
        kind, extra = "widen_fields", {"fields": list(args.field)}
    elif args.purpose:
        kind, extra = "add_purpose", {"purpose": args.purpose}
    else:
        kind, extra = "onward_transfer", {"third_party": args.onward_to}
    with broker_stub(args) as stub:
        reply = stub.sharing.RequestGrantChange(
            sharing_pb2.RequestGrantChangeRequest(
                grant_id=args.grant, kind=kind, reason=args.reason, **extra
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        articles = ", ".join(reply.articles)
        print(
            tr(
                "change {id}: {status} [{articles}]",
                id=reply.id,
                status=reply.status,
                articles=articles,
            )
        )
    return 0


def changes_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = every_page(
            stub.sharing.ListGrantChanges,
            sharing_pb2.ListGrantChangesRequest(role="provider", grant_id=args.grant),
            "changes",
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for c in reply.changes:
        what = ", ".join(c.fields) or c.purpose or c.third_party
        grant = tr("grant {grant}", grant=c.grant_id)
        print(f"{c.id}  {c.status:<9} {c.kind:<15} {what}  {grant}  ({c.consumer})")
    return 0


def decide_change_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.sharing.DecideGrantChange(
            sharing_pb2.DecideGrantChangeRequest(
                id=args.id, consent=args.consent, reason=args.reason
            ),
            timeout=30,
        )
    print_message(reply, as_json=args.json)
    return 0
