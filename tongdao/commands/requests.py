"""``tongdao requests``: data needs, corrections and open-data requests on working-day clocks."""

from __future__ import annotations

import argparse
import uuid

from tongdao.cli import EXIT_NOT_FOUND, CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, cell, print_message
from tongdao.commands._cross_check import cross_check_command, notice_key
from tongdao.commands._grammar import add_list_option
from tongdao.commands._summaries import in_words
from tongdao.crypto.correction import seal_correction
from tongdao.i18n import tr
from tongdao.policies.i18n import msg
from tongdao.proto.pages import every_page
from tongdao.v1 import common_pb2, directory_pb2, sharing_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "requests", help="data needs (Art.29), corrections (Art.24), open-data requests (Art.34)"
    )
    rsub = parser.add_subparsers(dest="requests_command", metavar="COMMAND")
    rsub.required = True

    need = rsub.add_parser("need", help="file a data need with a provider (3-working-day review)")
    add_broker_arguments(need, as_help="your department code")
    need.add_argument("--provider", required=True)
    need.add_argument("--title", required=True, help="what is needed, in a few words")
    add_list_option(
        need,
        "--item",
        required=True,
        help="a data item needed, by its name (ASCII letters, digits and _, e.g. "
        "adopter_id_number); say what it is in --description",
    )
    need.add_argument("--scenario", required=True)
    need.add_argument("--legal-basis", required=True)
    need.add_argument("--description", default="")
    need.add_argument(
        "--urgent",
        action="store_true",
        help="urgent or special (Art.23): your data authority also organises a special docking",
    )
    need.set_defaults(handler=lambda a: _file(a, "data_need", a.title))

    corr = rsub.add_parser(
        "correction", help="file a correction for a person or organisation (5 working days)"
    )
    add_broker_arguments(corr, as_help="who files (default: authority service desk)")
    corr.add_argument("--provider", required=True)
    corr.add_argument("--entry", required=True, help="catalogue entry code")
    corr.add_argument("--record-key", required=True, help="the disputed record's key")
    corr.add_argument("--requester", required=True, help="the person or organisation")
    corr.add_argument("--description", required=True, help="what is wrong")
    corr.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ITEM=VALUE",
        dest="corrected",
        help="a corrected value (repeat): the record key and the values are sealed to the "
        "provider's node, which applies them once the provider accepts; the broker never "
        "sees them",
    )
    corr.set_defaults(handler=lambda a: _file(a, "correction", a.entry))

    open_ = rsub.add_parser("open-data", help="file an open-data request (5 working days)")
    add_broker_arguments(open_, as_help="who files (default: authority service desk)")
    open_.add_argument("--provider", required=True)
    open_.add_argument("--entry", required=True)
    open_.add_argument("--requester", required=True)
    open_.add_argument("--description", required=True, help="intended use")
    open_.set_defaults(handler=lambda a: _file(a, "open_data", a.entry))

    cross = rsub.add_parser(
        "cross-check",
        help="the data authority: cross-verify a data item between two providers (Art.24)",
    )
    add_broker_arguments(cross, as_help="the authority's code (default: authority)")
    add_list_option(cross, "--entry", required=True, help="a provider's entry (name two)")
    add_list_option(cross, "--item", required=True, help="the data item (once, or once per entry)")
    add_list_option(cross, "--key", help="a record key to check")
    cross.add_argument("--key-file", default="", help="record keys to check, one per line")
    cross.add_argument("--description", required=True, help="why the check is run")
    cross.set_defaults(handler=cross_check_command)

    mine = rsub.add_parser(
        "mine",
        help="the requests you filed and their outcome (status, decision, due date, entry)",
    )
    add_broker_arguments(mine, as_help="who filed them (default: authority service desk)")
    mine.add_argument("--kind", default="", choices=("", "data_need", "correction", "open_data"))
    mine.add_argument("--id", default="", help="only this request")
    mine.set_defaults(handler=mine_command)

    inbox = rsub.add_parser("inbox", help="requests waiting for you as a provider")
    add_broker_arguments(inbox, as_help="your department code")
    inbox.add_argument("--kind", default="", choices=("", "data_need", "correction", "open_data"))
    inbox.set_defaults(handler=inbox_command)

    decide = rsub.add_parser("decide", help="answer a request (a refusal needs --reason)")
    add_broker_arguments(decide, as_help="your department code")
    decide.add_argument("id")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--refuse", action="store_true")
    decide.add_argument("--reason", default="", help="why (refusal) or what was corrected")
    decide.set_defaults(handler=decide_command)

    urgent = rsub.add_parser(
        "urgent", help="the data authority: urgent data needs it handles (Art.23)"
    )
    add_broker_arguments(urgent, as_help="the authority's code (default: authority)")
    urgent.set_defaults(handler=urgent_command)
    handle = rsub.add_parser(
        "handle", help="the data authority: record how an urgent data need was met (Art.23)"
    )
    add_broker_arguments(handle, as_help="the authority's code (default: authority)")
    handle.add_argument("id")
    handle.add_argument("--outcome", required=True, help="how the special docking met the need")
    handle.set_defaults(handler=handle_command)

    fulfil = rsub.add_parser("fulfil", help="name the published entry that meets a data need")
    add_broker_arguments(fulfil, as_help="your department code")
    fulfil.add_argument("id")
    fulfil.add_argument("--entry", required=True)
    fulfil.set_defaults(handler=fulfil_command)


