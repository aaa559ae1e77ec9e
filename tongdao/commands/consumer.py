"""``tongdao consumer``: request data, read grants, fetch and verify — the SDK from the shell."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from tongdao.cli import CommandError
from tongdao.commands import grant_changes
from tongdao.commands._common import (
    add_broker_arguments,
    cell,
    check_own_certificate,
    load_session,
    open_home,
    print_message,
    request_details,
)
from tongdao.commands._grammar import add_list_option
from tongdao.commands._summaries import (
    REQUEST_STATES,
    in_words,
    method_names,
    print_grant,
    print_share_request,
)
from tongdao.i18n import current, said, tr
from tongdao.policies.i18n import msg, os_reason


def _client(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from tongdao.home import HomeError
    from tongdao.node.client import ConsumerClient

    if not args.party:
        raise CommandError(msg("say which department you act as: --as CODE (or TONGDAO_PARTY)"))
    home = open_home(args.home)
    try:
        tls = home.tls(args.party)
        check_own_certificate(args.party, tls.certificate_pem)
        return ConsumerClient(
            args.broker,
            tls,
            home.encryption_keys(args.party),
            args.party,
            session_token=load_session(home, args.party),  # `tongdao login`: records name you
            locale=current(),
        )
    except HomeError as exc:
        raise CommandError(said(exc)) from None


def grant_of(client: Any, grant_id: str, party: str) -> Any:
    """The grant ``grant_id`` as ``party`` may see it; a grant of another department is refused
    with a message saying so (the broker answers PERMISSION_DENIED)."""
    from tongdao.node.client import ClientError

    try:
        return client.get_grant(grant_id)
    except ClientError as exc:
        if exc.code != "PERMISSION_DENIED":
            raise
        raise CommandError(
            msg(
                "grant {grant_id} was not issued to {party}: only the "
                "department a grant was issued to may query under it (check "
                "the id with `tongdao consumer status REQUEST_ID`)",
                grant_id=grant_id,
                party=party,
            ),
            status=exc.code,
        ) from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("consumer", help="request data and query it as a consumer department")
    csub = parser.add_subparsers(dest="consumer_command", metavar="COMMAND")
    csub.required = True

    req = csub.add_parser("request", help="file a share request (Art.22)")
    add_broker_arguments(req, as_help="your department code")
    req.add_argument("entry", help="catalogue entry code")
    add_list_option(req, "--field", required=True, help="a data item of the entry")
    add_list_option(
        req,
        "--method",
        default=["fetch"],
        help="fetch, verify, intersection, intersection_sum or aggregate (default fetch)",
    )
    req.add_argument("--purpose", required=True)
    req.add_argument("--scenario", required=True, help="application scenario")
    req.add_argument("--legal-basis", required=True, help="legal basis for your duty")
    req.add_argument("--validity-days", type=int, default=0, help="requested grant validity")
    req.add_argument("--quota", type=int, default=0, help="requested number of queries")
    add_list_option(
        req,
        "--region",
        help="a region code the use is limited to (e.g. 230100); the provider's node then "
        "answers from the records inside the grant's regions only",
    )
    req.set_defaults(handler=request_command)
    grant_changes.register_consumer(csub)

    status = csub.add_parser("status", help="show one of your share requests")
    add_broker_arguments(status, as_help="your department code")
    status.add_argument("id")
    status.set_defaults(handler=status_command)

    mine = csub.add_parser(
        "requests",
        help="list your share requests: state, entry, method and the grant of each approved one",
    )
    add_broker_arguments(mine, as_help="your department code")
    mine.add_argument(
        "--status",
        default="",
        choices=REQUEST_STATES,
        help="only requests in this state (default: all)",
    )
    mine.set_defaults(handler=requests_command)

    grant = csub.add_parser("grant", help="show a grant (with its token)")
    add_broker_arguments(grant, as_help="your department code")
    grant.add_argument("id")
    grant.add_argument("--token-only", action="store_true", help="print only the token")
    grant.set_defaults(handler=grant_command)

    fetch = csub.add_parser("fetch", help="fetch granted fields of records (end-to-end encrypted)")
    add_broker_arguments(fetch, as_help="your department code")
    fetch.add_argument("--grant", required=True, help="grant id")
    add_list_option(fetch, "--field", required=True, help="a granted data item")
    fetch.add_argument("--purpose", required=True)
    keys = fetch.add_mutually_exclusive_group(required=True)
    add_list_option(keys, "--key", help="a record's key value")
    keys.add_argument("--keys-file", help="CSV file; the first column holds the keys")
    fetch.set_defaults(handler=fetch_command)

    verify = csub.add_parser("verify", help="check claimed values: match / no-match per field")
    add_broker_arguments(verify, as_help="your department code")
    verify.add_argument("--grant", required=True, help="grant id")
    verify.add_argument("--key", required=True)
    verify.add_argument("--claim", action="append", required=True, metavar="FIELD=VALUE")
    verify.add_argument("--purpose", required=True)
    verify.set_defaults(handler=verify_command)

    usage = csub.add_parser(
        "record-usage",
        help="record how a grant's data was used (Art.28; kept for the retention period)",
    )
    add_broker_arguments(usage, as_help="your department code")
    usage.add_argument("grant_id")
    for part, text in (
        ("scenario", "the scenario the data was used in"),
        ("outcome", "what the use achieved"),
        ("process", "how the data was used, by whom"),
        ("storage", "where and how it is stored"),
        ("destruction", "how and when it is destroyed"),
    ):
        usage.add_argument(f"--{part}", required=True, help=text)
    usage.set_defaults(handler=record_usage_command)


def request_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError

    with _client(args) as client:
        try:
            reply = client.file_share_request(
                args.entry,
                args.field,
                args.method,
                args.purpose,
                args.scenario,
                args.legal_basis,
                validity_days=args.validity_days,
                quota=args.quota,
                regions=tuple(args.region),
            )
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_share_request(reply)
    return 0 if reply.status != "refused" else 1


def status_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError

    with _client(args) as client:
        try:
            reply = client.get_share_request(args.id)
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_share_request(reply)
    return 0


def requests_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError
    from tongdao.v1 import sharing_pb2

    with _client(args) as client:
        try:
            rows = client.list_share_requests("consumer", args.status)
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.json:
        print_message(sharing_pb2.ListShareRequestsResponse(requests=rows), as_json=True)
        return 0
    if not rows:
        print(tr("no share requests") if not args.status else tr("no share requests in that state"))
        return 0
    for r in rows:
        state = cell(in_words(r.status), 24)
        print(f"{r.id}  {state} {cell(r.entry_code, 28)} {method_names(r.methods)}")
        print("    " + request_details(r))
        if r.grant_id:
            print("    " + tr("grant: {grant}", grant=r.grant_id))
        elif r.status.startswith("pending") and r.due_date:
            print("    " + tr("provider decides by the end of {day}", day=r.due_date))
    return 0


def grant_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError

    with _client(args) as client:
        try:
            grant = grant_of(client, args.id, args.party)
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.token_only:
        print(grant.token)
    elif args.json:
        print_message(grant, as_json=True)
    else:
        print_grant(grant)
    return 0


def _keys(args: argparse.Namespace) -> list[str]:
    if args.key:
        return list(args.key)
    try:
        with Path(args.keys_file).open(newline="", encoding="utf-8-sig") as fh:
            rows = [row[0].strip() for row in csv.reader(fh) if row and row[0].strip()]
    except OSError as exc:
        raise CommandError(
            msg("{keys_file}: {strerror}", keys_file=args.keys_file, strerror=os_reason(exc))
        ) from None
    return rows


def fetch_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError
    from tongdao.progress import Progress

    with _client(args) as client:
        try:
            token = grant_of(client, args.grant, args.party).token
            keys = _keys(args)
            rows = []
            progress = Progress(tr("fetch {count:,} keys", count=len(keys)))
            for start in range(0, len(keys), 1000):  # the node answers up to 1000 keys a query
                rows += client.fetch(token, keys[start : start + 1000], args.field, args.purpose)
                if len(keys) > 1000:
                    progress.update(min(start + 1000, len(keys)), len(keys))
            progress.close()
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            shown = (
                ", ".join(f"{k}={v}" for k, v in row["fields"].items())
                if row["found"]
                else tr("not found")
            )
            print(f"{row['key']}: {shown}")
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError

    claims = {}
    for item in args.claim:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(msg("--claim {item!r}: expected FIELD=VALUE", item=item))
        claims[name] = value
    with _client(args) as client:
        try:
            token = grant_of(client, args.grant, args.party).token
            result = client.verify(token, args.key, claims, args.purpose)
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif not result["found"]:
        print(tr("no record with that key"))
    else:
        for name, ok in result["matches"].items():
            print(f"{name}: {tr('match') if ok else tr('no match')}")
    return 0


def record_usage_command(args: argparse.Namespace) -> int:
    from tongdao.commands._common import broker_stub, print_message
    from tongdao.v1 import sharing_pb2

    with broker_stub(args) as stub:
        reply = stub.sharing.RecordUsage(
            sharing_pb2.RecordUsageRequest(
                grant_id=args.grant_id,
                record=sharing_pb2.UsageRecord(
                    scenario=args.scenario,
                    outcome=args.outcome,
                    process=args.process,
                    storage=args.storage,
                    destruction=args.destruction,
                ),
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print(
            tr(
                "usage record {id}: kept until {day} (ledger {sequence})",
                id=reply.id,
                day=reply.retain_until,
                sequence=reply.sequence,
            )
        )
    return 0
