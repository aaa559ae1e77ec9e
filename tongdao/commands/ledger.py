"""``tongdao ledger``: read and verify the tamper-evident ledger (PRIV-7)."""

from __future__ import annotations

import argparse
import json

from tongdao.broker.kernel.db import (
    ENV_DATABASE_URL,
    make_engine,
    resolve_database_url,
    session_factory,
)
from tongdao.broker.ledger.chain import verify_ledger
from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, open_home
from tongdao.home import AUTHORITY, HomeError
from tongdao.v1 import ledger_pb2


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

    export = lsub.add_parser(
        "export",
        help="download the whole ledger with its signed head (JSON lines) for offline checking",
    )
    add_broker_arguments(export, as_help="identity (default: authority)")
    export.add_argument("file", help="output file (.jsonl)")
    export.set_defaults(handler=export_command)

    check = lsub.add_parser(
        "check-export",
        help="verify an exported ledger with only the broker's public key",
        description="Anyone holding the broker's Ed25519 public key (hex) can run this offline.",
    )
    check.add_argument("file", help="a file written by `tongdao ledger export`")
    check.add_argument("--broker-key", required=True, help="the broker's public key, hex")
    check.set_defaults(handler=check_export_command)

    show = lsub.add_parser("show", help="print ledger entries")
    add_broker_arguments(show, as_help="identity (default: authority)")
    show.add_argument("--from", dest="start", type=int, default=1, help="first sequence number")
    show.add_argument("--limit", type=int, default=50, help="how many entries")
    show.set_defaults(handler=show_command)


def verify_command(args: argparse.Namespace) -> int:
    if args.remote:
        with broker_stub(args, args.party or AUTHORITY) as stub:
            result = stub.ledger.VerifyLedger(ledger_pb2.VerifyLedgerRequest(), timeout=300)
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


def export_command(args: argparse.Namespace) -> int:
    count = 0
    with broker_stub(args, args.party or AUTHORITY) as stub, open(args.file, "w") as out:
        start, head = 1, None
        while True:
            page = stub.ledger.GetLedger(
                ledger_pb2.GetLedgerRequest(from_sequence=start, limit=1000), timeout=60
            )
            if head is None:  # pin the head seen first; later entries are not part of it
                head = page
                out.write(
                    json.dumps(
                        {
                            "head": {
                                "length": head.length,
                                "head_hash": head.head_hash.hex(),
                                "signature": head.head_signature.hex(),
                            }
                        }
                    )
                    + "\n"
                )
            rows = [e for e in page.entries if e.sequence <= head.length]
            for e in rows:
                out.write(
                    json.dumps(
                        {
                            "sequence": e.sequence,
                            "recorded_at": e.recorded_at,
                            "kind": e.kind,
                            "actor": e.actor,
                            "subject": e.subject,
                            "payload_json": e.payload_json,
                            "previous_hash": e.previous_hash.hex(),
                            "entry_hash": e.entry_hash.hex(),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                count += 1
            if not rows or rows[-1].sequence >= head.length:
                break
            start = rows[-1].sequence + 1
    print(f"exported {count} entries to {args.file}")
    return 0


def check_export_command(args: argparse.Namespace) -> int:
    from types import SimpleNamespace

    from tongdao.broker.ledger.chain import verify_entries
    from tongdao.crypto.errors import KeyFormatError
    from tongdao.crypto.signing import VerifyKey

    try:
        key = VerifyKey(bytes.fromhex(args.broker_key))
    except (ValueError, KeyFormatError):
        raise CommandError("--broker-key must be 64 hex characters (32 bytes)") from None
    try:
        with open(args.file, encoding="utf-8") as fh:
            head = json.loads(fh.readline())["head"]
            entries = []
            for line in fh:
                raw = json.loads(line)
                raw["previous_hash"] = bytes.fromhex(raw["previous_hash"])
                raw["entry_hash"] = bytes.fromhex(raw["entry_hash"])
                entries.append(SimpleNamespace(**raw))
    except (OSError, ValueError, KeyError) as exc:
        raise CommandError(f"{args.file}: not a ledger export ({exc})") from None
    result = verify_entries(
        entries,  # type: ignore[arg-type]
        length=head["length"],
        head_hash=bytes.fromhex(head["head_hash"]),
        head_signature=bytes.fromhex(head["signature"]),
        broker_key=key,
    )
    if result.ok:
        print(f"ledger export OK: {result.length} entries, head {result.head_hash.hex()[:16]}…")
        return 0
    print(f"ledger export BROKEN: {result.problem}")
    return 1


def show_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.ledger.GetLedger(
            ledger_pb2.GetLedgerRequest(from_sequence=args.start, limit=args.limit), timeout=60
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
