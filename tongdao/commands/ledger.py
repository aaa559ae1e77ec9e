"""``tongdao ledger``: read, prove and verify the transparency log (PRIV-7).

Every command reads either an export (``--export FILE --broker-key HEX``: fully offline, only the
broker's public key is trusted) or the broker's store (``--database-url``, or the local SQLite
file where the broker runs; never created when missing); ``verify --remote`` asks the broker.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from tongdao.broker.kernel.db import ENV_DATABASE_URL
from tongdao.broker.ledger.audit import Audit, body_of
from tongdao.cli import CommandError
from tongdao.commands._common import (
    DEFAULT_BROKER,
    add_broker_arguments,
    add_home_argument,
    broker_stub,
    open_home,
)
from tongdao.commands._grammar import add_json_argument
from tongdao.commands._ledger_sources import (
    ExportSource,
    StoreSource,
    parse_key,
    pinned_witnesses,
    signed_checkpoints,
)
from tongdao.crypto.errors import ProofError
from tongdao.crypto.merkle import leaf_hash, verify_consistency, verify_inclusion
from tongdao.home import AUTHORITY, HomeError
from tongdao.i18n import explained, said, say, tr
from tongdao.policies.i18n import msg, os_reason
from tongdao.v1 import ledger_pb2


def _add_source(parser: argparse.ArgumentParser) -> None:
    add_home_argument(parser)
    parser.add_argument(
        "--export", metavar="FILE", help="read a file written by `tongdao ledger export`"
    )
    parser.add_argument(
        "--broker-key", metavar="HEX", help="the broker's Ed25519 public key (with --export)"
    )
    parser.add_argument(
        "--witness-key",
        action="append",
        metavar="CODE=HEX",
        help="pin a witness department's public key (repeatable; default: the keys the export "
        "or the store names)",
    )
    parser.add_argument(
        "--database-url", default=None, help=f"the broker's store (env {ENV_DATABASE_URL})"
    )
    parser.add_argument(
        "--remote",
        action="store_true",
        help="download the broker's export and check it here, with the broker key of --home",
    )
    parser.add_argument(
        "--broker",
        default=os.environ.get("TONGDAO_BROKER", DEFAULT_BROKER),
        help=f"broker address for --remote (env TONGDAO_BROKER; default {DEFAULT_BROKER})",
    )
    parser.add_argument(
        "--as", dest="party", default="", help="identity for --remote (default: authority)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("ledger", help="show, prove and verify the ledger")
    lsub = parser.add_subparsers(dest="ledger_command", metavar="COMMAND")
    lsub.required = True

    verify = lsub.add_parser(
        "verify",
        help="check every entry, the Merkle tree, the signed checkpoints and their witnesses",
        description=(
            "Verify the ledger: each entry's hash and link, the Merkle root at every checkpoint, "
            "the broker's checkpoint signatures and the witnesses' cosignatures. Entries after "
            "the last checkpoint are reported, never counted as verified. Reads an export "
            "(--export FILE --broker-key HEX, fully offline), the broker's store, or with "
            "--remote the broker's export, checked here."
        ),
    )
    _add_source(verify)
    verify.add_argument(
        "--strict",
        action="store_true",
        help="also fail when entries are unverified or the checkpoint lacks witnesses",
    )
    verify.set_defaults(handler=verify_command)

    check = lsub.add_parser(
        "check-export",
        help="verify an exported ledger with only the broker's public key",
        description="Anyone holding the broker's Ed25519 public key (hex) can run this offline.",
    )
    check.add_argument("file", help="a file written by `tongdao ledger export`")
    check.add_argument("--broker-key", required=True, help="the broker's public key, hex")
    check.add_argument("--witness-key", action="append", metavar="CODE=HEX")
    check.add_argument("--json", action="store_true", help="print JSON instead of text")
    check.add_argument("--strict", action="store_true", help="as for verify")
    check.set_defaults(handler=check_export_command)

    prove = lsub.add_parser(
        "prove",
        help="prove that entry SEQUENCE is in the log (inclusion proof against a checkpoint)",
    )
    prove.add_argument("sequence", type=int, help="the entry's sequence number")
    prove.add_argument("--size", type=int, default=0, help="tree size (default: last checkpoint)")
    _add_source(prove)
    prove.set_defaults(handler=prove_command)

    consistency = lsub.add_parser(
        "consistency", help="prove that the log of size OLD is a prefix of the log of size NEW"
    )
    consistency.add_argument("old", type=int)
    consistency.add_argument("new", type=int)
    _add_source(consistency)
    consistency.set_defaults(handler=consistency_command)

    export = lsub.add_parser(
        "export",
        help="write the ledger as a self-contained, verifiable archive (JSON lines)",
    )
    export.add_argument("file", help="output file (.jsonl)")
    add_broker_arguments(export, as_help="identity (default: authority)")
    export.add_argument(
        "--database-url",
        default=None,
        help="read the broker's store directly instead of asking the broker",
    )
    export.set_defaults(handler=export_command)

    archive = lsub.add_parser(
        "archive",
        help="move entries older than the retention period to an archive file (proofs remain)",
    )
    archive.add_argument("--up-to", type=int, required=True, help="last sequence to archive")
    archive.add_argument("--out", required=True, help="archive file (.jsonl), must not exist")
    add_home_argument(archive)
    archive.add_argument("--database-url", default=None)
    add_json_argument(archive, lines=True)
    archive.set_defaults(handler=archive_command)

    show = lsub.add_parser("show", help="print ledger entries")
    add_broker_arguments(show, as_help="identity (default: authority)")
    show.add_argument("--limit", type=int, default=50, help="how many entries")
    show.add_argument(
        "--offset", type=int, default=0, help="entries to skip: start after this sequence number"
    )
    show.set_defaults(handler=show_command)


def _remote_lines(args: argparse.Namespace) -> Iterator[str]:
    """The broker's export, line by line, following its pages (one export: the header and
    checkpoints of the first page, then every page's entries)."""
    with broker_stub(args, args.party or AUTHORITY) as stub:
        request = ledger_pb2.ExportLedgerRequest()
        while True:
            token = ""
            for item in stub.ledger.ExportLedger(request, timeout=600):
                yield item.line
                token = item.next_page_token or token
            if not token:
                return
            request.page_token = token


