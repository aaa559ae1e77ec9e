"""The ``tongdao`` command: one entry point, one sub-command module per area.

Each module in :data:`COMMAND_MODULES` lives in ``tongdao/commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import warnings
from typing import Any, TextIO

from tongdao import __version__
from tongdao.help_text import localise, speaking
from tongdao.i18n import choose, current, forget, said, say, tr
from tongdao.policies.i18n import LOCALES, msg, render

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
    "dispute",
    "regional",
    "cases",
    "open_data",
    "calendar",
    "policy",
    "bench",
    "ledger",
    "backup",
    "db",
    "account",
    "console",
    "demo",
    "completion",
)

# Exit codes (README "Exit codes"): what a script can tell apart without reading the message.
EXIT_OK = 0
EXIT_FAILED = (
    1  # a check failed (demo, ledger verify, a refused share request) or an internal error
)
EXIT_USAGE = 2  # the command line or its input is wrong (argparse uses 2 as well)
EXIT_REFUSED = 3  # the broker or a node refused: not allowed, or not in the state for it
EXIT_NOT_FOUND = 4  # what was named does not exist
EXIT_UNAVAILABLE = 5  # the broker or node could not be reached in time
EXIT_INTERRUPTED = 130  # Ctrl-C

STATUS_EXIT: dict[str, int] = {
    "INVALID_ARGUMENT": EXIT_USAGE,
    "OUT_OF_RANGE": EXIT_USAGE,
    "PERMISSION_DENIED": EXIT_REFUSED,
    "FAILED_PRECONDITION": EXIT_REFUSED,
    "UNAUTHENTICATED": EXIT_REFUSED,
    "RESOURCE_EXHAUSTED": EXIT_REFUSED,
    "ALREADY_EXISTS": EXIT_REFUSED,
    "ABORTED": EXIT_REFUSED,
    "NOT_FOUND": EXIT_NOT_FOUND,
    "UNAVAILABLE": EXIT_UNAVAILABLE,
    "DEADLINE_EXCEEDED": EXIT_UNAVAILABLE,
}
"""The one place a gRPC status name becomes an exit code; any other status is EXIT_FAILED."""

STATUS_NAMES = frozenset(
    {*STATUS_EXIT, "OK", "CANCELLED", "UNKNOWN", "UNIMPLEMENTED", "INTERNAL", "DATA_LOSS"}
)


def exit_code_for(status: str) -> int:
    """The exit code of a call that failed with gRPC status ``status`` (e.g. NOT_FOUND)."""
    return STATUS_EXIT.get(status, EXIT_FAILED)


class CommandError(Exception):
    """A user-facing error: printed as ``tongdao: error: <message>``, the message in the run's
    locale when it was made with :func:`tongdao.policies.i18n.msg`.

    The exit code is ``exit_code`` when given; else that of the gRPC status the error carries
    (``status``, or the failed call it was raised from); else EXIT_USAGE.
    """

    def __init__(self, message: str, *, status: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.exit_code = exit_code

    def __str__(self) -> str:
        return say(self.message)


def status_of(exc: BaseException) -> str:
    """The gRPC status name behind an error: its own, or that of the exception it replaced."""
    seen: BaseException | None = exc
    while seen is not None:
        status = getattr(seen, "status", "")
        if isinstance(status, str) and status in STATUS_NAMES:
            return status
        code: Any = getattr(seen, "code", None)
        if callable(code):  # grpc.RpcError
            try:
                code = code().name
            except (AttributeError, TypeError):
                code = None
        if isinstance(code, str) and code in STATUS_NAMES:  # also the SDK's ClientError
            return code
        seen = seen.__context__
    return ""


def error_exit_code(exc: CommandError) -> int:
    """The exit code for a :class:`CommandError` (see its docstring)."""
    if exc.exit_code is not None:
        return exc.exit_code
    status = status_of(exc)
    return exit_code_for(status) if status else EXIT_USAGE


LOCALE_HELP = (
    "language of messages, zh-CN or en (default: TONGDAO_LOCALE, LC_ALL, LC_MESSAGES or "
    "LANG, else zh-CN); the broker answers in it too"
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser (every sub-command registered), its help in the run's
    locale (:func:`tongdao.i18n.choose`; the texts are in ``help.po``)."""
    from tongdao.commands._grammar import help_when_alone, leaf_commands
    from tongdao.commands._option_help import fill_missing_help

    parser = argparse.ArgumentParser(
        prog="tongdao",
        description="Tongdao (通道): privacy-computing data sharing between departments.",
    )
    parser.add_argument("--version", action="version", version=f"tongdao {__version__}")
    parser.add_argument("--locale", choices=LOCALES, help=LOCALE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"tongdao.commands.{name}").register(sub)
    for _path, leaf in leaf_commands(parser):
        if not any("--locale" in a.option_strings for a in leaf._actions):
            leaf.add_argument("--locale", choices=LOCALES, help=LOCALE_HELP)
    help_when_alone(parser)
    fill_missing_help(parser)
    localise(parser, current())
    return parser