def _corrected(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(msg("--set {item!r}…: expected ITEM=VALUE", item=item.split("=")[0]))
        if name.strip() in values:
            raise CommandError(msg("--set {name}: given twice", name=name.strip()))
        values[name.strip()] = value
    return values


def _seal(stub, args: argparse.Namespace, request: sharing_pb2.ServiceRequest) -> None:  # type: ignore[no-untyped-def]
    """Seal the record key and corrected values to the provider's node (Art.24)."""
    values = _corrected(args.corrected)
    dept = stub.directory.GetDepartment(
        directory_pb2.GetDepartmentRequest(code=args.provider), timeout=30
    )
    correction_id = str(uuid.uuid4())
    request.sealed_correction = seal_correction(
        dept.encryption_public_key,
        provider=args.provider,
        entry_code=args.entry,
        correction_id=correction_id,
        record_key=args.record_key,
        values=values,
    )
    request.correction_id = correction_id
    request.record_key = ""
    request.data_items[:] = list(values)


def _file(args: argparse.Namespace, kind: str, subject: str) -> int:
    request = sharing_pb2.ServiceRequest(
        kind=kind,
        provider=args.provider,
        subject=subject,
        requester=getattr(args, "requester", ""),
        data_items=list(getattr(args, "item", [])),
        scenario=getattr(args, "scenario", ""),
        legal_basis=getattr(args, "legal_basis", ""),
        description=args.description,
        record_key=getattr(args, "record_key", ""),
        urgent=getattr(args, "urgent", False),
    )
    party = args.party or ("" if kind == "data_need" else "authority")
    with broker_stub(args, party or None) as stub:
        if getattr(args, "corrected", None):
            _seal(stub, args, request)
        reply = stub.sharing.FileServiceRequest(
            sharing_pb2.FileServiceRequestRequest(request=request), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_service_request(reply)
    return 0


def inbox_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = every_page(
            stub.sharing.ListServiceRequests,
            sharing_pb2.ListServiceRequestsRequest(role="provider", kind=args.kind),
            "requests",
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.requests:
        print(tr("inbox empty"))
    for r in reply.requests:
        flag = tr("URGENT") + " " if r.urgent else ""
        due = tr("due {date}", date=r.due_date or "-")
        kind, state = cell(in_words(r.kind), 12), cell(in_words(r.status), 9)
        print(f"{r.id}  {flag}{kind} {state} {cell(due, 14)} {r.subject}")
        if r.cross_check_run:
            line = tr(
                "cross-verification notice: {items} of record {key} — {description}",
                items=", ".join(r.data_items),
                key=notice_key(args, r),
                description=r.description,
            )
            print(f"    {line}")
    return 0


def urgent_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or "authority") as stub:
        reply = stub.sharing.ListServiceRequests(
            sharing_pb2.ListServiceRequestsRequest(role="handler"), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.requests:
        print(tr("no urgent data needs"))
    for r in reply.requests:
        if r.urgent_outcome:
            state = tr("handled: {outcome}", outcome=r.urgent_outcome)
        else:
            state = tr("due {date}", date=r.urgent_due_date)
        urgent = tr("URGENT")
        print(f"{r.id}  {urgent} {r.requester} → {r.provider}: {r.subject} ({state})")
        print("    " + tr("scenario: {scenario}", scenario=r.scenario))
    return 0


def handle_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or "authority") as stub:
        reply = stub.sharing.RecordUrgentHandling(
            sharing_pb2.RecordUrgentHandlingRequest(id=args.id, outcome=args.outcome),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_service_request(reply)
    return 0


def mine_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or "authority") as stub:
        reply = stub.sharing.ListServiceRequests(
            sharing_pb2.ListServiceRequestsRequest(role="requester", kind=args.kind), timeout=30
        )
    requests = [r for r in reply.requests if not args.id or r.id == args.id]
    if args.json:
        print_message(sharing_pb2.ListServiceRequestsResponse(requests=requests), as_json=True)
        return 0
    if not requests:
        print(tr("no request with id {id}", id=args.id) if args.id else tr("no requests filed"))
        return EXIT_NOT_FOUND if args.id else 0
    for r in requests:
        print_service_request(r)
    return 0


def print_service_request(r: sharing_pb2.ServiceRequest) -> None:
    """A data need, correction or open-data request: what it asks of whom, its state, who must
    answer by when or what was decided, and what the provider's node did with a correction (the
    record's key is never shown)."""
    print(
        tr(
            "{kind} {id}: {status} — {subject} ({requester} → {provider})",
            kind=in_words(r.kind),
            id=r.id,
            status=in_words(r.status),
            subject=r.subject,
            requester=r.requester or "-",
            provider=r.provider,
        )
    )
    if r.kind == "data_need":
        line = tr(
            "data items: {items}; scenario: {scenario}; legal basis: {basis}",
            items=", ".join(r.data_items),
            scenario=r.scenario or "-",
            basis=r.legal_basis or "-",
        )
        print(f"    {line}")
    if r.urgent:
        if r.urgent_outcome:
            line = tr("urgent: handled: {outcome}", outcome=r.urgent_outcome)
        else:
            line = tr(
                "urgent: {handler} organises the special docking by the end of {day} (Art.23)",
                handler=r.urgent_handler or "-",
                day=r.urgent_due_date or "-",
            )
        print(f"    {line}")
    if r.status.lower() == "pending":
        late = tr(" (provisional date)") if r.due_date_provisional else ""
        line = tr(
            "awaiting {provider}: answer due by the end of {day}",
            provider=r.provider,
            day=r.due_date or "-",
        )
        print(f"    {line}{late}")
    elif r.decision.reason or r.decision.articles:
        articles = f" [{', '.join(r.decision.articles)}]" if r.decision.articles else ""
        print("    " + tr("decision: {reason}", reason=r.decision.reason) + articles)
    if r.fulfilled_by:
        print("    " + tr("met by catalogue entry {entry}", entry=r.fulfilled_by))
    if r.HasField("correction_receipt"):
        _print_receipt(r.correction_receipt)
    elif r.correction_id and r.status.lower() == "pending":
        items = ", ".join(r.data_items)
        print("    " + tr("sealed to {provider}'s node: {items}", provider=r.provider, items=items))


def _print_receipt(c: common_pb2.CorrectionReceipt) -> None:
    """The node's signed receipt: applied with the record's digests, or why not."""
    if c.refusal:
        line = tr(
            "{department}'s node did not apply it ({at}): {refusal}",
            department=c.department,
            at=c.decided_at,
            refusal=c.refusal,
        )
        print(f"    {line}")
        return
    line = tr(
        "applied by {department}'s node {at}: {fields}",
        department=c.department,
        at=c.decided_at,
        fields=", ".join(c.fields),
    )
    print(f"    {line}")
    print("    " + tr("record digest before {digest}", digest=c.before_digest.hex()))
    after = tr(
        "record digest after  {digest} (holdings key {key})",
        digest=c.after_digest.hex(),
        key=c.key_id,
    )
    print(f"    {after}")


def decide_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.sharing.DecideServiceRequest(
            sharing_pb2.DecideServiceRequestRequest(
                id=args.id, approve=args.approve, reason=args.reason
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_service_request(reply)
    return 0


def fulfil_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.sharing.FulfilDataNeed(
            sharing_pb2.FulfilDataNeedRequest(id=args.id, entry_code=args.entry), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_service_request(reply)
    return 0