def _source(args: argparse.Namespace) -> ExportSource | StoreSource:
    witnesses = pinned_witnesses(args.witness_key)
    if args.remote:
        try:
            key = open_home(args.home).broker_verify_key()
        except HomeError as exc:
            raise CommandError(said(exc)) from None
        lines = list(_remote_lines(args))
        label = msg("the broker's export via {broker}", broker=args.broker)
        return ExportSource(label, key, witnesses, lines)
    if args.export:
        if not args.broker_key:
            raise CommandError(msg("--export needs --broker-key HEX (the broker's public key)"))
        return ExportSource(args.export, parse_key(args.broker_key, "--broker-key"), witnesses)
    source = StoreSource(args, args.database_url)
    source.pinned = witnesses
    return source


def _print_audit(result: Audit, label: str, as_json: bool, strict: bool) -> int:
    failed = not result.ok or (strict and (result.unverified > 0 or not result.witnessed))
    if as_json:
        print(json.dumps({**result.summary(), "source": label}))
        return 1 if failed else 0
    shown = say(label)
    if not result.ok:
        print(tr("ledger BROKEN ({label}):", label=shown))
        for problem in result.problems:
            print(f"  {say(problem)}")
        return 1
    last = result.first + result.entries - 1
    print(
        tr(
            "ledger OK ({label}): entries {first}..{last}; {verified} verified by checkpoint "
            "{size}",
            label=shown,
            first=result.first,
            last=last,
            verified=result.verified,
            size=result.checkpoint_size,
        )
    )
    if result.unverified:
        line = tr(
            "NOT verified: {count} entries after checkpoint {size} (no signed checkpoint covers "
            "them yet)",
            count=result.unverified,
            size=result.checkpoint_size,
        )
        print(f"  {line}")
    cosigners = ", ".join(result.cosigned_by) or tr("none")
    counts = {
        "count": len(result.cosigned_by),
        "required": result.witnesses_required,
        "cosigners": cosigners,
    }
    if result.witnessed:
        line = tr("witnessed: {count} of {required} required cosignatures ({cosigners})", **counts)
    else:
        line = tr(
            "NOT witnessed: {count} of {required} required cosignatures ({cosigners})", **counts
        )
    print(f"  {line}")
    return 1 if failed else 0