PASSTHROUGH = ("engines", "relay")


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line for the person at the terminal, not a source location (in their
    language when it was raised with a message of the catalogues)."""
    text = said(message) if isinstance(message, Warning) else message
    print(tr("tongdao: warning: {message}", message=text), file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    from tongdao.commands._grammar import keep_secret_values, rewrite_deprecated

    warnings.showwarning = show_warning

    argv = keep_secret_values(rewrite_deprecated(sys.argv[1:] if argv is None else list(argv)))
    choose(argv, os.environ)
    try:
        return _main(argv)
    finally:
        forget()  # a caller in the same process (a test, the demo) chooses afresh


def _main(argv: list[str]) -> int:
    parser = build_parser()
    # `tongdao [--locale L] bench engines …`: everything after the command belongs to the
    # benchmark's own parser (its --help lists the options), but --json
    at = _passthrough(argv)
    with speaking(current()):  # argparse's own words ("usage:", its errors) too
        if at:
            args = parser.parse_args(argv[:at])
            args.options = [a for a in argv[at:] if a != "--json"]
            args.json = len(args.options) < len(argv) - at
        else:
            args = parser.parse_args(argv)
    as_json = bool(getattr(args, "json", False))
    stdout = sys.stdout
    if as_json and getattr(args, "json_lines", False):
        from tongdao.commands._grammar import JsonLines

        sys.stdout = JsonLines(stdout)
    try:
        code = _run(args, as_json, stdout)
    finally:
        if sys.stdout is not stdout:
            sys.stdout.close()
            sys.stdout = stdout
    if as_json and getattr(args, "json_lines", False):
        print(json.dumps({"exit_code": code}), flush=True)
    return code


def _passthrough(argv: list[str]) -> int:
    """Where the benchmark's own options start in ``argv`` when it runs ``bench engines`` or
    ``bench relay`` (after any ``--locale`` given before the command); else 0."""
    at = 0
    while at < len(argv) and argv[at].startswith("--locale"):
        at += 1 if "=" in argv[at] else 2
    if len(argv) > at + 1 and argv[at] == "bench" and argv[at + 1] in PASSTHROUGH:
        return at + 2
    return 0


UNREACHABLE = (
    "failed to connect",
    "connections to all backends failing",
    "connection refused",
    "dns resolution failed",
)
"""What gRPC's own UNAVAILABLE details say when nothing answered at the address (lower case)."""


def _where_is_the_broker(exc: CommandError, args: argparse.Namespace) -> CommandError:
    """``exc`` or, when it is gRPC's "nothing answered" for the broker the command called, the
    same failure saying which address was tried, where it came from and what should run there."""
    target = getattr(args, "broker", "")
    english = render(exc.message, "en")
    unreachable = any(m in english.lower() for m in UNREACHABLE)
    if not target or status_of(exc) != "UNAVAILABLE" or not unreachable:
        return exc
    return CommandError(
        msg(
            "UNAVAILABLE: nothing answers at {target}: is the broker running there (`tongdao "
            "broker serve`)? The address comes from --broker or env TONGDAO_BROKER ({details})",
            target=target,
            details=english.removeprefix("UNAVAILABLE: "),
        ),
        status="UNAVAILABLE",
    )


def _run(args: argparse.Namespace, as_json: bool, stdout: Any) -> int:
    try:
        return int(args.handler(args) or 0)
    except CommandError as raised:
        exc = _where_is_the_broker(raised, args)
        code = error_exit_code(exc)
        print(tr("tongdao: error: {message}", message=exc), file=sys.stderr)
        if as_json:
            error = {"message": str(exc), "status": status_of(exc), "exit_code": code}
            english = render(exc.message, "en")
            if english != error["message"]:
                error["message_en"] = english
            print(json.dumps({"error": error}, ensure_ascii=False), file=stdout, flush=True)
        return code
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print(tr("tongdao: interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
