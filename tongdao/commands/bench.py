"""``tongdao bench``: on-demand benchmarks (not tests)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tongdao.cli import CommandError
from tongdao.commands._grammar import add_json_argument, add_list_option
from tongdao.i18n import tr
from tongdao.policies.i18n import msg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("bench", help="benchmarks for security teams")
    bsub = parser.add_subparsers(dest="bench_command", metavar="COMMAND")
    bsub.required = True
    crypto = bsub.add_parser(
        "crypto",
        help="crypto core vs phe (and sf-heu if installed), same run",
        description=(
            "Benchmark Paillier, PSI blinding and the envelope against phe in the same run. "
            "Writes crypto-bench.json, crypto-bench.md and PNG plots to --out."
        ),
    )
    crypto.add_argument("--quick", action="store_true", help="CI smoke: 2048 bits, small counts")
    crypto.add_argument("--out", default="bench-results", help="output directory")
    add_list_option(
        crypto, "--key-size", default=["2048", "3072"], help="Paillier key size in bits"
    )
    crypto.add_argument(
        "--psi-size", type=int, default=0, help="also run an N × N PSI with both parties here"
    )
    add_list_option(
        crypto,
        "--only",
        default=["paillier", "psi", "envelope", "scaling"],
        metavar="SECTION",
        help="a section to run: paillier, psi, envelope, scaling (default all)",
    )
    add_json_argument(crypto, lines=True)
    crypto.set_defaults(handler=crypto_command)
    engines = bsub.add_parser(
        "engines",
        help="PSI, intersection-sum and the multi-node aggregate at scale, through real processes",
        description="Runs the benchmark with the options that follow "
        "(`tongdao bench engines --help` lists them).",
    )
    engines.add_argument("options", nargs="*", help="benchmark options")
    add_json_argument(engines, lines=True)
    engines.set_defaults(handler=engines_command)
    catalogue = bsub.add_parser(
        "catalogue",
        help="catalogue import, search and match at scale (SQLite and PostgreSQL)",
        description="Runs benchmarks.catalogue_bench: imports synthetic entries and times a "
        "mix of searches, per store.",
    )
    # Declared here (not passed through as a remainder, which argparse cannot do for options
    # that come first) and handed on as the benchmark's own arguments.
    catalogue.add_argument("--entries", type=int, default=100_000, help="entries to import")
    catalogue.add_argument("--quick", action="store_true", help="2,000 entries, 2 rounds")
    catalogue.add_argument("--rounds", type=int, default=5, help="times each query is run")
    catalogue.add_argument(
        "--database-url", default="", help="PostgreSQL URL (the run uses a private schema)"
    )
    catalogue.add_argument("--only", choices=("sqlite", "postgresql"), help="run one store")
    catalogue.add_argument("--out", default="benchmarks/results", help="output directory")
    add_json_argument(catalogue, lines=True)
    catalogue.set_defaults(handler=catalogue_command)
    ledger = bsub.add_parser(
        "ledger",
        help="the ledger's Merkle log at 10⁶ entries: append rate, proof and verify times",
        description="Runs benchmarks.ledger_bench: the tree alone (and pymerkle, if installed), "
        "the SQLite store pre-filled to each size, and a full audit of an export.",
    )
    ledger.add_argument("--entries", type=int, default=1_000_000, help="largest ledger size")
    ledger.add_argument("--quick", action="store_true", help="2,000 entries (CI smoke)")
    ledger.add_argument("--out", default="benchmarks/results", help="output directory")
    add_json_argument(ledger, lines=True)
    ledger.set_defaults(handler=ledger_command)
    relay = bsub.add_parser(
        "relay",
        help="authorised unary queries per second through broker and node, against a bare "
        "mTLS echo in the same run",
        description="Runs the benchmark with the options that follow "
        "(`tongdao bench relay --help` lists them).",
    )
    relay.add_argument("options", nargs="*", help="benchmark options")
    add_json_argument(relay, lines=True)
    relay.set_defaults(handler=relay_command)


def crypto_command(args: argparse.Namespace) -> int:
    from tongdao.benchmarks.crypto_bench import SECTIONS, render_table, run

    try:
        sizes = tuple(int(s) for s in args.key_size)
    except ValueError:
        raise CommandError(msg("--key-size must be a number like 2048")) from None
    if any(s not in (1024, 2048, 3072, 4096) for s in sizes):
        raise CommandError(
            msg("--key-size: each must be 2048, 3072 or 4096 (1024 for smoke tests)")
        )
    only = tuple(args.only)
    if not only or any(s not in SECTIONS for s in only):
        raise CommandError(msg("--only: each must be one of {v1}", v1=", ".join(SECTIONS)))
    if args.psi_size < 0:
        raise CommandError(msg("--psi-size must be >= 0"))
    if args.quick:
        sizes = sizes[:1]
    start = time.monotonic()

    def say(text: str) -> None:
        print(f"  {time.monotonic() - start:6.1f}s  {text}", file=sys.stderr, flush=True)

    report = run(
        Path(args.out),
        quick=args.quick,
        key_sizes=sizes,
        psi_size=args.psi_size,
        say=say,
        only=only,
    )
    print(render_table(report))
    for name, extra in report.extras.items():
        print(f"{name}: {extra}")
    print(
        "\n"
        + tr(
            "wrote {out}/crypto-bench.json, crypto-bench.md and PNG plots ({seconds:.0f} s)",
            out=args.out,
            seconds=time.monotonic() - start,
        )
    )
    return 0


def engines_command(args: argparse.Namespace) -> int:
    from tongdao.benchmarks.engines_bench import main as bench_main

    return bench_main(list(args.options))


def catalogue_command(args: argparse.Namespace) -> int:
    from tongdao.benchmarks.catalogue_bench import main as bench_main

    argv = ["--entries", str(args.entries), "--rounds", str(args.rounds), "--out", args.out]
    if args.quick:
        argv.append("--quick")
    if args.database_url:
        argv += ["--pg-url", args.database_url]
    if args.only:
        argv += ["--only", args.only]
    return bench_main(argv)


def ledger_command(args: argparse.Namespace) -> int:
    from tongdao.benchmarks.ledger_bench import main as bench_main

    if args.entries < 100:
        raise CommandError(msg("--entries must be at least 100"))
    argv = ["--entries", str(args.entries), "--out", args.out]
    if args.quick:
        argv.append("--quick")
    return bench_main(argv)


def relay_command(args: argparse.Namespace) -> int:
    from tongdao.benchmarks.relay_bench import main as bench_main

    return bench_main(list(args.options))
