"""``tongdao supervise reconcile``: the daily reconciliation (对账, PLT-3, Art.19)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.home import AUTHORITY
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
    print(f"reconciliation {reply.period_start} .. {reply.period_end} [{reply.article}]")
    if args.run:
        print(f"reconciled now: {reply.reconciled} node(s)")
    for n in reply.nodes:
        where = f" (ledger entry {n.sequence})" if n.sequence else ""
        print(f"node {n.node}: {n.status}{where}" + (f" — {n.message}" if n.message else ""))
        for e in n.entries:
            before = (
                "first report"
                if e.previous_record_count < 0
                else f"was {e.previous_record_count}, " + ("changed" if e.changed else "unchanged")
            )
            catalogue = "catalogue updated" if e.catalogue_updated else "catalogue unchanged"
            print(
                f"  entry {e.entry_code:<24} {e.record_count:>9} records  "
                f"digest {e.content_digest[:16]}…  ({before}; v{e.catalogue_version}, {catalogue})"
            )
        if n.grants:
            print(
                f"  {'grant':<36}  {'consumer':<10} {'node':>6} {'ledger':>6} {'late':>5} "
                f"{'usage':>5}"
            )
        for g in n.grants:
            print(
                f"  {g.grant_id:<36}  {g.consumer:<10} {g.node_answered:>6} "
                f"{g.ledger_relayed:>6} {g.ledger_late:>5} {g.usage_records:>5}"
            )
            if g.answered_not_relayed:
                print(f"    answered, not in the ledger: {', '.join(g.answered_not_relayed)}")
            if g.relayed_not_answered:
                print(f"    in the ledger, not answered: {', '.join(g.relayed_not_answered)}")
        if n.findings:
            print(f"  findings: {', '.join(f'#{i}' for i in n.findings)}")
    return 1 if bad else 0
