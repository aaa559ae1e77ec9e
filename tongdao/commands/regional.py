"""``tongdao regional …``: a provider's regional split with delegated decisions (SHR-4, Art.23)
and return flow of upper-level data by territory (SHR-7, Art.26)."""

from __future__ import annotations

import argparse

from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, print_message
from tongdao.commands._grammar import add_list_option
from tongdao.home import AUTHORITY
from tongdao.i18n import tr
from tongdao.policies.i18n import msg
from tongdao.proto.pages import every_page
from tongdao.v1 import sharing_pb2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "regional",
        help="regional splits with delegated decisions (Art.23) and return flow (Art.26)",
        description="A provider splits one of its entries by region and files the split with the "
        "data authority at its level; once recorded, the share requests of each region's data "
        "users are decided by the lower-level department named for it. An upper-level provider "
        "returns an entry's data to the lower-level departments of each territory: each gets a "
        "grant at once, limited to its territory's records. Every step is in the ledger.",
    )
    rsub = parser.add_subparsers(dest="regional_command", metavar="ACTION")
    rsub.required = True

    split = rsub.add_parser("split", help="the provider files a regional split of an entry")
    add_broker_arguments(split, as_help="your department code (the entry's provider)")
    split.add_argument("entry", help="one of your published catalogue entries")
    _territory_option(split, "the region's lower-level department that decides its requests")
    split.add_argument("--reason", default="", help="why, for the authority")
    split.set_defaults(handler=split_command)

    decide = rsub.add_parser(
        "decide", help="the same-level data authority records or refuses a split"
    )
    add_broker_arguments(decide, as_help="identity (default: authority)")
    decide.add_argument("id", help="regional split id")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true", help="record it (it applies now)")
    choice.add_argument("--refuse", action="store_true")
    decide.add_argument("--reason", default="", help="required when refusing")
    decide.set_defaults(handler=decide_command)

    end = rsub.add_parser(
        "withdraw-split", help="the provider withdraws a split; its regions come back to it"
    )
    add_broker_arguments(end, as_help="your department code (the entry's provider)")
    end.add_argument("id", help="regional split id")
    end.add_argument("--reason", required=True, help="why it is withdrawn")
    end.set_defaults(handler=withdraw_split_command)

    splits = rsub.add_parser("splits", help="regional splits you may see, oldest first")
    add_broker_arguments(splits, as_help="identity (default: authority)")
    splits.add_argument("--entry", default="", help="only splits of this entry")
    splits.add_argument(
        "--status",
        choices=("filed", "recorded", "refused", "superseded", "withdrawn"),
        default="",
    )
    splits.set_defaults(handler=splits_command)

    flow = rsub.add_parser(
        "return-flow", help="an upper-level provider returns an entry's data by territory"
    )
    add_broker_arguments(flow, as_help="your department code (the entry's provider)")
    flow.add_argument("entry", help="one of your published catalogue entries")
    _territory_option(flow, "a lower-level department of that territory receiving its data")
    flow.set_defaults(handler=return_flow_command)

    withdraw = rsub.add_parser("withdraw-flow", help="the provider withdraws a return flow")
    add_broker_arguments(withdraw, as_help="your department code (the entry's provider)")
    withdraw.add_argument("id", help="return flow id")
    withdraw.add_argument("--reason", required=True, help="why it is withdrawn")
    withdraw.set_defaults(handler=withdraw_command)

    flows = rsub.add_parser("return-flows", help="return flows you may see, oldest first")
    add_broker_arguments(flows, as_help="identity (default: authority)")
    flows.add_argument("--entry", default="", help="only return flows of this entry")
    flows.add_argument("--status", choices=("published", "withdrawn"), default="")
    flows.set_defaults(handler=return_flows_command)


def _territory_option(parser: argparse.ArgumentParser, what: str) -> None:
    add_list_option(
        parser,
        "--territory",
        required=True,
        metavar="REGION=DEPARTMENT",
        help=f"a region code and {what}",
    )


