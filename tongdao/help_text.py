"""The ``tongdao`` command's help in the run's language: every description, option help and
group title of the parser, and argparse's own words ("usage:", "options", its errors).

The help ids are the English texts the commands give argparse (``help=``, ``description=``,
``epilog=``), translated in ``help.po`` once the whole parser is built (:func:`localise`), so
the commands keep plain English literals. argparse's own words are looked up through its
module-level ``_`` and ``ngettext`` (bound from :mod:`gettext` when argparse is imported);
:func:`speaking` binds them to a :class:`gettext.NullTranslations` reading our catalogue for as
long as a run lasts, and gives back the originals afterwards.

Help is wrapped by display width (a Chinese character takes two columns), so ``--help`` keeps
to the terminal's width in Chinese too.
"""

from __future__ import annotations

import argparse
import gettext
import re
import textwrap
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tongdao.policies.i18n import render

ARGPARSE_IDS: tuple[str, ...] = (
    "usage: ",
    "positional arguments",
    "options",
    "subcommands",
    "show this help message and exit",
    "argument %(argument_name)s: %(message)s",
    "%(prog)s: error: %(message)s\n",
    "unrecognized arguments: %s",
    "the following arguments are required: %s",
    "one of the arguments %s is required",
    "not allowed with argument %s",
    "ignored explicit argument %r",
    "expected one argument",
    "expected at most one argument",
    "expected at least one argument",
    "expected %s argument",
    "expected %s arguments",
    "ambiguous option: %(option)s could match %(matches)s",
    "unexpected option string: %s",
    "invalid %(type)s value: %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)",
    'argument "-" with mode %r',
    "can't open '%(filename)s': %(error)s",
    # mistakes in a parser's definition, never in a command line (translated all the same)
    ".__call__() not defined",
    "conflicting subparser: %s",
    "conflicting subparser alias: %s",
    "cannot merge actions - two groups are named %r",
    "'required' is an invalid argument for positionals",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
    "dest= is required for options like %r",
    "invalid conflict_resolution value: %r",
    "conflicting option string: %s",
    "conflicting option strings: %s",
    "mutually exclusive arguments must be optional",
    "cannot have multiple subparser arguments",
    "%r is not callable",
)
"""Every text Python's argparse passes to ``_()`` or ``ngettext()`` (a test reads argparse's
source to keep this list complete)."""


class Catalogue(gettext.NullTranslations):
    """argparse's words in ``locale``, from the shared catalogues (English when untranslated)."""

    def __init__(self, locale: str) -> None:
        super().__init__()
        self.locale = locale

    def gettext(self, message: str) -> str:
        return render(message, self.locale)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return render(msgid1 if n == 1 else msgid2, self.locale)


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """argparse says its own words in ``locale`` inside the block."""
    saved = argparse.__dict__["_"], argparse.__dict__["ngettext"]
    words = Catalogue(locale)
    argparse._ = words.gettext  # type: ignore[attr-defined]
    argparse.ngettext = words.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def parsers(
    parser: argparse.ArgumentParser,
) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser under it."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from parsers(child)


def texts(parser: argparse.ArgumentParser) -> Iterator[str]:
    """Every help text of ``parser`` and its sub-commands (the ids of ``help.po``)."""
    for each in parsers(parser):
        yield from (t for t in (each.description, each.epilog) if t)
        for group in each._action_groups:
            yield from (t for t in (group.title, group.description) if t)
        for action in each._actions:
            if action.help and action.help != argparse.SUPPRESS:
                yield action.help
            if isinstance(action, argparse._SubParsersAction):
                yield from (str(c.help) for c in action._choices_actions if c.help)


def localise(parser: argparse.ArgumentParser, locale: str) -> None:
    """Put every help text of ``parser`` (and its sub-commands) in ``locale``, and wrap help by
    display width."""
    for each in parsers(parser):
        each.description = _say(each.description, locale)
        each.epilog = _say(each.epilog, locale)
        each.formatter_class = _wide(each.formatter_class)
        for group in each._action_groups:
            group.title = _say(group.title, locale)
            group.description = _say(group.description, locale)
        for action in each._actions:
            if action.help != argparse.SUPPRESS:
                action.help = _say(action.help, locale)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    choice.help = _say(choice.help, locale)


def _say(text: str | None, locale: str) -> str | None:
    return render(text, locale) if text else text


# --- wrapping by display width -------------------------------------------------------------

_WIDE_CHARS = "\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_TOKENS = re.compile(rf"\s+|[{_WIDE_CHARS}]|[^\s{_WIDE_CHARS}]+")
_NO_LINE_START = set("，。；：、）》」』】！？％,.;:)!?")


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes (East Asian wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns: between words, and between any two
    Chinese characters (never before closing punctuation)."""
    if columns(text) == len(text):
        return textwrap.wrap(text, width, break_on_hyphens=False)
    lines: list[str] = []
    line, used = "", 0
    for token in _TOKENS.findall(" ".join(text.split())):
        size = columns(token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if used + size > width and line.strip() and token not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


class WideMixin(argparse.HelpFormatter):
    """Wraps help and descriptions by display width (raw texts kept as they are); aligns a
    Chinese usage prefix."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if isinstance(self, argparse.RawTextHelpFormatter):
            return super()._split_lines(text, width)
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if isinstance(self, argparse.RawDescriptionHelpFormatter):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))

    def _format_usage(self, usage, actions, groups, prefix):  # type: ignore[no-untyped-def]
        if prefix is None:
            prefix = argparse._("usage: ")  # type: ignore[attr-defined]
        extra = columns(prefix) - len(prefix)
        self._width -= extra
        try:
            text = super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra
        return text.replace("\n ", "\n" + " " * (extra + 1)) if extra else text


_WIDE: dict[type, type] = {}


def _wide(formatter: Any) -> Any:
    """``formatter`` (argparse's ``formatter_class``) wrapping by display width."""
    if not isinstance(formatter, type) or issubclass(formatter, WideMixin):
        return formatter
    if formatter not in _WIDE:
        _WIDE[formatter] = type(f"Wide{formatter.__name__}", (WideMixin, formatter), {})
    return _WIDE[formatter]
