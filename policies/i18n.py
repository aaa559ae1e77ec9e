"""Localised messages (zh-CN and en), from gettext catalogues under ``locales/``.

Message ids are English templates with ``{named}`` fields; each locale's catalogues
(``messages.po``: decisions of the rules; ``cli.po``: the ``tongdao`` command; ``help.po``: its
help and argparse's words; ``server.po``: what the broker and the nodes answer; ``console.po``:
the web console) give the translation. Catalogues are read once with
Babel (no compile step, so a fresh install works).

Two ways to use them:

- :func:`translate` renders a template in a locale now;
- :func:`msg` renders it in English now but remembers the template and its fields
  (a :class:`Text`), so that :func:`render` can give it again in the locale of whoever reads it.
  Servers raise errors with :func:`msg` and answer each caller in the caller's language.
"""

from __future__ import annotations

import errno
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LOCALE_METADATA = "tongdao-locale"
"""The gRPC metadata key a client names its language under (``accept-language`` also counts)."""
ENVIRONMENT = ("TONGDAO_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG")
"""The environment variables that name the user's language, strongest first (Tongdao's own,
then POSIX's)."""


class Text(str):
    """A rendered message that remembers its English template (``msgid``) and its fields."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, rendered: str, msgid: str, params: Mapping[str, Any]) -> Text:
        text = super().__new__(cls, rendered)
        text.msgid = msgid
        text.params = dict(params)
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (str(self), self.msgid, self.params))


@cache
def _catalogue(locale: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    folder = LOCALES_DIR / locale.replace("-", "_") / "LC_MESSAGES"
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        found.update({str(m.id): str(m.string) for m in catalog if m.id and m.string})
    return found


def _check(locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; use one of {', '.join(LOCALES)}")


def translate(message_id: str, locale: str = DEFAULT_LOCALE, **params: Any) -> Text:
    """Render ``message_id`` in ``locale`` with ``params``.

    Args:
        message_id: the English template (also the fallback).
        locale: ``zh-CN`` or ``en``.
        params: values for the template's fields; a :class:`Text` value is rendered in
            ``locale`` too.

    Returns:
        The rendered message, which remembers its template (see :func:`render`).

    Raises:
        ValueError: unknown locale.
    """
    _check(locale)
    template = _catalogue(locale).get(message_id, message_id) if locale != "en" else message_id
    values = {k: render(v, locale) if isinstance(v, Text) else v for k, v in params.items()}
    return Text(template.format(**values), message_id, params)


def msg(message_id: str, **params: Any) -> Text:
    """``message_id`` rendered in English, to be rendered again for its reader (:func:`render`).

    Every ``message_id`` passed here is in every locale's catalogue (a test checks it).
    """
    return translate(message_id, "en", **params)


def template_of(message: str) -> dict[str, Any] | None:
    """A :class:`Text`'s template and fields as JSON-ready data, to store beside its English
    and render later for each reader (:func:`render_stored`); None for plain text."""
    if not isinstance(message, Text):
        return None
    params = {
        # a field that is itself a message is stored as its own template, rendered with it
        k: template_of(v) if isinstance(v, Text) else _plain(v)
        for k, v in message.params.items()
    }
    return {"msgid": message.msgid, "params": params}


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _restored(params: Mapping[str, Any]) -> dict[str, Any]:
    """Stored fields as :func:`translate` takes them: a stored template becomes a message again."""
    return {
        k: translate(str(v["msgid"]), "en", **_restored(v["params"]))
        if isinstance(v, Mapping) and "msgid" in v
        else v
        for k, v in params.items()
    }


def render_stored(template: Mapping[str, Any] | None, english: str, locale: str) -> str:
    """A message stored with :func:`template_of`, in ``locale``; ``english`` when no template
    was stored (older rows) or it no longer renders."""
    if not template:
        return english
    try:
        return str(translate(str(template["msgid"]), locale, **_restored(template["params"])))
    except (KeyError, IndexError, TypeError, ValueError):
        return english


def render(message: str, locale: str) -> str:
    """``message`` in ``locale``: a :class:`Text` from its template; a plain string that is a
    catalogue id, translated; anything else as it is."""
    _check(locale)
    if isinstance(message, Text):
        return translate(message.msgid, locale, **message.params)
    if locale == "en":
        return message
    return _catalogue(locale).get(message, message)


def normalise(name: str | None) -> str | None:
    """The supported locale a language tag or POSIX locale names (``zh_CN.UTF-8``, ``zh``,
    ``en-GB`` …), or None (``C``, ``POSIX``, empty or unsupported)."""
    if not name:
        return None
    tag = name.split(".")[0].split("@")[0].replace("_", "-").strip().lower()
    if tag.startswith("zh"):
        return "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def negotiate(header: str | None) -> str | None:
    """The best supported locale of an ``Accept-Language`` value (``zh-CN,zh;q=0.9,en;q=0.8``),
    or None when it names none."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        locale = normalise(tag)
        if locale is not None and quality > 0:
            weighted.append((-quality, index, locale))
    return min(weighted)[2] if weighted else None


def from_environment(environ: Mapping[str, str], default: str = DEFAULT_LOCALE) -> str:
    """The locale the environment names (:data:`ENVIRONMENT`, the first one set), or
    ``default`` when the first one set names no supported language (``C``, ``POSIX``)."""
    for key in ENVIRONMENT:
        value = environ.get(key, "")
        if value:
            return normalise(value) or default
    return default


_AT_LINE = re.compile(r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")


def syntax_error(exc: ValueError, path: object) -> Text:
    """A TOML or JSON file that does not parse, said where: file, line and column in the
    reader's language (the parser's own reason stays as the parser wrote it)."""
    if isinstance(exc, json.JSONDecodeError):
        return msg(
            "{path}: not valid JSON at line {line}, column {column}: {reason}",
            path=path,
            line=exc.lineno,
            column=exc.colno,
            reason=exc.msg,
        )
    found = _AT_LINE.match(str(exc))
    if found is None:  # a parser that names no place
        return msg("{path}: not valid TOML: {reason}", path=path, reason=str(exc))
    return msg(
        "{path}: not valid TOML at line {line}, column {column}: {reason}",
        path=path,
        line=int(found["line"]),
        column=int(found["column"]),
        reason=found["reason"],
    )


def os_reason(exc: OSError) -> str:
    """Why a file could not be used, in words of the catalogue (the operating system's own text
    for a cause not listed here)."""
    reasons = {
        errno.ENOENT: msg("no such file or directory"),
        errno.EACCES: msg("permission denied"),
        errno.EPERM: msg("permission denied"),
        errno.EISDIR: msg("it is a directory"),
        errno.ENOTDIR: msg("a part of the path is not a directory"),
        errno.EEXIST: msg("it already exists"),
        errno.ENOSPC: msg("no space left on the device"),
        errno.EROFS: msg("the file system is read-only"),
    }
    return reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
