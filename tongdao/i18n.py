"""The language of the ``tongdao`` command's own text and of the answers it asks servers for.

Chosen once per run: ``--locale`` (anywhere on the command line), else the environment
(``TONGDAO_LOCALE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else zh-CN. Every call to the
broker carries it (gRPC metadata ``tongdao-locale``), so refusals come back in it too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from tongdao.policies.i18n import (
    DEFAULT_LOCALE,
    Text,
    from_environment,
    msg,
    normalise,
    render,
    translate,
)

_chosen: list[str | None] = [None]


def choose(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The locale of a run with command line ``argv``: the last ``--locale`` before ``--``,
    else the environment's. Also makes it the run's locale (:func:`current`)."""
    asked: str | None = None
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--locale" and index + 1 < len(argv):
            asked = normalise(argv[index + 1]) or asked
        elif arg.startswith("--locale="):
            asked = normalise(arg.partition("=")[2]) or asked
    locale = asked or from_environment(os.environ if environ is None else environ)
    _chosen[0] = locale
    return locale


def current() -> str:
    """The run's locale (``zh-CN`` or ``en``): the one chosen, else the environment's."""
    return _chosen[0] or from_environment(os.environ, DEFAULT_LOCALE)


def forget() -> None:
    """Forget the run's choice (the next :func:`current` reads the environment again)."""
    _chosen[0] = None


def tr(message_id: str, **params: Any) -> str:
    """``message_id`` (an English template in the CLI catalogue) in the run's locale."""
    return translate(message_id, current(), **params)


def say(message: str) -> str:
    """A message made with :func:`tongdao.policies.i18n.msg` (or a catalogue id) in the run's
    locale; any other text as it is."""
    return render(message, current())


def said(exc: BaseException) -> str:
    """What ``exc`` says, as its :class:`~tongdao.policies.i18n.Text` when it was raised with
    one (so it is shown in the run's locale), else its plain text."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Text) else str(exc)


def explained(exc: BaseException, template: str, **fields: Any) -> Text:
    """What ``exc`` says when it was raised with a message of the catalogues (it is already a
    sentence in every locale); else ``template`` (a catalogue id with a ``{reason}`` field) with
    the exception's own text as the reason, so the sentence is in the reader's language even
    when a library's detail is not."""
    first = exc.args[0] if len(exc.args) == 1 else None
    if isinstance(first, Text):
        return first
    return msg(template, reason=str(exc), **fields)
