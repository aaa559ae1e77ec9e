"""The command line's grammar, the same for every command.

- **Lists** are repeatable singular options: ``--field name --field gender``. Each value may also
  hold a comma-separated list (``--field name,gender``), so both spellings give the same list.
- **Paging**: ``--limit N`` (how many) and ``--offset N`` (how many to skip).
- **Words**: ``--comment`` (a review comment), ``--reason`` (why a decision was taken),
  ``--legal-basis`` (the law, duty or policy a party relies on), ``--database-url`` (the broker's
  store), ``--as`` (the party a command acts as), ``--home``, ``--broker``.
- **``--json``** on every command: a command with a result prints it as one JSON document; a
  command whose output is a run of steps (serve, demo, keygen, …) prints each line as a JSON
  object ``{"line": …}`` and ends with ``{"exit_code": N}``. A failure prints
  ``{"error": {"message", "status", "exit_code"}}``.

- **Secrets that start with '-'**: a value given to :data:`SECRET_OPTIONS` that looks like a
  token (long, URL-safe characters) is taken as the value, not as an option.

Old spellings still work for a while: :data:`DEPRECATED` rewrites them before parsing and
prints a one-line notice on stderr; they are not in ``--help``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from tongdao.i18n import tr


class ListOption(argparse.Action):
    """``--item A --item B,C`` → ``["A", "B", "C"]`` (repeatable, commas allowed)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        current = getattr(namespace, self.dest, None)
        # the first use replaces the default; later uses add to it
        items = [] if current is None or current is self.default else list(current)
        items += [part.strip() for part in str(values).split(",") if part.strip()]
        setattr(namespace, self.dest, items)


def add_list_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    flag: str,
    *,
    help: str,
    required: bool = False,
    default: list[str] | None = None,
    metavar: str | None = None,
    dest: str | None = None,
) -> None:
    """A list-valued option, spelt singular, repeatable, values comma-separable."""
    parser.add_argument(
        flag,
        action=ListOption,
        required=required,
        default=list(default or []),
        metavar=metavar or flag.lstrip("-").replace("-", "_").upper(),
        help=f"{help} (repeat, or separate with commas)",
        **({"dest": dest} if dest else {}),
    )


def add_json_argument(parser: argparse.ArgumentParser, *, lines: bool = False) -> None:
    """``--json``. ``lines``: the command prints a run of steps; each becomes a JSON line."""
    parser.add_argument(
        "--json",
        action="store_true",
        help='print JSON Lines ({"line": …} per line of output, then {"exit_code": N})'
        if lines
        else "print JSON instead of text",
    )
    if lines:
        parser.set_defaults(json_lines=True)


@dataclass(frozen=True)
class Deprecated:
    """An old spelling of ``new`` inside ``command`` (a command path, e.g. ``consumer fetch``)."""

    command: str
    old: str
    new: str
    value: Callable[[str], str] | None = None


def _previous_sequence(text: str) -> str:
    """``--from N`` (first sequence shown) is ``--offset N-1`` (sequences skipped)."""
    try:
        return str(max(int(text) - 1, 0))
    except ValueError:
        return text


DEPRECATED: tuple[Deprecated, ...] = (
    Deprecated("authority return", "--comments", "--comment"),
    Deprecated("authority require-update", "--basis", "--legal-basis"),
    Deprecated("authority extend", "--basis", "--legal-basis"),
    Deprecated("consumer request", "--fields", "--field"),
    Deprecated("consumer request", "--methods", "--method"),
    Deprecated("consumer fetch", "--fields", "--field"),
    Deprecated("consumer fetch", "--keys", "--key"),
    Deprecated("requests need", "--items", "--item"),
    Deprecated("ledger show", "--from", "--offset", _previous_sequence),
    Deprecated("query aggregate", "--buckets", "--bucket-edge"),
    Deprecated("bench catalogue", "--pg-url", "--database-url"),
    Deprecated("bench crypto", "--key-sizes", "--key-size"),
)


def rewrite_deprecated(argv: list[str], err: TextIO | None = None) -> list[str]:
    """Replace old spellings (see :data:`DEPRECATED`) by the current ones, with a notice."""
    out = list(argv)
    for alias in DEPRECATED:
        path = alias.command.split()
        if out[: len(path)] != path:
            continue
        for i in range(len(path), len(out)):
            word = out[i]
            if word == "--":
                break
            flag, eq, inline = word.partition("=")
            if flag != alias.old:
                continue
            print(
                tr(
                    "tongdao: note: {old} is now {new} (`tongdao {command} --help`)",
                    old=alias.old,
                    new=alias.new,
                    command=alias.command,
                ),
                file=err or sys.stderr,
            )
            if eq:
                out[i] = f"{alias.new}={alias.value(inline) if alias.value else inline}"
            else:
                out[i] = alias.new
                if alias.value and i + 1 < len(out):
                    out[i + 1] = alias.value(out[i + 1])
    return out


SECRET_OPTIONS = ("--token",)
"""Options whose value is a random secret, which may begin with '-'."""

_TOKEN_LIKE = re.compile(r"-[A-Za-z0-9_-]{31,}")


def keep_secret_values(argv: list[str]) -> list[str]:
    """Join ``--token -Abc…`` into ``--token=-Abc…`` so argparse does not read the value as an
    option. Only a token-like word (32 or more URL-safe characters) is joined: a forgotten value
    followed by a real option still gets argparse's "expected one argument"."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return out + argv[i:]
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if word in SECRET_OPTIONS and _TOKEN_LIKE.fullmatch(following):
            out.append(f"{word}={following}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def leaf_commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command that runs something (no sub-commands of its own), with its path."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_commands(child, (*path, name))


def help_when_alone(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` and every command group below it (``tongdao``, ``tongdao consumer``,
    ``tongdao supervise order``) print its own help when it is given no sub-command, exiting 2 (a
    usage error), instead of only saying one is missing: a sub-command given still runs its own
    handler."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        action.required = False
        parser.set_defaults(handler=_printing_help_of(parser))
        for child in action.choices.values():
            help_when_alone(child)


def _printing_help_of(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        from tongdao.help_text import speaking
        from tongdao.i18n import current

        with speaking(current()):  # argparse's own words ("usage:") in the reader's language
            parser.print_help()
        return 2

    return show


class JsonLines:
    """A text stream writing each complete line as ``{"line": …}`` to ``target``."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *complete, self.pending = self.pending.split("\n")
        for line in complete:
            self.target.write(json.dumps({"line": line}, ensure_ascii=False) + "\n")
        if complete:
            self.target.flush()
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def close(self) -> None:
        if self.pending:
            self.write("\n")
        self.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", "utf-8")
