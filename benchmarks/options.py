"""The command lines of the benchmarks that parse their own options: ``tongdao bench engines``
and ``tongdao bench relay`` hand everything after the command on to them, so their help, usage
and argparse's errors are in the run's language as for every other command
(:mod:`tongdao.help_text`; the texts are in ``help.po``, the benchmarks' own errors in
``cli.po``).

Each benchmark's ``build_parser()`` gives its parser in English; its ``main()`` localises it
with :func:`localised` and parses inside :func:`tongdao.help_text.speaking`, as the ``tongdao``
command does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tongdao.benchmarks.relay_stack import METHODS
from tongdao.cli import LOCALE_HELP
from tongdao.help_text import localise
from tongdao.i18n import choose, current
from tongdao.policies.i18n import LOCALES


def localised(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> str:
    """Put ``parser``'s help in the run's locale and return it: the ``tongdao`` command's choice
    when it runs the benchmark (``argv`` given), else that of the process's own command line
    (``python -m tongdao.benchmarks.relay_bench --locale en``) or environment."""
    if argv is None:
        choose(sys.argv[1:])
    locale = current()
    localise(parser, locale)
    return locale


def add_locale(parser: argparse.ArgumentParser) -> None:
    """``--locale``, as every ``tongdao`` command takes it (the run has chosen it already)."""
    parser.add_argument("--locale", choices=LOCALES, help=LOCALE_HELP)


def relay_parser() -> argparse.ArgumentParser:
    """The relay benchmark's options (``tongdao bench relay``), help in English."""
    parser = argparse.ArgumentParser(
        prog="tongdao bench relay",
        description=(
            "The relay at line rate: authorised unary queries per second through a broker and "
            "a node, against a bare mutual-TLS echo in the same run."
        ),
        epilog=(
            "Starts a broker and a provider's node as real processes (SQLite by default, "
            "PostgreSQL with --database-url), grants a consumer access, and calls fetch and "
            "verify from consumer processes at each concurrency for --seconds. Reported per "
            "method and concurrency: queries/s, p50/p95/p99 latency, CPU per query of each "
            "process and the ratio to the echo. --brokers 2 runs two brokers on one PostgreSQL "
            "store; --grants and --log-entries measure again on a grown store; --soak samples "
            "each server's memory over a long run. Writes relay-bench.json, relay-bench.md and "
            "the plots to --out."
        ),
    )
    parser.add_argument(
        "--concurrency",
        default="1,4,16,64",
        help="concurrent callers at each step, comma-separated (default %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="seconds per measurement (default %(default)s)",
    )
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL URL of the broker's store (default: SQLite)"
    )
    parser.add_argument(
        "--grants", type=int, default=2, help="grants in the grown store (more than 2: seeded)"
    )
    parser.add_argument(
        "--log-entries", type=int, default=0, help="ledger entries seeded for the grown store"
    )
    parser.add_argument(
        "--brokers",
        type=int,
        default=1,
        help="broker processes on one store (2 or more: PostgreSQL)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="length of a memory soak run in seconds (0: none)",
    )
    parser.add_argument(
        "--processes", type=int, default=4, help="consumer processes at most (default %(default)s)"
    )
    parser.add_argument(
        "--methods",
        default=",".join(METHODS),
        help="methods to measure, comma-separated: fetch, verify",
    )
    parser.add_argument("--out", default="benchmarks/results", help="output directory")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: concurrency 1 and 4 for 1.5 s, fetch only; no wait for misuse "
        "detection's scan after seeding",
    )
    add_locale(parser)
    parser.add_argument("--serve-echo", nargs=4, metavar="ARG", help=argparse.SUPPRESS)
    return parser
