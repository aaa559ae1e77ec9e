"""``tongdao supervise reconcile``: the daily reconciliation (对账, PLT-3, Art.19)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, cell, print_message
from tongdao.commands._summaries import in_words, moment
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.v1 import supervision_pb2


def register(ssub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = ssub.add_parser(
        "reconcile",
        help="daily reconciliation: what each node answered and holds against the ledger (Art.19)",
        description="Shows the reconciliation of a period (the rule file's [reconciliation]: a "
        "day from midnight, Asia/Shanghai): per node, each catalogue entry's record count and "
        "content digest (changed since the node's previous reconciliation?), and per grant the "
        "queries the node says it answered, the answers the ledger holds (live and recorded "
        "late) and the consumer's usage records, with the request ids one side has and the "
        "other lacks. Each mismatch is a finding (`tongdao supervise findings`). The broker "
        "reconciles every period on its ledger schedule; --run (the authority) reconciles now "
        "the nodes not yet reconciled for a period that is over. Exit 1 when a node mismatches "
        "or its report does not verify.",
    )
    add_broker_arguments(cmd, as_help="identity (default: authority)")
    cmd.add_argument(
        "--day", default="", help="the period starting that day (YYYY-MM-DD; default: the last)"
    )
    cmd.add_argument("--run", action="store_true", help="reconcile now what is not yet recorded")
    cmd.set_defaults(handler=reconcile_command)


def reconcile_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.supervision.Reconcile(
            supervision_pb2.ReconcileRequest(day=args.day, run=args.run), timeout=600
        )
    bad = any(n.status in ("mismatch", "bad_report") for n in reply.nodes)
    if args.json:
        print_message(reply, as_json=True)
        return 1 if bad else 0
    print(
        tr(
            "reconciliation {start} .. {end} [{article}]",
            start=moment(reply.period_start),
            end=moment(reply.period_end),
            article=reply.article,
        )
    )
    if args.run:
        print(tr("reconciled now: {count} node(s)", count=reply.reconciled))
    for n in reply.nodes:
        where = tr(" (ledger entry {sequence})", sequence=n.sequence) if n.sequence else ""
        line = tr("node {node}: {status}", node=n.node, status=in_words(n.status))
        print(line + where + (f" — {n.message}" if n.message else ""))
        for e in n.entries:
            if e.previous_record_count < 0:
                before = tr("first report")
            elif e.changed:
                before = tr("was {count}, changed", count=e.previous_record_count)
            else:
                before = tr("was {count}, unchanged", count=e.previous_record_count)
            if e.catalogue_updated:
                catalogue = tr("catalogue updated")
            else:
                catalogue = tr("catalogue unchanged")
            line = tr(
                "entry {entry} {count} records  digest {digest}…  ({before}; v{version}, "
                "{catalogue})",
                entry=f"{e.entry_code:<24}",
                count=f"{e.record_count:>9}",
                digest=e.content_digest[:16],
                before=before,
                version=e.catalogue_version,
                catalogue=catalogue,
            )
            print(f"  {line}")
        if n.grants:
            print(
                f"  {cell(tr('grant'), 36)}  {cell(tr('consumer'), 10)} "
                f"{cell(tr('node'), 6, right=True)} {cell(tr('ledger'), 6, right=True)} "
                f"{cell(tr('late'), 5, right=True)} {cell(tr('usage'), 5, right=True)}"
            )
        for g in n.grants:
            print(
                f"  {g.grant_id:<36}  {g.consumer:<10} {g.node_answered:>6} "
                f"{g.ledger_relayed:>6} {g.ledger_late:>5} {g.usage_records:>5}"
            )
            if g.answered_not_relayed:
                ids = ", ".join(g.answered_not_relayed)
                print("    " + tr("answered, not in the ledger: {ids}", ids=ids))
            if g.relayed_not_answered:
                ids = ", ".join(g.relayed_not_answered)
                print("    " + tr("in the ledger, not answered: {ids}", ids=ids))
        if n.findings:
            ids = ", ".join(f"#{i}" for i in n.findings)
            print("  " + tr("findings: {ids}", ids=ids))
    return 1 if bad else 0
