"""``tongdao supervise``: working-day deadlines and the overdue report (SUP-1, Art.42)."""

from __future__ import annotations

import argparse

from tongdao.commands import supervise_orders, supervise_public, supervise_reconcile
from tongdao.commands._common import add_broker_arguments, broker_stub, cell, print_message
from tongdao.commands._summaries import in_words, moment
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import sharing_pb2, supervision_pb2

FINDING_KINDS = (
    "out_of_scope",
    "beyond_purpose",
    "idle",
    "usage_spike",
    "differencing",
    "answered_not_relayed",
    "relayed_not_answered",
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "supervise", help="deadlines, overdue items, grant suspension and misuse findings"
    )
    ssub = parser.add_subparsers(dest="supervise_command", metavar="COMMAND")
    ssub.required = True
    overdue = ssub.add_parser("overdue", help="items past their working-day deadline")
    add_broker_arguments(overdue, as_help="identity (default: authority)")
    overdue.add_argument("--include-closed", action="store_true", help="also items closed late")
    overdue.set_defaults(handler=lambda a: report(a, overdue_only=True))
    deadlines = ssub.add_parser("deadlines", help="every open time-limited item")
    add_broker_arguments(deadlines, as_help="identity (default: authority)")
    deadlines.add_argument("--include-closed", action="store_true")
    deadlines.set_defaults(handler=lambda a: report(a, overdue_only=False))
    status = ssub.add_parser(
        "status",
        help="the broker's health details: rule file in force, warnings, calendar years",
        description="The rule file in force and its validity, warnings (the rule file expiring "
        "within 60 days, with how to install a successor; deadlines resting on provisional "
        "calendar years) and the years with an official holiday schedule. Exit 0; warnings "
        "are printed first.",
    )
    add_broker_arguments(status, as_help="identity (default: authority)")
    status.set_defaults(handler=status_command)
    findings = ssub.add_parser(
        "findings",
        help="misuse findings: out-of-scope or other-purpose calls, idle grants, usage spikes, "
        "differencing aggregates (Art.27)",
        description="Lists the misuse findings the caller may see, each with its grant, ledger "
        "evidence (sequence numbers) and article. --detect (the authority) runs detection now; "
        "the broker also runs it on its ledger schedule. Thresholds and the idle period are in "
        "the rule file (periods.grant_idle, thresholds.usage_spike_*, thresholds.differencing_*).",
    )
    add_broker_arguments(findings, as_help="identity (default: authority)")
    findings.add_argument("--detect", action="store_true", help="run detection first")
    findings.add_argument("--kind", default="", choices=("", *FINDING_KINDS))
    findings.add_argument("--grant", default="", help="only this grant")
    findings.set_defaults(handler=findings_command)
    supervise_orders.register(ssub)
    supervise_public.register(ssub)
    supervise_reconcile.register(ssub)
    for change, verb in (
        ("suspend", "suspend a grant (nodes refuse it within the rule file's ticket lifetime)"),
        ("terminate", "terminate a grant for good"),
        ("reinstate", "reinstate a suspended grant"),
    ):
        cmd = ssub.add_parser(
            change,
            help=verb,
            description=f"{verb[0].upper()}{verb[1:]}. The authority may change any grant, a "
            "provider its own grants; the ground is one of the rule file's [grant_status.grounds] "
            "and its article is recorded with the reason in the ledger (Art.27, 41, 43).",
        )
        add_broker_arguments(cmd, as_help="identity (default: authority; a provider: its code)")
        cmd.add_argument("grant_id", help="the grant")
        cmd.add_argument("--ground", required=True, help="e.g. out_of_scope, idle, security_risk")
        cmd.add_argument("--reason", required=True, help="why, shown to the consumer")
        cmd.set_defaults(handler=lambda a, change=change: grant_status_command(a, change))


def report(args: argparse.Namespace, *, overdue_only: bool) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = every_page(
            stub.supervision.ListDeadlines,
            supervision_pb2.ListDeadlinesRequest(
                overdue_only=overdue_only, include_closed=args.include_closed
            ),
            ("deadlines", "warnings"),
        )
    unique = list(dict.fromkeys(reply.warnings))  # each page repeats the rule file's warning
    del reply.warnings[:]
    reply.warnings.extend(unique)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for warning in reply.warnings:
        print(tr("WARNING: {message}", message=warning))
    if reply.warnings:
        print()
    if not reply.deadlines:
        print(tr("no overdue items") if overdue_only else tr("no open time-limited items"))
        return 0
    head = (
        f"{cell(tr('id'), 4, right=True)} {cell(tr('kind'), 26)} {cell(tr('subject'), 38)} "
        f"{cell(tr('responsible'), 12)} {cell(tr('due'), 11)}"
    )
    print(f"{head} {cell(tr('left'), 5, right=True)}  {tr('article')}")
    for d in reply.deadlines:
        state = tr("LATE") if d.overdue else f"{d.remaining_working_days}"
        due = d.due_on + ("*" if d.provisional else "")
        row = f"{d.id:>4} {d.kind:<26} {cell(d.subject, 38)} {d.responsible:<12} {due:<11}"
        print(f"{row} {cell(state, 5, right=True)}  {d.article}")
    notes = sorted({d.provisional_note for d in reply.deadlines if d.provisional})
    for note in notes:
        print(f"* {note}")
    return 0


def status_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.GetStatus(supervision_pb2.GetStatusRequest(), timeout=30)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for warning in reply.warnings:
        print(tr("WARNING: {message}", message=warning))
    print(
        tr(
            "rule file in force: {source} (valid {valid_from} to {valid_until})",
            source=reply.policy_source,
            valid_from=reply.policy_valid_from,
            valid_until=reply.policy_valid_until,
        )
    )
    years = ", ".join(str(y) for y in reply.official_years) or tr("none")
    print(tr("official holiday schedules: {years}", years=years))
    if reply.provisional_years:
        years = ", ".join(str(y) for y in reply.provisional_years)
        print(tr("provisional years in open deadlines: {years}", years=years))
    return 0


def grant_status_command(args: argparse.Namespace, change: str) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.ChangeGrantStatus(
            sharing_pb2.ChangeGrantStatusRequest(
                grant_id=args.grant_id, change=change, ground=args.ground, reason=args.reason
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    print(
        tr(
            "grant {id}: {status} ({ground}, {article}) by {by} at {at}",
            id=reply.id,
            status=in_words(reply.status),
            ground=in_words(reply.status_ground),
            article=reply.status_article,
            by=reply.status_changed_by,
            at=moment(reply.status_changed_at),
        )
    )
    return 0


def findings_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = every_page(
            stub.supervision.ListFindings,
            supervision_pb2.ListFindingsRequest(
                detect=args.detect, kind=args.kind, grant_id=args.grant
            ),
            "findings",
            timeout=60,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if args.detect:
        print(tr("detection recorded {count} new finding(s)", count=reply.new_findings))
    if not reply.findings:
        print(tr("no findings"))
        return 0
    for f in reply.findings:
        evidence = ", ".join(str(e) for e in f.evidence)
        grant = tr("grant {grant}", grant=f.grant_id)
        kind = cell(in_words(f.kind), 13)
        print(f"#{f.id} {kind} {grant} ({f.consumer} ← {f.provider}) {f.article}")
        line = tr(
            "{detail}; evidence: ledger {evidence}; recorded as entry {sequence}",
            detail=f.detail,
            evidence=evidence,
            sequence=f.sequence,
        )
        print(f"    {line}")
    return 0