def verify_command(args: argparse.Namespace) -> int:
    source = _source(args)
    try:
        return _print_audit(source.audit(), source.label, args.json, args.strict)
    finally:
        source.close()


def check_export_command(args: argparse.Namespace) -> int:
    source = ExportSource(
        args.file, parse_key(args.broker_key, "--broker-key"), pinned_witnesses(args.witness_key)
    )
    return _print_audit(source.audit(), source.label, args.json, args.strict)


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(x).decode() for x in items]


def _checkpoint_for(source: Any, size: int, at_least: int) -> tuple[int, bytes, str]:
    """(size, root, how the root is vouched for)."""
    signed = signed_checkpoints(source)
    if size == 0:
        if not signed:
            raise CommandError(msg("no checkpoint signed by the broker; pass --size N"))
        size = max(signed)
    if size < at_least:
        raise CommandError(
            msg(
                "entry {at_least} is after checkpoint {size}: not yet covered "
                "by a signed checkpoint",
                at_least=at_least,
                size=size,
            )
        )
    if size in signed:
        return (
            size,
            signed[size][0].root_hash,
            msg("checkpoint {size} signed by the broker", size=size),
        )
    return (
        size,
        source.root(size),
        msg("tree size {size} (no signed checkpoint of that size)", size=size),
    )


def prove_command(args: argparse.Namespace) -> int:
    source = _source(args)
    try:
        entry = source.entry(args.sequence)
        if entry is None:
            raise CommandError(
                msg("no entry {sequence} in {label}", sequence=args.sequence, label=source.label)
            )
        size, root, vouched = _checkpoint_for(source, args.size, args.sequence)
        try:
            proof = source.inclusion(args.sequence, size)
            leaf = leaf_hash(body_of(entry))
            verify_inclusion(args.sequence - 1, size, leaf, proof, root)
        except ProofError as exc:
            print(
                tr(
                    "entry {sequence}: inclusion proof FAILS against {vouched}: {reason}",
                    sequence=args.sequence,
                    vouched=say(vouched),
                    reason=said(exc),
                )
            )
            return 1
    finally:
        source.close()
    if args.json:
        print(
            json.dumps(
                {
                    "sequence": args.sequence,
                    "tree_size": size,
                    "leaf_hash": base64.b64encode(leaf).decode(),
                    "root_hash": base64.b64encode(root).decode(),
                    "proof": _b64(proof),
                    "vouched_by": vouched,
                }
            )
        )
    else:
        print(
            tr(
                "entry {sequence} ({kind}, {at}) is in the log",
                sequence=args.sequence,
                kind=entry.kind,
                at=entry.recorded_at[:19],
            )
        )
        root_text = base64.b64encode(root).decode()
        print("  " + tr("against {vouched}, root {root}", vouched=say(vouched), root=root_text))
        print("  " + tr("leaf hash {hash}", hash=base64.b64encode(leaf).decode()))
        for i, h in enumerate(_b64(proof), 1):
            print(f"  proof[{i}] {h}")
    return 0


def consistency_command(args: argparse.Namespace) -> int:
    if not 0 <= args.old <= args.new:
        raise CommandError(msg("OLD must be between 0 and NEW"))
    source = _source(args)
    try:
        if args.new > source.size:
            raise CommandError(
                msg(
                    "{label} has {size} entries, not {new}",
                    label=source.label,
                    size=source.size,
                    new=args.new,
                )
            )
        signed = signed_checkpoints(source)
        roots = {}
        for size in (args.old, args.new):
            if size in signed:
                said_by = tr("checkpoint {size} signed by the broker", size=size)
                roots[size] = (signed[size][0].root_hash, said_by)
            else:
                unsigned = tr("tree size {size} (unsigned)", size=size)
                roots[size] = (source.root(size) if size else b"", unsigned)
        proof = source.consistency(args.old, args.new)
        try:
            verify_consistency(args.old, args.new, roots[args.old][0], roots[args.new][0], proof)
        except ProofError as exc:
            print(
                tr(
                    "sizes {old} → {new}: consistency FAILS: {reason}",
                    old=args.old,
                    new=args.new,
                    reason=said(exc),
                )
            )
            return 1
    finally:
        source.close()
    if args.json:
        print(json.dumps({"old": args.old, "new": args.new, "proof": _b64(proof)}))
    else:
        print(
            tr(
                "the log of {old} entries is a prefix of the log of {new} entries "
                "({old_root} → {new_root})",
                old=args.old,
                new=args.new,
                old_root=roots[args.old][1],
                new_root=roots[args.new][1],
            )
        )
        for i, h in enumerate(_b64(proof), 1):
            print(f"  proof[{i}] {h}")
    return 0


