"""``tongdao open …``: open data for the public (OPN-1, OPN-2; Art.32–34), on the broker's
public listener — no certificate, no account: the requester names itself on each call."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument, print_message
from tongdao.commands._grammar import add_json_argument, add_list_option
from tongdao.i18n import current, tr
from tongdao.policies.i18n import msg, os_reason

TOKEN_ENV = "TONGDAO_OPEN_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "open",
        help="open data for the public: catalogue, download, conditional-open requests",
        description="For a person or organisation, against the broker's public listener "
        "(--public-broker HOST:PORT, trusting the authority CA given with --ca). "
        "Unconditionally open data is downloaded directly; conditionally open data after the "
        "provider approves a request (reviewed within 5 working days, Art.34). Each download "
        "is recorded with the requester's name; its ID number only as a digest.",
    )
    osub = parser.add_subparsers(dest="open_command", metavar="ACTION")
    osub.required = True

    cat = osub.add_parser("catalogue", help="the open catalogue (Art.32)")
    _public_arguments(cat)
    cat.add_argument("--provider", default="", help="one provider's entries only")
    cat.add_argument("--limit", type=int, default=100)
    cat.add_argument("--offset", type=int, default=0)
    cat.set_defaults(handler=catalogue_command)

    down = osub.add_parser("download", help="download an unconditionally open entry's records")
    _public_arguments(down, identity=True)
    down.add_argument("entry", help="the open catalogue entry code")
    _page_arguments(down)
    down.set_defaults(handler=download_command)

    req = osub.add_parser("request", help="file a conditional-open request (Art.34)")
    _public_arguments(req, identity=True)
    req.add_argument("entry", help="the conditionally open entry code")
    req.add_argument("--purpose", required=True, help="what the data is for")
    add_list_option(req, "--item", help="a data item wanted (default: every open item)")
    req.set_defaults(handler=request_command)

    status = osub.add_parser("status", help="a request's status and decision")
    _public_arguments(status)
    status.add_argument("id", help="the request id `open request` printed")
    _token_argument(status)
    status.set_defaults(handler=status_command)

    fetch = osub.add_parser("fetch", help="download under an approved conditional-open request")
    _public_arguments(fetch, identity=True)
    fetch.add_argument("id", help="the approved request's id")
    _token_argument(fetch)
    _page_arguments(fetch)
    fetch.set_defaults(handler=fetch_command)
    register_withdrawals(osub)


def _public_arguments(parser: argparse.ArgumentParser, *, identity: bool = False) -> None:
    add_home_argument(parser)
    parser.add_argument(
        "--public-broker",
        metavar="HOST:PORT",
        default=os.environ.get("TONGDAO_PUBLIC_BROKER", ""),
        help="the broker's public listener (env TONGDAO_PUBLIC_BROKER)",
    )
    parser.add_argument(
        "--ca", default="", help="the authority CA certificate (PEM); default: the home's"
    )
    if identity:
        who = parser.add_argument_group("who you are (the rule file's [open_data] list)")
        who.add_argument("--name", required=True, help="your or your organisation's name")
        who.add_argument("--contact", default="", help="a telephone number or e-mail address")
        who.add_argument(
            "--id-number",
            default="",
            help="your citizen ID number, or the organisation's unified social credit code",
        )
    add_json_argument(parser)


def _token_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV, ""),
        help=f"the retrieval token `open request` printed (env {TOKEN_ENV})",
    )


def _page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offset", type=int, default=0, help="records to skip")
    parser.add_argument(
        "--limit", type=int, default=0, help="records per page (default: the broker's maximum)"
    )
    parser.add_argument("--all", action="store_true", help="every page, from --offset on")
    parser.add_argument("--output", default="", help="write the records to FILE (.csv or .json)")


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    import grpc

    from tongdao.home import Home
    from tongdao.public_client import PublicClient

    if not args.public_broker:
        raise CommandError(msg("say which broker: --public-broker HOST:PORT"))
    ca_path = Path(args.ca) if args.ca else Home(args.home).ca_dir / "ca.crt"
    try:
        ca_pem = ca_path.read_bytes()
    except OSError as exc:
        raise CommandError(
            msg(
                "{path}: {strerror} (give the authority CA with --ca)",
                path=ca_path,
                strerror=os_reason(exc),
            )
        ) from None
    client = PublicClient(args.public_broker, ca_pem, locale=current())
    try:
        yield client
    except grpc.RpcError as exc:
        # the broker answered in the caller's language (the client sends its locale)
        raise CommandError(msg("{name}: {v2}", name=exc.code().name, v2=exc.details())) from None
    finally:
        client.close()


def _identity(args: argparse.Namespace) -> Any:
    from tongdao.public_client import Identity

    return Identity(args.name, args.contact, args.id_number)


def _need_token(args: argparse.Namespace) -> str:
    if not args.token:
        raise CommandError(
            msg("give the request's retrieval token with --token (or {env})", env=TOKEN_ENV)
        )
    return str(args.token)


def catalogue_command(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.catalogue(args.provider, args.limit, args.offset)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.entries:
        where = tr(" from {provider}", provider=args.provider) if args.provider else ""
        print(tr("no entries in the open catalogue") + where)
    kinds = {1: tr("conditional"), 2: tr("unconditional")}
    for e in reply.entries:
        kind = kinds.get(e.open_type, "")
        print(f"{e.code:<24} {kind:<13} {e.provider:<12} {e.name}  {e.open_conditions}".rstrip())
    return 0


def _download(args: argparse.Namespace, entry: str, request_id: str = "", token: str = "") -> int:
    who = _identity(args)
    records: list[dict[str, str]] = []
    pages: list[dict[str, Any]] = []
    fields: list[str] = []
    offset = args.offset
    with _client(args) as client:
        while True:
            page = client.download(
                who,
                entry,
                offset=offset,
                limit=args.limit,
                request_id=request_id,
                retrieval_token=token,
            )
            fields = list(page.reply.fields)
            records += page.records
            pages.append(
                {"ledger_sequence": page.reply.ledger_sequence, "records": len(page.records)}
            )
            offset += len(page.records)
            if not (args.all and page.more and page.records):
                break
    more = page.more
    if args.output:
        _write(Path(args.output), fields, records)
    result = {
        "entry_code": entry,
        "fields": fields,
        "records": [] if args.output else records,
        "count": len(records),
        "next_offset": offset if more else None,
        "downloads": pages,
        "articles": list(page.reply.articles),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if not args.output:
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    where = tr(" to {output}", output=args.output) if args.output else ""
    tail = tr("; more from --offset {offset}", offset=offset) if more else ""
    seqs = ", ".join(str(p["ledger_sequence"]) for p in pages)
    line = tr(
        "{count} records of {entry}{where} (ledger entry {sequences}){tail}",
        count=len(records),
        entry=entry,
        where=where,
        sequences=seqs,
        tail=tail,
    )
    print(line, file=sys.stderr)
    return 0


def _write(path: Path, fields: list[str], records: list[dict[str, str]]) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            if path.suffix.lower() == ".json":
                json.dump(records, fh, ensure_ascii=False, indent=1)
            else:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(records)
    except OSError as exc:
        raise CommandError(msg("{path}: {strerror}", path=path, strerror=os_reason(exc))) from None


def download_command(args: argparse.Namespace) -> int:
    return _download(args, args.entry)


def request_command(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.file_request(_identity(args), args.entry, args.purpose, args.item)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    due = tr(", review due {day}", day=reply.due_on) if reply.due_on else ""
    print(tr("request {id}: {status}", id=reply.id, status=reply.status) + due)
    if reply.decision.reason:
        print(f"  {reply.decision.reason} [{', '.join(reply.decision.articles)}]")
    print(tr("retrieval token (shown once, keep it secret): {token}", token=reply.retrieval_token))
    print(
        tr(
            "follow it with: tongdao open status {id} --token={token}",
            id=reply.id,
            token=reply.retrieval_token,
        )
    )
    return 0


def status_command(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.status(args.id, _need_token(args))
    if args.json:
        print_message(reply, as_json=True)
        return 0
    line = tr(
        "request {id} for {entry}: {status}",
        id=reply.id,
        entry=reply.entry_code,
        status=reply.status,
    )
    if reply.status == "pending" and reply.due_on:
        line += tr(", review due {day}", day=reply.due_on)
    if reply.valid_until:
        items = ", ".join(reply.data_items)
        line += tr("; usable until {day} for {items}", day=reply.valid_until, items=items)
    print(line)
    if reply.decision.reason:
        print(f"  {reply.decision.reason} [{', '.join(reply.decision.articles)}]")
    return 0


def fetch_command(args: argparse.Namespace) -> int:
    token = _need_token(args)
    with _client(args) as client:
        entry = client.status(args.id, token).entry_code
    return _download(args, entry, args.id, token)


# ---------------------------------------------------------------- withdrawals (Art.35)
def register_withdrawals(osub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from tongdao.commands._common import add_broker_arguments

    ann = osub.add_parser("withdrawals", help="the announced withdrawals of open data (Art.35)")
    _public_arguments(ann)
    ann.add_argument("--limit", type=int, default=0, help="announcements per page")
    ann.add_argument("--page-token", default="", help="the next page's token a page printed")
    ann.set_defaults(handler=announcements_command)

    ask = osub.add_parser(
        "withdraw", help="a provider asks to withdraw an entry's open data (Art.35)"
    )
    add_broker_arguments(ask, as_help="the provider's department code")
    ask.add_argument("entry", help="the open entry")
    ask.add_argument("--reason", required=True, help="why its open data is withdrawn")
    ask.set_defaults(handler=withdraw_command)

    decide = osub.add_parser(
        "decide-withdrawal",
        help="the same-level data authority approves (filed and announced) or refuses",
    )
    add_broker_arguments(decide, as_help="identity (default: authority)")
    decide.add_argument("id", help="the withdrawal id `open withdraw` printed")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--refuse", action="store_true")
    decide.add_argument("--comment", default="", help="the review comment (required to refuse)")
    decide.set_defaults(handler=decide_withdrawal_command)

    inbox = osub.add_parser(
        "withdrawal-list", help="withdrawals you asked for or review, oldest first"
    )
    add_broker_arguments(inbox, as_help="identity (default: authority)")
    inbox.add_argument("--status", default="", choices=("", "pending", "withdrawn", "refused"))
    inbox.add_argument("--limit", type=int, default=0, help="withdrawals per page")
    inbox.add_argument("--page-token", default="", help="the next page's token a page printed")
    inbox.set_defaults(handler=withdrawal_list_command)


def _withdrawal_line(w: Any) -> str:
    line = tr(
        "withdrawal {id} of {entry} ({provider}): {status}, reviewer {reviewer}",
        id=w.id,
        entry=w.entry_code,
        provider=w.provider,
        status=w.status,
        reviewer=w.reviewer,
    )
    if w.announced_on:
        line += tr(
            "; filed with {filed_with}, announced {day} [{article}]",
            filed_with=w.filed_with,
            day=w.announced_on,
            article=w.article,
        )
    return line


def announcements_command(args: argparse.Namespace) -> int:
    from tongdao.v1 import opendata_pb2

    with _client(args) as client:
        reply = client.data.ListWithdrawalAnnouncements(
            opendata_pb2.ListWithdrawalAnnouncementsRequest(
                page_size=args.limit, page_token=args.page_token
            ),
            timeout=client.timeout,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.announcements:
        print(tr("no open data has been withdrawn"))
    for a in reply.announcements:
        print(f"{a.announced_on}  {a.entry_code:<24} {a.provider:<12} {a.entry_name}: {a.reason}")
    if reply.next_page_token:
        print(tr("more: --page-token {token}", token=reply.next_page_token))
    return 0


def withdraw_command(args: argparse.Namespace) -> int:
    from tongdao.commands._common import broker_stub
    from tongdao.v1 import opendata_pb2

    with broker_stub(args) as stub:
        reply = stub.opendata.RequestOpenDataWithdrawal(
            opendata_pb2.RequestOpenDataWithdrawalRequest(
                entry_code=args.entry, reason=args.reason
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print(_withdrawal_line(reply))
    return 0


def decide_withdrawal_command(args: argparse.Namespace) -> int:
    from tongdao.commands._common import broker_stub
    from tongdao.home import AUTHORITY
    from tongdao.v1 import opendata_pb2

    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.opendata.DecideOpenDataWithdrawal(
            opendata_pb2.DecideOpenDataWithdrawalRequest(
                id=args.id, approve=args.approve, comment=args.comment
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print(_withdrawal_line(reply))
    return 0


def withdrawal_list_command(args: argparse.Namespace) -> int:
    from tongdao.commands._common import broker_stub
    from tongdao.home import AUTHORITY
    from tongdao.v1 import opendata_pb2

    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.opendata.ListOpenDataWithdrawals(
            opendata_pb2.ListOpenDataWithdrawalsRequest(
                status=args.status, page_size=args.limit, page_token=args.page_token
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.withdrawals:
        if args.status:
            print(tr("no withdrawals {status}", status=args.status))
        else:
            print(tr("no withdrawals"))
    for w in reply.withdrawals:
        print(_withdrawal_line(w))
    if reply.next_page_token:
        print(tr("more: --page-token {token}", token=reply.next_page_token))
    return 0
