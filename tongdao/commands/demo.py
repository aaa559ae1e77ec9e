"""``tongdao demo``: broker, provider nodes and a consumer, end to end on loopback."""

from __future__ import annotations

import argparse
from pathlib import Path

from tongdao.cli import EXIT_FAILED, EXIT_NOT_FOUND, CommandError
from tongdao.commands._grammar import add_json_argument
from tongdao.i18n import said, tr
from tongdao.policies.i18n import msg
from tongdao.synthetic import CITIES

# the provincial registries (公安, 民政, 税务) and every city's civil-affairs bureau serve data
NODES = 3 + len(CITIES)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo",
        help=f"run the whole path end to end on loopback ({NODES + 1} processes); "
        "--keep leaves them running to try commands against",
        description=(
            f"Start a broker and {NODES} provider nodes (one per providing department: the "
            f"provincial police, civil-affairs and tax registries and {len(CITIES)} cities' "
            f"civil-affairs bureaus) as {NODES + 1} separate processes with mutual TLS from a "
            "fresh authority CA; publish the catalogue; request, approve, fetch and verify as a "
            "consumer; run the privacy-computing queries; show refusals with their articles; "
            "revoke a lost key; verify the ledger. Synthetic data only; every step is printed "
            "as it runs. Without --keep every process is stopped at "
            "the end; with --keep they keep running and the demo prints the commands to try "
            "against them, and how to stop them (`tongdao demo --stop`)."
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
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--keep",
        action="store_true",
        help="leave the broker and nodes running (homes kept) and print commands to try",
    )
    mode.add_argument(
        "--stop", action="store_true", help="stop the processes a `--keep` run left in --dir"
    )
    add_json_argument(parser, lines=True)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.stop:
        return stop(args)
    from tongdao.demo import DemoDirectoryError, DemoFailure, run_demo

    if not 10 <= args.records <= 100_000:
        raise CommandError(msg("--records must be between 10 and 100000"))
    try:
        report = run_demo(Path(args.dir), records=args.records, keep=args.keep)
    except DemoDirectoryError as exc:
        raise CommandError(said(exc)) from None
    except DemoFailure as exc:
        raise CommandError(said(exc), exit_code=EXIT_FAILED) from None
    return 0 if report.ok else EXIT_FAILED


def stop(args: argparse.Namespace) -> int:
    from tongdao.demo_stack import StackError, stop_kept

    directory = Path(args.dir).resolve()
    try:
        stopped = stop_kept(directory)
    except StackError as exc:
        raise CommandError(said(exc), exit_code=EXIT_NOT_FOUND) from None
    if stopped:
        line = tr(
            "stopped {count} processes of the demo in {directory}; its homes, logs and store "
            "stay there",
            count=len(stopped),
            directory=directory,
        )
    else:
        line = tr(
            "stopped no process of the demo in {directory} (none was still running); its "
            "homes, logs and store stay there",
            directory=directory,
        )
    print(line)
    return 0