def export_command(args: argparse.Namespace) -> int:
    from tongdao.broker.ledger.export import export_lines

    count = 0
    try:
        with open(args.file, "w", encoding="utf-8") as out:
            if args.database_url is None:
                for line in _remote_lines(args):
                    out.write(line + "\n")
                    count += line.startswith('{"entry"')
            else:
                source = StoreSource(args, args.database_url)
                try:
                    with source.session() as s:
                        for line in export_lines(
                            s,
                            origin=source.origin,
                            witnesses=source.witnesses(s),
                            witnesses_required=source.required,
                            broker_key=source.broker_key,
                        ):
                            out.write(line + "\n")
                            count += line.startswith('{"entry"')
                finally:
                    source.close()
    except OSError as exc:
        raise CommandError(
            msg("{file}: cannot write ({strerror})", file=args.file, strerror=os_reason(exc))
        ) from None
    print(
        tr("exported {count} entries with their checkpoints to {file}", count=count, file=args.file)
    )
    return 0


def archive_command(args: argparse.Namespace) -> int:
    import datetime as dt

    from tongdao.broker.ledger.export import archive
    from tongdao.policies.loader import load_policy

    source = StoreSource(args, args.database_url)
    retention = load_policy().period("usage_record_retention")
    try:
        with open(args.out, "x", encoding="utf-8") as out, source.sessions.begin() as s:
            moved = archive(
                s,
                out,
                up_to=args.up_to,
                now=dt.datetime.now(dt.UTC),
                retention_years=retention.years or 0,
                origin=source.origin,
                witnesses=source.witnesses(s),
                witnesses_required=source.required,
                broker_key=source.broker_key,
            )
    except FileExistsError:
        raise CommandError(
            msg("{out} exists; archives are never overwritten", out=args.out)
        ) from None
    except ProofError as exc:
        raise CommandError(explained(exc, "cannot archive the ledger: {reason}")) from None
    finally:
        source.close()
    print(
        tr(
            "archived {count} entries to {out} (retention {years} years, {article}); verify it "
            "with `tongdao ledger verify --export {out} --broker-key HEX`",
            count=moved,
            out=args.out,
            years=retention.years,
            article=retention.article,
        )
    )
    return 0


def show_command(args: argparse.Namespace) -> int:
    entries: list[ledger_pb2.LedgerEntry] = []
    with broker_stub(args, args.party or AUTHORITY) as stub:
        request = ledger_pb2.GetLedgerRequest(from_sequence=args.offset + 1)
        while len(entries) < args.limit:  # pages of the broker's size, up to --limit entries
            reply = stub.ledger.GetLedger(request, timeout=60)
            entries.extend(reply.entries)
            if not reply.next_page_token:
                break
            request.page_token = reply.next_page_token
    entries = entries[: args.limit]
    if args.json:
        rows = [
            {
                "sequence": e.sequence,
                "recorded_at": e.recorded_at,
                "kind": e.kind,
                "actor": e.actor,
                "subject": e.subject,
                "payload": json.loads(e.payload_json),
            }
            for e in entries
        ]
        print(json.dumps({"entries": rows}, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print(tr("no ledger entries after sequence {offset}", offset=args.offset))
    for e in entries:
        print(f"{e.sequence:>6}  {e.recorded_at[:19]}  {e.kind:<28} {e.actor:<12} {e.subject}")
    sys.stdout.flush()
    return 0
