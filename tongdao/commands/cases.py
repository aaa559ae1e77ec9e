"""``tongdao cases …``: typical use cases of shared data (SHR-12, Art.31)."""

from __future__ import annotations

import argparse

from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.proto.pages import every_page
from tongdao.v1 import cases_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "cases",
        help="record, list and report typical use cases of shared data (Art.31)",
        description="Each level's data authority records the typical cases of its area: the "
        "subject (应用主体), scenario (应用场景), outcome (应用成效) and the grants used, whose "
        "catalogue entries are the data sources (数据来源). Every registered department may read "
        "them; a report counts an area's cases by the regions one level down (汇总上报).",
    )
    csub = parser.add_subparsers(dest="cases_command", metavar="ACTION")
    csub.required = True
    record = csub.add_parser("record", help="a data authority records a case of its area")
    add_broker_arguments(
        record, as_help="identity (default: authority; a city authority: its code)"
    )
    record.add_argument("department", help="the department that applied the data")
    record.add_argument("--subject", required=True, help="the subject as the case describes it")
    record.add_argument("--scenario", required=True)
    record.add_argument("--outcome", required=True)
    record.add_argument("--grant", action="append", default=[], help="a grant used (repeatable)")
    record.add_argument(
        "--source", action="append", default=[], help="another data source by name (repeatable)"
    )
    record.set_defaults(handler=record_command)
    listed = csub.add_parser("list", help="the cases of an area, oldest first")
    add_broker_arguments(listed, as_help="identity (default: authority)")
    listed.add_argument("--region", default="", help="GB/T 2260 code (default: every case)")
    listed.set_defaults(handler=list_command)
    report = csub.add_parser("report", help="an area's cases by region and by data source")
    add_broker_arguments(report, as_help="identity (default: authority)")
    report.add_argument("--region", default="", help="GB/T 2260 code (default: your region)")
    report.set_defaults(handler=report_command)


def _line(c: cases_pb2.TypicalCase) -> str:
    return tr(
        "case {id} {department} ({region}), {recorded_on}: {scenario} — {outcome} "
        "[sources: {sources}; {article}]",
        id=c.id,
        department=c.department,
        region=c.region,
        recorded_on=c.recorded_on,
        scenario=c.scenario,
        outcome=c.outcome,
        sources=", ".join(c.data_sources),
        article=c.article,
    )


def record_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.cases.RecordTypicalCase(
            cases_pb2.RecordTypicalCaseRequest(
                department=args.department,
                subject=args.subject,
                scenario=args.scenario,
                outcome=args.outcome,
                grants=args.grant,
                other_sources=args.source,
            ),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print(_line(reply))
    return 0


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        rows = every_page(
            stub.cases.ListTypicalCases,
            cases_pb2.ListTypicalCasesRequest(region=args.region),
            "cases",
        ).cases
    if args.json:
        print_message(cases_pb2.ListTypicalCasesResponse(cases=rows), as_json=True)
        return 0
    if not rows:
        print(tr("no typical cases"))
    for c in rows:
        print(_line(c))
    return 0


def report_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        r = stub.cases.ReportTypicalCases(
            cases_pb2.ReportTypicalCasesRequest(region=args.region), timeout=30
        )
    if args.json:
        print_message(r, as_json=True)
        return 0
    area = f"{r.region} ({r.level})" if r.region else tr("every region")
    print(
        tr(
            "typical cases of {area}: {total} [{article}]",
            area=area,
            total=r.total,
            article=r.article,
        )
    )
    for row in r.by_region:
        print(f"  {row.name}  {row.cases}")
    if r.by_source:
        print(tr("by data source:"))
        for row in r.by_source:
            print(f"  {row.name}  {row.cases}")
    return 0
