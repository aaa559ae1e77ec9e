"""The ``tongdao`` command: one entry point, one sub-command module per area.

Each module in :data:`COMMAND_MODULES` lives in ``tongdao/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tongdao import __version__

COMMAND_MODULES: tuple[str, ...] = (
    "init",
    "ca",
    "department",
    "certificates",
    "broker",
    "node",
    "authority",
    "catalogue",
    "consumer",
    "provider",
    "query",
    "requests",
    "supervise",
    "calendar",
    "policy",
    "bench",
    "ledger",
    "backup",
    "db",
    "account",
    "console",
    "demo",
)


class CommandError(Exception):
    """A user-facing error: printed as ``tongdao: error: <message>`` with exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser (every sub-command registered)."""
    parser = argparse.ArgumentParser(
        prog="tongdao",
        description="Tongdao (通道): privacy-computing data sharing between departments.",
    )
    parser.add_argument("--version", action="version", version=f"tongdao {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"tongdao.commands.{name}").register(sub)
    return parser


PASSTHROUGH = ("engines", "relay")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # `tongdao bench engines …`: everything after the command belongs to the
    # benchmark's own parser (its --help lists the options)
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in PASSTHROUGH:
        args = parser.parse_args(argv[:2])
        args.options = argv[2:]
    else:
        args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"tongdao: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("tongdao: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
