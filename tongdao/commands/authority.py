"""``tongdao authority``: the data authority's operations (directory, catalogue review)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tongdao.cli import CommandError
from tongdao.commands._common import (
    add_broker_arguments,
    broker_stub,
    print_message,
    request_details,
)
from tongdao.commands._enrol import add_install_arguments, add_keygen_arguments, install, keygen
from tongdao.commands._grammar import add_json_argument
from tongdao.commands._summaries import (
    print_catalogue_entry,
    print_department,
    print_share_request,
)
from tongdao.home import AUTHORITY, split_pem
from tongdao.i18n import tr
from tongdao.policies.i18n import msg, os_reason
from tongdao.v1 import catalogue_pb2, directory_pb2, sharing_pb2, supervision_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("authority", help="the data authority's operations")
    asub = parser.add_subparsers(dest="authority_command", metavar="COMMAND")
    asub.required = True

    gen = asub.add_parser(
        "keygen",
        help="create keys for a member of the authority's staff and an enrolment request",
        description=(
            "Create a TLS key in --home and a request for a certificate whose role extension "
            "names the duty: administrator (directory, certificates), operator (catalogue "
            "review, decisions, supervision) or auditor (reads the ledger and reports)."
        ),
    )
    gen.add_argument("--party", default=AUTHORITY, help=f"identity (default {AUTHORITY})")
    gen.add_argument(
        "--role", default="administrator", choices=("administrator", "operator", "auditor")
    )
    add_keygen_arguments(gen)
    add_json_argument(gen, lines=True)
    gen.set_defaults(handler=lambda a: keygen(a, a.party, a.role))

    ins = asub.add_parser("install", help="install a staff certificate the authority CA signed")
    add_install_arguments(ins)
    add_json_argument(ins, lines=True)
    ins.set_defaults(handler=install)

    reg = asub.add_parser(
        "register-department",
        help="add a department to the broker's directory",
        description=(
            "Register a department from its certificate (client.crt from its bundle): the code, "
            "name, region, level and X25519/Ed25519 public keys are read from it, with the "
            "authority CA's signature over them and the department's proof of possession."
        ),
    )
    add_broker_arguments(reg, as_help="operator identity (default: authority)")
    reg.add_argument("code", help="department code, e.g. hlj.gat (must match the certificate)")
    reg.add_argument(
        "--certificate", required=True, help="the department's certificate or bundle (PEM)"
    )
    reg.add_argument("--endpoint", default="", help="HOST:PORT of the department's node, if any")
    reg.add_argument("--is-authority", action="store_true", help="the department is an authority")
    reg.set_defaults(handler=register_department)

    pub = asub.add_parser(
        "publish", help="approve a submitted catalogue entry and publish it (Art.12)"
    )
    add_broker_arguments(pub, as_help="operator identity (default: authority)")
    pub.add_argument("code", help="catalogue entry code")
    pub.add_argument("--comment", default="", help="review comment")
    pub.set_defaults(handler=publish)

    ret = asub.add_parser(
        "return", help="return a submitted entry with comments (5-working-day revision, Art.12)"
    )
    add_broker_arguments(ret, as_help="operator identity (default: authority)")
    ret.add_argument("code", help="catalogue entry code")
    ret.add_argument("--comment", required=True, help="what the provider must revise")
    ret.set_defaults(handler=return_entry)

    upd = asub.add_parser(
        "require-update", help="require an update after a change of law or duty (Art.15)"
    )
    add_broker_arguments(upd, as_help="operator identity (default: authority)")
    upd.add_argument("code", help="catalogue entry code")
    upd.add_argument("--legal-basis", required=True, help="the change of law or duty")
    upd.set_defaults(handler=require_update)

    ext = asub.add_parser("extend", help="grant the one extension a deadline allows (Art.15)")
    add_broker_arguments(ext, as_help="operator identity (default: authority)")
    ext.add_argument("id", type=int, help="deadline id (see `tongdao supervise deadlines`)")
    ext.add_argument("--legal-basis", required=True, help="the stated policy basis")
    ext.set_defaults(handler=extend)

    rvk = asub.add_parser(
        "decide-revocation",
        help="approve or refuse a revocation (Art.16: an entry in use is served 6 more months)",
    )
    add_broker_arguments(rvk, as_help="operator identity (default: authority)")
    rvk.add_argument("code", help="catalogue entry code")
    rvk.add_argument("--refuse", action="store_true", help="refuse (default: approve)")
    rvk.add_argument("--comment", default="")
    rvk.set_defaults(handler=decide_revocation)

    inbox = asub.add_parser(
        "inbox",
        help="unconditional share requests waiting for the data authority's review (Art.22(1))",
        description="Where the rule file has an operator review unconditional requests "
        '(sharing.unconditional_review = "authority"), they wait here for the consumer\'s data '
        "authority; decide them with `tongdao authority decide`.",
    )
    add_broker_arguments(inbox, as_help="operator identity (default: authority)")
    inbox.set_defaults(handler=review_inbox)
    dec = asub.add_parser("decide", help="approve or refuse an unconditional request (Art.22(1))")
    add_broker_arguments(dec, as_help="operator identity (default: authority)")
    dec.add_argument("id", help="share request id")
    verdict = dec.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--refuse", action="store_true")
    dec.add_argument("--reason", default="", help="required when refusing")
    dec.set_defaults(handler=review_decide)

    wd = asub.add_parser("withdraw-due", help="withdraw revoked entries past their sunset date")
    add_broker_arguments(wd, as_help="operator identity (default: authority)")
    wd.set_defaults(handler=withdraw_due)


def register_department(args: argparse.Namespace) -> int:
    try:
        pems = split_pem(Path(args.certificate).read_bytes())
    except OSError as exc:
        raise CommandError(
            msg("{certificate}: {strerror}", certificate=args.certificate, strerror=os_reason(exc))
        ) from None
    if not pems:
        raise CommandError(
            msg("--certificate: no PEM certificate in {certificate}", certificate=args.certificate)
        )
    # the broker checks the certificate (CA, role, expiry, proof) and takes the profile and
    # keys from it; the code given here must be the one it names
    dept = directory_pb2.Department(
        code=args.code, node_endpoint=args.endpoint, is_authority=args.is_authority
    )
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(department=dept, certificate_pem=pems[0]),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_department(reply)
    return 0


def publish(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.catalogue.PublishCatalogueEntry(
            catalogue_pb2.PublishCatalogueEntryRequest(code=args.code, comment=args.comment),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_catalogue_entry(reply)
    return 0


def return_entry(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.catalogue.ReturnCatalogueEntry(
            catalogue_pb2.ReturnCatalogueEntryRequest(code=args.code, comments=args.comment),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_catalogue_entry(reply)
    return 0


def require_update(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.catalogue.RequireCatalogueUpdate(
            catalogue_pb2.RequireCatalogueUpdateRequest(code=args.code, basis=args.legal_basis),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_catalogue_entry(reply)
    return 0


def extend(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.ExtendDeadline(
            supervision_pb2.ExtendDeadlineRequest(id=args.id, basis=args.legal_basis), timeout=30
        )
    print_message(reply, as_json=args.json)
    return 0


def decide_revocation(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.catalogue.DecideCatalogueRevocation(
            catalogue_pb2.DecideCatalogueRevocationRequest(
                code=args.code, approve=not args.refuse, comment=args.comment
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_catalogue_entry(reply)
    return 0


def withdraw_due(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.catalogue.WithdrawDueEntries(
            catalogue_pb2.WithdrawDueEntriesRequest(), timeout=60
        )
    print_message(reply, as_json=args.json)
    return 0


def review_inbox(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.ListShareRequests(
            sharing_pb2.ListShareRequestsRequest(role="reviewer"), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.requests:
        print(tr("no unconditional requests waiting for review"))
    for r in reply.requests:
        due = tr("due {date}", date=r.due_date or "-")
        print(f"{r.id}  {due:<14} {r.consumer:<12} {r.entry_code}")
        print("    " + request_details(r))
    return 0


def review_decide(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
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
