"""``tongdao demo``: broker, two provider nodes and a consumer, end to end on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

from tongdao.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo",
        help="run the whole path end to end on loopback (under a minute)",
        description=(
            "Start a broker and two provider nodes as separate processes with mutual TLS, publish "
            "three catalogue entries, request, approve, fetch and verify as a consumer, show two "
            "refusals with their articles, verify the ledger, stop everything. Synthetic data only."
        ),
    )
    parser.add_argument(
        "--dir",
        default="tongdao-demo",
        help="working directory (created; a previous demo's directory is replaced)",
    )
    parser.add_argument(
        "--records", type=int, default=300, help="synthetic residents (default 300)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tongdao.demo import DemoFailure, run_demo

    if not 10 <= args.records <= 100_000:
        raise CommandError("--records must be between 10 and 100000")
    try:
        report = run_demo(Path(args.dir), records=args.records)
    except DemoFailure as exc:
        raise CommandError(str(exc)) from None
    return 0 if report.ok else 1
