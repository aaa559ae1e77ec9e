"""``tongdao ledger``: read and verify the tamper-evident ledger (PRIV-7)."""

from __future__ import annotations

import argparse
import json

from broker.db import ENV_DATABASE_URL, make_engine, resolve_database_url, session_factory
from broker.ledger import verify_ledger
from proto.tongdao.v1 import broker_pb2
from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, open_home
from tongdao.home import AUTHORITY, HomeError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("ledger", help="show and verify the ledger")
    lsub = parser.add_subparsers(dest="ledger_command", metavar="COMMAND")
    lsub.required = True

    verify = lsub.add_parser(
        "verify",
        help="verify the hash chain and the broker's head signature",
        description=(
            "Verify the ledger. With --database-url (or the local SQLite file) it reads the store "
            "directly and needs only the broker's public key; with --remote it asks the broker."
        ),
    )
    add_broker_arguments(verify, as_help="identity for --remote (default: authority)")
    verify.add_argument(
        "--database-url", default=None, help=f"SQLAlchemy URL (env {ENV_DATABASE_URL})"
    )
    verify.add_argument("--remote", action="store_true", help="ask the running broker instead")
    verify.set_defaults(handler=verify_command)

    show = lsub.add_parser("show", help="print ledger entries")
    add_broker_arguments(show, as_help="identity (default: authority)")
    show.add_argument("--from", dest="start", type=int, default=1, help="first sequence number")
    show.add_argument("--limit", type=int, default=50, help="how many entries")
    show.set_defaults(handler=show_command)


def verify_command(args: argparse.Namespace) -> int:
    if args.remote:
        with broker_stub(args, args.party or AUTHORITY) as stub:
            result = stub.VerifyLedger(broker_pb2.VerifyLedgerRequest(), timeout=300)
        ok, length, head, problem = result.ok, result.length, result.head_hash, result.problem
    else:
        home = open_home(args.home)
        try:
            key = home.broker_verify_key()
        except HomeError as exc:
            raise CommandError(str(exc)) from None
        engine = make_engine(resolve_database_url(args.database_url))
        with session_factory(engine).begin() as session:
            v = verify_ledger(session, key)
        ok, length, head, problem = v.ok, v.length, v.head_hash, v.problem
    if args.json:
        print(json.dumps({"ok": ok, "length": length, "head_hash": head.hex(), "problem": problem}))
    elif ok:
        print(f"ledger OK: {length} entries, head {head.hex()[:16]}…, signed by the broker")
    else:
        print(f"ledger BROKEN: {problem}")
    return 0 if ok else 1


def show_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.GetLedger(
            broker_pb2.GetLedgerRequest(from_sequence=args.start, limit=args.limit), timeout=60
        )
    for e in reply.entries:
        if args.json:
            print(
                json.dumps(
                    {
                        "sequence": e.sequence,
                        "recorded_at": e.recorded_at,
                        "kind": e.kind,
                        "actor": e.actor,
                        "subject": e.subject,
                        "payload": json.loads(e.payload_json),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"{e.sequence:>6}  {e.recorded_at[:19]}  {e.kind:<28} {e.actor:<12} {e.subject}")
    return 0