def _territories(values: list[str]) -> list[sharing_pb2.Territory]:
    out = []
    for value in values:
        region, sep, department = value.partition("=")
        if not sep or not region.strip() or not department.strip():
            raise CommandError(
                msg(
                    "--territory {value!r}: say REGION=DEPARTMENT, e.g. 230100=hrb.mzj", value=value
                )
            )
        out.append(sharing_pb2.Territory(region=region.strip(), department=department.strip()))
    return out


def _places(territories) -> str:  # type: ignore[no-untyped-def]
    return ", ".join(f"{t.region}→{t.department}" for t in territories)


def _split_line(s: sharing_pb2.RegionalSplit) -> str:
    return tr(
        "split {id} of {entry} by {provider}: {status} (reviewer {reviewer}; {places}; {article})",
        id=s.id,
        entry=s.entry_code,
        provider=s.provider,
        status=s.status,
        reviewer=s.reviewer,
        places=_places(s.territories),
        article=s.article,
    ) + (f" — {s.decision_reason}" if s.decision_reason else "")


def _flow_line(f: sharing_pb2.ReturnFlow) -> str:
    withdrawn = tr(" — withdrawn: {reason}", reason=f.withdrawal_reason)
    return tr(
        "return flow {id} of {entry} by {provider}: {status} ({places}; {grants} grants; "
        "{article})",
        id=f.id,
        entry=f.entry_code,
        provider=f.provider,
        status=f.status,
        places=_places(f.territories),
        grants=len(f.grant_ids),
        article=f.article,
    ) + (withdrawn if f.withdrawal_reason else "")


def _print(args: argparse.Namespace, message, line: str) -> int:  # type: ignore[no-untyped-def]
    if args.json:
        print_message(message, as_json=True)
    else:
        print(line)
    return 0


def split_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.FileRegionalSplit(
            sharing_pb2.FileRegionalSplitRequest(
                entry_code=args.entry,
                territories=_territories(args.territory),
                reason=args.reason,
            ),
            timeout=30,
        )
    return _print(args, reply, _split_line(reply))


def decide_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.DecideRegionalSplit(
            sharing_pb2.DecideRegionalSplitRequest(
                id=args.id, approve=args.approve, reason=args.reason
            ),
            timeout=30,
        )
    return _print(args, reply, _split_line(reply))


def withdraw_split_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.WithdrawRegionalSplit(
            sharing_pb2.WithdrawRegionalSplitRequest(id=args.id, reason=args.reason), timeout=30
        )
    return _print(args, reply, _split_line(reply))


def splits_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        rows = every_page(
            stub.sharing.ListRegionalSplits,
            sharing_pb2.ListRegionalSplitsRequest(entry_code=args.entry, status=args.status),
            "splits",
        ).splits
    if args.json:
        print_message(sharing_pb2.ListRegionalSplitsResponse(splits=rows), as_json=True)
        return 0
    print("\n".join(_split_line(s) for s in rows) if rows else tr("no regional splits"))
    return 0


def return_flow_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.PublishReturnFlow(
            sharing_pb2.PublishReturnFlowRequest(
                entry_code=args.entry, territories=_territories(args.territory)
            ),
            timeout=30,
        )
    return _print(args, reply, _flow_line(reply))


def withdraw_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        reply = stub.sharing.WithdrawReturnFlow(
            sharing_pb2.WithdrawReturnFlowRequest(id=args.id, reason=args.reason), timeout=30
        )
    return _print(args, reply, _flow_line(reply))


def return_flows_command(args: argparse.Namespace) -> int:
    with broker_stub(args, args.party or AUTHORITY) as stub:
        rows = every_page(
            stub.sharing.ListReturnFlows,
            sharing_pb2.ListReturnFlowsRequest(entry_code=args.entry, status=args.status),
            "flows",
        ).flows
    if args.json:
        print_message(sharing_pb2.ListReturnFlowsResponse(flows=rows), as_json=True)
        return 0
    print("\n".join(_flow_line(f) for f in rows) if rows else tr("no return flows"))
    return 0
